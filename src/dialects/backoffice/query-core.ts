/**
 * The one query core of the back-office: what `/backoffice/v1` (Assent's own words) and the Opus paths
 * (`/open-banking/oob-consents/…`, the Opus "Consent BackOffice Services" words) both run. Each dialect
 * only reads its parameters into a ConsentQuery, an order and a page, and presents the result; the
 * searches, the "active during" window, the Open Finance ordering, the TPP names and the revocation on the
 * customer's behalf are written here once.
 *
 * Every query has the index that serves it declared next to it (QUERY_INDEXES, in ConsentQuery's words;
 * the Mongo repository creates them at startup, src/stores.ts). Without a filter a page is read in
 * creation order (`createdAt`); with one, the filter's index leads.
 */
import type { AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../application/consents.ts';
import { ConsentNotFound } from '../../consent/errors.ts';
import type { ConsentPage, ConsentQuery, ConsentSortField, QueryIndex } from '../../consent/repository.ts';
import { ACTIVE_STATUSES, AWAITING_STATUSES, ENDED_STATUSES, EXPIRED_STATUSES, isAwaiting, regimeOf } from '../../consent/regimes/index.ts';
import { isFinal } from '../../consent/state.ts';
import type { Consent, ConsentStatus, Rejection } from '../../consent/types.ts';
import { currentRequest } from '../../http/request-context.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { BackofficeError } from './errors.ts';
import { SPEC_STATUS } from './vocabulary.ts';

/** Every index the core's queries need; filled by `index()` beside each query below. */
export const QUERY_INDEXES: QueryIndex[] = [];
function index(name: string, ...fields: QueryIndex['fields']): QueryIndex {
  const declared = { name, fields };
  QUERY_INDEXES.push(declared);
  return declared;
}

export type Order = { field: ConsentSortField; direction: 'asc' | 'desc' } | 'open-finance';

export interface PageRequest {
  page: number;
  pageSize: number;
}

export interface CoreDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  now: () => Date;
}

/**
 * The Open Finance order (OrderTypeEnum OPF): active, pending, expired, closed; newest first within each.
 * Read as one query per group, so each is served by `status_createdAt`.
 */
const OPF_GROUPS: ReadonlyArray<readonly ConsentStatus[]> = [ACTIVE_STATUSES, AWAITING_STATUSES, EXPIRED_STATUSES, ENDED_STATUSES];

export class ConsentQueryCore {
  readonly #deps: CoreDeps;

  constructor(deps: CoreDeps) {
    this.#deps = deps;
  }

  // ── searches ──
  // no filter, sorted: createdAt / expiresAt / updatedAt (the repository's single-field indexes)
  static readonly unfiltered = [index('createdAt', ['createdAt', -1]), index('expiresAt', ['expiresAt', 1]), index('updatedAt', ['updatedAt', -1])];
  // by customer (psuId; CPF / CNPJ, alone or both), by TPP (clientId, or the TPPs an orgName matched)
  static readonly byCustomer = [index('psuIdIndex', ['psuId', 1]), index('document_createdAt', ['document', 1], ['createdAt', -1])];
  static readonly byTpp = [index('clientId_createdAt', ['clientId', 1], ['createdAt', -1])];
  // by status (and the Open Finance order's groups), by type and status
  // by search key (Opus searchKey / searchKeys: a multikey index of the keys' hashes)
  static readonly bySearchKey = [index('searchKeys', ['searchKeys', 1])];
  // by term in months (Opus consentTermPeriod)
  static readonly byTerm = [index('termMonths_createdAt', ['termMonths', 1], ['createdAt', -1])];
  static readonly byStatus = [index('status_createdAt', ['status', 1], ['createdAt', -1]), index('type_status_createdAt', ['type', 1], ['status', 1], ['createdAt', -1])];

  /** One page of the consents matching `filter`, in `order`. */
  async search(filter: ConsentQuery, order: Order, page: PageRequest): Promise<ConsentPage> {
    const skip = (page.page - 1) * page.pageSize;
    if (order !== 'open-finance') {
      return this.#deps.consents.query(filter, { sort: order.field, direction: order.direction, skip, limit: page.pageSize });
    }
    const items: Consent[] = [];
    let total = 0;
    for (const group of OPF_GROUPS) {
      const statuses = filter.status?.length ? group.filter((s) => filter.status!.includes(s)) : [...group];
      if (statuses.length === 0) continue;
      const groupSkip = Math.max(0, skip - total);
      const wanted = page.pageSize - items.length;
      const result = await this.#deps.consents.query({ ...filter, status: statuses }, { sort: 'createdAt', direction: 'desc', skip: groupSkip, limit: Math.max(wanted, 1) });
      if (wanted > 0) items.push(...result.items.slice(0, wanted));
      total += result.total;
    }
    return { items, total };
  }

  // "active during [from, to]": granted, created by `to`, not ended before `from` (see ConsentQuery.activeDuring)
  static readonly activeWindow = [index('expiresAt', ['expiresAt', 1])];

  async activeDuring(window: { from: Date; to: Date }, order: Order, page: PageRequest): Promise<ConsentPage> {
    return this.search({ activeDuring: window }, order, page);
  }

  // by id: the primary key
  async one(id: string): Promise<Consent> {
    const consent = await this.#deps.consents.get(id);
    if (!consent) throw new ConsentNotFound(id);
    return consent;
  }

  /** The clients whose display name contains `text` (case-insensitive), for Opus `orgName`. */
  clientIdsNamed(text: string): string[] {
    const needle = text.toLocaleLowerCase('pt-BR');
    return this.#deps.config.clients
      .filter((c) => (c.client_name ?? c.client_id).toLocaleLowerCase('pt-BR').includes(needle))
      .map((c) => c.client_id);
  }

  /** clientId → display name, for the TPPs of `items`. */
  async tppNames(items: readonly Consent[]): Promise<Map<string, string>> {
    const ids = [...new Set(items.map((c) => c.clientId))];
    const clients = await Promise.all(ids.map((id) => this.#deps.oauth.client(id)));
    const names = new Map<string, string>();
    for (const client of clients) if (client) names.set(client.clientId, client.name);
    return names;
  }

  /**
   * Revocation on the customer's behalf (its tokens die at once). Only an active consent can be revoked:
   * one still awaiting authorisation is 409 CONSENT_NOT_AUTHORISED, an ended one (also: ended while we
   * were at it, or found past its expiry) 409 CONSENT_ALREADY_ENDED. `rejection` is what an Open Finance
   * Brasil consent records (ignored by regimes that record none).
   */
  async revoke(id: string, options: { actor: 'PSU' | 'ASPSP'; reason: string; by?: string; rejection?: Rejection }): Promise<Consent> {
    const before = await this.one(id);
    refuseUnlessActive(before);
    const revoked = await this.#deps.consents.revokeByPsu(before, {
      actor: options.actor,
      reason: options.reason,
      ...(options.by ? { by: options.by } : {}),
      ...(options.rejection ? { rejection: options.rejection } : {}),
    });
    if (!revokedByThisRequest(before, revoked, options.rejection)) refuseUnlessActive(revoked, true);
    return revoked;
  }
}

function refuseUnlessActive(consent: Consent, concurrently = false): void {
  const words = `${SPEC_STATUS[consent.status]} (${consent.status})`;
  if (isAwaiting(consent.status)) {
    throw new BackofficeError('consentNotAuthorised', `the consent is ${words}; only an AUTHORISED consent can be revoked`);
  }
  if (isFinal(consent.status)) {
    throw new BackofficeError('consentAlreadyEnded', `the consent ${concurrently ? 'ended meanwhile' : 'has already ended'}: it is ${words}`);
  }
  if (concurrently) throw new BackofficeError('consentChanged');
}

/**
 * The service answers an already-ended consent with the consent as it is; tell our revocation apart from
 * one that won a race: the history entry carries this request's id (or, without a request context, the
 * consent moved exactly one revision).
 */
function revokedByThisRequest(before: Consent, after: Consent, rejection?: Rejection): boolean {
  // where the customer's revocation leads in the consent's regime (the clock's ending may share the status)
  const move = regimeOf(before.type).moves.revokeByPsu[before.status];
  const code = move?.rejection ? (rejection ?? move.rejection).reason.code : undefined;
  if (!move || after.status !== move.to || after.rejection?.reason.code !== code) return false;
  const requestId = currentRequest()?.requestId;
  const last = after.history.at(-1);
  if (requestId !== undefined) return last?.to === move.to && last.requestId === requestId;
  return after.revision === before.revision + 1;
}
