import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { wasClientAbort } from './client-abort.ts';
import { loggedPath } from './logged-path.ts';

/** One line per request: method, route-free path (no query string: it may carry codes), status, duration. */
export function accessLog(log: Logger): Middleware {
  return async (ctx, next) => {
    if (!log.isLevelEnabled('info')) return next();
    const start = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - start) * 10) / 10;
      const entry = { method: ctx.method, path: loggedPath(ctx.path), status: ctx.status, ms };
      if (wasClientAbort(ctx)) log.info({ method: ctx.method, path: loggedPath(ctx.path), ms, clientAborted: true }, 'request aborted by the client');
      else if (ctx.status >= 500) log.error(entry, 'request failed');
      else log.info(entry, 'request');
    }
  };
}
