/**
 * The small checks the Berlin Group routes are built from (routes.ts lists which runs where):
 * the dialect's error handler, the required X-Request-ID, TPP authentication, the JSON body reader and
 * the per-client rate limit (a RateLimiter: Redis, shared by every instance, or memory). Each either passes or throws a BgError / TokenError for errors.ts to render.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware, Next } from 'koa';
import type { z } from 'zod';
import type { Logger } from '../../log.ts';
import { TokenError, type OAuthService } from '../../oidc/oauth.ts';
import { dialectErrorHandler, sendRendered } from '../../http/dialect-errors.ts';
import { ClientAborted, isClientAbort } from '../../http/client-abort.ts';
import { BgError, formatError, renderError, renderInternalError, type RenderedError } from './errors.ts';
import type { RateLimiter } from '../../storage/rate-limiter.ts';
import { HEADER_NAMES, requestIdSchema, zodIssues } from './schemas.ts';

/** What the dialect keeps on ctx.state. */
export interface BgState {
  /** the authenticated TPP */
  clientId?: string;
  /** the parsed JSON body; undefined when the request had none */
  body?: unknown;
}

export function bgState(ctx: Context): BgState {
  return ctx.state as BgState;
}

/** Renders every error of the dialect's routes; anything unexpected is logged and answered 500 without details. */
export function dialectErrors(log: Logger): Middleware {
  return dialectErrorHandler(log, {
    dialect: 'berlin-group',
    render: (err) => renderError(err),
    badRequest: () => renderError(new BgError('formatError')),
    internal: renderInternalError,
  });
}

export function send(ctx: Context, rendered: RenderedError): void {
  sendRendered(ctx, rendered);
}

/** X-Request-ID must be present and a UUID; it is echoed on the response (errors included). */
export const requireRequestId: Middleware = async (ctx, next) => {
  const given = ctx.get('x-request-id');
  if (!given) throw formatError(HEADER_NAMES['x-request-id'], 'is required');
  if (!requestIdSchema.safeParse(given).success) throw formatError(HEADER_NAMES['x-request-id'], 'must be a UUID');
  ctx.set('X-Request-ID', given);
  await next();
};

/**
 * The caller must present an access token with scope `accountinformation` that a TPP got with
 * client_credentials (not a PSU's token, not an internal client's). Checked by OAuthService only.
 */
export function authenticateTpp(oauth: OAuthService, scope = 'accountinformation'): Middleware {
  return async (ctx, next) => {
    // Node keeps only the first of repeated Authorization headers: refuse the request rather than guess
    if (headerCount(ctx.req, 'authorization') > 1) throw formatError('Authorization', 'must be sent once');
    const authorization = ctx.get('authorization');
    const dpop = ctx.get('dpop');
    const info = await oauth.verifyAccessToken(
      { ...(authorization ? { authorization } : {}), ...(dpop ? { dpop } : {}), method: ctx.method, url: ctx.href },
      scope,
    );
    if (info.kind !== 'client_credentials') {
      throw new TokenError('invalid', 'a token the TPP obtained with client_credentials is required');
    }
    const client = await oauth.client(info.clientId);
    if (!client || client.internal) throw new TokenError('invalid', 'the access token does not belong to a TPP');
    bgState(ctx).clientId = info.clientId;
    await next();
  };
}

/** How often a header occurs in the raw request. */
function headerCount(req: IncomingMessage, name: string): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === name) n++;
  return n;
}

/** Parses the headers with `schema`; every bad header becomes one FORMAT_ERROR naming it. */
export function parseHeaders<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(ctx.headers);
  if (parsed.success) return parsed.data;
  const issues = zodIssues(parsed.error, ctx.headers, HEADER_NAMES);
  throw new BgError(
    'formatError',
    issues.map((i) => ({ path: i.path, text: i.message })),
  );
}

/**
 * Reads a JSON body of at most `limit` bytes. No body (no Content-Length or 0, no Transfer-Encoding) is
 * fine unless `required`; a body must be `application/json` (else 415, which has no body in the spec).
 * Too large, not UTF-8, not JSON: 400 FORMAT_ERROR (the spec has no 413).
 */
export function jsonBody(options: { limit: number; required: boolean; timeoutMs: number }): Middleware {
  return async (ctx: Context, next: Next) => {
    const declared = ctx.get('content-length');
    const chunked = ctx.get('transfer-encoding') !== '';
    const hasBody = chunked || (declared !== '' && declared !== '0');
    if (!hasBody) {
      if (options.required) throw formatError(undefined, 'a JSON body is required');
      bgState(ctx).body = undefined;
      return next();
    }
    if (!isJson(ctx)) throw new BgError('unsupportedMediaType');
    if (declared !== '' && !(Number(declared) <= options.limit)) throw tooLarge(options.limit);

    const raw = await readBody(ctx.req, options.limit, options.timeoutMs);
    if (raw === 'too-large') throw tooLarge(options.limit);
    if (raw === 'aborted') throw new ClientAborted();
    // 408 (the spec defines no body for it); the rest of the body is never read: close the connection
    if (raw === 'timeout') throw new BgError('requestTimeout', [], { Connection: 'close' });
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw formatError(undefined, 'the body is not valid UTF-8');
    }
    if (text.trim() === '') {
      if (options.required) throw formatError(undefined, 'a JSON body is required');
      bgState(ctx).body = undefined;
      return next();
    }
    try {
      bgState(ctx).body = JSON.parse(text);
    } catch {
      throw formatError(undefined, 'the body is not valid JSON');
    }
    await next();
  };
}

function isJson(ctx: Context): boolean {
  const header = ctx.get('content-type');
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * Too large: the rest of the body is not read, so the connection cannot carry another request; the answer
 * closes it (Node then discards what is still coming instead of parsing it as the next request).
 */
function tooLarge(limit: number): BgError {
  return new BgError('formatError', [{ text: `the body is larger than ${limit} bytes` }], { Connection: 'close' });
}

/**
 * The request body, at most `limit` bytes, within `timeoutMs`. Past the limit or the deadline the stream
 * is left flowing into nothing (never destroyed: destroying the request would reset the socket before the
 * answer is written). A client that goes away is 'aborted' (Node's `aborted` error or an early close).
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer | 'too-large' | 'aborted' | 'timeout'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      done('timeout');
      req.resume();
    }, timeoutMs);
    const done = (result: Buffer | 'too-large' | 'aborted' | 'timeout') => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done('too-large');
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onClose = () => done('aborted');
    const onError = (err: Error) => {
      if (isClientAbort(err)) return done('aborted');
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      reject(err);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

export interface RateLimitOptions {
  /** requests allowed per client per window */
  limit: number;
  windowMs: number;
}

/**
 * 429 ACCESS_EXCEEDED (with Retry-After) once the authenticated TPP is over its limit. `options` may be
 * chosen per client (a TPP with its own limit).
 */
export function rateLimit(limiter: RateLimiter, options: RateLimitOptions | ((clientId: string | undefined) => RateLimitOptions)): Middleware {
  const optionsFor = typeof options === 'function' ? options : () => options;
  return async (ctx, next) => {
    const clientId = bgState(ctx).clientId;
    const { limit, windowMs } = optionsFor(clientId);
    const wait = await limiter.take(`bg-create:${clientId ?? ctx.ip}`, limit, windowMs);
    if (wait > 0) throw new BgError('accessExceeded', [], { 'Retry-After': String(wait) });
    await next();
  };
}
