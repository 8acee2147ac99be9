/**
 * The WSO2-compatible consent authorize endpoints, for banks that bring their own consent UI:
 *
 *   GET   /api/fs/consent/authorize/retrieve/:sessionDataKey   what to show (the retrieval steps)
 *   PATCH /api/fs/consent/authorize/persist/:sessionDataKey    store the decision (the persist steps),
 *                                                               then 302 towards the TPP
 *
 * Callers authenticate with HTTP Basic (config `internalApi`). Both run the same Approvals path as the
 * built-in approval page. Errors: `{ code, message, description }` with the HTTP status.
 *
 * After persist the OAuth flow continues in the customer's browser. When the caller forwards the
 * browser's cookies (`cookies`, as WSO2's consent page does), Assent resumes the authorization itself and
 * answers 302 with the TPP's redirect URI carrying `code`, `state` and `iss` (or `error=access_denied`);
 * without them it answers 302 to the resume URL, which the browser follows to the same place.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { z } from 'zod';
import type { OAuthService } from '../../oidc/oauth.ts';
import { ApprovalError, type Approvals, type PendingApproval } from '../../steps/approval.ts';
import { StepError } from '../../steps/contracts.ts';
import type { DecisionGate } from '../../steps/decide-once.ts';
import type { SessionDataKeys } from '../../interaction/session-data-keys.ts';
import { negotiateLocale } from '../../interaction/i18n.ts';
import { sendFsError as send } from './errors.ts';
import { basicAuth, type BasicCredentials } from './auth.ts';

export interface FsAuthorizeDeps {
  oauth: OAuthService;
  approvals: Approvals;
  /** one decision per interaction (shared with the approval page) */
  decisions: DecisionGate;
  sessionDataKeys: SessionDataKeys;
  credentials?: BasicCredentials;
  bodyLimitBytes: number;
}

const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

const persistBody = z
  .object({
    approval: booleanish,
    /** the bank's account ids the customer selected */
    accountIds: z.array(z.string().min(1).max(128)).max(100).optional(),
    requestParameters: z.record(z.string(), z.array(z.string().max(512)).max(100)).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    type: z.string().max(64).optional(),
    cookies: z.record(z.string().max(256), z.string().max(8192)).optional(),
  })
  .strict();

export function fsAuthorizeRouter(deps: FsAuthorizeDeps): Router {
  const { oauth, approvals, sessionDataKeys } = deps;
  const router = new Router({ prefix: '/api/fs/consent/authorize' });
  router.use(basicAuth(deps.credentials, (ctx) => send(ctx, 'unauthorized')));
  const json = bodyParser({
    enableTypes: ['json'],
    jsonLimit: deps.bodyLimitBytes,
    onError: (_err, ctx) => {
      ctx.throw(400, 'body is not valid JSON');
    },
  });

  async function pendingFor(ctx: Context): Promise<PendingApproval | undefined> {
    const key = ctx.params.sessionDataKey ?? '';
    const uid = await sessionDataKeys.resolve(key);
    const interaction = uid ? await oauth.interactionByUid(uid) : undefined;
    if (!interaction) {
      send(ctx, 'session_data_key_invalid');
      return undefined;
    }
    try {
      return await approvals.pending(interaction);
    } catch (err) {
      if (err instanceof ApprovalError) {
        send(ctx, 'consent_unavailable', err.message);
        return undefined;
      }
      throw err;
    }
  }

  router.get('/retrieve/:sessionDataKey', async (ctx) => {
    const pending = await pendingFor(ctx);
    if (!pending) return;
    const lang = ctx.query.lang;
    const locale = negotiateLocale({ ...(typeof lang === 'string' ? { uiLocales: lang } : {}), acceptLanguage: ctx.get('accept-language') });
    const data = await approvals.retrieve(pending, locale);
    const c = pending.consent;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      consentData: {
        type: data.type,
        consentId: c.id,
        permissions: data.permissions.map((p) => ({ uid: p.uid, displayValues: p.displayValues, title: p.title, ...(p.detail ? { detail: p.detail } : {}) })),
        allowMultipleAccounts: data.allowMultipleAccounts,
        basicConsentData: data.basicConsentData,
        validUntil: c.validUntil,
        frequencyPerDay: c.frequencyPerDay,
        recurringIndicator: c.recurringIndicator,
        notices: data.notices,
        extra: data.extra,
      },
      consumerData: {
        psu: { id: pending.psu.id, name: pending.psu.name },
        accounts: data.accounts.map((a) => ({
          accountId: a.accountId,
          displayName: a.displayName,
          iban: a.iban,
          currency: a.currency,
          selected: a.selected,
          selectable: a.selectable,
        })),
      },
      application: pending.client.name,
      clientId: pending.client.clientId,
      type: data.type,
    };
  });

  router.patch('/persist/:sessionDataKey', json, async (ctx) => {
    const parsed = persistBody.safeParse(ctx.request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return send(ctx, 'invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const body = parsed.data;
    const pending = await pendingFor(ctx);
    if (!pending) return;
    const selected = body.accountIds ?? body.requestParameters?.accountIds ?? body.requestParameters?.accounts ?? [];
    const locale = negotiateLocale({ acceptLanguage: ctx.get('accept-language') });
    let finished;
    try {
      finished = await deps.decisions.finish(pending.interaction, async () => {
        const outcome = await approvals.decide(pending, { approved: body.approval, selectedAccountIds: selected }, body.metadata ?? {}, locale);
        await sessionDataKeys.consume(ctx.params.sessionDataKey ?? '');
        return outcome.result;
      });
    } catch (err) {
      if (err instanceof StepError && err.code === 'invalid_request') return send(ctx, 'invalid_request', err.description);
      if (err instanceof StepError && err.code === 'consent_conflict') return send(ctx, 'consent_unavailable', err.description);
      if (err instanceof StepError) return send(ctx, 'temporarily_unavailable', err.description);
      if (err instanceof ApprovalError) return send(ctx, 'consent_unavailable', err.message);
      throw err;
    }
    if (finished.kind === 'decided') return send(ctx, 'consent_unavailable', 'the request was already decided');
    if (finished.kind === 'failed') return send(ctx, 'temporarily_unavailable');
    const { returnTo } = finished;
    // (a follower does not resume: the first call did, with the same browser's cookies)
    const location = body.cookies && finished.kind === 'finished' ? await resumeWithCookies(returnTo, body.cookies) : undefined;
    ctx.status = 302;
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(location ?? returnTo);
  });

  return router;
}

/** Follows the resume URL with the browser's cookies and returns where oidc-provider sends the browser next. */
async function resumeWithCookies(returnTo: string, cookies: Record<string, string>): Promise<string | undefined> {
  const cookie = Object.entries(cookies)
    .filter(([name, value]) => /^[\w.-]+$/.test(name) && !/[;\r\n]/.test(value))
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
  try {
    const res = await fetch(returnTo, { headers: { cookie }, redirect: 'manual' });
    await res.body?.cancel();
    const location = res.headers.get('location');
    return location ? new URL(location, returnTo).href : undefined;
  } catch {
    return undefined;
  }
}
