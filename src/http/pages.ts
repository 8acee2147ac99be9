/**
 * The server's own pages for browsers: `/` says what this server is (with the demo's links in demo
 * mode), and a path nothing answered gets a branded 404 page — only for a browser asking for HTML
 * (Accept: text/html) with GET/HEAD, under the issuer's mount path (`/connect`) too. API clients keep
 * their dialect's JSON errors: every API router answers unknown paths under its prefix itself, paths
 * under the API prefixes never get a page, the issuer's mount path answers others in OAuth's format
 * (../oidc/unknown-endpoints.ts), and other requests keep Koa's plain 404.
 */
import type { Middleware } from 'koa';
import { negotiateLocale } from '../interaction/i18n.ts';
import { setPageHeaders } from '../interaction/page-headers.ts';
import type { Views } from '../interaction/views.ts';

export interface ServerPagesOptions {
  views: Views;
  demo: boolean;
  /** the OAuth issuer, for the discovery link */
  issuer: string;
}

const wantsPage = (accept: string) => /\btext\/html\b/i.test(accept);

/** API prefixes: never an HTML page there, whatever the Accept header (the APIs and oidc-provider answer) */
const API_PREFIXES = ['/api/', '/psd2/', '/open-banking/', '/backoffice/', '/.well-known/'];

export function serverPages({ views, demo, issuer }: ServerPagesOptions): Middleware {
  const discovery = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const oauthPath = new URL(issuer).pathname.replace(/\/+$/, '');
  const isApi = (path: string) => API_PREFIXES.some((p) => path.startsWith(p) || (oauthPath !== '' && path.startsWith(`${oauthPath}${p}`)));
  return async (ctx, next) => {
    const page = (ctx.method === 'GET' || ctx.method === 'HEAD') && wantsPage(ctx.get('accept'));
    const locale = () =>
      negotiateLocale({
        ...(typeof ctx.query.ui_locales === 'string' ? { uiLocales: ctx.query.ui_locales.slice(0, 100) } : {}),
        acceptLanguage: ctx.get('accept-language'),
      });
    if (ctx.path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      setPageHeaders(ctx);
      ctx.status = 200;
      ctx.body = views.render('home', { locale: locale(), demo, discovery });
      return;
    }
    await next();
    if (!page || ctx.status !== 404 || ctx.body != null || isApi(ctx.path)) return;
    setPageHeaders(ctx);
    ctx.status = 404;
    ctx.body = views.render('error', {
      locale: locale(),
      title: 'error.titleNotFound',
      message: 'error.notFound',
      home: true,
      requestId: ctx.state.requestId as string,
    });
  };
}
