/**
 * Consent ⇄ MongoDB document. The only place that knows the stored shape, so field encryption stays here:
 * personal data goes through a FieldProtection on the way in and out, and equality search runs on the
 * blind indexes stored beside it (`psuIdIndex`, `accessIbanIndex`, `grantedIbanIndex`, `documentIndex`).
 * With `clearFields` (the default) values are stored as given and the indexes are the normalised values.
 *
 * Protected (logical field names as in src/crypto): psuId, psuIpAddress, and the identifiers of account
 * references (iban, bban, pan, maskedPan, msisdn) in `access` and `grantedAccounts[].iban`.
 * Not protected yet: `details` (Open Finance Brasil keeps the customer's CPF/CNPJ there).
 */
import type { Filter } from 'mongodb';
import { ACCOUNT_IDENTIFIERS, ibansOf } from '../../consent/account-reference.ts';
import { normaliseIban } from '../../consent/iban.ts';
import type { ConsentQuery } from '../../consent/repository.ts';
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

export interface ConsentDocument {
  _id: string;
  clientId: string;
  type: ConsentType;
  /** identifiers protected */
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
  history: StatusChange[];
  authorisations: Authorisation[];
  /** `iban` protected */
  grantedAccounts?: GrantedAccount[];
  grantId?: string;
  details?: Record<string, unknown>;
  revision: number;
  // search keys, each kept next to the field it is computed from so a change can update it alone
  psuIdIndex?: string;
  accessIbanIndex: string[];
  grantedIbanIndex: string[];
  documentIndex: string[];
}

const SEARCH_KEYS = ['psuIdIndex', 'accessIbanIndex', 'grantedIbanIndex', 'documentIndex'] as const;

export interface ConsentMapping {
  toDocument(consent: Consent): ConsentDocument;
  fromDocument(doc: ConsentDocument): Consent;
  /** a change's `set` as stored fields, with the search keys the changed fields feed (a plain `$set`) */
  setToDocument(set: ConsentChange['set']): Partial<ConsentDocument>;
  filterToQuery(filter: ConsentQuery): Filter<ConsentDocument>;
}

export function consentMapping(protector: FieldProtection = clearFields): ConsentMapping {
  const protectReference = (ref: AccountReference): AccountReference => mapIdentifiers(ref, protector.protect);
  const revealReference = (ref: AccountReference): AccountReference => mapIdentifiers(ref, protector.reveal);
  const ibanIndex = (ibans: string[]) => ibans.map((iban) => protector.index('iban', iban));

  function setToDocument(set: ConsentChange['set']): Partial<ConsentDocument> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(set)) {
      // undefined means "leave as is" (see applyChange); storing it would write null
      if (value === undefined) continue;
      switch (key) {
        case 'psuId':
          out.psuId = protector.protect('psuId', value as string);
          out.psuIdIndex = protector.index('psuId', value as string);
          break;
        case 'psuIpAddress':
          out.psuIpAddress = protector.protect('psuIpAddress', value as string);
          break;
        case 'access':
          out.access = mapAccess(value as AccountAccess, protectReference);
          out.accessIbanIndex = ibanIndex(ibansOf(value as AccountAccess));
          break;
        case 'grantedAccounts':
          out.grantedAccounts = (value as GrantedAccount[]).map((a) => mapGranted(a, protector.protect));
          out.grantedIbanIndex = ibanIndex(grantedIbansOf({ grantedAccounts: value as GrantedAccount[] }));
          break;
        case 'details':
          out.details = value;
          out.documentIndex = documentsOf(value as Record<string, unknown>).map((d) => protector.index('document', d));
          break;
        default:
          out[key] = value;
      }
    }
    return out as Partial<ConsentDocument>;
  }

  return {
    setToDocument,

    toDocument(consent) {
      const { id, clientId, history, revision, createdAt, ...rest } = consent;
      return {
        _id: id,
        clientId,
        createdAt,
        history,
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
      for (const [key, value] of Object.entries(doc)) {
        if (key === '_id' || (SEARCH_KEYS as readonly string[]).includes(key) || value === undefined || value === null) {
          continue;
        }
        switch (key) {
          case 'psuId':
          case 'psuIpAddress':
            consent[key] = protector.reveal(key, value as string);
            break;
          case 'access':
            consent.access = mapAccess(value as AccountAccess, revealReference);
            break;
          case 'grantedAccounts':
            consent.grantedAccounts = (value as GrantedAccount[]).map((a) => mapGranted(a, protector.reveal));
            break;
          default:
            consent[key] = value;
        }
      }
      return consent as unknown as Consent;
    },

    filterToQuery(filter) {
      const query: Filter<ConsentDocument> = {};
      if (filter.clientId !== undefined) query.clientId = filter.clientId;
      if (filter.psuId !== undefined) query.psuIdIndex = protector.index('psuId', filter.psuId);
      if (filter.document !== undefined) {
        query.documentIndex = protector.index('document', normaliseDocument(filter.document));
      }
      if (filter.iban !== undefined) {
        const key = protector.index('iban', normaliseIban(filter.iban));
        query.$or = [{ accessIbanIndex: key }, { grantedIbanIndex: key }];
      }
      if (filter.type?.length) query.type = { $in: filter.type };
      if (filter.status?.length) query.status = { $in: filter.status };
      const created = range(filter.createdFrom, filter.createdTo);
      if (created) query.createdAt = created;
      const expires = range(filter.expiresFrom, filter.expiresTo);
      if (expires) query.expiresAt = expires;
      return query;
    },
  };
}

function range(from: Date | undefined, to: Date | undefined): { $gte?: Date; $lt?: Date } | undefined {
  if (from === undefined && to === undefined) return undefined;
  return { ...(from !== undefined ? { $gte: from } : {}), ...(to !== undefined ? { $lt: to } : {}) };
}

type Transform = (field: string, value: string) => string;

function mapIdentifiers(ref: AccountReference, transform: Transform): AccountReference {
  const out: AccountReference = { ...ref };
  for (const kind of ACCOUNT_IDENTIFIERS) {
    const value = ref[kind];
    if (value !== undefined && value !== null) out[kind] = transform(kind, value);
  }
  return out;
}

function mapAccess(access: AccountAccess, map: (ref: AccountReference) => AccountReference): AccountAccess {
  const out: AccountAccess = { ...access };
  for (const list of ['accounts', 'balances', 'transactions'] as const) {
    const refs = access[list];
    if (refs) out[list] = refs.map(map);
  }
  return out;
}

function mapGranted(account: GrantedAccount, transform: Transform): GrantedAccount {
  return account.iban === undefined ? { ...account } : { ...account, iban: transform('iban', account.iban) };
}
