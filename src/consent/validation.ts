/**
 * Rules for a Berlin Group account-information consent request (POST /consents body). zod checks the shape
 * and each field on its own (so one answer lists every bad field); the rules that relate fields to each
 * other, or need the clock, run once the shape is right. The result is the normalised request or a
 * ConsentValidationError whose issues name JSON paths such as `access.balances[0].iban`.
 */
import { z } from 'zod';
import { ACCOUNT_IDENTIFIERS, identifiersOf, referenceKey } from './account-reference.ts';
import { isCurrencyCode } from './currency.ts';
import { addDays, isCalendarDate, isoDate } from './dates.ts';
import { ConsentValidationError, type ValidationIssue, type ValidationIssueCode } from './errors.ts';
import { ibanProblem, normaliseIban } from './iban.ts';
import type { AccountAccess, AccountReference } from './types.ts';

/** `validUntil` asking for the longest validity the bank grants. */
export const MAX_VALID_UNTIL = '9999-12-31';

export interface ConsentRequestOptions {
  now: Date;
  /** the longest validity granted, in days from today; a later `validUntil` is cut to it */
  maxValidityDays: number;
  /** when set, a recurring consent asking for more accesses a day is refused (Berlin Group default: 4) */
  maxFrequencyPerDay?: number;
  /** accept empty account lists: the bank-offered consent, where the PSU picks the accounts. Default false */
  allowBankOffered?: boolean;
}

/** The request after validation: IBANs in electronic format, validUntil capped, frequencyPerDay forced. */
export interface AccountConsentRequest {
  access: AccountAccess;
  recurringIndicator: boolean;
  validUntil: string;
  frequencyPerDay: number;
  combinedServiceIndicator: boolean;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: ConsentValidationError };

const LISTS = ['accounts', 'balances', 'transactions'] as const;
const GLOBALS = ['availableAccounts', 'availableAccountsWithBalance', 'allPsd2'] as const;

function checked(check: (value: string) => string | null) {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });
}

const identifier = (max: number) => z.string().min(1).max(max);

export const accountReferenceSchema = z.strictObject({
  iban: checked((v) => {
    const problem = ibanProblem(normaliseIban(v));
    return problem === null ? null : `is not a valid IBAN: ${problem}`;
  }),
  bban: z.string().regex(/^[a-zA-Z0-9]{1,30}$/, { error: 'must be 1 to 30 letters or digits' }),
  pan: identifier(35),
  maskedPan: identifier(35),
  msisdn: identifier(35),
  clearingNumber: z.string().regex(/^[0-9]{1,5}$/, { error: 'must be 1 to 5 digits' }),
  currency: checked((v) => (isCurrencyCode(v) ? null : 'must be an ISO 4217 currency code such as EUR')),
}).partial();

const scope = z.enum(['allAccounts', 'allAccountsWithOwnerName']);

export const accountAccessSchema = z
  .strictObject({
    accounts: z.array(accountReferenceSchema),
    balances: z.array(accountReferenceSchema),
    transactions: z.array(accountReferenceSchema),
    availableAccounts: scope,
    availableAccountsWithBalance: scope,
    allPsd2: scope,
  })
  .partial();

export const accountConsentRequestSchema = z.strictObject({
  access: accountAccessSchema,
  recurringIndicator: z.boolean(),
  validUntil: checked((v) => (isCalendarDate(v) ? null : 'must be a date YYYY-MM-DD')),
  frequencyPerDay: z.int().min(1),
  combinedServiceIndicator: z.boolean(),
});

export function validateAccountConsentRequest(
  body: unknown,
  options: ConsentRequestOptions,
): ValidationResult<AccountConsentRequest> {
  const parsed = accountConsentRequestSchema.safeParse(body);
  if (!parsed.success) return failure(parsed.error.issues.flatMap((issue) => fromZod(issue, body)));

  const request = parsed.data;
  const issues: ValidationIssue[] = [...accessIssues(request.access, options)];
  const today = isoDate(options.now);
  if (request.validUntil < today) {
    issues.push({ path: 'validUntil', code: 'invalid_value', message: `must not be before today (${today})` });
  }
  const frequencyPerDay = request.recurringIndicator ? request.frequencyPerDay : 1;
  if (options.maxFrequencyPerDay !== undefined && frequencyPerDay > options.maxFrequencyPerDay) {
    issues.push({ path: 'frequencyPerDay', code: 'invalid_value', message: `must be at most ${options.maxFrequencyPerDay}` });
  }
  if (issues.length > 0) return failure(issues);

  const latest = addDays(options.now, options.maxValidityDays);
  return {
    ok: true,
    value: {
      access: normaliseAccess(request.access),
      recurringIndicator: request.recurringIndicator,
      // 9999-12-31 sorts after any cap, so it lands on the cap like every other too-late date
      validUntil: request.validUntil > latest ? latest : request.validUntil,
      frequencyPerDay,
      combinedServiceIndicator: request.combinedServiceIndicator,
    },
  };
}

/** Like validateAccountConsentRequest, but throws the ConsentValidationError. */
export function parseAccountConsentRequest(body: unknown, options: ConsentRequestOptions): AccountConsentRequest {
  const result = validateAccountConsentRequest(body, options);
  if (!result.ok) throw result.error;
  return result.value;
}

/** `['access', 'balances', 0, 'iban']` → `access.balances[0].iban` */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

// ── rules across fields ────────────────────────────────────────────────────────────────────────────────

function accessIssues(access: AccountAccess, options: ConsentRequestOptions): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const lists = LISTS.filter((name) => access[name] !== undefined);
  const globals = GLOBALS.filter((name) => access[name] !== undefined);

  if (lists.length === 0 && globals.length === 0) {
    issues.push({
      path: 'access',
      code: 'required',
      message: `must ask for ${[...LISTS, ...GLOBALS].join(', ').replace(/, ([^,]*)$/, ' or $1')}`,
    });
    return issues;
  }
  if (lists.length > 0) {
    for (const name of globals) {
      issues.push({ path: `access.${name}`, code: 'invalid_value', message: 'cannot be combined with account lists' });
    }
  } else {
    for (const name of globals.slice(1)) {
      issues.push({ path: `access.${name}`, code: 'invalid_value', message: `cannot be combined with access.${globals[0]}` });
    }
  }

  const empty = lists.filter((name) => access[name]?.length === 0);
  const listed = lists.filter((name) => (access[name]?.length ?? 0) > 0);
  for (const name of empty) {
    if (!options.allowBankOffered) {
      issues.push({ path: `access.${name}`, code: 'invalid_value', message: 'must name at least one account' });
    } else if (listed.length > 0) {
      issues.push({
        path: `access.${name}`,
        code: 'invalid_value',
        message: `an empty list (the PSU chooses) cannot be combined with named accounts in access.${listed[0]}`,
      });
    }
  }

  for (const name of listed) {
    const seen = new Set<string>();
    (access[name] ?? []).forEach((ref, index) => {
      const path = `access.${name}[${index}]`;
      if (identifiersOf(ref).length !== 1) {
        issues.push({ path, code: 'invalid_value', message: `must have exactly one of ${ACCOUNT_IDENTIFIERS.join(', ')}` });
        return;
      }
      const key = referenceKey(ref);
      if (seen.has(key)) issues.push({ path, code: 'invalid_value', message: `is listed twice in access.${name}` });
      seen.add(key);
    });
  }

  // An account named under balances or transactions and not under accounts is not refused: the spec sets
  // no such rule, and Berlin Group grants it account access too (accountsInScope).
  return issues;
}

function normaliseAccess(access: AccountAccess): AccountAccess {
  const out: AccountAccess = {};
  for (const name of LISTS) {
    const list = access[name];
    if (list !== undefined) out[name] = list.map(normaliseReference);
  }
  for (const name of GLOBALS) {
    const value = access[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function normaliseReference(ref: AccountReference): AccountReference {
  const out: AccountReference = {};
  for (const kind of ACCOUNT_IDENTIFIERS) {
    const value = ref[kind];
    if (value !== undefined) out[kind] = kind === 'iban' ? normaliseIban(value) : value;
  }
  if (ref.clearingNumber !== undefined) out.clearingNumber = ref.clearingNumber;
  if (ref.currency !== undefined) out.currency = ref.currency;
  return out;
}

// ── zod issues → ours ──────────────────────────────────────────────────────────────────────────────────

function failure(issues: ValidationIssue[]): { ok: false; error: ConsentValidationError } {
  return { ok: false, error: new ConsentValidationError(issues) };
}

function fromZod(issue: z.core.$ZodIssue, body: unknown): ValidationIssue[] {
  const path = jsonPath(issue.path);
  const at = (code: ValidationIssueCode, message: string): ValidationIssue[] => [{ path, code, message }];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: jsonPath([...issue.path, key]),
        code: 'unknown_field' as const,
        message: 'is not a known field',
      }));
    case 'invalid_type':
      if (issue.path.length === 0) {
        return body === undefined ? at('required', 'a JSON body is required') : at('invalid_type', 'the body must be a JSON object');
      }
      if (valueAt(body, issue.path) === undefined) return at('required', 'is required');
      return at('invalid_type', issue.expected === 'int' ? 'must be a whole number' : `must be ${article(issue.expected)}`);
    case 'invalid_value':
      return at('invalid_value', `must be one of ${issue.values.map(String).join(', ')}`);
    case 'too_small':
      if (issue.origin === 'string') return at('invalid_format', 'must not be empty');
      return at('invalid_value', `must be at least ${String(issue.minimum)}`);
    case 'too_big':
      if (issue.origin === 'string') return at('invalid_format', `must be at most ${String(issue.maximum)} characters`);
      return at('invalid_value', `must be at most ${String(issue.maximum)}`);
    case 'invalid_format':
    case 'custom':
      return at('invalid_format', issue.message);
    default:
      return at('invalid_value', issue.message);
  }
}

/** The value at a zod issue path in the input (undefined when absent): tells "required" from "wrong". */
export function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let current = body;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
