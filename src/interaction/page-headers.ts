import type { Context } from 'koa';

/** Pages: no caching, no framing, scripts and styles only from ourselves. */
export function setPageHeaders(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  );
  ctx.set('X-Frame-Options', 'DENY');
  ctx.type = 'html';
}
