/**
 * The customer's routes (the login and consent pages, My consents) answer every failure with a page,
 * never JSON: whatever a route did not render itself reaches this handler and becomes the error page in
 * the customer's language, with the right status:
 *
 *   a store outage (Redis or MongoDB not answering)   503, Retry-After, "try again" (GET: a retry link)
 *   a form past the body limit                        413
 *   a change that lost a race (consent moved on)      409
 *   any other client error                            its 4xx
 *   anything else                                     500 (logged, message only)
 *
 * Oversized headers never reach Koa (Node refuses them while parsing): `headersTooLargePage` answers
 * those with the same page (431) for the customer's paths. The APIs keep their own error formats.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { ConsentStateConflict } from '../consent/errors.ts';
import { UsageUnavailable } from '../consent/usage.ts';
import { negotiateLocale } from '../interaction/i18n.ts';
import { setPageHeaders } from '../interaction/page-headers.ts';
import { StoreUnavailable, isRedisOutage } from '../storage/unavailable.ts';
import { isMongoOutage } from '../storage/mongo/outage.ts';
import { PAGE_POLICY } from './content-security-policy.ts';
import { loggedPath } from './logged-path.ts';

/** path prefixes of the customer's pages */
export const CUSTOMER_PATHS = ['/interaction', '/my-consents'] as const;
/** seconds a customer is asked to wait after an outage */
export const RETRY_AFTER_SECONDS = 5;

export function isCustomerPath(path: string): boolean {
  return CUSTOMER_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** A store that did not answer, whichever one and however its driver says it. */
export function isStoreOutage(err: unknown): boolean {
  return (
    err instanceof StoreUnavailable ||
    err instanceof UsageUnavailable ||
    isMongoOutage(err) ||
    isRedisOutage(err)
  );
}

/** A failure with a page of its own (503, 409, a 4xx); anything else is an unexpected 500. */
export function isExpectedFailure(err: unknown): boolean {
  return classify(err).status !== 500;
}

interface Views {
  render(name: string, context: object): string;
}

type PageKey = 'error.unavailable' | 'error.tooLarge' | 'error.conflict' | 'error.badRequest' | 'error.generic';

function classify(err: unknown): { status: number; message: PageKey; title?: string } {
  if (isStoreOutage(err)) return { status: 503, message: 'error.unavailable', title: 'error.titleUnavailable' };
  if (err instanceof ConsentStateConflict) return { status: 409, message: 'error.conflict' };
  const e = err as { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return { status, message: 'error.tooLarge' };
  if (status >= 400 && status < 500) return { status, message: 'error.badRequest' };
  return { status: 500, message: 'error.generic' };
}

export function customerPages(views: Views, log: Logger): Middleware {
  return async (ctx, next) => {
    if (!isCustomerPath(ctx.path)) return next();
    try {
      await next();
    } catch (err) {
      const page = classify(err);
      if (page.status === 503) log.warn({ path: loggedPath(ctx.path), error: (err as Error).name }, 'a store did not answer: customer shown the retry page');
      else if (page.status >= 500) log.error({ error: (err as Error).name, message: (err as Error).message }, 'unhandled error on a customer page');
      render(ctx, views, page);
      if (page.status === 413) ctx.set('Connection', 'close'); // the rest of the body was never read
    }
  };
}

function render(ctx: Context, views: Views, page: { status: number; message: PageKey; title?: string }): void {
  const locale = negotiateLocale({ acceptLanguage: ctx.get('accept-language') });
  setPageHeaders(ctx);
  ctx.status = page.status;
  if (page.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  ctx.body = views.render('error', {
    locale,
    message: page.message,
    ...(page.title ? { title: page.title } : {}),
    ...(page.status === 503 && ctx.method === 'GET' ? { retryUrl: ctx.originalUrl } : {}),
    requestId: ctx.state.requestId as string | undefined,
  });
}

/**
 * The raw HTTP answer for a request whose headers were too large (Node's `clientError`,
 * HPE_HEADER_OVERFLOW): the error page for the customer's paths, an empty 431 otherwise.
 * `rawPacket`: what was read of the request (its first line names the path).
 */
export function headersTooLargeResponse(views: Views, rawPacket: Buffer | undefined): string {
  const requestLine = rawPacket?.subarray(0, 2048).toString('latin1').split('\r\n')[0] ?? '';
  const path = (requestLine.split(' ')[1] ?? '').split('?')[0] ?? '';
  const head = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nCache-Control: no-store\r\n';
  if (!isCustomerPath(path)) return `${head}Content-Length: 0\r\n\r\n`;
  const body = Buffer.from(views.render('error', { locale: 'en', message: 'error.headersTooLarge' }), 'utf8');
  return (
    `${head}Content-Type: text/html; charset=utf-8\r\nContent-Security-Policy: ${PAGE_POLICY}\r\n` +
    `X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nContent-Length: ${body.length}\r\n\r\n${body.toString('utf8')}`
  );
}
