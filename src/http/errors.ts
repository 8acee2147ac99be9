import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';

/**
 * The last line of defence: anything a router did not render itself becomes a JSON error without
 * internals. 5xx are logged (message only: errors may quote input) and answered as `server_error`.
 */
export function fallbackErrorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; name?: string };
      const status = e.status ?? e.statusCode ?? 500;
      const safeStatus = status >= 400 && status < 600 ? status : 500;
      if (safeStatus >= 500) log.error({ error: e.name, message: e.message }, 'unhandled error');
      ctx.status = safeStatus;
      ctx.set('Cache-Control', 'no-store');
      ctx.body =
        safeStatus < 500 && e.expose
          ? { error: 'invalid_request', error_description: e.message }
          : { error: 'server_error', error_description: 'an unexpected error occurred' };
    }
  };
}

/** Conservative headers for every response; pages set their own CSP. */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (!ctx.response.get('X-Frame-Options')) ctx.set('X-Frame-Options', 'DENY');
  };
}
