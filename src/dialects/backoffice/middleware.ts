/**
 * The small checks the back-office routes are built from (routes.ts lists which runs where): the
 * dialect's error handler, internal-client authentication per scope, and the JSON body reader. Each
 * either passes or throws an error that errors.ts renders.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { dialectErrorHandler, sendRendered } from '../../http/dialect-errors.ts';
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
    badRequest: (err) => renderError(bodyError(err)),
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
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonStrict: true,
    jsonLimit: limit,
    encoding: 'utf-8',
    onError: (err) => {
      throw bodyError(err);
    },
  });
  return async (ctx, next) => {
    if (!isJson(ctx.get('content-type'))) throw new BackofficeError('unsupportedMediaType');
    await parse(ctx, next);
  };
}

/** raw-body / co-body failures (their status tells which) as the dialect's errors. */
function bodyError(err: unknown): BackofficeError {
  const status = (err as { status?: unknown })?.status;
  // raw-body stops reading at the limit: the rest of the request cannot be parsed, close the connection
  if (status === 413) return new BackofficeError('bodyTooLarge', undefined, { Connection: 'close' });
  if (status === 415) return new BackofficeError('unsupportedMediaType');
  return new BackofficeError('invalidBody', 'the body is not a valid JSON object');
}

function isJson(header: string): boolean {
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
