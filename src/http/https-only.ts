/**
 * With an https issuer, Assent answers only over https (directly, or behind a proxy that says so with
 * `X-Forwarded-Proto` and `trustProxy`). A plain-http request gets a clear answer instead of failing
 * deep inside (oidc-provider refuses to set its secure cookies: a 500): GET and HEAD are redirected (308)
 * to the same path on the issuer's origin, anything else is 400 (an HTML page for browsers, an OAuth
 * error otherwise). Health checks (/healthz, /readyz) answer over either.
 */
import type { Middleware } from 'koa';

const HEALTH = new Set(['/healthz', '/readyz']);

export function httpsOnly(issuer: string): Middleware {
  const origin = new URL(issuer);
  if (origin.protocol !== 'https:') return async (_ctx, next) => next();
  return async (ctx, next) => {
    if (ctx.protocol === 'https' || HEALTH.has(ctx.path)) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      ctx.status = 308;
      ctx.redirect(new URL(ctx.originalUrl, origin.origin).href);
      return;
    }
    ctx.status = 400;
    const description = `this server answers only over https (${origin.origin})`;
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Use https</title></head><body><h1>Use a secure connection</h1><p>This service answers only over https: <a href="${origin.origin}/">${origin.origin}</a></p></body></html>`;
    } else {
      ctx.body = { error: 'invalid_request', error_description: description };
    }
  };
}
