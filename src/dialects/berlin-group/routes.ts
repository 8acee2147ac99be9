/**
 * The Berlin Group (Open Payments NextGenPSD2 1.3.3) consent API for TPPs, under /psd2/consent/v1:
 *
 *   POST   /consents                                         create                         201
 *   GET    /consents/{consentId}                             consent information            200
 *   DELETE /consents/{consentId}                             terminate (TPP)                204
 *   GET    /consents/{consentId}/status                      consent status                 200
 *   POST   /consents/{consentId}/authorisations              start authorisation            201
 *   GET    /consents/{consentId}/authorisations              authorisation ids              200
 *   GET    /consents/{consentId}/authorisations/{authId}     SCA status                     200
 *   PUT    /consents/{consentId}/authorisations/{authId}     select the SCA method          200 (+ scaOAuth link;
 *                                                             no body: the default method)
 *   GET    /openapi.json                                     this API's OpenAPI description
 *
 * Every consent call: dialect error handler → X-Request-ID (UUID) → TPP access token (client_credentials,
 * scope accountinformation) → headers → body → ConsentService → presenter. Other methods on these paths
 * answer 405 SERVICE_INVALID, other paths under the prefix 404 RESOURCE_UNKNOWN. Errors render through
 * errors.ts only. Another TPP's consent is answered exactly like an unknown id (403 CONSENT_UNKNOWN).
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../application/consents.ts';
import { AuthorisationNotFound, ConsentNotFound, ConsentValidationError, type ValidationIssue } from '../../consent/errors.ts';
import type { Consent } from '../../consent/types.ts';
import { findAuthorisation } from '../../consent/state.ts';
import { validateAccountConsentRequest } from '../../consent/validation.ts';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { BgError } from './errors.ts';
import {
  authenticateTpp,
  bgState,
  dialectErrors,
  jsonBody,
  parseHeaders,
  rateLimit,
  requireRequestId,
  type RateLimitOptions,
} from './middleware.ts';
import { configuredOpenApi, serveOpenApi } from './openapi.ts';
import type { RateLimiter } from '../../storage/rate-limiter.ts';
import { MemoryRateLimiter } from '../../storage/memory/rate-limiter.ts';
import {
  authenticationMethodSelected,
  authorisationList,
  authorisationStarted,
  BASE_PATH,
  consentCreated,
  consentInformation,
  consentStatus,
  paths,
  scaOAuthHref,
  scaStatus,
} from './presenters.ts';
import {
  commonHeadersSchema,
  consentBodyToDomain,
  createConsentHeadersSchema,
  HEADER_NAMES,
  mergeIssues,
  resourceIdSchema,
  selectAuthenticationMethodBodySchema,
  startAuthorisationBodySchema,
  zodIssues,
} from './schemas.ts';
import { methodNotAllowed as rejectOtherMethods } from '../../http/method-not-allowed.ts';
import { consentCreateLimits } from '../../application/create-limits.ts';

export interface BerlinGroupDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  log: Logger;
  /** POST /consents per TPP and window, for every TPP. Default: config `consent.createRateLimit` and the clients' own limits */
  rateLimit?: RateLimitOptions;
  /** where the counts are kept (Redis: shared by every instance). Default: this process's memory */
  rateLimiter?: RateLimiter;
  /** the clock for request validation (validUntil in the past, the validity cap). Default: now */
  now?: () => Date;
}

/** Methods served on each path (HEAD comes with GET); anything else is 405. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '/consents': ['POST'],
  '/consents/:consentId': ['GET', 'DELETE'],
  '/consents/:consentId/status': ['GET'],
  '/consents/:consentId/authorisations': ['POST', 'GET'],
  '/consents/:consentId/authorisations/:authorisationId': ['GET', 'PUT'],
  '/openapi.json': ['GET'],
};

const SCA_APPROACH = 'REDIRECT';

export function berlinGroupRouter(deps: BerlinGroupDeps): Router {
  const { consents, oauth, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const limiter = deps.rateLimiter ?? new MemoryRateLimiter();
  const createLimit = consentCreateLimits(config, deps.rateLimit);
  const scaMethods = config.consent.scaMethods;

  // ── the middleware lists, in one place ──
  const errors = dialectErrors(log);
  const api: Middleware[] = [errors, requireRequestId, authenticateTpp(oauth)];
  const headers: Middleware = async (ctx, next) => {
    parseHeaders(ctx, commonHeadersSchema);
    await next();
  };
  const body = (required: boolean) => jsonBody({ limit: config.bodyLimitBytes, required, timeoutMs: config.bodyTimeoutMs });

  const router = new Router({ prefix: BASE_PATH });
  router.get('/openapi.json', errors, serveOpenApi(config.issuer, configuredOpenApi(config)));
  router.post('/consents', ...api, rateLimit(limiter, createLimit), body(true), createConsent);
  router.get('/consents/:consentId', ...api, headers, getConsent);
  router.delete('/consents/:consentId', ...api, headers, deleteConsent);
  router.get('/consents/:consentId/status', ...api, headers, getConsentStatus);
  router.post('/consents/:consentId/authorisations', ...api, headers, body(false), startAuthorisation);
  router.get('/consents/:consentId/authorisations', ...api, headers, listAuthorisations);
  router.get('/consents/:consentId/authorisations/:authorisationId', ...api, headers, getScaStatus);
  router.put('/consents/:consentId/authorisations/:authorisationId', ...api, headers, body(false), selectAuthenticationMethod);
  for (const [path, methods] of Object.entries(ALLOWED)) router.all(path, errors, methodNotAllowed(methods));
  router.all('/{*rest}', errors, notFound);

  // ── handlers ──

  async function createConsent(ctx: Context) {
    const clientId = tpp(ctx);
    const h = parseHeaders(ctx, createConsentHeadersSchema);
    const redirectUri = h['tpp-redirect-uri'];
    const issues: ValidationIssue[] = [];
    if (redirectUri !== undefined && !(await oauth.client(clientId))?.redirectUris.includes(redirectUri)) {
      issues.push({ path: HEADER_NAMES['tpp-redirect-uri'], code: 'invalid_value', message: 'is not a redirect URI registered for this TPP' });
    }
    const dialect = consentBodyToDomain(bgState(ctx).body);
    const result = validateAccountConsentRequest(dialect.body, { now: now(), maxValidityDays: config.consent.maxValidityDays, maxFrequencyPerDay: config.consent.maxFrequencyPerDay, allowBankOffered: true });
    issues.push(...mergeIssues(dialect.issues, result.ok ? [] : result.error.issues));
    if (!result.ok || issues.length > 0) throw new ConsentValidationError(issues);

    // PSU-ID is how the PSU is known in the bank's online interface (a login name, not our internal id):
    // kept as the TPP's claim and checked against the customer who logs in (default step assent.psu-match).
    const details = {
      ...(redirectUri !== undefined ? { tppRedirectUri: redirectUri } : {}),
      ...(h['psu-id'] !== undefined ? { psuIdentification: h['psu-id'] } : {}),
    };
    const consent = await consents.create({
      clientId,
      type: 'accounts',
      ...result.value,
      ...(h['psu-ip-address'] !== undefined ? { psuIpAddress: h['psu-ip-address'] } : {}),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    });
    log.info({ consentId: consent.id, clientId }, 'berlin-group: consent created');
    ctx.status = 201;
    ctx.set('Location', paths.consent(consent.id));
    ctx.set('ASPSP-SCA-Approach', SCA_APPROACH);
    respond(ctx, consentCreated(consent, scaMethods));
  }

  async function getConsent(ctx: Context) {
    respond(ctx, consentInformation(await ownedConsent(ctx)));
  }

  async function deleteConsent(ctx: Context) {
    const consent = await ownedConsent(ctx);
    await consents.terminateByTpp(consent, tpp(ctx));
    ctx.status = 204;
    ctx.set('Cache-Control', 'no-store');
  }

  async function getConsentStatus(ctx: Context) {
    respond(ctx, consentStatus(await ownedConsent(ctx)));
  }

  async function startAuthorisation(ctx: Context) {
    const consent = await ownedConsent(ctx);
    const given = bgState(ctx).body;
    if (given !== undefined) {
      const parsed = startAuthorisationBodySchema.safeParse(given);
      if (!parsed.success) throw new ConsentValidationError(zodIssues(parsed.error, given));
    }
    const started = await consents.startAuthorisation(consent, tpp(ctx));
    log.info({ consentId: consent.id, authorisationId: started.authorisation.id }, 'berlin-group: authorisation started');
    ctx.status = 201;
    ctx.set('ASPSP-SCA-Approach', SCA_APPROACH);
    respond(ctx, authorisationStarted(started.consent, started.authorisation, scaMethods));
  }

  async function listAuthorisations(ctx: Context) {
    respond(ctx, authorisationList(await ownedConsent(ctx)));
  }

  async function getScaStatus(ctx: Context) {
    const consent = await ownedConsent(ctx);
    const authorisationId = authorisationIdOf(ctx, consent.id);
    respond(ctx, scaStatus(findAuthorisation(consent, authorisationId)));
  }

  async function selectAuthenticationMethod(ctx: Context) {
    const consent = await ownedConsent(ctx);
    const authorisationId = authorisationIdOf(ctx, consent.id);
    // no body at all is `{}`; a JSON null is not an object and is refused
    const sent = bgState(ctx).body;
    const given = sent === undefined ? {} : sent;
    const parsed = selectAuthenticationMethodBodySchema.safeParse(given);
    if (!parsed.success) throw new ConsentValidationError(zodIssues(parsed.error, given));
    // no body (or `{}`): the bank's default method, the first configured
    const wanted = parsed.data.authenticationMethodId ?? scaMethods[0]!.authenticationMethodId;
    const method = scaMethods.find((m) => m.authenticationMethodId === wanted);
    if (!method) {
      throw new BgError('scaMethodUnknown', [
        { path: 'authenticationMethodId', text: `must be one of ${scaMethods.map((m) => m.authenticationMethodId).join(', ')}` },
      ]);
    }
    const clientId = tpp(ctx);
    const selected = await consents.selectScaMethod(consent, clientId, authorisationId, method.authenticationMethodId);
    ctx.set('ASPSP-SCA-Approach', SCA_APPROACH);
    respond(
      ctx,
      authenticationMethodSelected(
        selected.consent,
        selected.authorisation,
        method,
        scaOAuthHref(config.issuer, clientId, selected.consent, selected.authorisation),
      ),
    );
  }

  // ── helpers ──

  function tpp(ctx: Context): string {
    const clientId = bgState(ctx).clientId;
    if (!clientId) throw new Error('berlin-group: route without TPP authentication');
    return clientId;
  }

  /** The TPP's account-information consent named by the path; anything else is CONSENT_UNKNOWN. */
  async function ownedConsent(ctx: Context): Promise<Consent> {
    const id = String(ctx.params.consentId ?? '');
    if (!resourceIdSchema.safeParse(id).success) throw new ConsentNotFound(id);
    const consent = await consents.getOwned(id, tpp(ctx));
    // consents of other dialects (Brazil, payments) are not resources of this API
    if (consent.type !== 'accounts') throw new ConsentNotFound(id);
    return consent;
  }

  return router;
}

function authorisationIdOf(ctx: Context, consentId: string): string {
  const id = String(ctx.params.authorisationId ?? '');
  if (!resourceIdSchema.safeParse(id).success) throw new AuthorisationNotFound(consentId, id);
  return id;
}

function respond(ctx: Context, body: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

/** 405 in this dialect's format */
function methodNotAllowed(methods: readonly string[]): Middleware {
  return rejectOtherMethods(methods, (allow) => new BgError('methodNotAllowed', [], { Allow: allow }));
}

const notFound: Middleware = async () => {
  throw new BgError('notFound');
};
