/**
 * The shell every API dialect wraps its routes in: render known errors in the dialect's own format,
 * treat Koa's own 4xx http-errors (malformed requests) as the dialect's "bad request", and answer anything
 * unexpected with a detail-free 500 after logging its name and message — never parameters or bodies. A
 * client that went away mid-request is logged as such (client-abort.ts), never as a 500.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { isClientAbort, markClientAbort } from './client-abort.ts';
import { loggedPath } from './logged-path.ts';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  /** undefined: the spec defines no body for this status */
  body?: unknown;
}

export interface DialectErrorRenderer {
  /** a short name for log lines, e.g. "berlin-group" */
  dialect: string;
  /** the dialect's rendering of a known error, or undefined */
  render(err: unknown, ctx: Context): RenderedError | undefined;
  /** how a malformed request (Koa http-error 4xx) is answered */
  badRequest(err: unknown): RenderedError | undefined;
  /** the 500 answer */
  internal(): RenderedError;
}

export function dialectErrorHandler(log: Logger, renderer: DialectErrorRenderer): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (isClientAbort(err)) {
        // nobody reads the answer; not a server failure
        markClientAbort(ctx);
        log.info({ method: ctx.method, path: loggedPath(ctx.path) }, `${renderer.dialect}: the client aborted the request`);
        ctx.status = 400;
        ctx.body = '';
        return;
      }
      let rendered = renderer.render(err, ctx) ?? (isClientHttpError(err) ? renderer.badRequest(err) : undefined);
      if (!rendered) {
        const e = err as { name?: string; message?: string };
        log.error({ error: e?.name, message: e?.message, method: ctx.method, path: loggedPath(ctx.path) }, `${renderer.dialect}: unexpected error`);
        rendered = renderer.internal();
      }
      sendRendered(ctx, rendered);
    }
  };
}

/** Errors of the http-errors kind (status 4xx, expose) from Koa itself. */
function isClientHttpError(err: unknown): boolean {
  const e = err as { status?: unknown; expose?: unknown };
  return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true;
}

export function sendRendered(ctx: Context, rendered: RenderedError): void {
  ctx.status = rendered.status;
  for (const [name, value] of Object.entries(rendered.headers)) ctx.set(name, value);
  ctx.set('Cache-Control', 'no-store');
  if (rendered.body !== undefined) {
    ctx.body = rendered.body;
  } else {
    // no body defined for this status: send an empty one (Koa would otherwise write the status text)
    ctx.body = '';
    ctx.remove('Content-Type');
  }
}
