/**
 * Paths under the OAuth mount (the issuer's path, e.g. `/connect`) that oidc-provider does not serve — an
 * unknown endpoint, or a known one with a method it does not take — answer in OAuth's error format, as
 * oidc-provider's own endpoints do, instead of Koa's plain-text "Not Found":
 *
 *   404 { "error": "invalid_request", "error_description": "unrecognized route or not allowed method (GET on /connect/x)" }
 *
 * A browser asking for a page there (GET/HEAD, Accept: text/html) gets the branded 404 page instead
 * (../http/pages.ts, which runs inside this middleware). Anything that already answered is left alone.
 */
import type { Middleware } from 'koa';

export function oauthUnknownEndpoints(mountPath: string): Middleware {
  const under = (path: string) => mountPath !== '' && (path === mountPath || path.startsWith(`${mountPath}/`));
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body != null || !under(ctx.path)) return;
    ctx.status = 404;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'invalid_request',
      error_description: `unrecognized route or not allowed method (${ctx.method} on ${ctx.path.slice(0, 200)})`,
    };
  };
}
