/**
 * Consent ⇄ MongoDB document. The only place that knows the stored shape, so field encryption stays here:
 * personal data goes through a FieldProtection on the way in and out, and equality search runs on the
 * blind indexes stored beside it. With `clearFields` (the default) values are stored as given and the
 * indexes are the normalised values.
 *
 * What is personal, and therefore protected (each value its own `enc:v1:<kid>:…` string, in place, under
 * the logical field name in brackets — the name is bound into the ciphertext, so a value moved to
 * another field does not decrypt):
 *
 *   psuId                                     [psuId]          searched by psuIdIndex
 *   psuIpAddress                              [psuIpAddress]   not searchable
 *   access.{accounts,balances,transactions}[] iban, bban, pan, maskedPan, msisdn [the identifier's kind]
 *                                                              IBANs searched by accessIbanIndex
 *                                             (a reference's clearingNumber, a bank's branch code, in clear)
 *   grantedAccounts[].iban                    [iban]           searched by grantedIbanIndex
 *   grantedAccounts[].accountId               [accountId]      the bank's account id: personal, not searched
 *   details: EVERY string, at any depth, except DETAILS_IN_CLEAR
 *                                             [details.<path>] CPF/CNPJ searched by documentIndex
 *   history[].reason                          [reason]         free text a step, a TPP or an operator wrote:
 *                                                              may name a person, so treated as personal
 *
 * `details` is deny-by-default because its shape belongs to the dialects (Open Finance Brasil puts the
 * customer's CPF, the company's CNPJ, names, PIX keys and account numbers there): a field a future dialect
 * adds is encrypted without anyone remembering to list it. Its field name is its path with array
 * positions dropped (`details.loggedUser.document.identification`, `details.creditors[].name`), so
 * swapping two values inside `details` is detected too. Kept in clear there: non-strings (numbers,
 * booleans, dates), object keys, and the paths in DETAILS_IN_CLEAR.
 *
 * Not personal, kept in clear: ids (consent, client, grant, authorisation), statuses, types, dates,
 * currencies, frequency, the scope fields of `access`, authorisations, history entries other than `reason`.
 *
 * Blind indexes are computed from the plaintext before it is protected, never read back from the
 * document, and are the only thing a query filters personal data on: equality search never decrypts.
 */
import { createHash } from 'node:crypto';
import type { Filter } from 'mongodb';
import { DecryptionError } from '../../crypto/errors.ts';
import { ACCOUNT_IDENTIFIERS, ibansOf } from '../../consent/account-reference.ts';
import { normaliseIban } from '../../consent/iban.ts';
import type { ConsentQuery } from '../../consent/repository.ts';
import { ACTIVE_STATUSES, ENDED_STATUSES, EXPIRED_STATUSES } from '../../consent/regimes/index.ts';
import { documentsOf, grantedIbansOf, normaliseDocument } from '../../consent/search.ts';
import type {
  AccountAccess,
  AccountReference,
  Authorisation,
  Consent,
  ConsentChange,
  ConsentStatus,
  ConsentType,
  GrantedAccount,
  Rejection,
  StatusChange,
} from '../../consent/types.ts';

/**
 * What the mapping needs from field encryption: the subset of src/crypto's FieldProtector
 * (createFieldProtector(ring) can be passed as is).
 */
export interface FieldProtection {
  protect(field: string, value: string): string;
  reveal(field: string, stored: string): string;
  /** deterministic equality-search key */
  index(field: string, value: string): string;
}

/** No encryption: values in clear, indexes are the (already normalised) values. */
export const clearFields: FieldProtection = {
  protect: (_field, value) => value,
  reveal: (_field, stored) => stored,
  index: (_field, value) => value,
};

/**
 * Paths in `details` (array positions as `[]`) whose strings are not personal and stay in clear: the
 * TPP's redirect URI (Berlin Group), and the Open Finance Brasil permission codes (about 30 fixed words
 * per consent, not worth 30 ciphertexts).
 */
export const DETAILS_IN_CLEAR: ReadonlySet<string> = new Set(['tppRedirectUri', 'permissions[]']);

export interface ConsentDocument {
  _id: string;
  clientId: string;
  type: ConsentType;
  /** account identifiers protected */
  access: AccountAccess;
  recurringIndicator: boolean;
  validUntil: string;
  expiresAt: Date;
  frequencyPerDay: number;
  combinedServiceIndicator: boolean;
  /** protected */
  psuId?: string;
  /** protected */
  psuIpAddress?: string;
  status: ConsentStatus;
  lastActionDate: string;
  createdAt: Date;
  updatedAt: Date;
  /** `reason` protected */
  history: StatusChange[];
  authorisations: Authorisation[];
  /** `accountId` and `iban` protected */
  grantedAccounts?: GrantedAccount[];
  grantId?: string;
  rejection?: Rejection;
  /** every string protected except DETAILS_IN_CLEAR */
  details?: Record<string, unknown>;
  revision: number;
  /** the term in months (consent/term.ts), in clear; absent on documents written before it existed */
  termMonths?: number;
  // search keys, each kept next to the field it is computed from so a change can update it alone
  psuIdIndex?: string;
  accessIbanIndex: string[];
  grantedIbanIndex: string[];
  documentIndex: string[];
  /** the consent's search keys (ConsentRepository.addSearchKeys), as blind-index hashes only; absent on older documents */
  searchKeyIndex?: string[];
}

/** ended by someone's action (not the clock): they stopped being usable at `updatedAt` */
const ENDED_BY_ACTION = ENDED_STATUSES.filter((s) => !EXPIRED_STATUSES.includes(s));

const SEARCH_KEYS = ['psuIdIndex', 'accessIbanIndex', 'grantedIbanIndex', 'documentIndex', 'searchKeyIndex'] as const;

/** The top-level fields that hold personal values (the same shape in a Consent and in its document). */
export const PERSONAL_FIELDS = ['psuId', 'psuIpAddress', 'access', 'grantedAccounts', 'details', 'history'] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

export function isPersonalField(key: string): key is PersonalField {
  return (PERSONAL_FIELDS as readonly string[]).includes(key);
}

/** A function of one personal value and its logical field name: protect, reveal, re-encrypt… */
export type ValueTransform = (field: string, value: string) => string;

/**
 * `value` (the content of top-level field `key`) with `transform` applied to every personal string in
 * it; everything else copied as is. The single description of where personal data sits: writing,
 * reading and re-encryption all go through it.
 */
export function mapPersonalValues(key: PersonalField, value: unknown, transform: ValueTransform): unknown {
  switch (key) {
    case 'psuId':
    case 'psuIpAddress':
      return typeof value === 'string' ? transform(key, value) : value;
    case 'access':
      return isRecord(value) ? mapAccess(value as AccountAccess, (ref) => mapIdentifiers(ref, transform)) : value;
    case 'grantedAccounts':
      return Array.isArray(value) ? (value as GrantedAccount[]).map((account) => mapGranted(account, transform)) : value;
    case 'details':
      return mapDetails(value, '', transform);
    case 'history':
      return Array.isArray(value) ? (value as StatusChange[]).map((entry) => mapHistoryEntry(entry, transform)) : value;
  }
}

/**
 * A stored consent that cannot be read back: a protected value in it does not decrypt (tampered with,
 * moved from another field, written under a key the ring no longer holds, or plaintext where a
 * ciphertext belongs). Never carries a plaintext or a ciphertext; names the consent, the field and the key id.
 */
export class UnreadableConsentError extends DecryptionError {
  readonly consentId: string;

  constructor(consentId: string, cause: DecryptionError) {
    super(cause.code, cause.field, cause.message, cause.kid);
    this.message = `consent "${consentId}": ${cause.message}`;
    this.consentId = consentId;
  }
}

export interface ConsentMapping {
  toDocument(consent: Consent): ConsentDocument;
  /** throws UnreadableConsentError when a protected value cannot be revealed */
  fromDocument(doc: ConsentDocument): Consent;
  /**
   * Consent fields as stored fields, with the search keys the changed fields feed (a plain `$set`).
   * Takes a change's `set`, or any other subset of a consent (`history` included).
   */
  setToDocument(set: ConsentChange['set'] | Partial<Consent>): Partial<ConsentDocument>;
  /** history entries as stored (their `reason` protected) */
  historyToDocument(history: readonly StatusChange[]): StatusChange[];
  /** a search key as stored (its blind-index hash) */
  searchKeyHash(key: string): string;
  filterToQuery(filter: ConsentQuery): Filter<ConsentDocument>;
}

export function consentMapping(protector: FieldProtection = clearFields): ConsentMapping {
  const protect: ValueTransform = (field, value) => protector.protect(field, value);
  const reveal: ValueTransform = (field, value) => protector.reveal(field, value);
  const ibanIndex = (ibans: string[]) => ibans.map((iban) => protector.index('iban', iban));
  const searchKeyHash = (key: string) => protector.index('searchKey', key);

  function setToDocument(set: ConsentChange['set'] | Partial<Consent>): Partial<ConsentDocument> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(set)) {
      // undefined means "leave as is" (see applyChange); storing it would write null
      if (value === undefined) continue;
      if (!isPersonalField(key)) {
        out[key] = value;
        continue;
      }
      out[key] = mapPersonalValues(key, value, protect);
      // search keys from the plaintext, before it is protected
      switch (key) {
        case 'psuId':
          out.psuIdIndex = protector.index('psuId', value as string);
          break;
        case 'access':
          out.accessIbanIndex = ibanIndex(ibansOf(value as AccountAccess));
          break;
        case 'grantedAccounts':
          out.grantedIbanIndex = ibanIndex(grantedIbansOf({ grantedAccounts: value as GrantedAccount[] }));
          break;
        case 'details':
          out.documentIndex = documentsOf(value as Record<string, unknown>).map((d) => protector.index('document', d));
          break;
      }
    }
    return out as Partial<ConsentDocument>;
  }

  return {
    setToDocument,
    searchKeyHash,

    historyToDocument(history) {
      return history.map((entry) => mapHistoryEntry(entry, protect));
    },

    toDocument(consent) {
      const { id, clientId, revision, createdAt, ...rest } = consent;
      return {
        _id: id,
        clientId,
        createdAt,
        revision,
        // every consent carries the array keys, so `$in`/equality on them never meets a missing field
        accessIbanIndex: [],
        grantedIbanIndex: [],
        documentIndex: [],
        ...setToDocument(rest),
      } as ConsentDocument;
    },

    fromDocument(doc) {
      const consent: Record<string, unknown> = { id: doc._id };
      try {
        for (const [key, value] of Object.entries(doc)) {
          if (key === '_id' || (SEARCH_KEYS as readonly string[]).includes(key) || value === undefined || value === null) {
            continue;
          }
          consent[key] = isPersonalField(key) ? mapPersonalValues(key, value, reveal) : value;
        }
      } catch (err) {
        if (err instanceof DecryptionError) throw new UnreadableConsentError(doc._id, err);
        throw err;
      }
      return consent as unknown as Consent;
    },

    filterToQuery(filter) {
      const query: Filter<ConsentDocument> = {};
      if (filter.clientId !== undefined) query.clientId = filter.clientId;
      if (filter.clientIds !== undefined) {
        query.clientId = filter.clientId !== undefined ? (filter.clientIds.includes(filter.clientId) ? filter.clientId : { $in: [] }) : { $in: filter.clientIds };
      }
      if (filter.psuId !== undefined) query.psuIdIndex = protector.index('psuId', filter.psuId);
      if (filter.document !== undefined) {
        query.documentIndex = protector.index('document', normaliseDocument(filter.document));
      }
      if (filter.documents !== undefined && filter.documents.length > 0) {
        const keys = filter.documents.map((d) => protector.index('document', normaliseDocument(d)));
        query.documentIndex = query.documentIndex !== undefined ? { $all: [query.documentIndex as string, ...keys] } : { $all: keys };
      }
      if (filter.iban !== undefined) {
        const key = protector.index('iban', normaliseIban(filter.iban));
        query.$or = [{ accessIbanIndex: key }, { grantedIbanIndex: key }];
      }
      if (filter.type?.length) query.type = { $in: filter.type };
      if (filter.status?.length) query.status = { $in: filter.status };
      if (filter.paymentScheduled !== undefined) {
        // a boolean inside details: kept in clear (see the header), compared as stored
        query.type = filter.type?.length ? { $in: filter.type.filter((t) => t === 'br-payment') } : 'br-payment';
        (query as Record<string, unknown>)['details.payment.scheduled'] = filter.paymentScheduled;
      }
      const created = range(filter.createdFrom, filter.createdTo);
      if (created) query.createdAt = created;
      const expires = range(filter.expiresFrom, filter.expiresTo);
      if (expires) query.expiresAt = expires;
      if (filter.termMonths !== undefined) query.termMonths = filter.termMonths;
      if (filter.searchKeys !== undefined) query.searchKeyIndex = { $in: filter.searchKeys.map((k) => searchKeyHash(k)) };
      if (filter.activeDuring) {
        // the same rule as wasActiveDuring (src/consent/search.ts)
        const { from, to } = filter.activeDuring;
        const active: Filter<ConsentDocument> = {
          grantId: { $exists: true },
          createdAt: { $lte: to },
          expiresAt: { $gt: from },
          $or: [
            { status: { $in: [...ACTIVE_STATUSES, ...EXPIRED_STATUSES] } },
            { status: { $in: ENDED_BY_ACTION }, updatedAt: { $gte: from } },
          ],
        };
        return (Object.keys(query).length > 0 ? { $and: [query, active] } : active) as Filter<ConsentDocument>;
      }
      return query;
    },
  };
}

function range(from: Date | undefined, to: Date | undefined): { $gte?: Date; $lt?: Date } | undefined {
  if (from === undefined && to === undefined) return undefined;
  return { ...(from !== undefined ? { $gte: from } : {}), ...(to !== undefined ? { $lt: to } : {}) };
}

function mapIdentifiers(ref: AccountReference, transform: ValueTransform): AccountReference {
  const out: AccountReference = { ...ref };
  for (const kind of ACCOUNT_IDENTIFIERS) {
    const value = ref[kind];
    if (typeof value === 'string') out[kind] = transform(kind, value);
  }
  return out;
}

function mapAccess(access: AccountAccess, map: (ref: AccountReference) => AccountReference): AccountAccess {
  const out: AccountAccess = { ...access };
  for (const list of ['accounts', 'balances', 'transactions'] as const) {
    const refs = access[list];
    if (Array.isArray(refs)) out[list] = refs.map(map);
  }
  return out;
}

function mapGranted(account: GrantedAccount, transform: ValueTransform): GrantedAccount {
  const out: GrantedAccount = { ...account };
  if (typeof account.accountId === 'string') out.accountId = transform('accountId', account.accountId);
  if (typeof account.iban === 'string') out.iban = transform('iban', account.iban);
  return out;
}

function mapHistoryEntry(entry: StatusChange, transform: ValueTransform): StatusChange {
  return typeof entry.reason === 'string' ? { ...entry, reason: transform('reason', entry.reason) } : { ...entry };
}

/** field names go into associated data, at most 128 characters: a longer path is named by its hash */
const MAX_FIELD_NAME = 128;

/** The logical field name of the string at `path` in `details` (array positions as `[]`). */
export function detailsFieldName(path: string): string {
  const name = `details.${path}`;
  if (name.length <= MAX_FIELD_NAME) return name;
  return `details#${createHash('sha256').update(path, 'utf8').digest('base64url').slice(0, 22)}`;
}

function mapDetails(value: unknown, path: string, transform: ValueTransform): unknown {
  if (typeof value === 'string') return DETAILS_IN_CLEAR.has(path) ? value : transform(detailsFieldName(path), value);
  if (Array.isArray(value)) return value.map((item) => mapDetails(item, `${path}[]`, transform));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = mapDetails(item, path === '' ? key : `${path}.${key}`, transform);
    return out;
  }
  // numbers, booleans, null, dates (and any other BSON value): not strings, kept as they are
  return value;
}

/** a plain object (as JSON or BSON gives them), not a Date, an array or another class instance */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
