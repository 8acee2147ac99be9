/**
 * The Open Finance Brasil Consents API 3.3.1 for TPPs, under /open-banking/consents/v3:
 *
 *   POST   /consents                          create (client_credentials, scope consents)        201
 *   GET    /consents/{consentId}              read                                               200
 *   DELETE /consents/{consentId}              revoke: → REJECTED (rejectedBy USER)               204 (422 if already REJECTED)
 *   POST   /consents/{consentId}/extends      new expirationDateTime (the consent's own token)   201
 *   GET    /consents/{consentId}/extensions   the extensions, newest first                       200
 *   GET    /openapi.json                      the spec
 *
 * Every call: error handler (OFB `errors`) → x-fapi-interaction-id (echoed or minted) → token → FAPI
 * headers → body → ConsentService → presenter. Another TPP's consent answers exactly like an unknown one
 * (404). Other methods on these paths are 405, other paths 404.
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../application/consents.ts';
import { BR_NO_EXPIRY, validateBrDataSharingRequest, validateBrExtension } from '../../consent/br-validation.ts';
import { ConsentStateConflict } from '../../consent/errors.ts';
import { effectiveStatus } from '../../consent/state.ts';
import type { Consent } from '../../consent/types.ts';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { BrError } from './errors.ts';
import { authenticateConsentToken, authenticateTpp, brState, dialectErrors, fapiHeaders, interactionId, jsonBody } from './middleware.ts';
import { serveOpenApi } from './openapi.ts';
import { BASE_PATH, brDetails, consentResponse, extensionsResponse, type BrDetails, type BrExtensionRecord } from './presenters.ts';
import { ofbDateTime } from './time.ts';
import { methodNotAllowed as rejectOtherMethods } from '../../http/method-not-allowed.ts';
import { consentCreateLimits } from '../../application/create-limits.ts';
import type { RateLimiter } from '../../storage/rate-limiter.ts';
import { MemoryRateLimiter } from '../../storage/memory/rate-limiter.ts';
import { ownedConsent, respond } from '../open-finance-brasil.ts';

export interface BrazilDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  log: Logger;
  /** the URN namespace of consent ids (`urn:<namespace>:<uuid>`). Default `assent` */
  urnNamespace?: string;
  /** where consent-creation counts are kept (Redis: shared by every instance). Default: this process's memory */
  rateLimiter?: RateLimiter;
  now?: () => Date;
}


const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '/consents': ['POST'],
  '/consents/:consentId': ['GET', 'DELETE'],
  '/consents/:consentId/extends': ['POST'],
  '/consents/:consentId/extensions': ['GET'],
  '/openapi.json': ['GET'],
};

export function brazilRouter(deps: BrazilDeps): Router {
  const { consents, oauth, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const idPrefix = `urn:${deps.urnNamespace ?? 'assent'}:`;
  const origin = new URL(config.issuer).origin;

  // ── the middleware lists, in one place ──
  const errors: Middleware[] = [dialectErrors(log), interactionId];
  const tpp: Middleware[] = [...errors, authenticateTpp(oauth), fapiHeaders()];
  const customer: Middleware[] = [...errors, authenticateConsentToken(oauth), fapiHeaders({ customer: true })];
  const body = jsonBody(config.bodyLimitBytes);
  // consent creation per TPP and window (config consent.createRateLimit, a client's own limit): 429 above
  const limiter = deps.rateLimiter ?? new MemoryRateLimiter();
  const createLimit = consentCreateLimits(config);
  const limitCreation: Middleware = async (ctx, next) => {
    const clientId = brState(ctx).clientId;
    const { limit, windowMs } = createLimit(clientId);
    const wait = await limiter.take(`br-create:${clientId ?? ctx.ip}`, limit, windowMs);
    if (wait > 0) throw new BrError('tooManyRequests', [], { 'Retry-After': String(wait) });
    await next();
  };

  const router = new Router({ prefix: BASE_PATH });
  router.get('/openapi.json', ...errors, serveOpenApi(config.issuer));
  router.post('/consents', ...tpp, limitCreation, body, createConsent);
  router.get('/consents/:consentId', ...tpp, getConsent);
  router.delete('/consents/:consentId', ...tpp, deleteConsent);
  router.post('/consents/:consentId/extends', ...customer, body, extendConsent);
  router.get('/consents/:consentId/extensions', ...tpp, getExtensions);
  for (const [path, methods] of Object.entries(ALLOWED)) router.all(path, ...errors, methodNotAllowed(methods));
  router.all('/{*rest}', ...errors, () => {
    throw new BrError('notFound', 'no such resource');
  });

  async function createConsent(ctx: Context) {
    const clientId = brState(ctx).clientId!;
    const result = validateBrDataSharingRequest(ctx.request.body, { now: now() });
    if (!result.ok) {
      if ('rule' in result) throw new BrError(result.rule.code, result.rule.message);
      throw new BrError(result.issues.some((i) => i.code === 'required') ? 'missingParameter' : 'badRequest', result.issues.map((i) => `${i.path}: ${i.message}`));
    }
    const request = result.value;
    const expiresAt = request.expirationDateTime ?? BR_NO_EXPIRY;
    const details: BrDetails = {
      permissions: request.permissions,
      loggedUser: request.loggedUser,
      ...(request.businessEntity ? { businessEntity: request.businessEntity } : {}),
    };
    const state = brState(ctx);
    const consent = await consents.create(
      {
        clientId,
        type: 'br-data-sharing',
        // the data groups name no accounts: the customer confirms which of theirs on approval (the
        // consent's linked resources, grantedAccounts)
        access: { allPsd2: 'allAccounts' },
        recurringIndicator: true,
        validUntil: expiresAt.toISOString().slice(0, 10),
        expiresAt,
        frequencyPerDay: 1,
        combinedServiceIndicator: false,
        ...(state.customerIpAddress ? { psuIpAddress: state.customerIpAddress } : {}),
        details: details as unknown as Record<string, unknown>,
      },
      { idPrefix },
    );
    log.info({ consentId: consent.id, clientId, permissions: request.permissions.length }, 'open finance brasil consent created');
    respond(ctx, 201, consentResponse(consent, origin, now()));
  }

  async function getConsent(ctx: Context) {
    respond(ctx, 200, consentResponse(await owned(ctx), origin, now()));
  }

  async function deleteConsent(ctx: Context) {
    const consent = await owned(ctx);
    if (effectiveStatus(consent, now()) === 'REJECTED') {
      // the clock may have ended it just now: record that, then answer as for any rejected consent
      if (consent.status !== 'REJECTED') await consents.get(consent.id);
      throw new BrError('alreadyRejected', 'the consent is already REJECTED');
    }
    let after: Consent | undefined;
    let current = consent;
    // concurrent DELETEs: a writer that lost every race waits for the winner's change to land, then
    // answers from the stored status (REJECTED by the winner: already rejected)
    for (let attempt = 0; after === undefined; attempt++) {
      try {
        after = await consents.terminateByTpp(current, brState(ctx).clientId!);
      } catch (err) {
        if (!(err instanceof ConsentStateConflict) || !err.lostRace || attempt >= 4) throw err;
        await new Promise((resolve) => setTimeout(resolve, 25 * (attempt + 1)));
        const reread = await consents.get(consent.id);
        if (!reread) throw new BrError('notFound');
        if (reread.status === 'REJECTED') throw new BrError('alreadyRejected', 'the consent is already REJECTED');
        current = reread;
      }
    }
    if (after.status === 'REJECTED' && after.revision === current.revision) {
      throw new BrError('alreadyRejected', 'the consent is already REJECTED');
    }
    ctx.status = 204;
    ctx.body = null;
  }

  async function extendConsent(ctx: Context) {
    const state = brState(ctx);
    const consent = await owned(ctx);
    if (state.tokenConsentId !== consent.id) throw new BrError('forbidden', 'the token was not granted for this consent');
    const at = now();
    const result = validateBrExtension(ctx.request.body, { now: at, currentExpiry: consent.expiresAt });
    if (!result.ok) {
      if ('rule' in result) throw new BrError(result.rule.code, result.rule.message);
      throw new BrError(result.issues.some((i) => i.code === 'required') ? 'missingParameter' : 'badRequest', result.issues.map((i) => `${i.path}: ${i.message}`));
    }
    const extension = result.value;
    const details = brDetails(consent);
    if (extension.loggedUser.document.identification !== details.loggedUser.document.identification) {
      throw new BrError('invalidState', 'loggedUser is not the customer of this consent');
    }
    if (details.businessEntity && extension.businessEntity?.document.identification !== details.businessEntity.document.identification) {
      throw new BrError('invalidState', 'businessEntity is not the company of this consent');
    }
    if (effectiveStatus(consent, at) !== 'AUTHORISED') throw new BrError('invalidState', 'only an AUTHORISED consent can be extended');
    const expiresAt = extension.expirationDateTime ?? BR_NO_EXPIRY;
    const extended = await consents.extend(consent, state.clientId!, (current) => {
      const currentDetails = brDetails(current);
      const record: BrExtensionRecord = {
        ...(extension.expirationDateTime ? { expirationDateTime: ofbDateTime(extension.expirationDateTime) } : {}),
        ...(current.expiresAt.getTime() !== BR_NO_EXPIRY.getTime() ? { previousExpirationDateTime: ofbDateTime(current.expiresAt) } : {}),
        requestDateTime: ofbDateTime(at),
        loggedUser: extension.loggedUser,
        ...(state.customerIpAddress ? { xFapiCustomerIpAddress: state.customerIpAddress } : {}),
        ...(state.customerUserAgent ? { xCustomerUserAgent: state.customerUserAgent } : {}),
      };
      const next: BrDetails = { ...currentDetails, extensions: [...(currentDetails.extensions ?? []), record] };
      return { expiresAt, validUntil: expiresAt.toISOString().slice(0, 10), details: next as unknown as Record<string, unknown> };
    });
    log.info({ consentId: extended.id, clientId: state.clientId }, 'open finance brasil consent extended');
    respond(ctx, 201, consentResponse(extended, origin, now()));
  }

  async function getExtensions(ctx: Context) {
    respond(ctx, 200, extensionsResponse(await owned(ctx), origin, now()));
  }

  /** The caller's Brazilian consent; anything else (unknown, another TPP's, another regime's) is 404. */
  async function owned(ctx: Context): Promise<Consent> {
    return ownedConsent(consents, String(ctx.params.consentId ?? ''), brState(ctx).clientId!, 'br-data-sharing', () => new BrError('notFound'));
  }

  return router;
}


/** 405 in this dialect's format */
function methodNotAllowed(methods: readonly string[]): Middleware {
  return rejectOtherMethods(methods, (allow) => new BrError('methodNotAllowed', `allowed: ${allow}`, { Allow: allow }));
}
