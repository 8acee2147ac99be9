/**
 * The customer's browser journey during an authorization: login, then the consent page built by the
 * retrieval steps, then the decision stored by the persist steps (the same Approvals path as the
 * retrieve/persist API). Works without JavaScript; every form carries a CSRF token.
 *
 *   GET  /interaction/:uid            login page or consent page, by the prompt
 *   POST /interaction/:uid/login      credentials → login result → back to the provider
 *   POST /interaction/:uid/decision   approve (with accounts) or deny → consent result → back to the provider
 *   POST /interaction/:uid/abort      the customer cancels (or leaves another customer's consent) → access_denied
 *   POST /interaction/:uid/switch     "not you?": ends the browser's session, back to the login of the same request
 *
 * SCA per consent: oidc-provider asks for the login prompt on every authorization unless configured
 * otherwise (authentication.loginReuseSeconds, see src/oidc/provider.ts), so the consent page always
 * follows a login; it names who is logged in and offers "not you?". A consent the TPP addressed to another
 * customer (Berlin Group PSU-ID) gets a page saying so instead, with no way to approve or reject it: the
 * TPP gets access_denied and the consent stays as it was, for the right customer to authorise.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import type { OAuthService, InteractionInfo } from '../oidc/oauth.ts';
import type { PsuDirectory } from '../psu/directory.ts';
import { ApprovalError, NOT_ADDRESSED, emptyPageData, type Approvals, type PendingApproval } from '../steps/approval.ts';
import { StepError, type ConsentPageData, type Locale } from '../steps/contracts.ts';
import type { DecisionGate, FinishOutcome } from '../steps/decide-once.ts';
import type { Logger } from '../log.ts';
import { Csrf } from './csrf.ts';
import { negotiateLocale, translator } from './i18n.ts';
import { setPageHeaders } from './page-headers.ts';
import type { SessionDataKeys } from './session-data-keys.ts';
import { isExpectedFailure } from '../http/customer-pages.ts';
import type { LoginThrottle, ThrottleVerdict } from './login-throttle.ts';

export interface InteractionDeps {
  oauth: OAuthService;
  approvals: Approvals;
  /** one decision per interaction, whatever the races (shared with the retrieve/persist API) */
  decisions: DecisionGate;
  directory: PsuDirectory;
  views: { render(name: string, context: object): string };
  csrf: Csrf;
  log: Logger;
  /** the issuer, for the `iss` of a "Return to <app>" link (RFC 9207) */
  issuer?: string;
  /** login throttling per account and address (shared through Redis) */
  throttle: LoginThrottle;
  /** when set, the consent page is the bank's own UI: the browser goes there with a sessionDataKey */
  consentPageUrl?: string;
  sessionDataKeys: SessionDataKeys;
}

type FormBody = Record<string, string | string[] | undefined>;

function localeOf(ctx: Context, interaction?: InteractionInfo): Locale {
  const uiLocales = interaction?.params.ui_locales;
  return negotiateLocale({
    ...(typeof uiLocales === 'string' ? { uiLocales } : {}),
    acceptLanguage: ctx.get('accept-language'),
  });
}

export type ErrorMessageKey = 'error.expired' | 'error.unknown' | 'error.generic' | 'error.decided' | 'error.csrf' | 'error.stale';

/** Each message's heading: say what happened, not "Something went wrong" (kept for real failures). */
const ERROR_TITLES: Partial<Record<ErrorMessageKey, string>> = {
  'error.expired': 'error.titleExpired',
  'error.unknown': 'error.titleExpired',
  'error.decided': 'error.titleDecided',
  'error.csrf': 'error.titleCsrf',
  'error.stale': 'error.titleStale',
};

/**
 * The way back to the TPP an error page offers ("Return to <app>"), when the app is known: for an
 * interaction still open, a form that cancels it (the TPP gets access_denied through the one decision);
 * for one that expired undecided, a link to the TPP's redirect URI with `error=access_denied` and the
 * request's state. For one that was decided (the customer pressed Back after answering) the TPP already
 * has its answer, so no second callback for that state: at most a link to the app's registered home page
 * (`client_uri`), which tells the TPP nothing.
 * Set on `ctx.state.returnLink` by the interaction routes; `retryUrl` reopens the request when it is open.
 */
export type ReturnLink =
  | { tppName: string; action: string; csrf: string; retryUrl: string }
  | { tppName: string; href: string };

export function renderErrorPage(
  ctx: Context,
  views: InteractionDeps['views'],
  status: number,
  locale: Locale,
  messageKey: ErrorMessageKey,
): void {
  const t = translator(locale);
  setPageHeaders(ctx);
  ctx.status = status;
  const returnLink = ctx.state.returnLink as ReturnLink | undefined;
  const title = ERROR_TITLES[messageKey];
  ctx.body = views.render('error', {
    locale,
    ...(title ? { title } : {}),
    message: t(messageKey),
    requestId: ctx.state.requestId as string,
    ...(returnLink ? { returnLink } : {}),
  });
}

/** The browser's memory of an interaction's TPP, so a page about a request that is gone can still lead back. */
const RETURN_COOKIE = 'assent_return';
const RETURN_COOKIE_MS = 24 * 3600 * 1000;

/** The friendly "too many attempts" page (429, Retry-After). */
export function renderThrottledPage(ctx: Context, views: InteractionDeps['views'], locale: Locale, verdict: ThrottleVerdict & { blocked: true }): void {
  const t = translator(locale);
  const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
  setPageHeaders(ctx);
  ctx.status = 429;
  ctx.set('Retry-After', String(verdict.retryAfterSeconds));
  ctx.body = views.render('error', {
    locale,
    title: 'throttle.heading',
    message: verdict.locked
      ? t('throttle.locked', { minutes })
      : verdict.retryAfterSeconds < 60
        ? t('throttle.wait', { seconds: verdict.retryAfterSeconds })
        : t('throttle.waitMinutes', { minutes }),
    requestId: ctx.state.requestId as string,
  });
}

export function interactionRouter(deps: InteractionDeps): Router {
  const { oauth, approvals, decisions, views, csrf, log } = deps;
  const router = new Router({ prefix: '/interaction' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });

  // The customer always gets a page: anything not handled below (a step's plain Error, a store outage)
  // is logged and shown as a friendly error page, never the JSON fallback.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      // an outage, a lost race, a client error (e.g. 413): the app's customer-page handler renders it
      if (isExpectedFailure(err)) throw err;
      const e = err as Error;
      log.error({ error: e.name, message: e.message, uid: ctx.params.uid }, 'interaction failed');
      renderErrorPage(ctx, views, 500, localeOf(ctx), 'error.generic');
    }
  });

  const returnCookie = (uid: string) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    path: `/interaction/${encodeURIComponent(uid)}`,
    signed: true,
    secure: (deps.issuer ?? '').startsWith('https:'),
    overwrite: true,
  });

  /** An open interaction: remember its TPP in this browser, and offer to cancel back to it. */
  async function rememberReturn(ctx: Context, interaction: InteractionInfo): Promise<void> {
    const client = await oauth.client(interaction.clientId).catch(() => undefined);
    if (!client) return;
    ctx.state.returnLink = {
      tppName: client.name,
      action: `/interaction/${interaction.uid}/abort`,
      csrf: csrf.token(interaction.uid),
      retryUrl: `/interaction/${interaction.uid}`,
    } satisfies ReturnLink;
    const { redirect_uri: redirectUri, state } = interaction.params;
    if (ctx.method !== 'GET' || typeof redirectUri !== 'string') return;
    const value = Buffer.from(JSON.stringify({ c: interaction.clientId, r: redirectUri, ...(typeof state === 'string' ? { s: state } : {}) })).toString('base64url');
    ctx.cookies.set(RETURN_COOKIE, value, { ...returnCookie(interaction.uid), maxAge: RETURN_COOKIE_MS });
  }

  /**
   * An interaction that is gone: the TPP this browser was sent by, if it remembers, as a link back — with
   * error= when nothing was decided; to the app's home page (if registered) when it was, never a second
   * answer for the same request.
   */
  async function rememberedReturn(ctx: Context, decided: boolean): Promise<void> {
    const uid = typeof ctx.params.uid === 'string' ? ctx.params.uid : '';
    const value = uid ? ctx.cookies.get(RETURN_COOKIE, { signed: true }) : undefined;
    if (!value) return;
    try {
      const { c, r, s } = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { c?: unknown; r?: unknown; s?: unknown };
      if (typeof c !== 'string' || typeof r !== 'string') return;
      const client = await oauth.client(c);
      // only a redirect URI registered for that client (the cookie is signed; this is defence in depth)
      if (!client || !client.redirectUris.includes(r)) return;
      if (decided) {
        const home = client.uri ? new URL(client.uri) : undefined;
        if (home && (home.protocol === 'https:' || home.protocol === 'http:')) ctx.state.returnLink = { tppName: client.name, href: home.href } satisfies ReturnLink;
        return;
      }
      const href = new URL(r);
      href.searchParams.set('error', 'access_denied');
      href.searchParams.set('error_description', 'the authorization request expired');
      if (typeof s === 'string') href.searchParams.set('state', s);
      if (deps.issuer) href.searchParams.set('iss', deps.issuer);
      ctx.state.returnLink = { tppName: client.name, href: href.href } satisfies ReturnLink;
    } catch {
      /* not ours: no link */
    }
  }

  /** The interaction of this browser (its cookie), and it must be the one in the URL. */
  async function load(ctx: Context): Promise<InteractionInfo | undefined> {
    try {
      const interaction = await oauth.interactionFromRequest(ctx.req, ctx.res);
      if (interaction.uid !== ctx.params.uid) throw new oidcErrors.SessionNotFound('interaction mismatch');
      await rememberReturn(ctx, interaction);
      return interaction;
    } catch (err) {
      log.debug({ error: (err as Error).message, detail: (err as { error_description?: string }).error_description }, 'interaction not found for this browser');
      if (err instanceof oidcErrors.SessionNotFound || err instanceof oidcErrors.InvalidRequest) {
        // the form sent again after the first submission finished the authorization: say so
        const decided = typeof ctx.params.uid === 'string' && (await decisions.wasDecided(ctx.params.uid).catch(() => false));
        await rememberedReturn(ctx, decided);
        renderErrorPage(ctx, views, decided ? 409 : 400, localeOf(ctx), decided ? 'error.decided' : 'error.expired');
        return undefined;
      }
      throw err;
    }
  }

  function checkCsrf(ctx: Context, uid: string): boolean {
    const body = ctx.request.body as FormBody | undefined;
    if (csrf.verify(uid, body?.csrf)) return true;
    log.warn({ uid }, 'interaction form without a valid CSRF token');
    renderErrorPage(ctx, views, 403, localeOf(ctx), 'error.csrf');
    return false;
  }

  function renderLogin(ctx: Context, interaction: InteractionInfo, clientName: string, extra: { error?: string; username?: string } = {}) {
    const locale = localeOf(ctx, interaction);
    setPageHeaders(ctx);
    ctx.body = views.render('login', {
      locale,
      uid: interaction.uid,
      csrf: csrf.token(interaction.uid),
      action: `/interaction/${interaction.uid}/login`,
      abortAction: `/interaction/${interaction.uid}/abort`,
      client: { name: clientName },
      ...extra,
    });
  }

  function renderConsent(ctx: Context, pending: PendingApproval, data: ConsentPageData, locale: Locale, error?: string) {
    setPageHeaders(ctx);
    ctx.body = views.render('consent', {
      locale,
      uid: pending.interaction.uid,
      csrf: csrf.token(pending.interaction.uid),
      action: `/interaction/${pending.interaction.uid}/decision`,
      switchAction: `/interaction/${pending.interaction.uid}/switch`,
      client: { name: pending.client.name },
      psu: { name: pending.psu.name },
      data,
      consent: {
        validUntil: pending.consent.validUntil,
        frequencyPerDay: pending.consent.frequencyPerDay,
        recurringIndicator: pending.consent.recurringIndicator,
      },
      ...(error ? { error } : {}),
    });
  }

  /** Sends the browser on after a decision: where the (first) decision sent it, or an "already decided" page. */
  function respond(ctx: Context, interaction: InteractionInfo, outcome: FinishOutcome) {
    if (outcome.kind === 'finished' || outcome.kind === 'followed') {
      ctx.status = 303;
      ctx.redirect(outcome.returnTo);
      return;
    }
    const failed = outcome.kind === 'failed';
    renderErrorPage(ctx, views, failed ? 503 : 409, localeOf(ctx, interaction), failed ? 'error.generic' : 'error.decided');
  }

  /**
   * What the TPP is told when a step stops the pipeline (docs/plugins.md, "Errors"): access_denied
   * rejects the consent; a conflict or an outage leaves it as it is.
   */
  async function stepErrorResult(pending: PendingApproval, err: StepError) {
    if (err.code === 'access_denied') return (await approvals.refuse(pending, err)).result;
    if (err.code === 'consent_conflict') return consentUnavailable;
    return { error: 'temporarily_unavailable', error_description: err.description };
  }

  const consentUnavailable = {
    error: 'access_denied',
    error_description: 'the consent is no longer awaiting authorisation',
  } as const;

  /** An approval that can no longer happen ends the authorization with an OAuth error at the TPP (once). */
  async function endWith(ctx: Context, interaction: InteractionInfo, error: ApprovalError) {
    if (error.problem === 'login_required') {
      renderErrorPage(ctx, views, 400, localeOf(ctx, interaction), 'error.expired');
      return;
    }
    respond(ctx, interaction, await decisions.finish(interaction, async () => consentUnavailable));
  }

  /** The pending approval, or — when it can no longer happen — the authorization ended and undefined. */
  async function pendingOrEnd(ctx: Context, interaction: InteractionInfo): Promise<PendingApproval | undefined> {
    try {
      return await approvals.pending(interaction);
    } catch (err) {
      if (err instanceof ApprovalError) {
        await endWith(ctx, interaction, err);
        return undefined;
      }
      throw err;
    }
  }

  router.get('/:uid', async (ctx) => {
    const interaction = await load(ctx);
    if (!interaction) return;
    const locale = localeOf(ctx, interaction);
    if (interaction.prompt.name === 'login') {
      const client = await oauth.client(interaction.clientId);
      renderLogin(ctx, interaction, client?.name ?? interaction.clientId);
      return;
    }
    const pending = await pendingOrEnd(ctx, interaction);
    if (!pending) return;
    if (!pending.addressedToPsu) {
      // the TPP named another customer: no decision form; back to the TPP (access_denied) or "not you?"
      setPageHeaders(ctx);
      ctx.status = 403;
      ctx.body = views.render('not-addressed', {
        locale,
        csrf: csrf.token(interaction.uid),
        abortAction: `/interaction/${interaction.uid}/abort`,
        switchAction: `/interaction/${interaction.uid}/switch`,
        client: { name: pending.client.name },
        psu: { name: pending.psu.name },
      });
      return;
    }
    if (deps.consentPageUrl) {
      const key = await deps.sessionDataKeys.issue(interaction.uid, interaction.exp);
      const target = new URL(deps.consentPageUrl);
      target.searchParams.set('sessionDataKey', key);
      ctx.status = 303;
      ctx.redirect(target.href);
      return;
    }
    const data = emptyPageData(pending.consent);
    try {
      await approvals.retrieve(pending, locale, data);
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      if (err.code === 'invalid_request') {
        // the page as far as the steps built it, with the step's message
        renderConsent(ctx, pending, data, locale, err.description);
        return;
      }
      respond(ctx, interaction, await decisions.finish(interaction, async () => stepErrorResult(pending, err)));
      return;
    }
    renderConsent(ctx, pending, data, locale);
  });

  router.post('/:uid/login', form, async (ctx) => {
    const interaction = await load(ctx);
    if (!interaction || !checkCsrf(ctx, interaction.uid)) return;
    if (interaction.prompt.name !== 'login') {
      renderErrorPage(ctx, views, 400, localeOf(ctx, interaction), 'error.expired');
      return;
    }
    const body = ctx.request.body as FormBody;
    const username = typeof body.username === 'string' ? body.username.slice(0, 200) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 200) : '';
    const attempt = { surface: 'bank', username, address: ctx.ip };
    const locale = localeOf(ctx, interaction);
    const verdict = await deps.throttle.check(attempt);
    if (verdict.blocked) return renderThrottledPage(ctx, views, locale, verdict);
    const psu = username && password ? await deps.directory.authenticate(username, password) : null;
    if (!psu) {
      const now = await deps.throttle.failed(attempt);
      if (now.blocked) return renderThrottledPage(ctx, views, locale, now);
      const client = await oauth.client(interaction.clientId);
      const t = translator(localeOf(ctx, interaction));
      ctx.status = 401;
      renderLogin(ctx, interaction, client?.name ?? interaction.clientId, { error: t('error.credentials'), username });
      return;
    }
    await deps.throttle.succeeded(attempt);
    const returnTo = await oauth.finishLogin(ctx, interaction.uid, psu.id);
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  router.post('/:uid/switch', form, async (ctx) => {
    const interaction = await load(ctx);
    if (!interaction || !checkCsrf(ctx, interaction.uid)) return;
    if (interaction.prompt.name !== 'consent') {
      renderErrorPage(ctx, views, 400, localeOf(ctx, interaction), 'error.expired');
      return;
    }
    // claimed like a decision: a decision in another tab and "not you?" cannot both happen
    respond(ctx, interaction, await decisions.end(interaction, () => oauth.restartLogin(ctx, interaction.uid)));
    log.info({ uid: interaction.uid }, 'customer chose "not you?": session ended, back to login');
  });

  router.post('/:uid/decision', form, async (ctx) => {
    const interaction = await load(ctx);
    if (!interaction || !checkCsrf(ctx, interaction.uid)) return;
    const locale = localeOf(ctx, interaction);
    const body = ctx.request.body as FormBody;
    const decisionValue = body.decision;
    if (decisionValue !== 'approve' && decisionValue !== 'deny') {
      renderErrorPage(ctx, views, 400, locale, 'error.stale');
      return;
    }
    const selected = body.accounts === undefined ? [] : Array.isArray(body.accounts) ? body.accounts : [body.accounts];
    const decision = { approved: decisionValue === 'approve', selectedAccountIds: selected };
    // The claim comes first: a second submission must not even look at the consent the first is changing.
    let pending: PendingApproval | undefined;
    let outcome: FinishOutcome;
    try {
      outcome = await decisions.finish(interaction, async () => {
        try {
          pending = await approvals.pending(interaction);
          if (decision.approved && selected.length > 0 && pending.addressedToPsu) {
            // only accounts the page offered: a hand-made form cannot grant one a retrieval step made unselectable
            const offered = await approvals.retrieve(pending, locale);
            const selectable = new Set(offered.accounts.filter((a) => a.selectable).map((a) => a.accountId));
            if (!selected.every((id) => selectable.has(id))) throw new StepError('invalid_request', 'One of the selected accounts is not available for this request.');
          }
          return (await approvals.decide(pending, decision, {}, locale)).result;
        } catch (err) {
          if (err instanceof StepError && err.code === 'invalid_request') throw err; // the customer corrects the form
          if (err instanceof ApprovalError && err.problem !== 'login_required') return consentUnavailable;
          if (err instanceof StepError && err.code === 'consent_conflict') return consentUnavailable;
          if (err instanceof StepError) return { error: 'temporarily_unavailable', error_description: err.description };
          throw err;
        }
      });
    } catch (err) {
      if (err instanceof StepError && err.code === 'invalid_request' && pending) {
        const t = translator(locale);
        const message = err.description === 'Choose at least one account.' ? t('error.noAccount') : err.description;
        ctx.status = 400;
        const data = await approvals.retrieve(pending, locale);
        // the page keeps what the customer chose, not what the steps pre-selected
        for (const account of data.accounts) account.selected = account.selectable && selected.includes(account.accountId);
        renderConsent(ctx, pending, data, locale, message);
        return;
      }
      if (err instanceof ApprovalError) return endWith(ctx, interaction, err);
      throw err;
    }
    respond(ctx, interaction, outcome);
  });

  router.post('/:uid/abort', form, async (ctx) => {
    const interaction = await load(ctx);
    if (!interaction || !checkCsrf(ctx, interaction.uid)) return;
    const outcome = await decisions.finish(interaction, async () => {
      const pending = interaction.prompt.name === 'consent' ? await approvals.pending(interaction).catch(() => undefined) : undefined;
      if (pending && !pending.addressedToPsu) return NOT_ADDRESSED;
      return { error: 'access_denied', error_description: 'the customer cancelled the request' };
    });
    respond(ctx, interaction, outcome);
  });

  return router;
}
