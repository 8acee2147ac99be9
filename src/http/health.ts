import type { Middleware } from 'koa';
import type { Stores } from '../stores.ts';

/**
 * `/healthz`: the process is up. `/readyz`: Redis and MongoDB answer (503 names the one that is down).
 * Plain path checks rather than a router: this sits in front of every request.
 */
export function health(stores: Stores): Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/healthz' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      const state = await stores.health();
      const down = Object.entries(state)
        .filter(([, s]) => s === 'down')
        .map(([name]) => name);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = down.length > 0 ? 503 : 200;
      ctx.body = { status: down.length > 0 ? 'unavailable' : 'ready', stores: state, ...(down.length > 0 ? { down } : {}) };
      return;
    }
    await next();
  };
}
