import type { Consent, ConsentChange, ConsentStatus, ConsentType } from './types.ts';

/** Filters the back-office and the sweeper use; every field is optional and they combine with AND. */
export interface ConsentQuery {
  clientId?: string;
  /** any of these clients (e.g. the TPPs whose name matched a search) */
  clientIds?: string[];
  psuId?: string;
  /** Brazil: CPF or CNPJ of the customer (matched through the blind index where encrypted) */
  document?: string;
  /** every one of these CPF / CNPJ (a customer acting for a company: both) */
  documents?: string[];
  /** an account IBAN contained in the consent */
  iban?: string;
  type?: ConsentType[];
  /** Open Finance Brasil payment consents: a payment on a later day (true) or today's (false); others never match */
  paymentScheduled?: boolean;
  status?: ConsentStatus[];
  createdFrom?: Date;
  createdTo?: Date;
  expiresFrom?: Date;
  expiresTo?: Date;
  /** the term in whole months (./term.ts; -1: no end) */
  termMonths?: number;
  /** consents holding any of these search keys (the Opus back-office's; matched by the repository) */
  searchKeys?: string[];
  /**
   * Consents that were granted and usable at some instant of [from, to]: approved (they have a grant),
   * created at or before `to`, and not ended before `from` — valid ones expiring after `from`, expired
   * ones with `expiresAt > from`, revoked or terminated ones that ended (`updatedAt`) at or after `from`.
   * (A final consent never changes again, so its `updatedAt` is when it ended.)
   */
  activeDuring?: { from: Date; to: Date };
}

/**
 * An index a query needs, in the query's own words: ConsentQuery filter names and sort fields (each
 * storage maps them to its fields). Declared next to the query that uses it (see
 * dialects/backoffice/query-core.ts); storages that index create them at startup.
 */
export interface QueryIndex {
  name: string;
  fields: ReadonlyArray<readonly [keyof ConsentQuery | ConsentSortField, 1 | -1]>;
}

export type ConsentSortField = 'createdAt' | 'expiresAt' | 'updatedAt';

export interface ConsentPage {
  items: Consent[];
  total: number;
}

/**
 * Storage of consents (authorisations are embedded in their consent). Implementations: storage/memory,
 * storage/mongo. What a read returns is read-only to the caller: it may be a frozen value (memory) or a
 * fresh copy (MongoDB); either way stored state never changes through it.
 */
export interface ConsentRepository {
  /** stores a new consent; the id must not exist yet */
  create(consent: Consent): Promise<void>;
  findById(id: string): Promise<Consent | null>;
  findByGrantId(grantId: string): Promise<Consent | null>;
  /**
   * Applies `change` as one conditional update. Returns the consent after the change, or null when the
   * stored consent no longer matches `change.expect` (a lost race or a stale read: the caller re-reads).
   * `from`: the consent the change was computed from. When it is at `change.expect`, the repository may
   * answer `applyChange(from, change)` instead of reading the result back: the conditional update only
   * applies to that very revision, so the two are equal (every writer moves the revision on).
   */
  apply(change: ConsentChange, from?: Consent): Promise<Consent | null>;
  /** filtered, sorted page; `total` counts all matches */
  query(
    filter: ConsentQuery,
    options: { sort: ConsentSortField; direction: 'asc' | 'desc'; skip: number; limit: number },
  ): Promise<ConsentPage>;
  /**
   * Consents the sweeper must look at: status `valid` or `received` with `expiresAt <= now`, and
   * `received` ones created before `receivedBefore`. At most `limit`.
   */
  findDue(now: Date, receivedBefore: Date, limit: number): Promise<Consent[]>;
  /** the storage's own upkeep (old write claims, evicted consents); the sweeper runs it every round */
  housekeeping(): Promise<void>;
  /**
   * Search keys (the Opus back-office's labels on a consent, e.g. a contract number): a set per consent,
   * kept apart from the consent's own fields (no transition reads or writes them) and stored only as
   * blind-index hashes where the storage protects personal data. Adds `keys` unless the consent would
   * then hold more than `max`. A write neither loses nor undoes a concurrent change of the consent; it
   * may move the consent's revision on (MongoDB: it is a stored change like any other), so a writer
   * holding the revision before it re-reads. Throws ConsentStateConflict (lostRace) when the consent
   * kept changing under it.
   */
  addSearchKeys(id: string, keys: readonly string[], max: number): Promise<'added' | 'not-found' | 'too-many'>;
  /** false: no such consent */
  removeSearchKeys(id: string, keys: readonly string[]): Promise<boolean>;
  /** which of `keys` consent `id` holds, in order; null: no such consent */
  heldSearchKeys(id: string, keys: readonly string[]): Promise<boolean[] | null>;
}
