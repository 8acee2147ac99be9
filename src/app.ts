/**
 * Composes the Koa app: request id + logging, error fallback, health, OAuth's JSON 404 under the issuer's
 * mount path, the server's own pages (`/`, the browsers' 404), static assets, the mounted oidc-provider,
 * then the routers (API dialects, the browser journey, the demo TPP when enabled).
 */
import { join } from 'node:path';
import Koa from 'koa';
import mount from 'koa-mount';
import serve from 'koa-static';
import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { AssentConfig } from '../config/schema.ts';
import type { Logger } from './log.ts';
import type { Stores } from './stores.ts';
import { requestContext } from './http/request-context.ts';
import { accessLog } from './http/access-log.ts';
import { fallbackErrorHandler, securityHeaders } from './http/errors.ts';
import { health } from './http/health.ts';
import { contentSecurityPolicy } from './http/content-security-policy.ts';
import { httpsOnly } from './http/https-only.ts';
import { customerPages } from './http/customer-pages.ts';
import { issuerMountPath } from './oidc/provider.ts';
import { oauthUnknownEndpoints } from './oidc/unknown-endpoints.ts';
import { isClientAbort } from './http/client-abort.ts';
import { serverPages } from './http/pages.ts';
import type { Views } from './interaction/views.ts';
import type { CookieKeys } from './http/cookie-signer.ts';
import { loggedPath } from './http/logged-path.ts';

export const PUBLIC_DIR = join(import.meta.dirname, '..', 'public');

export interface AppParts {
  config: AssentConfig;
  log: Logger;
  stores: Stores;
  provider: Provider;
  routers: Router[];
  /** the cookie signer the provider uses: mounted, its middleware runs on this app's context */
  cookieKeys: CookieKeys;
  /** the page templates: failures on the customer's routes become error pages; `/` and a branded 404 for browsers */
  views?: Views;
}

export function composeApp({ config, log, stores, provider, routers, cookieKeys, views }: AppParts): Koa {
  const app = new Koa({ proxy: config.trustProxy });
  // Koa's constructor option takes only strings; the property takes a keygrip-shaped signer
  app.keys = cookieKeys;
  // errors Koa sees outside the middleware (e.g. the socket of an answered request failing): through our
  // logger, never Koa's console output; a client that went away (an incomplete request) is not a failure
  app.on('error', (err: { name?: string; message?: string; code?: unknown }, ctx?: Koa.Context) => {
    const entry = { error: err?.name, message: err?.message, ...(ctx ? { method: ctx.method, path: loggedPath(ctx.path) } : {}) };
    if (isClientAbort(err) || (typeof err?.code === 'string' && /^(HPE_|ECONNRESET$|EPIPE$)/.test(err.code))) log.info(entry, 'the client went away');
    else log.error(entry, 'response failed');
  });
  app.use(requestContext());
  app.use(accessLog(log));
  app.use(securityHeaders());
  app.use(contentSecurityPolicy());
  app.use(fallbackErrorHandler(log));
  app.use(health(stores));
  app.use(httpsOnly(config.issuer));
  if (views) app.use(customerPages(views, log));
  app.use(oauthUnknownEndpoints(issuerMountPath(config)));
  if (views) app.use(serverPages({ views, demo: config.mode === 'demo', issuer: config.issuer }));
  app.use(mount('/static', serve(PUBLIC_DIR, { maxage: 3_600_000, gzip: false, brotli: false })));
  app.use(mount(issuerMountPath(config) || '/', provider));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
