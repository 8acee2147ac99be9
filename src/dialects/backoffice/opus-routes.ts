/**
 * The back-office at the Opus paths, with the parameter names and bodies of the Opus "Consent BackOffice
 * Services" spec (../shared/specs/en-oasOOFDados.yml), for a bank whose apps already call Opus:
 *
 *   GET   /open-banking/oob-consents/v1/consents                      search (ConsentSummary page)   backoffice:read
 *   GET   /open-banking/oob-consents/v1/consents/{consentId}          one (ConsentDetail)            backoffice:read
 *   PATCH /open-banking/oob-consents/v1/consents/{consentId}          revoke (deprecated form)       backoffice:revoke
 *   PATCH /open-banking/oob-consents/consents/v1/consents/{consentId} revoke a data sharing consent  backoffice:revoke
 *   GET   /open-banking/oob-consents/v1/consents/{consentId}/extends  its extensions (ConsentExtends)  backoffice:read
 *   PATCH /open-banking/oob-consents/payments/v1/consents/{consentId} revoke a payment consent       backoffice:revoke
 *   GET   /open-banking/oob-consents/consents/v2/active               active in [startDate, endDate] backoffice:read
 *   GET   /open-banking/oob-consents/consents/v1/consents/{consentId}/payments
 *                                                                     a consent's PIX payments, by date
 *                                                                     (ResponsePaymentsDetailSchema)  backoffice:read
 *   GET | POST | DELETE …/consents/v1/consents/{consentId}/search-keys  a consent's search keys:
 *   GET | POST | DELETE …/consents/v1/consents/{consentId}/search-key/{searchKey}
 *                                          check (200 {data: [{searchKey, exists}]}), add (204), remove (204);
 *                                          X-Brand-ID required; GET backoffice:read, POST/DELETE backoffice:revoke
 *
 * The same query core as /backoffice/v1 (query-core.ts), the same error format (ErrorResponse, errors.ts)
 * and the same auth (a `jwt` bearer: an internal client's client_credentials token with the route's scope).
 * Every regime's consents; payment consents are listed and read (with their payment data and their
 * payments) and revoked at …/payments/v1/consents/{consentId} (an AUTHORISED one that was not paid yet:
 * REJECTED with the rejection the bank gives, its tokens revoked); data sharing consents at
 * …/consents/v1/consents/{consentId} and the deprecated …/v1/consents/{consentId}. Each revocation path
 * takes only its own kind of consent (400 otherwise).
 *
 * Search filters (all combine with AND; a list filter and its single form are exclusive, as the spec says):
 *   cpf, cnpj, consentOwner=[{"key":"cpf","value":…},{"key":"cnpj","value":…}]   the customer / company
 *   createdOnBegin, createdOnEnd (inclusive)   consentTermPeriod=N (whole months from creation to expiry,
 *   consent/term.ts; -1: indefinite consents; not with createdOn…)
 *   status | statusList, type | typeList (DATA_SHARING, PAYMENT, ENROLLMENT), paymentType=PIX,
 *   modalityType | modalityTypeList (IMMEDIATE, SCHEDULED: payment consents only; SWEEPING matches none)
 *   orgName (≥ 3 characters, the TPP's name), searchKey | searchKeys (consents holding the key, or any of
 *   the comma-separated keys), orderType ASC | DESC | OPF (default DESC), page (1-based), page-size
 *   (default 25, at most 1000).
 * Search keys are labels the bank's apps put on a consent (a contract number, a customer reference): a
 * set per consent (at most 100; each 1–256 characters without commas), stored only as blind-index hashes
 * (they may be personal data), so they can be matched and checked but never listed back.
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../application/consents.ts';
import { isValidCnpj, isValidCpf } from '../../consent/br-documents.ts';
import { BR_PAYMENT_REJECTION_CODES, BR_PAYMENT_REJECTION_DETAILS } from '../../consent/regimes/brazil-payment.ts';
import { ConsentNotFound } from '../../consent/errors.ts';
import type { PaymentRepository } from '../../consent/payment-repository.ts';
import type { ConsentQuery } from '../../consent/repository.ts';
import type { Consent, ConsentStatus, ConsentType, Rejection } from '../../consent/types.ts';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { BackofficeError, ParameterError, type ParameterIssue } from './errors.ts';
import { authenticateInternal, boState, dialectErrors, jsonBody } from './middleware.ts';
import { opusActive, opusDetail, opusPayment, opusSummary } from './opus-presenters.ts';
import { brDetails } from '../brazil/presenters.ts';
import { pagination, type PresentContext } from './presenters.ts';
import { ConsentQueryCore, type Order } from './query-core.ts';
import { consentIdSchema, fail, knownKeys, ok, PAGE_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, param, parseBody, parseInstant, parseQuery, type Parsed } from './schemas.ts';
import { STATUS_WORDS, TYPE_WORDS } from './vocabulary.ts';
import { methodNotAllowed as rejectOtherMethods } from '../../http/method-not-allowed.ts';

export const OPUS_PREFIX = '/open-banking/oob-consents';
export const opusPaths = {
  consents: `${OPUS_PREFIX}/v1/consents`,
  consent: (id: string) => `${OPUS_PREFIX}/v1/consents/${encodeURIComponent(id)}`,
  revokeDataSharing: (id: string) => `${OPUS_PREFIX}/consents/v1/consents/${encodeURIComponent(id)}`,
  revokePayment: (id: string) => `${OPUS_PREFIX}/payments/v1/consents/${encodeURIComponent(id)}`,
  extends: (id: string) => `${OPUS_PREFIX}/v1/consents/${encodeURIComponent(id)}/extends`,
  active: `${OPUS_PREFIX}/consents/v2/active`,
  payments: (id: string) => `${OPUS_PREFIX}/consents/v1/consents/${encodeURIComponent(id)}/payments`,
};

export interface OpusDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  log: Logger;
  /** the PIX payments of payment consents (…/consents/{consentId}/payments) */
  payments: PaymentRepository;
  /** the URN namespace of Open Finance Brasil consent ids (`urn:<namespace>:<uuid>`), as the Brazilian API mints them. Default `assent` */
  urnNamespace?: string;
  now?: () => Date;
}

// ── parameters ─────────────────────────────────────────────────────────────────────────────────────────

// the query-parameter parsers of /backoffice/v1 (./schemas.ts): a parser's message becomes the issue

const cpf = (v: string): Parsed<string> => (/^\d{11}$/.test(v) && isValidCpf(v) ? ok(v) : fail('must be a valid CPF of 11 digits'));
const cnpj = (v: string): Parsed<string> => (/^[0-9A-Z]{12}\d{2}$/.test(v) && isValidCnpj(v) ? ok(v) : fail('must be a valid CNPJ of 14 characters'));

function integer(min: number, max: number) {
  return (v: string): Parsed<number> => (/^\d{1,10}$/.test(v) && Number(v) >= min && Number(v) <= max ? ok(Number(v)) : fail(`must be an integer between ${min} and ${max}`));
}

/** the spec's ConsentAuthorizationStatusEnum (values Assent never produces match no consent) */
const SPEC_STATUSES = ['AUTHORISED', 'AWAITING_AUTHORISATION', 'REJECTED', 'REVOKED', 'EXPIRED', 'CONSUMED', 'TIMEOUT_AUTHORISATION', 'TIMEOUT_PAYMENT', 'AWAITING_RISK_SIGNALS', 'AWAITING_ACCOUNT_HOLDER_VALIDATION', 'AWAITING_ENROLLMENT', 'PARTIALLY_ACCEPTED'] as const;
const SPEC_TYPES = ['DATA_SHARING', 'PAYMENT', 'ENROLLMENT'] as const;
/** ModalityPaymentEnum: a PIX consent is IMMEDIATE (today) or SCHEDULED (schedule.single); no consent here is SWEEPING */
const SPEC_MODALITIES = ['IMMEDIATE', 'SCHEDULED', 'SWEEPING'] as const;
type Modality = 'immediate' | 'scheduled';
const MODALITY_WORDS: Readonly<Record<string, readonly Modality[]>> = { IMMEDIATE: ['immediate'], SCHEDULED: ['scheduled'], SWEEPING: [] };

function words<T extends string>(allowed: readonly string[], meaning: Readonly<Record<string, readonly T[]>>, single: boolean) {
  return (v: string): Parsed<T[]> => {
    const items = single ? [v] : v.split(',').map((s) => s.trim());
    if (items.length > 20) return fail('must list at most 20 values');
    const out = new Set<T>();
    for (const item of items) {
      if (!allowed.includes(item)) return fail(`must be ${single ? 'one' : 'a comma-separated list'} of ${allowed.join(', ')}`);
      for (const m of meaning[item] ?? []) out.add(m);
    }
    return ok([...out]);
  };
}

const ownerSchema = z.array(z.strictObject({ key: z.enum(['cpf', 'cnpj']), value: z.string() })).min(1).max(2);
function consentOwner(v: string): Parsed<string[]> {
  let json: unknown;
  try {
    json = JSON.parse(v);
  } catch {
    return fail('must be a JSON array of {"key":"cpf"|"cnpj","value":…}');
  }
  const parsed = ownerSchema.safeParse(json);
  if (!parsed.success) return fail('must be a JSON array of {"key":"cpf"|"cnpj","value":…}');
  const out: string[] = [];
  for (const { key, value } of parsed.data) {
    const checked = key === 'cpf' ? cpf(value) : cnpj(value);
    if (!checked.ok) return fail(`${key}: ${checked.message}`);
    out.push(checked.value);
  }
  return ok(out);
}

const dateTime = (bound: 'from' | 'to') => (v: string) => parseInstant(v, bound);
const page = param(integer(1, PAGE_MAX)).optional();
const pageSize = param(integer(1, PAGE_SIZE_MAX)).optional();

/**
 * A search key: 1–256 printable characters without a comma (lists of keys are comma-separated). At most
 * SEARCH_KEYS_PER_REQUEST in one request, SEARCH_KEYS_PER_CONSENT on a consent.
 */
const SEARCH_KEY = /^[^,\u0000-\u001f\u007f]{1,256}$/;
const SEARCH_KEYS_PER_REQUEST = 50;
const SEARCH_KEYS_PER_CONSENT = 100;
const SEARCH_KEY_RULE = 'must be 1 to 256 characters, without commas or control characters';
function searchKeyParam(v: string): Parsed<string> {
  return SEARCH_KEY.test(v) ? ok(v) : fail(SEARCH_KEY_RULE);
}
function searchKeysParam(v: string): Parsed<string[]> {
  const keys = v.split(',');
  if (keys.length > SEARCH_KEYS_PER_REQUEST) return fail(`must list at most ${SEARCH_KEYS_PER_REQUEST} search keys`);
  return keys.every((k) => SEARCH_KEY.test(k)) ? ok([...new Set(keys)]) : fail(`must be a comma-separated list of search keys, each ${SEARCH_KEY_RULE.slice(5)}`);
}
const searchKeysQuery = z.strictObject({ searchKeys: param(searchKeysParam) });
const SEARCH_KEYS_QUERY = knownKeys(searchKeysQuery);
const searchKeysBody = z
  .array(z.string().regex(SEARCH_KEY, { error: SEARCH_KEY_RULE }), { error: 'must be a JSON array of search keys' })
  .min(1, { error: 'must hold at least one search key' })
  .max(SEARCH_KEYS_PER_REQUEST, { error: `must hold at most ${SEARCH_KEYS_PER_REQUEST} search keys` });

const listSchema = z.strictObject({
  consentOwner: param(consentOwner).optional(),
  cpf: param(cpf).optional(),
  cnpj: param(cnpj).optional(),
  createdOnBegin: param(dateTime('from')).optional(),
  createdOnEnd: param(dateTime('to')).optional(),
  consentTermPeriod: param((v): Parsed<number> => (v === '-1' || /^\d{1,4}$/.test(v) ? ok(Number(v)) : fail('must be an integer number of months (0–9999), or -1'))).optional(),
  modalityType: param(words<Modality>(SPEC_MODALITIES, MODALITY_WORDS, true)).optional(),
  modalityTypeList: param(words<Modality>(SPEC_MODALITIES, MODALITY_WORDS, false)).optional(),
  orderType: z.enum(['ASC', 'DESC', 'OPF'], { error: 'must be ASC, DESC or OPF' }).optional(),
  searchKey: param(searchKeyParam).optional(),
  searchKeys: param(searchKeysParam).optional(),
  status: param(words<ConsentStatus>(SPEC_STATUSES, STATUS_WORDS, true)).optional(),
  statusList: param(words<ConsentStatus>(SPEC_STATUSES, STATUS_WORDS, false)).optional(),
  type: param(words<ConsentType>(SPEC_TYPES, TYPE_WORDS, true)).optional(),
  typeList: param(words<ConsentType>(SPEC_TYPES, TYPE_WORDS, false)).optional(),
  paymentType: z.enum(['PIX'], { error: 'must be PIX' }).optional(),
  orgName: param((v) => (v.length >= 3 && v.length <= 140 ? ok(v) : fail('must be 3 to 140 characters'))).optional(),
  page,
  'page-size': pageSize,
});
const LIST_PARAMS = knownKeys(listSchema);

const activeSchema = z.strictObject({
  startDate: param(dateTime('from')).optional(),
  endDate: param(dateTime('to')).optional(),
  page,
  'page-size': pageSize,
});
const ACTIVE_PARAMS = knownKeys(activeSchema);

/** a page of a consent's payments or extensions */
const pagedSchema = z.strictObject({ page, 'page-size': pageSize });
const PAGED_PARAMS = knownKeys(pagedSchema);

/** the pairs the spec says cannot be used together */
const EXCLUSIVE: Array<[string, string]> = [
  ['status', 'statusList'],
  ['type', 'typeList'],
  ['searchKey', 'searchKeys'],
  ['consentTermPeriod', 'createdOnBegin'],
  ['consentTermPeriod', 'createdOnEnd'],
  ['consentOwner', 'cpf'],
  ['consentOwner', 'cnpj'],
  ['modalityType', 'modalityTypeList'],
];

// ── bodies ─────────────────────────────────────────────────────────────────────────────────────────────

const CONTROL = /[\u0000-\u001f\u007f]/;
const info = z.string().max(140, { error: 'must be at most 140 characters' }).refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' });
const loggedUser = z.strictObject({ document: z.strictObject({ identification: z.string().max(14), rel: z.string().max(4) }) });
const party = z.enum(['USER', 'ASPSP', 'TPP'], { error: 'must be USER, ASPSP or TPP' });

/** RequestRevokeOobConsent (the deprecated PATCH) */
const revokeOobSchema = z.strictObject({
  data: z.strictObject({
    status: z.enum(['REVOKED'], { error: 'must be REVOKED' }),
    revocation: z.strictObject({
      loggedUser: loggedUser.optional(),
      revokedBy: party,
      reason: z.strictObject({ code: z.enum(['FRAUD', 'ACCOUNT_CLOSURE', 'OTHER'], { error: 'must be FRAUD, ACCOUNT_CLOSURE or OTHER' }), additionalInformation: info.optional() }),
    }),
  }),
  applicationName: z.string().max(140).optional(),
});

/** The rejection codes a revocation of an active data sharing consent may record (the others are the clock's or a refusal's). */
const REVOCATION_CODES = ['CUSTOMER_MANUALLY_REVOKED', 'INTERNAL_SECURITY_REASON', 'CONSENT_TECHNICAL_ISSUE'] as const;

/** RevokeDataSharingConsentData */
const revokeDataSharingSchema = z.strictObject({
  data: z.strictObject({
    rejection: z.strictObject({
      loggedUser: loggedUser.optional(),
      rejectedBy: party,
      reason: z.strictObject({ code: z.enum(REVOCATION_CODES, { error: `must be ${REVOCATION_CODES.join(', ')}` }), additionalInformation: info.optional() }),
    }),
  }),
  applicationName: z.string().max(140).optional(),
});

/**
 * RequestRevokeOobPaymentConsent: a rejection (with the Payments API's rejection reason) or a revocation
 * (its reasons are the recurring consents'; a single-payment consent records NAO_INFORMADO with the
 * given detail). Who: USUARIO (the customer asked) or DETENTORA (the bank); absent, the bank.
 */
const paymentParty = z.enum(['USUARIO', 'DETENTORA', 'INICIADORA'], { error: 'must be USUARIO, DETENTORA or INICIADORA' });
const paymentSide = z.enum(['INICIADORA', 'DETENTORA'], { error: 'must be INICIADORA or DETENTORA' });
const detail = z.string().min(1).max(2048).refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' });
const revokePaymentSchema = z.strictObject({
  data: z
    .strictObject({
      rejection: z
        .strictObject({
          rejectedFrom: paymentSide.optional(),
          rejectedBy: paymentParty.optional(),
          rejectedAt: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }).optional(),
          reason: z.strictObject({
            code: z.enum(BR_PAYMENT_REJECTION_CODES, { error: `must be one of the Payments API's rejection reasons: ${BR_PAYMENT_REJECTION_CODES.join(', ')}` }),
            detail,
          }),
        })
        .optional(),
      revocation: z
        .strictObject({
          revokedFrom: paymentSide.optional(),
          revokedBy: paymentParty.optional(),
          revokedAt: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }).optional(),
          reason: z.strictObject({ code: z.enum(['NAO_INFORMADO', 'REVOGADO_USUARIO', 'REVOGADO_RECEBEDOR'], { error: 'must be NAO_INFORMADO, REVOGADO_USUARIO or REVOGADO_RECEBEDOR' }), detail: detail.optional() }).optional(),
        })
        .optional(),
    })
    .refine((d) => (d.rejection === undefined) !== (d.revocation === undefined), { error: 'must hold either rejection or revocation' }),
  applicationName: z.string().max(140).optional(),
});

// ── the router ─────────────────────────────────────────────────────────────────────────────────────────

export function opusRouter(deps: OpusDeps): Router {
  const { consents, oauth, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const origin = new URL(config.issuer).origin;
  const core = new ConsentQueryCore({ consents, oauth, config, now });
  const urn = `urn:${deps.urnNamespace ?? 'assent'}:`;

  /** `{consentId}`: the spec's UUID (a Berlin Group id, or the UUID of a consent URN), or the URN itself. Reads by key. */
  async function find(ctx: Context): Promise<Consent> {
    const id = consentIdOf(ctx);
    try {
      return await core.one(id);
    } catch (err) {
      if (!(err instanceof ConsentNotFound) || !UUID.test(id)) throw err;
      return core.one(`${urn}${id}`);
    }
  }

  const errors = dialectErrors(log);
  const read: Middleware[] = [errors, authenticateInternal(oauth, 'backoffice:read')];
  const revoke: Middleware[] = [errors, authenticateInternal(oauth, 'backoffice:revoke'), jsonBody(config.bodyLimitBytes)];

  const router = new Router({ prefix: OPUS_PREFIX });
  router.get('/v1/consents', ...read, listConsents);
  router.all('/v1/consents', errors, methodNotAllowed(['GET']));
  router.get('/v1/consents/:consentId/extends', ...read, listExtensions);
  router.all('/v1/consents/:consentId/extends', errors, methodNotAllowed(['GET']));
  router.get('/v1/consents/:consentId', ...read, getConsent);
  router.patch('/v1/consents/:consentId', ...revoke, revokeDeprecated);
  router.all('/v1/consents/:consentId', errors, methodNotAllowed(['GET', 'PATCH']));
  router.patch('/consents/v1/consents/:consentId', ...revoke, revokeDataSharing);
  router.all('/consents/v1/consents/:consentId', errors, methodNotAllowed(['PATCH']));
  router.patch('/payments/v1/consents/:consentId', ...revoke, revokePayment);
  router.all('/payments/v1/consents/:consentId', errors, methodNotAllowed(['PATCH']));
  // search keys: reading takes backoffice:read, adding and removing backoffice:revoke (the write scope)
  const keysPath = '/consents/v1/consents/:consentId/search-keys';
  const keyPath = '/consents/v1/consents/:consentId/search-key/:searchKey';
  const write: Middleware[] = [errors, authenticateInternal(oauth, 'backoffice:revoke')];
  router.get(keysPath, ...read, brand, checkSearchKeys);
  router.post(keysPath, ...write, brand, jsonBody(config.bodyLimitBytes), addSearchKeys);
  router.delete(keysPath, ...write, brand, removeSearchKeys);
  router.get(keyPath, ...read, brand, checkSearchKey);
  router.post(keyPath, ...write, brand, addSearchKey);
  router.delete(keyPath, ...write, brand, removeSearchKey);
  for (const path of [keysPath, keyPath]) router.all(path, errors, methodNotAllowed(['GET', 'POST', 'DELETE']));
  router.get('/consents/v1/consents/:consentId/payments', ...read, listPayments);
  router.all('/consents/v1/consents/:consentId/payments', errors, methodNotAllowed(['GET']));
  router.get('/consents/v2/active', ...read, listActive);
  router.all('/consents/v2/active', errors, methodNotAllowed(['GET']));
  router.all('/{*rest}', errors, () => {
    throw new BackofficeError('notFound');
  });

  async function listConsents(ctx: Context) {
    const { value: q, params } = parseQuery(listSchema, ctx.querystring, LIST_PARAMS);
    const given = new Set(params.map(([name]) => name));
    const issues: ParameterIssue[] = EXCLUSIVE.filter(([a, b]) => given.has(a) && given.has(b)).map(([a, b]) => ({
      kind: 'invalidParameter',
      name: b,
      message: `cannot be used together with ${a}`,
    }));
    if (q.createdOnBegin && q.createdOnEnd && q.createdOnBegin.getTime() > q.createdOnEnd.getTime()) {
      issues.push({ kind: 'invalidParameter', name: 'createdOnBegin', message: 'must not be after createdOnEnd' });
    }
    if (issues.length > 0) throw new ParameterError(issues);

    const documents = [...(q.consentOwner ?? []), ...(q.cpf ? [q.cpf] : []), ...(q.cnpj ? [q.cnpj] : [])];
    let types = q.type ?? q.typeList;
    if (q.paymentType === 'PIX') types = (types ?? ['br-payment']).filter((t) => t === 'br-payment');
    const statuses = q.status ?? q.statusList;
    // both modalities (or none asked): no modality filter, but only payment consents have one
    const modalities = q.modalityType ?? q.modalityTypeList;
    if (modalities) types = (types ?? ['br-payment']).filter((t) => t === 'br-payment');
    const scheduled = modalities?.length === 1 ? modalities[0] === 'scheduled' : undefined;
    const filter: ConsentQuery = {
      ...(documents.length > 0 ? { documents } : {}),
      ...(q.createdOnBegin ? { createdFrom: q.createdOnBegin } : {}),
      ...(q.createdOnEnd ? { createdTo: new Date(q.createdOnEnd.getTime() + 1) } : {}),
      ...(q.consentTermPeriod !== undefined ? { termMonths: q.consentTermPeriod } : {}),
      ...(q.orgName ? { clientIds: core.clientIdsNamed(q.orgName) } : {}),
      // a filter word that stands for no stored value (ENROLLMENT, TIMEOUT_PAYMENT, a search key) matches nothing
      ...((types && types.length === 0) || (statuses && statuses.length === 0) || (modalities && modalities.length === 0) ? { clientIds: [] } : {}),
      ...(q.searchKey || q.searchKeys ? { searchKeys: q.searchKey ? [q.searchKey] : q.searchKeys! } : {}),
      ...(scheduled !== undefined ? { paymentScheduled: scheduled } : {}),
      ...(types?.length ? { type: types } : {}),
      ...(statuses?.length ? { status: statuses } : {}),
    };
    const order: Order = q.orderType === 'OPF' ? 'open-finance' : { field: 'createdAt', direction: q.orderType === 'ASC' ? 'asc' : 'desc' };
    const request = { page: q.page ?? 1, pageSize: q['page-size'] ?? PAGE_SIZE_DEFAULT };
    const result = await core.search(filter, order, request);
    const present = await presentContext(result.items);
    respond(ctx, {
      data: result.items.map((c) => opusSummary(c, present)),
      ...pagination(result.total, { endpoint: `${origin}${opusPaths.consents}`, params, ...request }, present.now),
    });
  }

  async function listActive(ctx: Context) {
    const { value: q, params } = parseQuery(activeSchema, ctx.querystring, ACTIVE_PARAMS);
    const to = q.endDate ?? now();
    const from = q.startDate ?? to;
    if (from.getTime() > to.getTime()) {
      throw new ParameterError([{ kind: 'invalidParameter', name: 'startDate', message: 'must not be after endDate (default: now)' }]);
    }
    const request = { page: q.page ?? 1, pageSize: q['page-size'] ?? PAGE_SIZE_DEFAULT };
    const result = await core.activeDuring({ from, to }, { field: 'createdAt', direction: 'desc' }, request);
    const present = await presentContext(result.items);
    respond(ctx, {
      data: result.items.map((c) => opusActive(c, present)),
      ...pagination(result.total, { endpoint: `${origin}${opusPaths.active}`, params, ...request }, present.now),
    });
  }

  /** A consent's PIX payments, newest payment date first (a single-payment consent has at most one); any other consent has none. */
  async function listPayments(ctx: Context) {
    const { value: q, params } = parseQuery(pagedSchema, ctx.querystring, PAGED_PARAMS);
    const consent = await find(ctx);
    const all = consent.type === 'br-payment' ? await deps.payments.findByConsent(consent.id) : [];
    all.sort((a, b) => b.date.localeCompare(a.date) || b.createdAt.getTime() - a.createdAt.getTime());
    const request = { page: q.page ?? 1, pageSize: q['page-size'] ?? PAGE_SIZE_DEFAULT };
    const items = all.slice((request.page - 1) * request.pageSize, request.page * request.pageSize);
    respond(ctx, {
      data: items.map(opusPayment),
      ...pagination(all.length, { endpoint: `${origin}${opusPaths.payments(String(ctx.params.consentId))}`, params, ...request }, now()),
    });
  }

  async function getConsent(ctx: Context) {
    parseQuery(z.strictObject({}), ctx.querystring, []);
    const consent = await find(ctx);
    respond(ctx, { data: opusDetail(consent, await presentContext([consent])) });
  }

  /** RequestRevokeOobConsent: revokedBy USER (the customer asked) or ASPSP (the bank decided). */
  async function revokeDeprecated(ctx: Context) {
    const body = parseBody(revokeOobSchema, ctx.request.body);
    const { revokedBy, reason } = body.data.revocation;
    const rejection: Rejection = {
      rejectedBy: partyOf(revokedBy, 'data.revocation.revokedBy'),
      reason: { code: revokedBy === 'USER' ? 'CUSTOMER_MANUALLY_REVOKED' : 'INTERNAL_SECURITY_REASON', ...(reason.additionalInformation ? { additionalInformation: reason.additionalInformation } : {}) },
    };
    await revokeWith(ctx, rejection, `${reason.code}${reason.additionalInformation ? `: ${reason.additionalInformation}` : ''}`);
  }

  /** RevokeDataSharingConsentData: the rejection the consent records. */
  async function revokeDataSharing(ctx: Context) {
    const body = parseBody(revokeDataSharingSchema, ctx.request.body);
    const { rejectedBy, reason } = body.data.rejection;
    const rejection: Rejection = {
      rejectedBy: partyOf(rejectedBy, 'data.rejection.rejectedBy'),
      reason: { code: reason.code, ...(reason.additionalInformation ? { additionalInformation: reason.additionalInformation } : {}) },
    };
    await revokeWith(ctx, rejection, reason.additionalInformation ?? reason.code);
  }

  // ── search keys ──

  /** the consent's id as stored (a URN's UUID names the URN), or ConsentNotFound */
  async function keyed(ctx: Context): Promise<string> {
    return (await find(ctx)).id;
  }

  function pathKey(ctx: Context): string {
    const key = String(ctx.params.searchKey ?? '');
    const parsed = searchKeyParam(key);
    if (!parsed.ok) throw new ParameterError([{ kind: 'invalidParameter', name: 'searchKey', message: parsed.message }]);
    return parsed.value;
  }

  function queryKeys(ctx: Context): string[] {
    if (!new URLSearchParams(ctx.querystring).has('searchKeys')) throw new ParameterError([{ kind: 'missingParameter', name: 'searchKeys', message: 'is required' }]);
    return parseQuery(searchKeysQuery, ctx.querystring, SEARCH_KEYS_QUERY).value.searchKeys;
  }

  async function add(ctx: Context, keys: string[]) {
    const id = await keyed(ctx);
    const outcome = await consents.addSearchKeys(id, keys, SEARCH_KEYS_PER_CONSENT);
    if (outcome === 'not-found') throw new ConsentNotFound(id);
    if (outcome === 'too-many') throw new ParameterError([{ kind: 'invalidParameter', name: 'searchKeys', message: `a consent holds at most ${SEARCH_KEYS_PER_CONSENT} search keys` }]);
    log.info({ consentId: id, by: boState(ctx).clientId, added: keys.length }, 'backoffice (opus): search keys added');
    ctx.status = 204;
  }

  async function remove(ctx: Context, keys: string[]) {
    const id = await keyed(ctx);
    if (!(await consents.removeSearchKeys(id, keys))) throw new ConsentNotFound(id);
    log.info({ consentId: id, by: boState(ctx).clientId, removed: keys.length }, 'backoffice (opus): search keys removed');
    ctx.status = 204;
  }

  async function held(ctx: Context, keys: string[]): Promise<Array<{ searchKey: string; exists: boolean }>> {
    const id = await keyed(ctx);
    const found = await consents.heldSearchKeys(id, keys);
    if (!found) throw new ConsentNotFound(id);
    return keys.map((searchKey, i) => ({ searchKey, exists: found[i]! }));
  }

  async function addSearchKeys(ctx: Context) {
    const parsed = searchKeysBody.safeParse(ctx.request.body);
    if (!parsed.success) throw new ParameterError([{ kind: 'invalidBody', name: '', message: parsed.error.issues[0]?.message ?? 'must be a JSON array of search keys' }]);
    await add(ctx, [...new Set(parsed.data)]);
  }
  async function addSearchKey(ctx: Context) {
    await add(ctx, [pathKey(ctx)]);
  }
  async function removeSearchKeys(ctx: Context) {
    await remove(ctx, queryKeys(ctx));
  }
  async function removeSearchKey(ctx: Context) {
    await remove(ctx, [pathKey(ctx)]);
  }
  async function checkSearchKeys(ctx: Context) {
    respond(ctx, { data: await held(ctx, queryKeys(ctx)) });
  }
  async function checkSearchKey(ctx: Context) {
    respond(ctx, { data: (await held(ctx, [pathKey(ctx)]))[0] });
  }

  /** RequestRevokeOobPaymentConsent: an AUTHORISED payment consent, not paid yet, becomes REJECTED. */
  async function revokePayment(ctx: Context) {
    const { data } = parseBody(revokePaymentSchema, ctx.request.body);
    const by = data.rejection ? data.rejection.rejectedBy : (data.revocation!.revokedBy ?? (data.revocation!.reason?.code === 'REVOGADO_USUARIO' ? 'USUARIO' : undefined));
    const field = data.rejection ? 'data.rejection.rejectedBy' : 'data.revocation.revokedBy';
    const code = data.rejection?.reason.code ?? 'NAO_INFORMADO';
    const given = data.rejection?.reason.detail ?? data.revocation?.reason?.detail;
    const rejection: Rejection = {
      rejectedBy: partyOf(by === 'USUARIO' ? 'USER' : by === 'INICIADORA' ? 'TPP' : 'ASPSP', field),
      reason: { code, additionalInformation: (given ?? BR_PAYMENT_REJECTION_DETAILS[code]).slice(0, 2048) },
    };
    await revokeWith(ctx, rejection, `${data.revocation?.reason?.code ?? code}${given ? `: ${given}` : ''}`, 'payment');
  }

  /** The extensions of a data sharing consent, newest first (ConsentExtends); none for other consents. */
  async function listExtensions(ctx: Context) {
    const { value: q, params } = parseQuery(pagedSchema, ctx.querystring, PAGED_PARAMS);
    const consent = await find(ctx);
    const all = consent.type === 'br-data-sharing' ? [...(brDetails(consent).extensions ?? [])].reverse() : [];
    const request = { page: q.page ?? 1, pageSize: q['page-size'] ?? PAGE_SIZE_DEFAULT };
    const items = all.slice((request.page - 1) * request.pageSize, request.page * request.pageSize);
    respond(ctx, {
      data: items.map((e) => ({ ...(e.expirationDateTime ? { expirationDateTime: e.expirationDateTime } : {}), loggedUser: e.loggedUser, requestDateTime: e.requestDateTime })),
      ...pagination(all.length, { endpoint: `${origin}${opusPaths.extends(String(ctx.params.consentId))}`, params, ...request }, now()),
    });
  }

  async function revokeWith(ctx: Context, rejection: Rejection, reason: string, kind: 'data sharing' | 'payment' = 'data sharing') {
    const consent = await find(ctx);
    const id = consent.id;
    const isPayment = consent.type === 'br-payment' || consent.type === 'payments';
    if (isPayment !== (kind === 'payment')) {
      const other = isPayment ? 'payment' : 'data sharing';
      throw new ParameterError([{ kind: 'invalidParameter', name: 'consentId', message: `names a ${other} consent: this operation revokes ${kind} consents` }]);
    }
    if (consent.type === 'payments') throw new ParameterError([{ kind: 'invalidParameter', name: 'consentId', message: 'names a Berlin Group payment consent: it is revoked through its own API' }]);
    const actor = rejection.rejectedBy === 'USER' ? 'PSU' : 'ASPSP';
    const clientId = boState(ctx).clientId;
    const revoked = await core.revoke(id, { actor, reason: reason.slice(0, 140), rejection, ...(clientId ? { by: clientId } : {}) });
    log.info({ consentId: id, by: clientId, actor }, 'backoffice (opus): consent revoked');
    respond(ctx, { data: opusDetail(revoked, await presentContext([revoked])) });
  }

  async function presentContext(items: readonly Consent[]): Promise<PresentContext> {
    return { now: now(), tppNames: await core.tppNames(items) };
  }

  return router;
}

/** The back-office revokes for the customer (USER) or as the bank (ASPSP); a TPP revokes through its own API. */
function partyOf(party: 'USER' | 'ASPSP' | 'TPP', name: string): 'USER' | 'ASPSP' {
  if (party === 'TPP') throw new ParameterError([{ kind: 'invalidParameter', name, message: 'must be USER or ASPSP: a TPP revokes through its own API' }]);
  return party;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function consentIdOf(ctx: Context): string {
  const id = String(ctx.params.consentId ?? '');
  if (!consentIdSchema.safeParse(id).success) throw new ConsentNotFound('(malformed)');
  return id;
}

/**
 * The X-Brand-ID header the spec requires on the search-keys operations (the bank's brand, for a
 * platform serving several: one server here serves one bank, so it is checked, not used).
 */
const brand: Middleware = async (ctx, next) => {
  const value = ctx.get('x-brand-id');
  if (!value) throw new ParameterError([{ kind: 'missingParameter', name: 'X-Brand-ID', message: 'the header is required' }]);
  if (value.length > 64 || CONTROL.test(value)) throw new ParameterError([{ kind: 'invalidParameter', name: 'X-Brand-ID', message: 'must be 1 to 64 characters without control characters' }]);
  await next();
};

function respond(ctx: Context, body: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

/** 405 in this dialect's format */
function methodNotAllowed(methods: readonly string[]): Middleware {
  return rejectOtherMethods(methods, (allow) => new BackofficeError('methodNotAllowed', undefined, { Allow: allow }));
}
