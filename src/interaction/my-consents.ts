/**
 * "My consents": the customer's self-service page. Log in, see every consent granted to TPPs (what, since
 * when, until when, status), withdraw one after a confirmation step; withdrawal revokes the TPP's tokens
 * at once (the consent service does that).
 *
 *   GET  /my-consents                 the list, or the login form
 *   POST /my-consents/login           credentials → a short self-service session (signed cookie)
 *   GET  /my-consents/:id/revoke      confirmation page
 *   POST /my-consents/:id/revoke      withdraw → back to the list with a notice
 *   POST /my-consents/logout
 *
 * The self-service session is held on the server (./self-service-sessions.ts); its id is in its own
 * signed, HttpOnly, SameSite=Lax cookie scoped to /my-consents, separate from the OAuth session. Logging
 * out ends it on the server. Every form carries a CSRF token bound to that session (or, before
 * login, to a random nonce cookie).
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { ConsentService } from '../application/consents.ts';
import { ConsentNotFound, ConsentStateConflict } from '../consent/errors.ts';
import { describeConsent } from '../consent/describe.ts';
import type { Consent } from '../consent/types.ts';
import type { OAuthService } from '../oidc/oauth.ts';
import type { PsuDirectory } from '../psu/directory.ts';
import type { Logger } from '../log.ts';
import type { Csrf } from './csrf.ts';
import { matchLocale, negotiateLocale, translator } from './i18n.ts';
import { setPageHeaders } from './page-headers.ts';
import { renderErrorPage, renderThrottledPage } from './routes.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { SelfServiceSessions } from './self-service-sessions.ts';
import type { OidcAdapterClass } from '../storage/oidc-adapter.ts';
import { isActive } from '../consent/regimes/index.ts';

const SESSION_COOKIE = 'assent_me';
const NONCE_COOKIE = 'assent_me_nonce';
const LOCALE_COOKIE = 'assent_me_locale';
const SESSION_SECONDS = 15 * 60;
const COOKIE_PATH = '/my-consents';
const LISTED = 200;

export interface MyConsentsDeps {
  consents: ConsentService;
  oauth: OAuthService;
  directory: PsuDirectory;
  views: { render(name: string, context: object): string };
  csrf: Csrf;
  log: Logger;
  /** login throttling per account and address (shared through Redis) */
  throttle: LoginThrottle;
  secureCookies: boolean;
  /** where the sessions are held (the oidc adapter: Redis, or memory in demo mode) */
  adapter: OidcAdapterClass;
}

interface Session {
  psuId: string;
  /** the session id (the cookie value); CSRF tokens are bound to it */
  binding: string;
}

type FormBody = Record<string, string | string[] | undefined>;

/** How a consent that is no longer active ended, for its card: "Withdrawn on …", "Expired on …", … */
function ending(consent: Consent): { endLabel?: string; endedAt?: Date } {
  if (isActive(consent.status)) return {};
  const last = consent.history.at(-1);
  if (!last || last.from === null) return {};
  const wasActive = isActive(last.from);
  const endLabel =
    last.actor === 'PSU' && wasActive
      ? 'myConsents.withdrawnOn'
      : consent.status === 'expired'
        ? 'myConsents.expiredOn'
        : wasActive
          ? 'myConsents.endedOn'
          : 'myConsents.declinedOn';
  return { endLabel, endedAt: last.at };
}

export function myConsentsRouter(deps: MyConsentsDeps): Router {
  const { consents, oauth, directory, views, csrf, log } = deps;
  const router = new Router({ prefix: COOKIE_PATH });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '8kb', encoding: 'utf-8' });
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, path: COOKIE_PATH, signed: true, secure: deps.secureCookies };
  const sessions = new SelfServiceSessions(deps.adapter, SESSION_SECONDS);

  /** ?ui_locales= (remembered for the pages that follow, e.g. after login), then Accept-Language */
  const localeOf = (ctx: Context) => {
    const asked = typeof ctx.query.ui_locales === 'string' ? ctx.query.ui_locales.slice(0, 100) : undefined;
    if (asked && asked.trim().split(/\s+/).some((tag) => matchLocale(tag))) {
      const locale = negotiateLocale({ uiLocales: asked });
      ctx.cookies.set(LOCALE_COOKIE, locale, { httpOnly: true, sameSite: 'lax', path: COOKIE_PATH, signed: false, secure: deps.secureCookies, overwrite: true });
      return locale;
    }
    const remembered = ctx.cookies.get(LOCALE_COOKIE);
    return negotiateLocale({ ...(remembered ? { uiLocales: remembered } : {}), acceptLanguage: ctx.get('accept-language') });
  };

  async function session(ctx: Context): Promise<Session | undefined> {
    const value = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (!value) return undefined;
    const psuId = await sessions.psuOf(value);
    return psuId ? { psuId, binding: value } : undefined;
  }

  function loginPage(ctx: Context, extra: { error?: string; username?: string } = {}, status = 200) {
    let nonce = ctx.cookies.get(NONCE_COOKIE, { signed: true });
    if (!nonce) {
      nonce = randomBytes(16).toString('base64url');
      ctx.cookies.set(NONCE_COOKIE, nonce, cookieOptions);
    }
    setPageHeaders(ctx);
    ctx.status = status;
    ctx.body = views.render('my-consents-login', { locale: localeOf(ctx), csrf: csrf.token(`me-login:${nonce}`), action: `${COOKIE_PATH}/login`, ...extra });
  }

  function checkCsrf(ctx: Context, binding: string): boolean {
    if (csrf.verify(binding, (ctx.request.body as FormBody | undefined)?.csrf)) return true;
    log.warn('self-service form without a valid CSRF token');
    renderErrorPage(ctx, views, 403, localeOf(ctx), 'error.csrf');
    return false;
  }

  /** The consent if it is this customer's (others are "not found", like unknown ids). */
  async function ownConsent(ctx: Context, me: Session): Promise<Consent | undefined> {
    const consent = await consents.get(String(ctx.params.id ?? ''));
    if (!consent || consent.psuId !== me.psuId) {
      renderErrorPage(ctx, views, 404, localeOf(ctx), 'error.unknown');
      return undefined;
    }
    return consent;
  }

  router.get('/', async (ctx) => {
    const me = await session(ctx);
    if (!me) return loginPage(ctx);
    const locale = localeOf(ctx);
    const t = translator(locale);
    const psu = await directory.findPsu(me.psuId);
    const page = await consents.query({ psuId: me.psuId }, { sort: 'createdAt', direction: 'desc', skip: 0, limit: LISTED });
    const names = new Map<string, string>();
    for (const clientId of new Set(page.items.map((c) => c.clientId))) names.set(clientId, (await oauth.client(clientId))?.name ?? clientId);
    const accounts = new Map((await directory.listAccounts(me.psuId)).map((a) => [a.accountId, a]));
    setPageHeaders(ctx);
    ctx.body = views.render('my-consents', {
      locale,
      psu: { name: psu?.name ?? '' },
      csrf: csrf.token(me.binding),
      logoutAction: `${COOKIE_PATH}/logout`,
      ...(ctx.query.revoked === '1' ? { flash: 'myConsents.flashRevoked' } : {}),
      consents: page.items.map((c) => ({
        id: c.id,
        tppName: names.get(c.clientId) ?? c.clientId,
        permissions: describeConsent(c, locale).map((p) => p.title),
        since: c.history.find((h) => isActive(h.to))?.at ?? c.createdAt,
        until: c.validUntil,
        ...ending(c),
        accounts: (c.grantedAccounts ?? []).map((g) => ({
          name: accounts.get(g.accountId)?.name ?? g.accountId,
          iban: g.iban ?? accounts.get(g.accountId)?.iban ?? '',
        })),
        status: c.status,
        statusLabel: t(`status.${c.status}`),
        active: isActive(c.status),
      })),
    });
  });

  router.post('/login', form, async (ctx) => {
    const nonce = ctx.cookies.get(NONCE_COOKIE, { signed: true });
    if (!nonce || !checkCsrf(ctx, `me-login:${nonce}`)) return;
    const body = ctx.request.body as FormBody;
    const username = typeof body.username === 'string' ? body.username.slice(0, 200) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 200) : '';
    const attempt = { surface: 'my-consents', username, address: ctx.ip };
    const verdict = await deps.throttle.check(attempt);
    if (verdict.blocked) return renderThrottledPage(ctx, views, localeOf(ctx), verdict);
    const psu = username && password ? await directory.authenticate(username, password) : null;
    if (!psu) {
      const now = await deps.throttle.failed(attempt);
      if (now.blocked) return renderThrottledPage(ctx, views, localeOf(ctx), now);
      return loginPage(ctx, { error: translator(localeOf(ctx))('error.credentials'), username }, 401);
    }
    await deps.throttle.succeeded(attempt);
    ctx.cookies.set(SESSION_COOKIE, await sessions.start(psu.id), { ...cookieOptions, maxAge: SESSION_SECONDS * 1000 });
    ctx.cookies.set(NONCE_COOKIE, null, cookieOptions);
    ctx.status = 303;
    ctx.redirect(COOKIE_PATH);
  });

  router.post('/logout', form, async (ctx) => {
    const me = await session(ctx);
    if (me && !checkCsrf(ctx, me.binding)) return;
    if (me) await sessions.end(me.binding);
    ctx.cookies.set(SESSION_COOKIE, null, cookieOptions);
    ctx.status = 303;
    ctx.redirect(COOKIE_PATH);
  });

  router.get('/:id/revoke', async (ctx) => {
    const me = await session(ctx);
    if (!me) return loginPage(ctx);
    const consent = await ownConsent(ctx, me);
    if (!consent) return;
    if (!isActive(consent.status)) {
      ctx.status = 303;
      ctx.redirect(COOKIE_PATH);
      return;
    }
    const locale = localeOf(ctx);
    setPageHeaders(ctx);
    ctx.body = views.render('revoke-confirm', {
      locale,
      csrf: csrf.token(me.binding),
      action: `${COOKIE_PATH}/${encodeURIComponent(consent.id)}/revoke`,
      cancelUrl: COOKIE_PATH,
      consent: {
        id: consent.id,
        tppName: (await oauth.client(consent.clientId))?.name ?? consent.clientId,
        permissions: describeConsent(consent, locale).map((p) => p.title),
        until: consent.validUntil,
      },
    });
  });

  router.post('/:id/revoke', form, async (ctx) => {
    const me = await session(ctx);
    if (!me) return loginPage(ctx, {}, 401);
    if (!checkCsrf(ctx, me.binding)) return;
    const consent = await ownConsent(ctx, me);
    if (!consent) return;
    try {
      await consents.revokeByPsu(consent, { actor: 'PSU', psuId: me.psuId, reason: 'withdrawn by the customer in self-service' });
      log.info({ consentId: consent.id }, 'consent withdrawn by the customer');
    } catch (err) {
      if (!(err instanceof ConsentStateConflict) && !(err instanceof ConsentNotFound)) throw err;
    }
    ctx.status = 303;
    ctx.redirect(`${COOKIE_PATH}?revoked=1`);
  });

  return router;
}
