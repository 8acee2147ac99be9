/**
 * The Open Finance Brasil Payments API 4.0.0 for TPPs, under /open-banking/payments/v4:
 *
 *   POST /consents               create a payment consent (client_credentials, scope payments,
 *                                x-idempotency-key, signed body)                                   201
 *   GET  /consents/{consentId}   read                                                              200
 *   POST /pix/payments           the payment of an AUTHORISED consent (the customer's
 *                                authorization_code token, signed body, x-idempotency-key): it must
 *                                be exactly the consented one; stores it (RCVD), then consumes the
 *                                consent (once, whatever the concurrency; a failed consumption rejects
 *                                the payment), hands the payment to the PaymentExecutor                 201
 *   GET  /pix/payments/{paymentId}                read (client_credentials)                         200
 *   PATCH /pix/payments/{paymentId}               cancel a SCHD / PDNG payment → CANC               200
 *   PATCH /pix/payments/consents/{consentId}      cancel the consent's cancellable payments         200
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
import { randomUUID } from 'node:crypto';
import { authorisationDeadline, paymentDivergence, validateBrPaymentConsentRequest, type BrPaymentConsentRequest } from '../../consent/br-payment.ts';
import { ConsentError } from '../../consent/errors.ts';
import { executePayment, refuseUnconsumed } from '../../application/pix-settlement.ts';
import type { PaymentExecutor } from '../../consent/payment-executor.ts';
import { PaymentExists, type PaymentRepository } from '../../consent/payment-repository.ts';
import { cancellationOf, orderOf, pixCancellationSchema, validatePixPaymentRequest, type PixPayment } from '../../consent/pix-payment.ts';
import { effectiveStatus } from '../../consent/state.ts';
import { issuesOf } from '../../consent/br-validation.ts';
import type { Consent } from '../../consent/types.ts';
import type { Logger } from '../../log.ts';
import type { OAuthService } from '../../oidc/oauth.ts';
import type { MessageSigner, MessageVerifier } from '../../signing/signed-messages.ts';
import type { IdempotencyStore } from '../../storage/idempotency-store.ts';
import { fapiHeaders, interactionId } from '../brazil/middleware.ts';
import { PaymentsError } from './errors.ts';
import { acceptsJwt, authenticateConsentToken, authenticateTpp, dialectErrors, idempotent, paymentsState, signResponses, signedBody } from './middleware.ts';
import { serveOpenApi } from './openapi.ts';
import { BASE_PATH, createdPaymentsResponse, paymentConsentResponse, paymentDetails, paymentResponse } from './presenters.ts';
import { ofbDateTime } from '../brazil/time.ts';
import { methodNotAllowed as rejectOtherMethods } from '../../http/method-not-allowed.ts';
import { ownedConsent, respond } from '../open-finance-brasil.ts';

export interface BrPaymentsDeps {
  consents: ConsentService;
  oauth: OAuthService;
  config: AssentConfig;
  log: Logger;
  verifier: MessageVerifier;
  signer: MessageSigner;
  idempotency: IdempotencyStore;
  payments: PaymentRepository;
  /** the bank's payment system (the demo one settles at once) */
  executor: PaymentExecutor;
  /** the URN namespace of consent ids (`urn:<namespace>:<uuid>`). Default `assent` */
  urnNamespace?: string;
  now?: () => Date;
}

/** The API's public URL: `aud` of the TPPs' messages, base of `links`. */
export function paymentsApiUrl(config: AssentConfig): string {
  return (config.brPayments.apiUrl ?? `${new URL(config.issuer).origin}${BASE_PATH}`).replace(/\/+$/, '');
}


const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '/consents': ['POST'],
  '/consents/:consentId': ['GET'],
  '/pix/payments': ['POST'],
  '/pix/payments/:paymentId': ['GET', 'PATCH'],
  '/pix/payments/consents/:consentId': ['PATCH'],
  '/openapi.json': ['GET'],
};

export function brPaymentsRouter(deps: BrPaymentsDeps): Router {
  const { consents, oauth, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const idPrefix = `urn:${deps.urnNamespace ?? 'assent'}:`;
  const apiUrl = paymentsApiUrl(config);
  const settlement = { consents, payments: deps.payments, executor: deps.executor, log, now };

  // ── the middleware lists, in one place ──
  const errors: Middleware[] = [dialectErrors(log), interactionId];
  const signed: Middleware[] = [signResponses(deps.signer), ...errors];
  const tpp: Middleware[] = [...signed, authenticateTpp(oauth), fapiHeaders(), acceptsJwt];
  const body = signedBody(config.bodyLimitBytes, deps.verifier);

  const router = new Router({ prefix: BASE_PATH });
  router.get('/openapi.json', ...errors, serveOpenApi(config.issuer));
  router.post('/consents', ...tpp, body, idempotent(deps.idempotency, 'POST /consents'), createConsent);
  router.get('/consents/:consentId', ...tpp, getConsent);
  const customer: Middleware[] = [...signed, authenticateConsentToken(oauth), fapiHeaders(), acceptsJwt];
  router.post('/pix/payments', ...customer, body, idempotent(deps.idempotency, 'POST /pix/payments'), createPayment);
  router.patch('/pix/payments/consents/:consentId', ...tpp, body, idempotent(deps.idempotency, 'PATCH /pix/payments/consents'), cancelConsentPayments);
  router.get('/pix/payments/:paymentId', ...tpp, getPayment);
  router.patch('/pix/payments/:paymentId', ...tpp, body, cancelPayment);
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

  async function createPayment(ctx: Context) {
    const state = paymentsState(ctx);
    const clientId = state.clientId!;
    const result = validatePixPaymentRequest({ data: state.message?.data });
    if (!result.ok) {
      const missing = result.issues.some((i) => i.code === 'required');
      throw new PaymentsError(missing ? 'PARAMETRO_NAO_INFORMADO' : 'PARAMETRO_INVALIDO', result.issues.map((i) => `${i.path}: ${i.message}`));
    }
    if (result.value.length !== 1) throw new PaymentsError('PARAMETRO_INVALIDO', 'Parâmetro data: um consentimento de pagamento único autoriza exatamente um pagamento.');
    const item = result.value[0]!;
    const consentId = state.tokenConsentId!;
    if (item.consentId !== undefined && item.consentId !== consentId) {
      throw new PaymentsError('PAGAMENTO_DIVERGENTE_CONSENTIMENTO', 'Parâmetro consentId diverge do consentimento do token.');
    }
    const invalid = () => new PaymentsError('CONSENTIMENTO_INVALIDO', 'Consentimento inválido (não está AUTHORISED).');
    const consent = await consents.get(consentId);
    if (!consent || consent.clientId !== clientId || consent.type !== 'br-payment') throw invalid();
    const at = now();
    if (effectiveStatus(consent, at) !== 'AUTHORISED') throw invalid();
    const request = paymentDetails(consent) as BrPaymentConsentRequest & { debtorAccount?: BrPaymentConsentRequest['debtorAccount'] };
    const differs = paymentDivergence(request, orderOf(item));
    if (differs.length > 0) {
      throw new PaymentsError('PAGAMENTO_DIVERGENTE_CONSENTIMENTO', `Dados do pagamento divergentes do consentimento: ${differs.join(', ')}.`);
    }
    if (!request.debtorAccount) throw new PaymentsError('NAO_INFORMADO', 'O consentimento não tem conta de origem.');

    // one payment per consent, and never a consumed consent without its payment: the payment is stored
    // first (RCVD; the store's unique consentId lets one request per consent through), then the consent
    // moves AUTHORISED → CONSUMED once (a conditional update naming the payment). If that move fails, the
    // payment is rejected and never executed; a failed store leaves the consent AUTHORISED, untouched; an
    // instance gone in between leaves it RCVD for the sweeper's recovery (application/pix-settlement.ts).
    const paymentId = randomUUID();
    let payment: PixPayment = {
      paymentId,
      consentId,
      clientId,
      endToEndId: item.endToEndId,
      localInstrument: item.localInstrument,
      payment: item.payment,
      creditorAccount: item.creditorAccount,
      debtorAccount: request.debtorAccount,
      cnpjInitiator: item.cnpjInitiator,
      ...(item.proxy !== undefined ? { proxy: item.proxy } : {}),
      ...(item.qrCode !== undefined ? { qrCode: item.qrCode } : {}),
      ...(item.remittanceInformation !== undefined ? { remittanceInformation: item.remittanceInformation } : {}),
      ...(item.transactionIdentification !== undefined ? { transactionIdentification: item.transactionIdentification } : {}),
      ...(item.ibgeTownCode !== undefined ? { ibgeTownCode: item.ibgeTownCode } : {}),
      ...(item.authorisationFlow !== undefined ? { authorisationFlow: item.authorisationFlow } : {}),
      date: request.payment.date,
      scheduled: request.payment.scheduled,
      status: 'RCVD',
      createdAt: at,
      updatedAt: at,
      revision: 0,
    };
    try {
      await deps.payments.create(payment);
    } catch (err) {
      if (err instanceof PaymentExists) throw invalid();
      throw err;
    }
    try {
      await consents.consume(consent, clientId, { paymentId });
    } catch (err) {
      log.error({ paymentId, consentId, error: (err as Error).name }, 'the consent could not be consumed; the payment is rejected');
      await refuseUnconsumed(settlement, payment, err instanceof ConsentError).catch(() => undefined);
      if (err instanceof ConsentError) throw invalid();
      throw err;
    }
    payment = await executePayment(settlement, payment);
    log.info({ paymentId, consentId, clientId, status: payment.status }, 'open finance brasil pix payment created');
    respond(ctx, 201, createdPaymentsResponse([payment], apiUrl, now()));
  }

  async function getPayment(ctx: Context) {
    respond(ctx, 200, paymentResponse(await ownedPayment(ctx), apiUrl, now()));
  }

  function cancelledBy(ctx: Context) {
    const body = { data: paymentsState(ctx).message?.data };
    const parsed = pixCancellationSchema.safeParse(body);
    if (!parsed.success) {
      const issues = issuesOf(parsed.error, body);
      throw new PaymentsError(issues.some((i) => i.code === 'required') ? 'missingParameter' : 'badRequest', issues.map((i) => `${i.path}: ${i.message}`));
    }
    return parsed.data.data.cancellation.cancelledBy;
  }

  /** Cancels one payment if its status and date allow it; the payment after, or undefined. */
  async function cancelOne(payment: PixPayment, by: ReturnType<typeof cancelledBy>): Promise<PixPayment | undefined> {
    let current: PixPayment | null = payment;
    for (let attempt = 0; current && attempt < 3; attempt++) {
      const at = now();
      const cancellation = cancellationOf(current, by, at);
      if (!cancellation) return undefined;
      const updated = await deps.payments.update(current.paymentId, { revision: current.revision }, { status: 'CANC', cancellation, updatedAt: at });
      if (updated) return updated;
      current = await deps.payments.findById(payment.paymentId);
    }
    return undefined;
  }

  async function cancelPayment(ctx: Context) {
    const by = cancelledBy(ctx);
    const payment = await ownedPayment(ctx);
    const cancelled = await cancelOne(payment, by);
    if (!cancelled) throw new PaymentsError('PAGAMENTO_NAO_PERMITE_CANCELAMENTO', 'Pagamento não permite cancelamento.');
    log.info({ paymentId: cancelled.paymentId }, 'open finance brasil pix payment cancelled');
    respond(ctx, 200, paymentResponse(cancelled, apiUrl, now()));
  }

  async function cancelConsentPayments(ctx: Context) {
    const by = cancelledBy(ctx);
    const consent = await owned(ctx);
    const cancelled: PixPayment[] = [];
    for (const payment of await deps.payments.findByConsent(consent.id)) {
      const done = await cancelOne(payment, by);
      if (done) cancelled.push(done);
    }
    if (cancelled.length === 0) throw new PaymentsError('PAGAMENTO_NAO_PERMITE_CANCELAMENTO', 'Nenhum pagamento deste consentimento pode ser cancelado.');
    respond(ctx, 200, {
      data: cancelled.map((p) => ({ paymentId: p.paymentId, statusUpdateDateTime: ofbDateTime(p.updatedAt) })),
      links: { self: `${apiUrl}/pix/payments/consents/${consent.id}` },
      meta: { requestDateTime: ofbDateTime(now()) },
    });
  }

  /** The caller's payment; another TPP's or an unknown one is 404. */
  async function ownedPayment(ctx: Context): Promise<PixPayment> {
    const id = String(ctx.params.paymentId ?? '');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9-]{0,99}$/.test(id)) throw new PaymentsError('notFound', 'no such payment');
    const payment = await deps.payments.findById(id);
    if (!payment || payment.clientId !== paymentsState(ctx).clientId) throw new PaymentsError('notFound', 'no such payment');
    return payment;
  }

  /** The caller's payment consent; anything else (unknown, another TPP's, another type) is 404. */
  async function owned(ctx: Context): Promise<Consent> {
    return ownedConsent(consents, String(ctx.params.consentId ?? ''), paymentsState(ctx).clientId!, 'br-payment', () => new PaymentsError('notFound', 'no such consent'));
  }

  return router;
}


/** 405 in this dialect's format */
function methodNotAllowed(methods: readonly string[]): Middleware {
  return rejectOtherMethods(methods, (allow) => new PaymentsError('methodNotAllowed', `allowed: ${allow}`, { Allow: allow }));
}
