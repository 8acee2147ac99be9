/**
 * The small checks the back-office routes are built from (routes.ts lists which runs where): the
 * dialect's error handler, internal-client authentication per scope, and the JSON body reader. Each
 * either passes or throws an error that errors.ts renders.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { dialectErrorHandler, sendRendered } from '../../http/dialect-errors.ts';
import { bodyError, jsonBodyParser, type JsonBodyErrors } from '../../http/json-body.ts';
import { BackofficeError, renderError, renderInternalError, type RenderedError } from './errors.ts';

/** What the dialect keeps on ctx.state. */
export interface BackofficeState {
  /** the authenticated internal client */
  clientId?: string;
  /** the scope the route required (for the WWW-Authenticate challenge) */
  requiredScope?: string;
}

export function boState(ctx: Context): BackofficeState {
  return ctx.state as BackofficeState;
}

/**
 * Renders every error of the dialect's routes. Anything unexpected is logged (its name and message, never
 * the request's parameters or body) and answered 500 without details.
 */
export function dialectErrors(log: Logger): Middleware {
  return dialectErrorHandler(log, {
    dialect: 'backoffice',
    render: (err, ctx) => renderError(err, boState(ctx).requiredScope),
    badRequest: (err) => renderError(bodyError(err, BODY_ERRORS)),
    internal: renderInternalError,
  });
}

export function send(ctx: Context, rendered: RenderedError): void {
  sendRendered(ctx, rendered);
}

/**
 * The caller must present an access token with `scope` that one of the bank's internal clients
 * (`urn:assent:internal`) got with client_credentials. No or a bad token: 401; a TPP's token, a user
 * token, or a token without the scope: 403.
 */
export function authenticateInternal(oauth: OAuthService, scope: 'backoffice:read' | 'backoffice:revoke'): Middleware {
  return async (ctx, next) => {
    boState(ctx).requiredScope = scope;
    const authorization = ctx.get('authorization');
    const dpop = ctx.get('dpop');
    const info = await oauth.verifyAccessToken(
      { ...(authorization ? { authorization } : {}), ...(dpop ? { dpop } : {}), method: ctx.method, url: ctx.href },
      scope,
    );
    if (info.kind !== 'client_credentials') {
      throw new BackofficeError('forbidden', 'a token the back-office client obtained with client_credentials is required');
    }
    const client = await oauth.client(info.clientId);
    if (!client?.internal) throw new BackofficeError('forbidden', 'the access token does not belong to one of the bank’s internal clients');
    boState(ctx).clientId = info.clientId;
    await next();
  };
}

/**
 * A JSON object body, at most `limit` bytes: anything but application/json (UTF-8) is 415, a bad or
 * too large body 400 / 413 (through dialectErrors). The parsed body is ctx.request.body.
 */
export function jsonBody(limit: number): Middleware {
  return jsonBodyParser(limit, BODY_ERRORS);
}

const BODY_ERRORS: JsonBodyErrors = {
  unsupportedMediaType: () => new BackofficeError('unsupportedMediaType'),
  tooLarge: (headers) => new BackofficeError('bodyTooLarge', undefined, headers),
  invalid: () => new BackofficeError('invalidBody', 'the body is not a valid JSON object'),
};
