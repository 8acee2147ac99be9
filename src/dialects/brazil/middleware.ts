/**
 * The checks the Open Finance Brasil routes are built from (routes.ts lists which runs where): the
 * dialect's error handler, the FAPI headers (x-fapi-interaction-id echoed or minted; the others
 * validated), the TPP's token (client_credentials with scope `consents`, or the authorization_code
 * token of the consent itself), and the JSON body.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../../log.ts';
import { dialectErrorHandler } from '../../http/dialect-errors.ts';
import { jsonBodyParser, bodyError, type JsonBodyErrors } from '../../http/json-body.ts';
import { TokenError, type OAuthService } from '../../oidc/oauth.ts';
import { BrError, renderError, renderInternalError } from './errors.ts';

export interface BrState {
  clientId?: string;
  /** the consent an authorization_code token is bound to */
  tokenConsentId?: string;
  customerIpAddress?: string;
  customerUserAgent?: string;
}

export function brState(ctx: Context): BrState {
  return ctx.state as BrState;
}

const BODY_ERRORS: JsonBodyErrors = {
  unsupportedMediaType: () => new BrError('unsupportedMediaType'),
  tooLarge: (headers) => new BrError('badRequest', 'the body is too large', headers),
  invalid: () => new BrError('badRequest', 'the body is not valid JSON'),
};

export function dialectErrors(log: Logger): Middleware {
  return dialectErrorHandler(log, {
    dialect: 'open-finance-brasil',
    render: (err) => renderError(err),
    badRequest: (err) => renderError(bodyError(err, BODY_ERRORS)),
    internal: renderInternalError,
  });
}

export const jsonBody = (limit: number): Middleware => jsonBodyParser(limit, BODY_ERRORS);

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const AUTH_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC)$/;
const TRIMMED = /^[^\s](.*[^\s])?$/;

/**
 * x-fapi-interaction-id: echoed when it is a UUID, else a fresh one is set (and a malformed one refused).
 * Runs first inside the error handler, so every answer, errors included, carries it.
 */
export const interactionId: Middleware = async (ctx, next) => {
  const given = ctx.get('x-fapi-interaction-id');
  const valid = given !== '' && UUID.test(given);
  ctx.set('x-fapi-interaction-id', valid ? given : randomUUID());
  if (given !== '' && !valid) throw new BrError('badRequest', 'x-fapi-interaction-id must be a UUID');
  await next();
};

/** x-fapi-auth-date, x-fapi-customer-ip-address, x-customer-user-agent: optional, or required by `required`. */
export function fapiHeaders(required: { customer?: boolean } = {}): Middleware {
  return async (ctx, next) => {
    const problems: string[] = [];
    const authDate = ctx.get('x-fapi-auth-date');
    if (authDate !== '' && !(AUTH_DATE.test(authDate) && !Number.isNaN(Date.parse(authDate)))) {
      problems.push('x-fapi-auth-date must be an HTTP date such as Sun, 10 Sep 2017 19:43:31 GMT');
    }
    const ip = ctx.get('x-fapi-customer-ip-address');
    if (ip === '') {
      if (required.customer) problems.push('x-fapi-customer-ip-address is required');
    } else if (ip.length > 100 || isIP(ip) === 0) problems.push('x-fapi-customer-ip-address must be an IPv4 or IPv6 address');
    const agent = ctx.get('x-customer-user-agent');
    if (agent === '') {
      if (required.customer) problems.push('x-customer-user-agent is required');
    } else if (agent.length > 255 || !TRIMMED.test(agent)) problems.push('x-customer-user-agent must be 1 to 255 characters without surrounding spaces');
    if (problems.length > 0) {
      throw new BrError(problems.some((p) => p.endsWith('required')) ? 'missingParameter' : 'badRequest', problems);
    }
    const state = brState(ctx);
    if (ip !== '') state.customerIpAddress = ip;
    if (agent !== '') state.customerUserAgent = agent;
    await next();
  };
}

async function verify(oauth: OAuthService, ctx: Context, scope: string | null) {
  const authorization = ctx.get('authorization');
  const dpop = ctx.get('dpop');
  return oauth.verifyAccessToken(
    { ...(authorization ? { authorization } : {}), ...(dpop ? { dpop } : {}), method: ctx.method, url: ctx.href },
    scope,
  );
}

/** A client_credentials token of a TPP (not an internal client) with scope `consents`. */
export function authenticateTpp(oauth: OAuthService): Middleware {
  return async (ctx, next) => {
    const info = await verify(oauth, ctx, 'consents');
    if (info.kind !== 'client_credentials') throw new TokenError('invalid', 'a token the TPP obtained with client_credentials is required');
    const client = await oauth.client(info.clientId);
    if (!client || client.internal) throw new TokenError('invalid', 'the access token does not belong to a TPP');
    brState(ctx).clientId = info.clientId;
    await next();
  };
}

/**
 * The authorization_code token the customer granted for this very consent (extends). The spec secures
 * extends with `openid` and `consent:{consentId}` (OAuth2AuthorizationCode): `openid` is an OIDC scope,
 * so it is read from the customer's grant (access tokens for our API carry only resource scopes);
 * `consent:{consentId}` is the consent the token is bound to (the route compares it with the path).
 * The resource scopes of the role/scope table (accounts, resources, …) are for the data APIs, not here.
 */
export function authenticateConsentToken(oauth: OAuthService): Middleware {
  return async (ctx, next) => {
    const info = await verify(oauth, ctx, null);
    if (info.kind === 'client_credentials' || info.consentId === undefined) {
      throw new TokenError('insufficient_scope', 'the customer’s authorization_code token for this consent is required');
    }
    const oidc = info.grantId === undefined ? new Set<string>() : await oauth.grantedOidcScopes(info.grantId);
    if (!oidc.has('openid')) throw new TokenError('insufficient_scope', 'the token was not granted with the openid scope');
    brState(ctx).clientId = info.clientId;
    brState(ctx).tokenConsentId = info.consentId;
    await next();
  };
}
