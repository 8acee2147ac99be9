import Router from '@koa/router';
import type { Stores } from '../stores.ts';

/** `/healthz`: the process is up. `/readyz`: Redis and MongoDB answer (503 names the one that is down). */
export function healthRouter(stores: Stores): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const state = await stores.health();
    const down = Object.entries(state)
      .filter(([, s]) => s === 'down')
      .map(([name]) => name);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = down.length > 0 ? 503 : 200;
    ctx.body = { status: down.length > 0 ? 'unavailable' : 'ready', stores: state, ...(down.length > 0 ? { down } : {}) };
  });
  return router;
}
