/**
 * The checks the Payments API routes are built from (routes.ts lists which runs where): the TPP's token
 * (client_credentials with scope `payments`, or the customer's authorization_code token of one payment
 * consent), the signed request body (`application/jwt`, verified by src/signing), the idempotency key,
 * and the signing of every answer the spec says is signed (200, 201 and 422: `application/jwt`).
 * The FAPI headers and the x-fapi-interaction-id are the data-sharing dialect's (../brazil/middleware.ts).
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import type { JWTPayload } from 'jose';
import type { Logger } from '../../log.ts';
import { dialectErrorHandler } from '../../http/dialect-errors.ts';
import { TokenError, type OAuthService } from '../../oidc/oauth.ts';
import type { MessageSender, MessageSigner, MessageVerifier } from '../../signing/signed-messages.ts';
import { beginIdempotent, fingerprintOf, IDEMPOTENCY_WINDOW_SECONDS, type IdempotencyStore } from '../../storage/idempotency-store.ts';
import { brState, type BrState } from '../brazil/middleware.ts';
import { PaymentsError, renderError, renderInternalError } from './errors.ts';

export interface PaymentsState extends BrState {
  /** the TPP as a signer of messages (organisation id, keys) */
  sender?: MessageSender;
  /** the verified payload of the signed request body */
  message?: JWTPayload;
}

export function paymentsState(ctx: Context): PaymentsState {
  return brState(ctx) as PaymentsState;
}

export function dialectErrors(log: Logger): Middleware {
  return dialectErrorHandler(log, {
    dialect: 'open-finance-brasil-payments',
    render: (err) => renderError(err),
    badRequest: () => renderError(new PaymentsError('badRequest', 'the request is malformed')),
    internal: renderInternalError,
  });
}

/** Statuses whose bodies the spec defines as `application/jwt`. */
const SIGNED_STATUSES = new Set([200, 201, 422]);

/**
 * Outermost: signs the JSON body of a 200, 201 or 422 for the TPP's organisation (`aud`), as
 * `application/jwt`. Other answers stay JSON, as the spec defines them.
 */
export function signResponses(signer: MessageSigner): Middleware {
  return async (ctx, next) => {
    await next();
    const body = ctx.body;
    if (!SIGNED_STATUSES.has(ctx.status) || body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return;
    const state = paymentsState(ctx);
    const audience = state.sender?.organisationId ?? state.clientId ?? 'unknown';
    ctx.body = await signer.sign(body as Record<string, unknown>, audience);
    ctx.type = 'application/jwt';
  };
}

async function verifyToken(oauth: OAuthService, ctx: Context) {
  const authorization = ctx.get('authorization');
  const dpop = ctx.get('dpop');
  return oauth.verifyAccessToken({ ...(authorization ? { authorization } : {}), ...(dpop ? { dpop } : {}), method: ctx.method, url: ctx.href }, 'payments');
}

async function loadSender(oauth: OAuthService, ctx: Context, clientId: string): Promise<void> {
  const state = paymentsState(ctx);
  state.clientId = clientId;
  const sender = await oauth.messageSender(clientId);
  if (sender) state.sender = sender;
}

/** A client_credentials token of a TPP (not an internal client) with scope `payments`. */
export function authenticateTpp(oauth: OAuthService): Middleware {
  return async (ctx, next) => {
    const info = await verifyToken(oauth, ctx);
    if (info.kind !== 'client_credentials') throw new TokenError('invalid', 'a token the TPP obtained with client_credentials is required');
    const client = await oauth.client(info.clientId);
    if (!client || client.internal) throw new TokenError('invalid', 'the access token does not belong to a TPP');
    await loadSender(oauth, ctx, info.clientId);
    await next();
  };
}

/** The customer's authorization_code token (scope payments) of one payment consent. */
export function authenticateConsentToken(oauth: OAuthService): Middleware {
  return async (ctx, next) => {
    const info = await verifyToken(oauth, ctx);
    // (the access token for this API carries `payments`; `openid` was granted at the authorization, for the
    // id token and userinfo: oidc-provider keeps it off resource-bound tokens)
    if (info.kind === 'client_credentials' || info.consentId === undefined) {
      throw new TokenError('invalid', 'the customer’s authorization_code token of the payment consent is required');
    }
    paymentsState(ctx).tokenConsentId = info.consentId;
    await loadSender(oauth, ctx, info.clientId);
    await next();
  };
}

/** The answer is `application/jwt`: a client that accepts neither it nor anything gets 406. */
export const acceptsJwt: Middleware = async (ctx, next) => {
  if (ctx.get('accept') !== '' && !ctx.accepts('application/jwt')) throw new PaymentsError('notAcceptable', 'the answer is application/jwt');
  await next();
};

/**
 * The request body: a compact JWS (`application/jwt`) the TPP signed, verified (alg, kid, key, aud, iss,
 * iat, jti: src/signing/signed-messages.ts) before anything else reads it. Plain JSON is 415.
 */
export function signedBody(limit: number, verifier: MessageVerifier): Middleware {
  const parse = bodyParser({
    enableTypes: ['text'],
    extendTypes: { text: ['application/jwt'] },
    textLimit: limit,
    encoding: 'utf-8',
    onError: (err) => {
      const status = (err as { status?: unknown }).status;
      if (status === 413) throw new PaymentsError('badRequest', 'the body is too large', { Connection: 'close' });
      throw new PaymentsError('badRequest', 'the body could not be read');
    },
  });
  return async (ctx, next) => {
    const type = ctx.get('content-type').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/jwt') throw new PaymentsError('unsupportedMediaType', 'the body must be a signed message (application/jwt)');
    await parse(ctx, async () => {
      const compact = typeof ctx.request.body === 'string' ? ctx.request.body.trim() : '';
      const state = paymentsState(ctx);
      const sender = state.sender ?? { clientId: state.clientId ?? '' };
      state.message = await verifier.verify(compact, sender);
      await next();
    });
  };
}

const IDEMPOTENCY_KEY = /^(?!\s)(.*)(\S)$/;

/**
 * `x-idempotency-key` (required): the first request with a key decides the answer; the same key with the
 * same `data` gets that answer again (re-signed), with other `data` 422 ERRO_IDEMPOTENCIA. Concurrent
 * duplicates wait for the first. Only a success is kept: after an error, a retry runs again.
 */
export function idempotent(store: IdempotencyStore, operation: string): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-idempotency-key');
    if (given === '') throw new PaymentsError('missingParameter', 'x-idempotency-key is required');
    if (given.length > 40 || !IDEMPOTENCY_KEY.test(given)) throw new PaymentsError('badRequest', 'x-idempotency-key must be 1 to 40 characters without surrounding spaces');
    const state = paymentsState(ctx);
    // a customer's token scopes the key to its consent too: a key reused under another consent is a new request
    const key = [state.clientId, operation, ...(state.tokenConsentId !== undefined ? [state.tokenConsentId] : []), given].join('\u0000');
    const fingerprint = fingerprintOf(state.message?.data);
    const begun = await beginIdempotent(store, key, fingerprint, { pendingSeconds: 30, waitMs: 10_000 });
    if (begun.outcome === 'mismatch') {
      throw new PaymentsError('ERRO_IDEMPOTENCIA', 'Conteúdo da mensagem (claim data) diverge do conteúdo associado a esta chave de idempotência (x-idempotency-key).');
    }
    if (begun.outcome === 'pending') throw new PaymentsError('ERRO_IDEMPOTENCIA', 'A request with this x-idempotency-key is still being processed.');
    if (begun.outcome === 'replay') {
      ctx.status = begun.response.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = JSON.parse(begun.response.body);
      return;
    }
    try {
      await next();
    } catch (err) {
      await store.abandon(key, fingerprint);
      throw err;
    }
    if (ctx.status >= 200 && ctx.status < 300 && ctx.body && typeof ctx.body === 'object') {
      await store.complete(key, fingerprint, { status: ctx.status, body: JSON.stringify(ctx.body), contentType: 'application/json' }, IDEMPOTENCY_WINDOW_SECONDS);
    } else {
      await store.abandon(key, fingerprint);
    }
  };
}
