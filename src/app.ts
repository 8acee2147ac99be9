/**
 * Composes the Koa app: request id + logging, error fallback, health, static assets, the mounted
 * oidc-provider, then the routers (API dialects, the browser journey, the demo TPP when enabled).
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

export const PUBLIC_DIR = join(import.meta.dirname, '..', 'public');

export interface AppParts {
  config: AssentConfig;
  log: Logger;
  stores: Stores;
  provider: Provider;
  routers: Router[];
  /** the cookie-signing keys the provider uses: mounted, its middleware runs on this app's context */
  cookieKeys: string[];
  /** the page templates: failures on the customer's routes become error pages */
  views?: { render(name: string, context: object): string };
}

export function composeApp({ config, log, stores, provider, routers, cookieKeys, views }: AppParts): Koa {
  const app = new Koa({ proxy: config.trustProxy, keys: cookieKeys });
  app.use(requestContext());
  app.use(accessLog(log));
  app.use(securityHeaders());
  app.use(contentSecurityPolicy());
  app.use(fallbackErrorHandler(log));
  app.use(health(stores));
  app.use(httpsOnly(config.issuer));
  if (views) app.use(customerPages(views, log));
  app.use(mount('/static', serve(PUBLIC_DIR, { maxage: 3_600_000, gzip: false, brotli: false })));
  app.use(mount(issuerMountPath(config) || '/', provider));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
