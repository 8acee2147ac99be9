/**
 * The consent domain's data types. No I/O lives in src/consent/: storage implements the interfaces
 * declared in ./repository.ts, dialects translate HTTP to the functions in this folder.
 */

import type { BERLIN_GROUP_STATUSES } from './regimes/berlin-group.ts';
import type { BR_DATA_SHARING_STATUSES } from './regimes/brazil-data-sharing.ts';
import type { BR_PAYMENT_STATUSES } from './regimes/brazil-payment.ts';

/**
 * Every status of every consent regime (./regimes/: the vocabularies are disjoint, each regime has its
 * own state graph). The list of values is CONSENT_STATUSES in ./regimes/index.ts.
 */
export type ConsentStatus =
  | (typeof BERLIN_GROUP_STATUSES)[number]
  | (typeof BR_DATA_SHARING_STATUSES)[number]
  | (typeof BR_PAYMENT_STATUSES)[number];

export const SCA_STATUSES = [
  'received',
  'psuIdentified',
  'psuAuthenticated',
  'scaMethodSelected',
  'started',
  'finalised',
  'failed',
  'exempted',
] as const;
export type ScaStatus = (typeof SCA_STATUSES)[number];

/**
 * What a consent is for. `accounts` is the Berlin Group account-information consent; the others are the
 * shapes later dialects add (payments, Open Finance Brasil data sharing and payments). Type-specific data
 * that the common fields do not cover lives in `details`.
 */
export const CONSENT_TYPES = ['accounts', 'payments', 'br-data-sharing', 'br-payment'] as const;
export type ConsentType = (typeof CONSENT_TYPES)[number];

/** Who caused a change. */
export type Actor = 'TPP' | 'PSU' | 'ASPSP' | 'system';

/**
 * Why a consent ended, in the Open Finance Brasil shape (`rejection` of ResponseConsent): recorded by the
 * regimes that have one, with the move that ended the consent.
 */
export interface Rejection {
  rejectedBy: 'USER' | 'ASPSP' | 'TPP';
  reason: { code: string; additionalInformation?: string };
}

/** A Berlin Group account reference: exactly one identifier, optionally a currency. */
export interface AccountReference {
  iban?: string;
  bban?: string;
  pan?: string;
  maskedPan?: string;
  msisdn?: string;
  /** the bank's clearing number (Sweden: beside a BBAN); qualifies the identifier, is not one */
  clearingNumber?: string;
  currency?: string;
}

export type AvailableAccountsScope = 'allAccounts' | 'allAccountsWithOwnerName';

/** Berlin Group `access`: explicit account lists, or one of the global forms. */
export interface AccountAccess {
  accounts?: AccountReference[];
  balances?: AccountReference[];
  transactions?: AccountReference[];
  availableAccounts?: AvailableAccountsScope;
  availableAccountsWithBalance?: AvailableAccountsScope;
  allPsd2?: AvailableAccountsScope;
}

export interface StatusChange {
  from: ConsentStatus | null;
  to: ConsentStatus;
  actor: Actor;
  /** who exactly, when known: the OAuth client (TPP or back-office app) that made the change */
  by?: string;
  reason?: string;
  at: Date;
  requestId?: string;
}

export interface ScaStatusChange {
  from: ScaStatus | null;
  to: ScaStatus;
  actor: Actor;
  at: Date;
  requestId?: string;
}

/** An authorisation sub-resource: one attempt by the PSU to authorise the consent. */
export interface Authorisation {
  id: string;
  scaStatus: ScaStatus;
  /** the SCA method the TPP chose (authenticationMethodId) */
  scaMethodId?: string;
  createdAt: Date;
  updatedAt: Date;
  history: ScaStatusChange[];
}

/** An account of the PSU that the consent was granted for (recorded on approval). */
export interface GrantedAccount {
  /** the bank's internal account id */
  accountId: string;
  iban?: string;
  currency?: string;
  /** what the consent allows on this account */
  access: Array<'accounts' | 'balances' | 'transactions'>;
}

export interface Consent {
  /** unguessable id */
  id: string;
  /** the OAuth client (TPP) that created and owns the consent */
  clientId: string;
  type: ConsentType;
  access: AccountAccess;
  recurringIndicator: boolean;
  /** Berlin Group `validUntil`, YYYY-MM-DD, after capping to the server's maximum */
  validUntil: string;
  /** the instant the consent stops being usable (the end of `validUntil`, UTC) */
  expiresAt: Date;
  /** whole calendar months from creation to `expiresAt`, -1 without an end (./term.ts); set with `expiresAt` */
  termMonths?: number;
  frequencyPerDay: number;
  combinedServiceIndicator: boolean;
  /** the PSU, once known (from the request, or on approval) */
  psuId?: string;
  psuIpAddress?: string;
  status: ConsentStatus;
  /** YYYY-MM-DD of the last change */
  lastActionDate: string;
  createdAt: Date;
  updatedAt: Date;
  /** append-only */
  history: StatusChange[];
  authorisations: Authorisation[];
  /** the accounts chosen on approval */
  grantedAccounts?: GrantedAccount[];
  /** the oidc-provider grant created when the consent was approved */
  grantId?: string;
  /** why it ended, for regimes that say (Open Finance Brasil) */
  rejection?: Rejection;
  /** type-specific data (Brazil permissions, payment details, …) */
  details?: Record<string, unknown>;
  /** increases by one with every stored change; the optimistic-concurrency guard */
  revision: number;
}

/**
 * A change computed by the domain, applied by a repository as ONE conditional update:
 * it applies only when the stored consent still has `expect.status` and `expect.revision`.
 */
export interface ConsentChange {
  id: string;
  expect: { status: ConsentStatus; revision: number };
  /** fields to set (revision and updatedAt are set by the change itself) */
  set: Partial<Omit<Consent, 'id' | 'clientId' | 'history' | 'revision' | 'createdAt'>> & { updatedAt: Date };
  /** status history entries appended in the same update */
  history?: StatusChange[];
}
