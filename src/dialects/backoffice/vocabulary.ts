/**
 * The two vocabularies of the back-office API: Assent's own consent statuses and types (Berlin Group
 * words: `valid`, `revokedByPsu`, …) and the Opus / Open Finance Brasil words of the Consent BackOffice
 * spec (`AUTHORISED`, `REVOKED`, `DATA_SHARING`, …). Responses carry both (`status` in the spec's words,
 * `detailedStatus` in ours, since the spec's words are coarser); filters accept either.
 */
import { CONSENT_STATUSES } from '../../consent/regimes/index.ts';
import { CONSENT_TYPES, type Actor, type ConsentStatus, type ConsentType } from '../../consent/types.ts';

/** ConsentAuthorizationStatusEnum values we produce. */
export type SpecStatus = 'AWAITING_AUTHORISATION' | 'AUTHORISED' | 'REJECTED' | 'REVOKED' | 'EXPIRED' | 'CONSUMED';
/** ConsentTypesEnum values we produce (no ENROLLMENT: Assent has no enrollment consents). */
export type SpecType = 'DATA_SHARING' | 'PAYMENT';
/** RevokedByEnum / RejectedByEnum */
export type SpecParty = 'USER' | 'ASPSP' | 'TPP';

export const SPEC_STATUS: Readonly<Record<ConsentStatus, SpecStatus>> = {
  received: 'AWAITING_AUTHORISATION',
  valid: 'AUTHORISED',
  rejected: 'REJECTED',
  // Open Finance Brasil: a TPP's DELETE of an authorised consent makes it REVOKED (revokedBy TPP)
  revokedByPsu: 'REVOKED',
  terminatedByTpp: 'REVOKED',
  expired: 'EXPIRED',
  // Open Finance Brasil data sharing: the spec's own words
  AWAITING_AUTHORISATION: 'AWAITING_AUTHORISATION',
  AUTHORISED: 'AUTHORISED',
  REJECTED: 'REJECTED',
  // Open Finance Brasil payment consents: used up by their payment
  CONSUMED: 'CONSUMED',
};

export const SPEC_TYPE: Readonly<Record<ConsentType, SpecType>> = {
  accounts: 'DATA_SHARING',
  'br-data-sharing': 'DATA_SHARING',
  payments: 'PAYMENT',
  'br-payment': 'PAYMENT',
};

/** Who caused a change, in the spec's RevokedByEnum / RejectedByEnum words. */
export const SPEC_PARTY: Readonly<Record<Actor, SpecParty>> = {
  PSU: 'USER',
  ASPSP: 'ASPSP',
  TPP: 'TPP',
  // the clock (expiry, authorisation timeout) is the bank's doing
  system: 'ASPSP',
};

function inverse<K extends string, V extends string>(map: Readonly<Record<K, V>>): Record<V, K[]> {
  const out = {} as Record<V, K[]>;
  for (const [key, value] of Object.entries(map) as Array<[K, V]>) (out[value] ??= []).push(key);
  return out;
}

/** Every word the `status` filter accepts → the stored statuses it matches. */
export const STATUS_WORDS: Readonly<Record<string, readonly ConsentStatus[]>> = {
  ...Object.fromEntries(CONSENT_STATUSES.map((s) => [s, [s]])),
  ...inverse(SPEC_STATUS),
};

/** Every word the `type` filter accepts → the stored types it matches. */
export const TYPE_WORDS: Readonly<Record<string, readonly ConsentType[]>> = {
  ...Object.fromEntries(CONSENT_TYPES.map((t) => [t, [t]])),
  ...inverse(SPEC_TYPE),
};
