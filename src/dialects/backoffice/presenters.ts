/**
 * Domain → back-office response bodies. Pure functions; each names the Opus Consent BackOffice schema it
 * follows (ConsentSummary, ConsentDetail, Links, Meta). The spec's fields keep the spec's meaning and
 * words; what the spec has no field for (Assent's precise status, the accounts granted, the SCA
 * authorisations, the full history with actor and reason) is added under names the spec does not use.
 *
 * Personal data (PSU id, CPF/CNPJ, IBANs) is in these bodies on purpose: the callers are the bank's own
 * staff tools. None of it is logged.
 */
import type { Authorisation, Consent, GrantedAccount, StatusChange } from '../../consent/types.ts';
import { effectiveStatus } from '../../consent/state.ts';
import { requestDateTime } from './errors.ts';
import { SPEC_PARTY, SPEC_STATUS, SPEC_TYPE } from './vocabulary.ts';

export const BASE_PATH = '/backoffice/v1';

export const paths = {
  consents: `${BASE_PATH}/consents`,
  active: `${BASE_PATH}/consents/active`,
  consent: (id: string) => `${BASE_PATH}/consents/${encodeURIComponent(id)}`,
};

/** What the presenters need besides the consent: the clock and the TPPs' display names. */
export interface PresentContext {
  now: Date;
  /** clientId → client_name; a client missing here is shown by its id */
  tppNames: ReadonlyMap<string, string>;
  /** the consent's usage so far (detail only), when the usage counters answered */
  usage?: ConsentUsage;
}

/** Accesses counted against frequencyPerDay: today's (the bank's day) or, for a one-off consent, ever. */
export interface ConsentUsage {
  day: string;
  timeZone: string;
  accesses: Record<string, number>;
}

const iso = (d: Date) => d.toISOString();

/** LoggedUser / business entity documents in the Brazil `details` (see consent/search.ts documentsOf). */
function documentFields(consent: Consent) {
  const out: Record<string, string> = {};
  const read = (holder: string): { identification?: unknown; rel?: unknown } | undefined => {
    const value = (consent.details as Record<string, { document?: unknown }> | undefined)?.[holder]?.document;
    return value !== null && typeof value === 'object' ? (value as { identification?: unknown; rel?: unknown }) : undefined;
  };
  const person = read('loggedUser');
  if (typeof person?.identification === 'string') {
    out.personDocumentType = typeof person.rel === 'string' ? person.rel : 'CPF';
    out.personDocumentNumber = person.identification;
  }
  const business = read('businessEntity');
  if (typeof business?.identification === 'string') {
    out.businessDocumentType = typeof business.rel === 'string' ? business.rel : 'CNPJ';
    out.businessDocumentNumber = business.identification;
  }
  return out;
}

/** ConsentSummary, plus clientId, psuId, detailedType/detailedStatus and updatedOn. */
export function consentSummary(consent: Consent, ctx: PresentContext) {
  const status = effectiveStatus(consent, ctx.now);
  return {
    id: consent.id,
    type: SPEC_TYPE[consent.type],
    detailedType: consent.type,
    status: SPEC_STATUS[status],
    detailedStatus: status,
    createdOn: iso(consent.createdAt),
    expiresOn: iso(consent.expiresAt),
    updatedOn: iso(consent.updatedAt),
    clientId: consent.clientId,
    tppName: ctx.tppNames.get(consent.clientId) ?? consent.clientId,
    ...(consent.psuId !== undefined ? { psuId: consent.psuId } : {}),
    ...documentFields(consent),
  };
}

/** ConsentHistoryStatus, plus the transition itself: from, to (Assent's words), actor, reason, requestId. */
export function historyEntry(entry: StatusChange) {
  return {
    consentStatus: SPEC_STATUS[entry.to],
    updatedOn: iso(entry.at),
    from: entry.from,
    to: entry.to,
    actor: entry.actor,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.requestId !== undefined ? { requestId: entry.requestId } : {}),
    ...(entry.by !== undefined ? { operatorUsername: entry.by } : {}),
  };
}

export function authorisation(a: Authorisation) {
  return {
    authorisationId: a.id,
    scaStatus: a.scaStatus,
    ...(a.scaMethodId !== undefined ? { scaMethodId: a.scaMethodId } : {}),
    createdOn: iso(a.createdAt),
    updatedOn: iso(a.updatedAt),
    history: a.history.map((h) => ({ from: h.from, to: h.to, actor: h.actor, at: iso(h.at), ...(h.requestId !== undefined ? { requestId: h.requestId } : {}) })),
  };
}

export function grantedAccount(account: GrantedAccount) {
  return {
    accountId: account.accountId,
    ...(account.iban !== undefined ? { iban: account.iban } : {}),
    ...(account.currency !== undefined ? { currency: account.currency } : {}),
    access: [...account.access],
  };
}

/** The history entry that moved the consent into its current status (the last one to it). */
function endingEntry(consent: Consent): StatusChange | undefined {
  return consent.history.findLast((h) => h.to === consent.status);
}

const ADDITIONAL_INFORMATION_MAX = 140;

/** Revocation (data sharing): who revoked and why. Our reasons are free text: code OTHER. */
export function revocation(consent: Consent) {
  if (consent.status !== 'revokedByPsu' && consent.status !== 'terminatedByTpp') return undefined;
  const entry = endingEntry(consent);
  const actor = entry?.actor ?? (consent.status === 'terminatedByTpp' ? 'TPP' : 'PSU');
  const reason = entry?.reason;
  return {
    revokedBy: SPEC_PARTY[actor],
    reason: {
      code: 'OTHER' as const,
      ...(reason !== undefined ? { additionalInformation: reason.slice(0, ADDITIONAL_INFORMATION_MAX) } : {}),
    },
    ...(entry ? { revokedAt: iso(entry.at) } : {}),
  };
}

/** Rejection: the customer refused, the TPP gave up, or the authorisation timed out. */
export function rejection(consent: Consent) {
  if (consent.status !== 'rejected') return undefined;
  const entry = endingEntry(consent);
  const actor = entry?.actor ?? 'system';
  const code = actor === 'system' ? 'CONSENT_EXPIRED' : 'CUSTOMER_MANUALLY_REJECTED';
  return {
    rejectedBy: SPEC_PARTY[actor],
    reason: {
      code,
      ...(entry?.reason !== undefined ? { additionalInformation: entry.reason.slice(0, ADDITIONAL_INFORMATION_MAX) } : {}),
    },
    ...(entry ? { rejectedAt: iso(entry.at) } : {}),
  };
}

/** ConsentDetail, plus everything Assent records about the consent. */
export function consentDetail(consent: Consent, ctx: PresentContext) {
  const status = effectiveStatus(consent, ctx.now);
  const revoked = revocation(consent);
  const rejected = rejection(consent);
  return {
    id: consent.id,
    type: SPEC_TYPE[consent.type],
    detailedType: consent.type,
    status: SPEC_STATUS[status],
    detailedStatus: status,
    createdOn: iso(consent.createdAt),
    expiredOn: iso(consent.expiresAt),
    updatedOn: iso(consent.updatedAt),
    validUntil: consent.validUntil,
    lastActionDate: consent.lastActionDate,
    clientId: consent.clientId,
    tppName: ctx.tppNames.get(consent.clientId) ?? consent.clientId,
    ...(consent.psuId !== undefined ? { psuId: consent.psuId } : {}),
    ...(consent.psuIpAddress !== undefined ? { psuIpAddress: consent.psuIpAddress } : {}),
    ...documentFields(consent),
    recurringIndicator: consent.recurringIndicator,
    frequencyPerDay: consent.frequencyPerDay,
    combinedServiceIndicator: consent.combinedServiceIndicator,
    access: structuredClone(consent.access),
    grantedAccounts: (consent.grantedAccounts ?? []).map(grantedAccount),
    authorisations: consent.authorisations.map(authorisation),
    consentHistoryStatus: consent.history.map(historyEntry),
    ...(revoked ? { revocation: revoked } : {}),
    ...(rejected ? { rejection: rejected } : {}),
    ...(consent.details !== undefined ? { details: structuredClone(consent.details) } : {}),
    ...(ctx.usage
      ? {
          usage: {
            period: ctx.usage.day,
            timeZone: ctx.usage.timeZone,
            accesses: Object.entries(ctx.usage.accesses).map(([resourcePath, count]) => ({ resourcePath, count })),
          },
        }
      : {}),
  };
}

/** ResponseConsentDetailSchema, with the OFB `links.self` and `meta.requestDateTime`. */
export function consentDetailResponse(consent: Consent, ctx: PresentContext & { origin: string }) {
  return {
    data: consentDetail(consent, ctx),
    links: { self: `${ctx.origin}${paths.consent(consent.id)}` },
    meta: { requestDateTime: requestDateTime(ctx.now) },
  };
}

export interface PageRequest {
  /** absolute URL of the endpoint, without a query */
  endpoint: string;
  /** the request's parameters as given (validated), in order; page and page-size are set per link */
  params: ReadonlyArray<[string, string]>;
  page: number;
  pageSize: number;
}

/**
 * Links and Meta, Open Finance Brasil style: absolute URLs carrying the request's own filters; `prev` and
 * `next` only where such a page exists. Past the last page the answer is an empty page whose `prev`
 * points at the last page with data; an empty result has totalPages 0 and `first` = `last` = page 1.
 */
export function pagination(total: number, request: PageRequest, now: Date) {
  const totalPages = Math.ceil(total / request.pageSize);
  const lastPage = Math.max(totalPages, 1);
  const link = (page: number) => {
    const query = new URLSearchParams(request.params.filter(([name]) => name !== 'page' && name !== 'page-size'));
    query.set('page', String(page));
    query.set('page-size', String(request.pageSize));
    return `${request.endpoint}?${query.toString()}`;
  };
  return {
    links: {
      self: link(request.page),
      first: link(1),
      ...(request.page > 1 ? { prev: link(Math.min(request.page - 1, lastPage)) } : {}),
      ...(request.page < totalPages ? { next: link(request.page + 1) } : {}),
      last: link(lastPage),
    },
    meta: { totalRecords: total, totalPages, requestDateTime: requestDateTime(now) },
  };
}

/** ResponseConsentSummaryPaginationSchema */
export function consentPage(items: readonly Consent[], total: number, request: PageRequest, ctx: PresentContext) {
  return { data: items.map((c) => consentSummary(c, ctx)), ...pagination(total, request, ctx.now) };
}
