/**
 * Whether a consent lets its TPP make one account-information request: the data kind a resource path
 * reads, the consent's effective status, the grant on the account, and how many accesses the Berlin Group
 * usage rules allow. Pure: the caller brings the consent, the clock and the counts.
 *
 * The outcomes are the domain's; ACCESS_OUTCOME_CODES maps them to each regime's codes (Berlin Group,
 * Open Finance Brasil). An outcome without a consent (unknown token or consent) uses Berlin Group's.
 */
import { effectiveStatus } from './state.ts';
import { isActive, isExpiredStatus } from './regimes/index.ts';
import type { Consent, ConsentType } from './types.ts';

export const DATA_KINDS = ['accounts', 'balances', 'transactions'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** the consent types that grant account data */
const DATA_CONSENT_TYPES: readonly ConsentType[] = ['accounts', 'br-data-sharing'];

export type AccessOutcome =
  | 'valid'
  | 'tokenInvalid'
  | 'consentUnknown'
  | 'consentInvalid'
  | 'consentExpired'
  | 'notGranted'
  | 'serviceInvalid'
  | 'resourceUnknown'
  | 'accessExceeded';

/** The resource a request reads: its data kind and the account it addresses (none for the account list). */
export interface ResourceRequest {
  kind: DataKind;
  accountId?: string;
}

/**
 * The data kind of a Berlin Group AIS path (`…/accounts`, `…/accounts/{id}`, `…/accounts/{id}/balances`,
 * `…/accounts/{id}/transactions[/{transactionId}]`, and the same under `card-accounts`), with the account
 * id the path names. Anything else is undefined (not an account-information resource).
 */
export function resourceOfPath(path: string): ResourceRequest | undefined {
  const m = /(?:^|\/)(?:card-)?accounts(?:\/([^/?#]+)(?:\/(balances|transactions)(?:\/[^/?#]+)?)?)?\/?$/.exec(path.split('?')[0]!);
  if (!m) return undefined;
  const accountId = m[1] ? decodeURIComponent(m[1]) : undefined;
  const kind: DataKind = (m[2] as DataKind | undefined) ?? 'accounts';
  return { kind, ...(accountId ? { accountId } : {}) };
}

/** The checks that need no counter: status, then the grant on the account. */
export function checkAccess(consent: Consent, resource: ResourceRequest, now: Date): AccessOutcome {
  const status = effectiveStatus(consent, now);
  if (!isActive(status)) return isExpiredStatus(status) || consent.rejection?.reason.code === 'CONSENT_MAX_DATE_REACHED' ? 'consentExpired' : 'consentInvalid';
  if (!DATA_CONSENT_TYPES.includes(consent.type)) return 'serviceInvalid';
  const granted = consent.grantedAccounts ?? [];
  if (resource.accountId === undefined) {
    // the account list: the consent must grant account details on at least one account
    return granted.some((a) => a.access.includes('accounts')) ? 'valid' : 'notGranted';
  }
  const account = granted.find((a) => a.accountId === resource.accountId);
  if (!account) return 'resourceUnknown';
  return account.access.includes(resource.kind) ? 'valid' : 'notGranted';
}

/**
 * How an access counts (Berlin Group): a recurring consent allows `frequencyPerDay` accesses per resource
 * and day without the customer present, and does not count accesses with the customer present; a one-off
 * consent (`recurringIndicator: false`) allows one access per resource over its whole life.
 */
export type UsageRule = { counted: false; limit: number } | { counted: true; limit: number; period: 'day' | 'lifetime' };

export function usageRule(consent: Pick<Consent, 'recurringIndicator' | 'frequencyPerDay'>, psuPresent: boolean): UsageRule {
  if (!consent.recurringIndicator) return { counted: true, limit: 1, period: 'lifetime' };
  if (psuPresent) return { counted: false, limit: consent.frequencyPerDay };
  return { counted: true, limit: consent.frequencyPerDay, period: 'day' };
}

export interface OutcomeCode {
  httpCode: number;
  errorCode: string | null;
}

/** Berlin Group NextGenPSD2 codes (section 14.11 of the implementation guidelines). */
const BERLIN_GROUP: Record<AccessOutcome, OutcomeCode> = {
  valid: { httpCode: 200, errorCode: null },
  tokenInvalid: { httpCode: 401, errorCode: 'TOKEN_INVALID' },
  consentUnknown: { httpCode: 403, errorCode: 'CONSENT_UNKNOWN' },
  consentInvalid: { httpCode: 401, errorCode: 'CONSENT_INVALID' },
  consentExpired: { httpCode: 401, errorCode: 'CONSENT_EXPIRED' },
  notGranted: { httpCode: 401, errorCode: 'CONSENT_INVALID' },
  serviceInvalid: { httpCode: 405, errorCode: 'SERVICE_INVALID' },
  resourceUnknown: { httpCode: 403, errorCode: 'RESOURCE_UNKNOWN' },
  accessExceeded: { httpCode: 429, errorCode: 'ACCESS_EXCEEDED' },
};

/**
 * Open Finance Brasil: the resource APIs' common error codes (`errors[].code`), the HTTP status carrying
 * the meaning (an inactive consent is 401, a resource outside it 403 / 404, over the limit 429).
 */
const OPEN_FINANCE_BRASIL: Record<AccessOutcome, OutcomeCode> = {
  valid: { httpCode: 200, errorCode: null },
  tokenInvalid: { httpCode: 401, errorCode: 'UNAUTHORIZED' },
  consentUnknown: { httpCode: 403, errorCode: 'FORBIDDEN' },
  consentInvalid: { httpCode: 401, errorCode: 'UNAUTHORIZED' },
  consentExpired: { httpCode: 401, errorCode: 'UNAUTHORIZED' },
  notGranted: { httpCode: 403, errorCode: 'FORBIDDEN' },
  serviceInvalid: { httpCode: 405, errorCode: 'METHOD_NOT_ALLOWED' },
  resourceUnknown: { httpCode: 404, errorCode: 'NOT_FOUND' },
  accessExceeded: { httpCode: 429, errorCode: 'TOO_MANY_REQUESTS' },
};

/**
 * The code a resource server answers with, per consent type's regime: Berlin Group for `accounts`, Open
 * Finance Brasil for `br-*`. A new regime adds its table here.
 */
const ACCESS_OUTCOME_CODES: Partial<Record<ConsentType, Record<AccessOutcome, OutcomeCode>>> = {
  accounts: BERLIN_GROUP,
  'br-data-sharing': OPEN_FINANCE_BRASIL,
  'br-payment': OPEN_FINANCE_BRASIL,
};

export function outcomeCode(type: ConsentType | undefined, outcome: AccessOutcome): OutcomeCode {
  const catalogue = (type && ACCESS_OUTCOME_CODES[type]) || BERLIN_GROUP;
  return catalogue[outcome];
}
