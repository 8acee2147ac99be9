/**
 * What the Berlin Group consent API accepts at its edge: headers, path parameters and bodies, as zod
 * schemas. The consent body itself is the domain's rule set (src/consent/validation.ts); this file adds
 * only what is particular to the Open Payments dialect of it — the spelling of the global access values.
 * Every failure comes out as ValidationIssues (`path` = JSON path, or the header name) for errors.ts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { ValidationIssue, ValidationIssueCode } from '../../consent/errors.ts';
import { jsonPath, valueAt } from '../../consent/validation.ts';

// ── headers ────────────────────────────────────────────────────────────────────────────────────────────

/** Header names as the spec spells them (Node lowercases them); used as tppMessage paths. */
export const HEADER_NAMES = {
  'x-request-id': 'X-Request-ID',
  'psu-ip-address': 'PSU-IP-Address',
  'psu-id': 'PSU-ID',
  'x-bicfi': 'X-BicFi',
  'tpp-redirect-uri': 'TPP-Redirect-URI',
} as const;

/** The spec's `format: uuid`: 8-4-4-4-12 hex digits (any version, as ajv-formats reads it). */
export const requestIdSchema = z.guid({ error: 'must be a UUID' });

/**
 * The spec's `format: ipv4` (dotted quad, no leading zeros, as ajv-formats reads it), and IPv6 besides:
 * every address the spec allows, and the PSUs on IPv6 too (our served description says ipv4 or ipv6).
 */
const psuIpAddress = z.string().refine((v) => isIP(v) !== 0, { error: 'must be an IPv4 or IPv6 address' });
const psuId = z.string().min(1, { error: 'must not be empty' }).max(140, { error: 'must be at most 140 characters' });
/**
 * The spec's X-BicFi pattern as OpenAPI (JSON Schema) applies it: unanchored, so the header must contain an
 * ISO 9362 BIC. Assent does not route by it (one ASPSP), so accepting what the spec accepts costs nothing.
 */
const bicFi = z.string().regex(/[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3}){0,1}/, { error: 'must contain a BIC such as AAAADEBBXXX' });
const tppRedirectUri = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URI' })
  .max(2048, { error: 'must be at most 2048 characters' });

/** Headers every consent call may carry (X-Request-ID is checked before authentication, see routes.ts). */
export const commonHeadersSchema = z.object({
  'psu-ip-address': psuIpAddress.optional(),
  'psu-id': psuId.optional(),
  'x-bicfi': bicFi.optional(),
});

export const createConsentHeadersSchema = commonHeadersSchema.extend({
  'tpp-redirect-uri': tppRedirectUri.optional(),
});

export type CommonHeaders = z.infer<typeof commonHeadersSchema>;
export type CreateConsentHeaders = z.infer<typeof createConsentHeadersSchema>;

// ── path parameters ────────────────────────────────────────────────────────────────────────────────────

/** Resource ids as stored (UUIDs); anything else cannot name a resource and is answered as unknown. */
export const resourceIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

// ── bodies ─────────────────────────────────────────────────────────────────────────────────────────────

/** Start authorisation: no body, or an empty object (the redirect approach uploads nothing here). */
export const startAuthorisationBodySchema = z.strictObject({});

/**
 * Update PSU data, "Select PSU Authentication Method" (the spec's selectPsuAuthenticationMethod). The body
 * is optional in the spec (its first form is `{}`, "Update PSU Identification"): without one, or with
 * `{}`, the bank's default method is selected.
 */
export const selectAuthenticationMethodBodySchema = z.strictObject({
  authenticationMethodId: z.string().min(1).max(35).optional(),
});

/**
 * Open Payments spells the global access values differently from Berlin Group 1.3.11:
 *   availableAccounts: allAccounts | allAccountsWithBalances      (no availableAccountsWithBalance field)
 *   allPsd2:           allAccounts
 * `allAccountsWithBalances` is the domain's `availableAccountsWithBalance: allAccounts`.
 */
export const OPEN_PAYMENTS_AVAILABLE_ACCOUNTS = ['allAccounts', 'allAccountsWithBalances'] as const;
export const OPEN_PAYMENTS_ALL_PSD2 = ['allAccounts'] as const;

/**
 * The consent body in the domain's terms, and the issues the dialect's own spelling rules found. The
 * domain validation runs on `body` afterwards; the caller merges both issue lists (dialect first).
 */
export function consentBodyToDomain(body: unknown): { body: unknown; issues: ValidationIssue[] } {
  if (!isPlainObject(body) || !isPlainObject(body.access)) return { body, issues: [] };
  const issues: ValidationIssue[] = [];
  const access: Record<string, unknown> = { ...body.access };
  if ('availableAccountsWithBalance' in access) {
    issues.push({
      path: 'access.availableAccountsWithBalance',
      code: 'unknown_field',
      message: 'is not a known field; use availableAccounts: allAccountsWithBalances',
    });
  }
  if ('availableAccounts' in access) {
    const value = access.availableAccounts;
    if (value === 'allAccountsWithBalances') {
      delete access.availableAccounts;
      access.availableAccountsWithBalance = 'allAccounts';
    } else if (!(OPEN_PAYMENTS_AVAILABLE_ACCOUNTS as readonly unknown[]).includes(value)) {
      issues.push({ path: 'access.availableAccounts', code: 'invalid_value', message: `must be one of ${OPEN_PAYMENTS_AVAILABLE_ACCOUNTS.join(', ')}` });
    }
  }
  if ('allPsd2' in access && !(OPEN_PAYMENTS_ALL_PSD2 as readonly unknown[]).includes(access.allPsd2)) {
    issues.push({ path: 'access.allPsd2', code: 'invalid_value', message: `must be ${OPEN_PAYMENTS_ALL_PSD2.join(', ')}` });
  }
  return { body: { ...body, access }, issues };
}

/** Dialect issues first; a domain issue on a path already reported is dropped. */
export function mergeIssues(first: readonly ValidationIssue[], second: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set(first.map((i) => i.path));
  return [...first, ...second.filter((i) => !seen.has(i.path))];
}

// ── zod → issues ───────────────────────────────────────────────────────────────────────────────────────

/**
 * zod issues as ValidationIssues. `names` turns the first path segment into a display name (headers);
 * `input` tells "missing" apart from "wrong type".
 */
export function zodIssues(error: z.ZodError, input: unknown, names: Readonly<Record<string, string>> = {}): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    const display = (path: readonly PropertyKey[]) => {
      const [head, ...rest] = path;
      const mapped = typeof head === 'string' && names[head] ? [names[head], ...rest] : path;
      return jsonPath(mapped);
    };
    const at = (code: ValidationIssueCode, message: string): ValidationIssue[] => [{ path: display(issue.path), code, message }];
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({ path: display([...issue.path, key]), code: 'unknown_field' as const, message: 'is not a known field' }));
      case 'invalid_type':
        return valueAt(input, issue.path) === undefined ? at('required', 'is required') : at('invalid_type', `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`);
      case 'too_small':
        return at('invalid_format', issue.origin === 'string' ? 'must not be empty' : issue.message);
      case 'too_big':
        return at('invalid_format', issue.origin === 'string' ? `must be at most ${String(issue.maximum)} characters` : issue.message);
      default:
        return at('invalid_format', issue.message);
    }
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
