/**
 * The consent validation API, for the bank's resource servers and gateways (WSO2's consent validate
 * endpoint, Berlin Group codes):
 *
 *   POST /api/fs/consent/validate
 *     { accessToken } | { consentId, clientId },  method, resourcePath, accountId?, psuIpAddress? | psuPresent?
 *   → 200 { isValid, httpCode, errorCode, consent: {…} | null, consentInformation: <JWS> }
 *
 * The answer is 200 whenever the question was understood; `httpCode` / `errorCode` are what the resource
 * server answers its TPP. Callers: HTTP Basic (`internalApi`) or an internal client's client_credentials
 * token with `consent:validate`; a TPP's token is 403. When the usage counters cannot be reached the
 * answer is 503 `usage_unavailable` with `isValid: false`: validation fails closed.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AccessDecision, AccessRequest, AccessValidator } from '../../application/access.ts';
import { UsageUnavailable } from '../../consent/usage.ts';
import type { ConsentSigner } from '../../oidc/consent-jws.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import type { Logger } from '../../log.ts';
import { internalCaller, type BasicCredentials } from './auth.ts';
import { sendFsError } from './errors.ts';

export const VALIDATE_SCOPE = 'consent:validate';

export interface ValidateDeps {
  oauth: OAuthService;
  access: AccessValidator;
  sign: ConsentSigner;
  credentials?: BasicCredentials;
  bodyLimitBytes: number;
  log: Logger;
}

const id = z.string().min(1).max(256);

export const validateBody = z
  .object({
    accessToken: z.string().min(1).max(4096).optional(),
    consentId: id.optional(),
    clientId: id.optional(),
    method: z.string().regex(/^[A-Za-z]{3,7}$/, 'an HTTP method').transform((m) => m.toUpperCase()),
    resourcePath: z.string().min(1).max(2048).startsWith('/'),
    accountId: id.optional(),
    /** the TPP's PSU-IP-Address header: given means the customer is present */
    psuIpAddress: z.string().min(1).max(64).optional(),
    psuPresent: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.accessToken !== undefined) !== (b.consentId !== undefined && b.clientId !== undefined), {
    message: 'give either accessToken, or consentId and clientId',
  })
  .refine((b) => b.accessToken === undefined || (b.consentId === undefined && b.clientId === undefined), {
    message: 'give either accessToken, or consentId and clientId',
  });

export type ValidateBody = z.infer<typeof validateBody>;

/** The consent as the answer (and its JWS) describe it. */
export function consentInformation(decision: AccessDecision) {
  const c = decision.consent;
  if (!c) return null;
  return {
    id: c.id,
    type: c.type,
    status: c.status,
    clientId: c.clientId,
    psuId: c.psuId ?? null,
    expiresAt: c.expiresAt.toISOString(),
    validUntil: c.validUntil,
    recurringIndicator: c.recurringIndicator,
    access: c.access,
    grantedAccounts: c.grantedAccounts ?? [],
    frequencyPerDay: c.frequencyPerDay,
    remainingToday: decision.remainingToday ?? null,
  };
}

export function accessRequestOf(body: ValidateBody): AccessRequest {
  return {
    subject: body.accessToken !== undefined ? { accessToken: body.accessToken } : { consentId: body.consentId!, clientId: body.clientId! },
    method: body.method,
    path: body.resourcePath,
    ...(body.accountId !== undefined ? { accountId: body.accountId } : {}),
    psuPresent: body.psuPresent ?? body.psuIpAddress !== undefined,
  };
}

export function validateRouter(deps: ValidateDeps): Router {
  const router = new Router();
  const json = bodyParser({
    enableTypes: ['json'],
    jsonLimit: deps.bodyLimitBytes,
    onError: (_err, ctx) => {
      ctx.throw(400, 'body is not valid JSON');
    },
  });

  router.post('/api/fs/consent/validate', async (ctx: Context, next) => {
    const caller = await internalCaller(ctx, deps.oauth, deps.credentials, VALIDATE_SCOPE);
    if (!caller.ok) {
      if (caller.status === 401) ctx.set('WWW-Authenticate', `Bearer scope="${VALIDATE_SCOPE}", Basic realm="assent-internal"`);
      return sendFsError(ctx, caller.status === 401 ? 'unauthorized' : 'forbidden', caller.description);
    }
    await next();
  }, async (ctx, next) => {
    try {
      await json(ctx, async () => undefined);
    } catch {
      return sendFsError(ctx, 'invalid_request', 'the body is not a JSON object');
    }
    await next();
  }, async (ctx) => {
    const parsed = validateBody.safeParse(ctx.request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendFsError(ctx, 'invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    let decision: AccessDecision;
    try {
      decision = await deps.access.validate(accessRequestOf(parsed.data));
    } catch (err) {
      if (err instanceof UsageUnavailable) return sendFsError(ctx, 'usage_unavailable', err.message, { isValid: false });
      // a store that cannot answer (the token or consent lookup): fail closed, say so, log what it was
      const e = err as { name?: string; message?: string };
      deps.log.error({ error: e?.name, message: e?.message }, 'consent validation failed');
      return sendFsError(ctx, 'temporarily_unavailable', 'the consent could not be validated now; try again', { isValid: false });
    }
    const answer = {
      isValid: decision.isValid,
      httpCode: decision.httpCode,
      errorCode: decision.errorCode,
      consent: consentInformation(decision),
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...answer, consentInformation: await deps.sign(answer) };
  });
  return router;
}
