/**
 * The back-office consent management API for the bank's own applications (modelled on the Opus Open
 * Finance "Consent BackOffice Services"), under /backoffice/v1:
 *
 *   GET   /consents                 search consents, active or not (filters, sort, pages)   backoffice:read
 *   GET   /consents/active          consents that were active at some time in [from, to]      backoffice:read
 *   GET   /consents/{consentId}     one consent in full: accounts, authorisations, history   backoffice:read
 *   PATCH /consents/{consentId}     revoke on the customer's behalf (its tokens die at once)  backoffice:revoke
 *   GET   /openapi.json             this API's OpenAPI description                            (public)
 *
 * Every consent call: dialect error handler → access token of an INTERNAL client (client_credentials,
 * `urn:assent:internal`, the route's scope) → query parameters (zod, unknown ones refused) → body →
 * ConsentService → presenter. Other methods on these paths answer 405, other paths under the prefix
 * 404. Errors render through errors.ts only, in the spec's `{ errors, meta }` format.
 *
 * "Active in [from, to]" (GET /consents/active) is the repository's `activeDuring` filter: granted
 * consents created at or before `to` that had not ended before `from` (valid ones expiring after `from`,
 * expired ones expiring at or after it, revoked or terminated ones that ended at or after it).
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../application/consents.ts';
import { ConsentNotFound } from '../../consent/errors.ts';
import { ConsentQueryCore } from './query-core.ts';
import type { ConsentQuery } from '../../consent/repository.ts';
import type { Consent } from '../../consent/types.ts';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import type { AccessValidator } from '../../application/access.ts';
import { BackofficeError, ParameterError } from './errors.ts';
import { authenticateInternal, boState, dialectErrors, jsonBody } from './middleware.ts';
import { serveOpenApi } from './openapi.ts';
import { BASE_PATH, consentDetailResponse, consentPage, paths, type PresentContext } from './presenters.ts';
import {
  activeQuerySchema,
  consentIdSchema,
  knownKeys,
  listQuerySchema,
  noQuerySchema,
  PAGE_SIZE_DEFAULT,
  parseBody,
  parseQuery,
  revokeBodySchema,
  type Sort,
} from './schemas.ts';
import { methodNotAllowed as rejectOtherMethods } from '../../http/method-not-allowed.ts';

export interface BackofficeDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  log: Logger;
  /** the usage counters behind the consent detail's `usage` (absent: not shown) */
  usage?: Pick<AccessValidator, 'usage'>;
  /** the clock for presenting (effective status, requestDateTime) and the active window's default. Default: now */
  now?: () => Date;
}

const LIST_PARAMS = knownKeys(listQuerySchema);
const ACTIVE_PARAMS = knownKeys(activeQuerySchema);
/** `sort=-createdAt`: newest first */
const DEFAULT_ORDER: Sort = { field: 'createdAt', direction: 'desc' };

export function backofficeRouter(deps: BackofficeDeps): Router {
  const { consents, oauth, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const origin = new URL(config.issuer).origin;
  const core = new ConsentQueryCore({ consents, oauth, config, now });

  // ── the middleware lists, in one place ──
  const errors = dialectErrors(log);
  const read: Middleware[] = [errors, authenticateInternal(oauth, 'backoffice:read')];
  const revoke: Middleware[] = [errors, authenticateInternal(oauth, 'backoffice:revoke'), jsonBody(config.bodyLimitBytes)];

  const router = new Router({ prefix: BASE_PATH });
  router.get('/openapi.json', errors, serveOpenApi(config.issuer));
  router.get('/consents', ...read, listConsents);
  // before /consents/:consentId, which would take "active" for an id
  router.get('/consents/active', ...read, listActive);
  router.all('/consents/active', errors, methodNotAllowed(['GET']));
  router.get('/consents/:consentId', ...read, getConsent);
  router.patch('/consents/:consentId', ...revoke, revokeConsent);
  router.all('/consents/:consentId', errors, methodNotAllowed(['GET', 'PATCH']));
  router.all('/consents', errors, methodNotAllowed(['GET']));
  router.all('/openapi.json', errors, methodNotAllowed(['GET']));
  router.all('/{*rest}', errors, notFound);

  // ── handlers ──

  async function listConsents(ctx: Context) {
    const { value: q, params } = parseQuery(listQuerySchema, ctx.querystring, LIST_PARAMS);
    const filter: ConsentQuery = {
      ...(q.psuId !== undefined ? { psuId: q.psuId } : {}),
      ...(q.document !== undefined ? { document: q.document } : {}),
      ...(q.clientId !== undefined ? { clientId: q.clientId } : {}),
      ...(q.iban !== undefined ? { iban: q.iban } : {}),
      ...(q.type !== undefined ? { type: q.type } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.createdFrom !== undefined ? { createdFrom: q.createdFrom } : {}),
      ...(q.createdTo !== undefined ? { createdTo: after(q.createdTo) } : {}),
      ...(q.expiresFrom !== undefined ? { expiresFrom: q.expiresFrom } : {}),
      ...(q.expiresTo !== undefined ? { expiresTo: after(q.expiresTo) } : {}),
    };
    await respondWithPage(ctx, paths.consents, filter, params, q.sort ?? DEFAULT_ORDER, q.page ?? 1, q['page-size'] ?? PAGE_SIZE_DEFAULT);
  }

  async function listActive(ctx: Context) {
    const { value: q, params } = parseQuery(activeQuerySchema, ctx.querystring, ACTIVE_PARAMS);
    const to = q.to ?? now();
    const from = q.from ?? to;
    if (from.getTime() > to.getTime()) {
      throw new ParameterError([{ kind: 'invalidParameter', name: 'from', message: 'must not be after to (default: now)' }]);
    }
    const filter: ConsentQuery = { activeDuring: { from, to } };
    await respondWithPage(ctx, paths.active, filter, params, q.sort ?? DEFAULT_ORDER, q.page ?? 1, q['page-size'] ?? PAGE_SIZE_DEFAULT);
  }

  async function respondWithPage(
    ctx: Context,
    path: string,
    filter: ConsentQuery,
    params: Array<[string, string]>,
    sort: Sort,
    page: number,
    pageSize: number,
  ) {
    const result = await core.search(filter, sort, { page, pageSize });
    const present = await presentContext(result.items);
    respond(ctx, consentPage(result.items, result.total, { endpoint: `${origin}${path}`, params, page, pageSize }, present));
  }

  async function getConsent(ctx: Context) {
    parseQuery(noQuerySchema, ctx.querystring, []);
    const consent = await core.one(consentIdOf(ctx));
    const usage = await deps.usage?.usage(consent).catch(() => undefined);
    respond(ctx, consentDetailResponse(consent, { ...(await presentContext([consent])), ...(usage ? { usage } : {}), origin }));
  }

  /** Revocation on the customer's behalf, through the query core (which refuses all but active consents). */
  async function revokeConsent(ctx: Context) {
    parseQuery(noQuerySchema, ctx.querystring, []);
    const id = consentIdOf(ctx);
    const body = parseBody(revokeBodySchema, ctx.request.body);
    const actor = body.revokedBy === 'USER' ? 'PSU' : 'ASPSP';
    const clientId = boState(ctx).clientId;
    const revoked = await core.revoke(id, { actor, reason: body.reason, ...(clientId ? { by: clientId } : {}) });
    log.info({ consentId: id, by: boState(ctx).clientId, actor }, 'backoffice: consent revoked');
    respond(ctx, consentDetailResponse(revoked, { ...(await presentContext([revoked])), origin }));
  }

  // ── helpers ──

  async function presentContext(items: readonly Consent[]): Promise<PresentContext> {
    return { now: now(), tppNames: await core.tppNames(items) };
  }

  return router;
}

/** The exclusive bound just after an inclusive one (the repository's `…To` bounds are exclusive). */
function after(instant: Date): Date {
  return new Date(instant.getTime() + 1);
}

function consentIdOf(ctx: Context): string {
  const id = String(ctx.params.consentId ?? '');
  if (!consentIdSchema.safeParse(id).success) throw new ConsentNotFound('(malformed)');
  return id;
}

function respond(ctx: Context, body: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

/** 405 in this dialect's format */
function methodNotAllowed(methods: readonly string[]): Middleware {
  return rejectOtherMethods(methods, (allow) => new BackofficeError('methodNotAllowed', undefined, { Allow: allow }));
}

const notFound: Middleware = async () => {
  throw new BackofficeError('notFound');
};
