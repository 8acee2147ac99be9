/**
 * Rules for an Open Finance Brasil data-sharing consent request (Consents API 3.3.1, POST /consents and
 * POST /consents/{id}/extends). The shape (zod, unknown fields refused, CPF/CNPJ check digits) gives
 * ValidationIssues (the dialect's 400); the business rules of the spec give one BrRuleViolation each
 * (its 422 codes): a data group requested whole, RESOURCES_READ with every group, personal and
 * business permissions never mixed, businessEntity with business permissions, an expiry in the future
 * and at most 12 months ahead.
 */
import { z } from 'zod';
import { isValidCnpj, isValidCpf } from './br-documents.ts';
import { BR_DATA_GROUPS, BR_PERMISSIONS, groupsOf } from './br-permissions.ts';
import type { ValidationIssue } from './errors.ts';
import { jsonPath, valueAt } from './validation.ts';

/** The longest validity the spec allows: 12 months. Without expirationDateTime, a consent has no end. */
export const BR_MAX_VALIDITY_MONTHS = 12;
/** What an indefinite consent stores as expiresAt (never reached). */
export const BR_NO_EXPIRY = new Date('9999-12-31T23:59:59Z');

export const BR_RULE_CODES = [
  'COMBINACAO_PERMISSOES_INCORRETA',
  'PERMISSAO_PF_PJ_EM_CONJUNTO',
  'INFORMACOES_PJ_NAO_INFORMADAS',
  'DATA_EXPIRACAO_INVALIDA',
] as const;
export type BrRuleCode = (typeof BR_RULE_CODES)[number];

export interface BrRuleViolation {
  code: BrRuleCode;
  message: string;
}

export interface BrDocument {
  identification: string;
  rel: string;
}

export interface BrDataSharingRequest {
  permissions: string[];
  loggedUser: { document: BrDocument };
  businessEntity?: { document: BrDocument };
  /** undefined: indefinite */
  expirationDateTime?: Date;
}

export type BrValidation<T> =
  | { ok: true; value: T }
  | { ok: false; issues: ValidationIssue[] }
  | { ok: false; rule: BrRuleViolation };

const RFC3339_UTC = /^(\d{4})-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9])T(?:[01]\d|2[0123]):(?:[012345]\d):(?:[012345]\d)Z$/;

const dateTime = z
  .string()
  .max(20)
  .regex(RFC3339_UTC, 'must be a date-time in UTC such as 2026-05-21T08:30:00Z')
  .refine(isRealDate, 'is not a real date');

/** Date.parse rolls 02-31 over into March: the parsed day must be the one written. */
function isRealDate(s: string): boolean {
  const [, year, month, day] = RFC3339_UTC.exec(s) ?? [];
  const parsed = new Date(Date.parse(s));
  return !Number.isNaN(parsed.getTime()) && parsed.getUTCFullYear() === Number(year) && parsed.getUTCMonth() + 1 === Number(month) && parsed.getUTCDate() === Number(day);
}

export const brCpfDocument = z.strictObject({
  document: z.strictObject({
    identification: z.string().regex(/^\d{11}$/, 'must be 11 digits').refine(isValidCpf, 'is not a valid CPF (check digits)'),
    rel: z.literal('CPF', { error: 'must be CPF' }),
  }),
});
export const brCnpjDocument = z.strictObject({
  document: z.strictObject({
    identification: z
      .string()
      .regex(/^[0-9A-Z]{12}[0-9]{2}$/, 'must be 14 characters (12 letters or digits, 2 digits)')
      .refine(isValidCnpj, 'is not a valid CNPJ (check digits)'),
    rel: z.literal('CNPJ', { error: 'must be CNPJ' }),
  }),
});

export const brCreateConsentSchema = z.strictObject({
  data: z.strictObject({
    loggedUser: brCpfDocument,
    businessEntity: brCnpjDocument.optional(),
    permissions: z
      .array(z.enum(BR_PERMISSIONS, { error: 'is not an Open Finance Brasil permission' }))
      .min(1)
      .max(BR_PERMISSIONS.length)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a permission'),
    expirationDateTime: dateTime.optional(),
  }),
});

export const brExtendConsentSchema = z.strictObject({
  data: z.strictObject({
    loggedUser: brCpfDocument,
    businessEntity: brCnpjDocument.optional(),
    expirationDateTime: dateTime.optional(),
  }),
});

export function validateBrDataSharingRequest(body: unknown, options: { now: Date }): BrValidation<BrDataSharingRequest> {
  const parsed = brCreateConsentSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error, body) };
  const { data } = parsed.data;
  const rule = permissionRule(data.permissions, data.businessEntity !== undefined) ?? expiryRule(data.expirationDateTime, options.now);
  if (rule) return { ok: false, rule };
  return { ok: true, value: request(data) };
}

export interface BrExtension {
  loggedUser: { document: BrDocument };
  businessEntity?: { document: BrDocument };
  expirationDateTime?: Date;
}

export function validateBrExtension(body: unknown, options: { now: Date; currentExpiry: Date }): BrValidation<BrExtension> {
  const parsed = brExtendConsentSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error, body) };
  const { data } = parsed.data;
  const rule = expiryRule(data.expirationDateTime, options.now);
  if (rule) return { ok: false, rule };
  const expiry = data.expirationDateTime ? new Date(data.expirationDateTime) : undefined;
  if (expiry && expiry.getTime() <= options.currentExpiry.getTime()) {
    return { ok: false, rule: { code: 'DATA_EXPIRACAO_INVALIDA', message: 'the new expirationDateTime must be later than the current one' } };
  }
  return {
    ok: true,
    value: {
      loggedUser: data.loggedUser,
      ...(data.businessEntity ? { businessEntity: data.businessEntity } : {}),
      ...(expiry ? { expirationDateTime: expiry } : {}),
    },
  };
}

/** The latest expirationDateTime the spec allows from `now`. */
export function latestExpiry(now: Date): Date {
  const latest = new Date(now.getTime());
  latest.setUTCMonth(latest.getUTCMonth() + BR_MAX_VALIDITY_MONTHS);
  return latest;
}

function request(data: z.infer<typeof brCreateConsentSchema>['data']): BrDataSharingRequest {
  return {
    permissions: [...data.permissions],
    loggedUser: data.loggedUser,
    ...(data.businessEntity ? { businessEntity: data.businessEntity } : {}),
    ...(data.expirationDateTime ? { expirationDateTime: new Date(data.expirationDateTime) } : {}),
  };
}

const BUSINESS = new Set<string>(BR_DATA_GROUPS.filter((g) => g.holder === 'PJ').flatMap((g) => g.permissions.filter((p) => p !== 'RESOURCES_READ')));
const PERSONAL = new Set<string>(BR_DATA_GROUPS.filter((g) => g.holder === 'PF').flatMap((g) => g.permissions.filter((p) => p !== 'RESOURCES_READ')));

function permissionRule(permissions: readonly string[], hasBusinessEntity: boolean): BrRuleViolation | undefined {
  const personal = permissions.some((p) => PERSONAL.has(p));
  const business = permissions.some((p) => BUSINESS.has(p));
  if (personal && business) {
    return { code: 'PERMISSAO_PF_PJ_EM_CONJUNTO', message: 'personal (CUSTOMERS_PERSONAL_*) and business (CUSTOMERS_BUSINESS_*) permissions cannot be requested together' };
  }
  if (business && !hasBusinessEntity) {
    return { code: 'INFORMACOES_PJ_NAO_INFORMADAS', message: 'business permissions require businessEntity' };
  }
  const covered = new Set<string>(groupsOf(permissions).flatMap((g) => g.permissions));
  const partial = permissions.filter((p) => !covered.has(p));
  if (partial.length > 0 || !permissions.includes('RESOURCES_READ')) {
    const which = partial.length > 0 ? partial.join(', ') : 'RESOURCES_READ';
    return { code: 'COMBINACAO_PERMISSOES_INCORRETA', message: `every data group must be requested whole, with RESOURCES_READ (incomplete: ${which})` };
  }
  return undefined;
}

function expiryRule(expirationDateTime: string | undefined, now: Date): BrRuleViolation | undefined {
  if (expirationDateTime === undefined) return undefined;
  const at = new Date(expirationDateTime).getTime();
  if (at <= now.getTime()) return { code: 'DATA_EXPIRACAO_INVALIDA', message: 'expirationDateTime must be in the future' };
  if (at > latestExpiry(now).getTime()) {
    return { code: 'DATA_EXPIRACAO_INVALIDA', message: `expirationDateTime must be at most ${BR_MAX_VALIDITY_MONTHS} months ahead` };
  }
  return undefined;
}

export function issuesOf(error: z.ZodError, body: unknown): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = jsonPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return { path: path === '' ? issue.keys.join(', ') : `${path}.${issue.keys[0]}`, code: 'unknown_field' as const, message: 'is not a known field' };
    }
    const missing = issue.code === 'invalid_type' && valueAt(body, issue.path) === undefined;
    return { path, code: missing ? ('required' as const) : ('invalid_value' as const), message: missing ? 'is required' : issue.message };
  });
}
