/** GET /api/fs/extensions/openapi.json: the API a bank implements for step extensions (schemas.ts). */
import Router from '@koa/router';
import { extensionsOpenApi } from './schemas.ts';

export function extensionsOpenApiRouter(): Router {
  const router = new Router();
  const doc = JSON.stringify(extensionsOpenApi());
  router.get('/api/fs/extensions/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = doc;
  });
  return router;
}
