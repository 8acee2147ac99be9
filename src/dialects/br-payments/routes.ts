/**
 * The Open Finance Brasil Payments API 4.0.0 for TPPs, under /open-banking/payments/v4:
 *
 *   POST /consents               create a payment consent (client_credentials, scope payments,
 *                                x-idempotency-key, signed body)                                   201
 *   GET  /consents/{consentId}   read                                                              200
 *   GET  /openapi.json           the spec
 *
 * Every call: sign the answer (200/201/422 are application/jwt, signed by Assent for the TPP's
 * organisation) → error handler (OFB `errors`) → x-fapi-interaction-id → token → FAPI headers →
 * signed body (verified: alg, kid, key, aud, iss, iat, jti) → idempotency → ConsentService → presenter.
 * Another TPP's consent answers exactly like an unknown one (404). Nothing is stored on an error.
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../application/consents.ts';
import { authorisationDeadline, validateBrPaymentConsentRequest } from '../../consent/br-payment.ts';
import { ConsentNotFound } from '../../consent/errors.ts';
import type { Consent } from '../../consent/types.ts';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import type { MessageSigner, MessageVerifier } from '../../signing/signed-messages.ts';
import type { IdempotencyStore } from '../../storage/idempotency-store.ts';
import { fapiHeaders, interactionId } from '../brazil/middleware.ts';
import { PaymentsError } from './errors.ts';
import { acceptsJwt, authenticateTpp, dialectErrors, idempotent, paymentsState, signResponses, signedBody } from './middleware.ts';
import { serveOpenApi } from './openapi.ts';
import { BASE_PATH, paymentConsentResponse } from './presenters.ts';

export interface BrPaymentsDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  log: Logger;
  verifier: MessageVerifier;
  signer: MessageSigner;
  idempotency: IdempotencyStore;
  /** the URN namespace of consent ids (`urn:<namespace>:<uuid>`). Default `assent` */
  urnNamespace?: string;
  now?: () => Date;
}

/** The API's public URL: `aud` of the TPPs' messages, base of `links`. */
export function paymentsApiUrl(config: AssentConfig): string {
  return (config.brPayments.apiUrl ?? `${new URL(config.issuer).origin}${BASE_PATH}`).replace(/\/+$/, '');
}

const CONSENT_ID = /^urn:[a-zA-Z0-9][a-zA-Z0-9-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%/?#]+$/;

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '/consents': ['POST'],
  '/consents/:consentId': ['GET'],
  '/openapi.json': ['GET'],
};

export function brPaymentsRouter(deps: BrPaymentsDeps): Router {
  const { consents, oauth, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const idPrefix = `urn:${deps.urnNamespace ?? 'assent'}:`;
  const apiUrl = paymentsApiUrl(config);

  // ── the middleware lists, in one place ──
  const errors: Middleware[] = [dialectErrors(log), interactionId];
  const signed: Middleware[] = [signResponses(deps.signer), ...errors];
  const tpp: Middleware[] = [...signed, authenticateTpp(oauth), fapiHeaders(), acceptsJwt];
  const body = signedBody(config.bodyLimitBytes, deps.verifier);

  const router = new Router({ prefix: BASE_PATH });
  router.get('/openapi.json', ...errors, serveOpenApi(config.issuer));
  router.post('/consents', ...tpp, body, idempotent(deps.idempotency, 'POST /consents'), createConsent);
  router.get('/consents/:consentId', ...tpp, getConsent);
  for (const [path, methods] of Object.entries(ALLOWED)) router.all(path, ...errors, methodNotAllowed(methods));
  router.all('/{*rest}', ...errors, () => {
    throw new PaymentsError('notFound', 'no such resource');
  });

  async function createConsent(ctx: Context) {
    const state = paymentsState(ctx);
    const at = now();
    const result = validateBrPaymentConsentRequest({ data: state.message?.data }, { now: at });
    if (!result.ok) {
      if ('rule' in result) throw new PaymentsError(result.rule.code, result.rule.message);
      const missing = result.issues.some((i) => i.code === 'required');
      throw new PaymentsError(missing ? 'PARAMETRO_NAO_INFORMADO' : 'PARAMETRO_INVALIDO', result.issues.map((i) => `${i.path}: ${i.message}`));
    }
    const request = result.value;
    const consent = await consents.create(
      {
        clientId: state.clientId!,
        type: 'br-payment',
        // a payment consent names no accounts to read: the customer picks the one to pay from on approval
        access: {},
        recurringIndicator: false,
        validUntil: request.payment.date,
        expiresAt: authorisationDeadline(at),
        frequencyPerDay: 1,
        combinedServiceIndicator: false,
        ...(state.customerIpAddress ? { psuIpAddress: state.customerIpAddress } : {}),
        details: request as unknown as Record<string, unknown>,
      },
      { idPrefix },
    );
    log.info({ consentId: consent.id, clientId: state.clientId }, 'open finance brasil payment consent created');
    respond(ctx, 201, paymentConsentResponse(consent, apiUrl, now()));
  }

  async function getConsent(ctx: Context) {
    respond(ctx, 200, paymentConsentResponse(await owned(ctx), apiUrl, now()));
  }

  /** The caller's payment consent; anything else (unknown, another TPP's, another type) is 404. */
  async function owned(ctx: Context): Promise<Consent> {
    const id = String(ctx.params.consentId ?? '');
    if (id.length > 256 || !CONSENT_ID.test(id)) throw new PaymentsError('notFound', 'no such consent');
    try {
      const consent = await consents.getOwned(id, paymentsState(ctx).clientId!);
      if (consent.type !== 'br-payment') throw new ConsentNotFound(id);
      return consent;
    } catch (err) {
      if (err instanceof ConsentNotFound) throw new PaymentsError('notFound', 'no such consent');
      throw err;
    }
  }

  return router;
}

function respond(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

function methodNotAllowed(methods: readonly string[]): Middleware {
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
  return () => {
    throw new PaymentsError('methodNotAllowed', `allowed: ${allow}`, { Allow: allow });
  };
}
