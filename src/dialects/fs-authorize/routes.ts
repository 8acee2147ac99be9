/**
 * The WSO2-compatible consent authorize endpoints, for banks that bring their own consent UI:
 *
 *   GET   /api/fs/consent/authorize/retrieve/:sessionDataKey   what to show (the retrieval steps)
 *   PATCH /api/fs/consent/authorize/persist/:sessionDataKey    store the decision (the persist steps),
 *                                                               then 302 towards the TPP
 *                                                               (`?authorize=false`: 200, no redirect)
 *
 * Callers authenticate with HTTP Basic (config `internalApi`). Both run the same Approvals path as the
 * built-in approval page. Every error, malformed requests, 404, 405, 413 and 415 included, is WSO2's
 * `{ code, message, description }` (errors.ts).
 *
 * The persist body is WSO2's: `approval` (boolean or "true"/"false"), `requestParameters` (the bank UI's
 * form: permission uid → the chosen accounts' display names or ids), `accountIds`, `paymentAccount`,
 * `cofAccount`, `metadata`, `cookies`; see selection.ts for how accounts are read.
 *
 * After persist Assent resumes the authorization itself, on the browser's behalf (OAuthService
 * .resumeOnBehalf: it presents the interaction's resume and session cookies, which it signs, so the bank
 * UI need not forward any; `cookies` is accepted and ignored), and answers 302 with the TPP's redirect
 * URI carrying `code`, `state` and `iss` (or `error=access_denied`). Only if that resume answers no
 * redirect does the 302 go to the resume URL, which the browser follows with Assent's cookies.
 *
 * A step's StepError answers alike on both (docs/plugins.md, "Errors"): invalid_request 400,
 * consent_conflict 409 consent_unavailable, temporarily_unavailable 503, each changing nothing (the key
 * stays usable); access_denied ends the authorization like a refused persist: the consent rejected, 302
 * to the TPP with error=access_denied, the key spent. Anything else thrown is 500 server_error.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import { ApprovalError, type Approvals, type DecisionOutcome, type PendingApproval } from '../../steps/approval.ts';
import { StepError } from '../../steps/contracts.ts';
import type { DecisionGate, FinishOutcome } from '../../steps/decide-once.ts';
import type { ConsentPageData, Decision, Locale } from '../../steps/contracts.ts';
import type { SessionDataKeys } from '../../interaction/session-data-keys.ts';
import { negotiateLocale } from '../../interaction/i18n.ts';
import { jsonBodyParser } from '../../http/json-body.ts';
import { FS_BODY_ERRORS, FsError, fsErrors } from './errors.ts';
import { basicAuth, type BasicCredentials } from './auth.ts';
import { retrieveResponse } from './presenters.ts';
import { selectedAccountIds } from './selection.ts';

export interface FsAuthorizeDeps {
  oauth: OAuthService;
  approvals: Approvals;
  /** one decision per interaction (shared with the approval page) */
  decisions: DecisionGate;
  sessionDataKeys: SessionDataKeys;
  credentials?: BasicCredentials;
  bodyLimitBytes: number;
  log: Logger;
}

/**
 * A step's StepError other than access_denied, as the API refuses it (docs/plugins.md, "Errors"):
 * nothing was decided, the sessionDataKey stays usable.
 */
function stepRefusal(err: StepError): FsError {
  if (err.code === 'invalid_request') return new FsError('invalid_request', err.description);
  if (err.code === 'consent_conflict') return new FsError('consent_unavailable', err.description);
  return new FsError('temporarily_unavailable', err.description);
}

const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

const values = z.union([z.string().max(512).transform((v) => [v]), z.array(z.string().max(512)).max(100)]);

/** WSO2's persist payload; fields WSO2 defines and Assent does not use are ignored, as WSO2 does. */
const persistBody = z.object({
  approval: booleanish,
  /** the bank's account ids the customer selected */
  accountIds: z.array(z.string().min(1).max(128)).max(100).optional(),
  paymentAccount: z.string().max(128).optional(),
  cofAccount: z.string().max(128).optional(),
  requestParameters: z.record(z.string().max(256), values).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  type: z.string().max(64).optional(),
  cookies: z.record(z.string().max(256), z.string().max(8192)).optional(),
});

/** Methods served on each path; anything else is 405. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '/retrieve/:sessionDataKey': ['GET'],
  '/persist/:sessionDataKey': ['PATCH'],
};

export function fsAuthorizeRouter(deps: FsAuthorizeDeps): Router {
  const { oauth, approvals, sessionDataKeys } = deps;
  const router = new Router({ prefix: '/api/fs/consent/authorize' });
  const errors = fsErrors(deps.log);
  const auth = basicAuth(deps.credentials, () => {
    throw new FsError('unauthorized', undefined, { 'WWW-Authenticate': 'Basic realm="assent-internal"' });
  });
  const json = jsonBodyParser(deps.bodyLimitBytes, FS_BODY_ERRORS);

  async function pendingFor(ctx: Context): Promise<PendingApproval> {
    const key = ctx.params.sessionDataKey ?? '';
    const uid = await sessionDataKeys.resolve(key);
    const interaction = uid ? await oauth.interactionByUid(uid) : undefined;
    if (!interaction) throw new FsError('session_data_key_invalid');
    try {
      return await approvals.pending(interaction);
    } catch (err) {
      if (err instanceof ApprovalError) throw new FsError('consent_unavailable', err.message);
      throw err;
    }
  }

  const localeOf = (ctx: Context) => {
    const lang = ctx.query.lang;
    return negotiateLocale({ ...(typeof lang === 'string' ? { uiLocales: lang } : {}), acceptLanguage: ctx.get('accept-language') });
  };

  /** Sends the caller where the finished authorization goes: 302 towards the TPP (see the header). */
  async function redirectAfter(ctx: Context, pending: PendingApproval, finished: FinishOutcome): Promise<void> {
    if (finished.kind === 'decided') throw new FsError('consent_unavailable', 'the request was already decided');
    if (finished.kind === 'failed') throw new FsError('temporarily_unavailable');
    // Assent resumes the authorization on the browser's behalf, so the 302 lands at the TPP whether or
    // not the bank's UI forwards Assent's cookies; the resume URL is the fallback. (A follower does not
    // resume: the first call did.)
    const location = finished.kind === 'finished' ? await oauth.resumeOnBehalf(pending.interaction.uid) : undefined;
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 302;
    ctx.redirect(location ?? finished.returnTo);
  }

  /**
   * Runs the retrieval steps for the API. A step's StepError answers as in docs/plugins.md's table:
   * `access_denied` ends the authorization here (the consent rejected, the TPP to be told access_denied:
   * `ended` says how), the others are refusals in WSO2's format that change nothing. Anything else is a
   * server error.
   */
  async function retrieveOrEnd(
    ctx: Context,
    pending: PendingApproval,
    locale: Locale,
  ): Promise<{ data: ConsentPageData; ended?: undefined } | { ended: { finished: FinishOutcome; outcome?: DecisionOutcome } }> {
    try {
      return { data: await approvals.retrieve(pending, locale) };
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      if (err.code !== 'access_denied') throw stepRefusal(err);
      let outcome: DecisionOutcome | undefined;
      const finished = await deps.decisions.finish(pending.interaction, async () => {
        outcome = await approvals.refuse(pending, err);
        await sessionDataKeys.consume(ctx.params.sessionDataKey ?? '');
        return outcome.result;
      });
      return { ended: { finished, ...(outcome ? { outcome } : {}) } };
    }
  }

  /** Runs the persist steps for the decision, once per interaction (the gate); a step's refusal answers as the table says. */
  async function decideOnce(ctx: Context, pending: PendingApproval, decision: Decision, metadata: Record<string, unknown>, locale: Locale) {
    let outcome: DecisionOutcome | undefined;
    try {
      const finished = await deps.decisions.finish(pending.interaction, async () => {
        outcome = await approvals.decide(pending, decision, metadata, locale);
        await sessionDataKeys.consume(ctx.params.sessionDataKey ?? '');
        return outcome.result;
      });
      return { finished, outcome };
    } catch (err) {
      if (err instanceof StepError) throw stepRefusal(err);
      if (err instanceof ApprovalError) throw new FsError('consent_unavailable', err.message);
      throw err;
    }
  }

  router.get('/retrieve/:sessionDataKey', errors, auth, async (ctx) => {
    const pending = await pendingFor(ctx);
    const retrieved = await retrieveOrEnd(ctx, pending, localeOf(ctx));
    if (retrieved.ended) return redirectAfter(ctx, pending, retrieved.ended.finished);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = retrieveResponse(pending, retrieved.data);
  });

  router.patch('/persist/:sessionDataKey', errors, auth, json, async (ctx) => {
    const raw: unknown = ctx.request.body;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FsError('invalid_request', 'body: must be a JSON object');
    const parsed = persistBody.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new FsError('invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const body = parsed.data;
    const authorize = ctx.query.authorize;
    if (authorize !== undefined && authorize !== 'true' && authorize !== 'false') throw new FsError('invalid_request', 'authorize: must be true or false');
    const pending = await pendingFor(ctx);
    const locale = localeOf(ctx);
    // the accounts are named as the retrieve answer showed them (ids or display names)
    const retrieved = body.approval ? await retrieveOrEnd(ctx, pending, locale) : undefined;
    const { finished, outcome } = retrieved?.ended
      ? retrieved.ended
      : await decideOnce(ctx, pending, { approved: body.approval, selectedAccountIds: retrieved ? selectedAccountIds(body, retrieved.data, pending.consent.id) : [] }, body.metadata ?? {}, locale);
    if (authorize === 'false' && (finished.kind === 'finished' || finished.kind === 'followed')) {
      // WSO2: the decision is stored, the caller continues the authorization itself (the resume URL);
      // a second call for the same key learns that it was decided already
      if (!outcome) throw new FsError('consent_unavailable', 'the request was already decided');
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      ctx.body = { consentId: outcome.consent.id, approval: outcome.approved, consentStatus: outcome.consent.status };
      return;
    }
    await redirectAfter(ctx, pending, finished);
  });

  for (const [path, methods] of Object.entries(ALLOWED)) {
    router.all(path, errors, async () => {
      throw new FsError('method_not_allowed', undefined, { Allow: methods.join(', ') });
    });
  }
  router.all('/{*rest}', errors, async () => {
    throw new FsError('not_found');
  });
  router.all('/', errors, async () => {
    throw new FsError('not_found');
  });

  return router;
}
