/**
 * Payment consents as the Payments API 4.0.0 shows them (ResponseCreatePaymentConsent,
 * ResponsePaymentConsent). Reads `details` as routes.ts stored it: the validated request
 * (BrPaymentConsentRequest) plus, once the customer chose it, the debtor account.
 */
import type { BrPaymentConsentRequest } from '../../consent/br-payment.ts';
import { BR_PAYMENT_REJECTION_DETAILS, type BrPaymentRejectionCode } from '../../consent/regimes/brazil-payment.ts';
import { regimeOf } from '../../consent/regimes/index.ts';
import { effectiveStatus } from '../../consent/state.ts';
import type { Consent } from '../../consent/types.ts';
import type { PixPayment } from '../../consent/pix-payment.ts';
import { ofbDateTime } from '../brazil/time.ts';

export const BASE_PATH = '/open-banking/payments/v4';

export function paymentDetails(consent: Consent): BrPaymentConsentRequest {
  return (consent.details ?? {}) as unknown as BrPaymentConsentRequest;
}

/** The consent as `data`: the status its regime reads at `now`, the rejection reason when it ended so. */
export function paymentConsentResponse(consent: Consent, apiUrl: string, now: Date) {
  const details = paymentDetails(consent);
  const status = effectiveStatus(consent, now);
  // ended by the clock but not recorded yet: it ended at expiresAt, for the reason the expiry records
  const unrecorded = status !== consent.status;
  const { date, scheduled, ...payment } = details.payment;
  const data: Record<string, unknown> = {
    consentId: consent.id,
    creationDateTime: ofbDateTime(consent.createdAt),
    expirationDateTime: ofbDateTime(consent.expiresAt),
    statusUpdateDateTime: ofbDateTime(unrecorded ? consent.expiresAt : consent.updatedAt),
    status,
    loggedUser: details.loggedUser,
    ...(details.businessEntity ? { businessEntity: details.businessEntity } : {}),
    creditor: details.creditor,
    payment: { ...payment, ...(scheduled ? { schedule: { single: { date } } } : { date }) },
    ...(details.debtorAccount ? { debtorAccount: details.debtorAccount } : {}),
  };
  if (status === 'REJECTED') {
    const rejection = unrecorded ? regimeOf(consent.type).moves.expire[consent.status]?.rejection : consent.rejection;
    const code = (rejection?.reason.code ?? 'NAO_INFORMADO') as BrPaymentRejectionCode;
    data.rejectionReason = { code, detail: rejection?.reason.additionalInformation ?? BR_PAYMENT_REJECTION_DETAILS[code] ?? BR_PAYMENT_REJECTION_DETAILS.NAO_INFORMADO };
  }
  return { data, links: { self: `${apiUrl}/consents/${consent.id}` }, meta: { requestDateTime: ofbDateTime(now) } };
}

/** A PIX payment as ResponsePixPaymentData (and, with its cancellation, ResponsePatchPixPaymentData). */
export function pixPaymentData(payment: PixPayment) {
  const data: Record<string, unknown> = {
    paymentId: payment.paymentId,
    endToEndId: payment.endToEndId,
    consentId: payment.consentId,
    creationDateTime: ofbDateTime(payment.createdAt),
    statusUpdateDateTime: ofbDateTime(payment.updatedAt),
    status: payment.status,
    localInstrument: payment.localInstrument,
    cnpjInitiator: payment.cnpjInitiator,
    payment: payment.payment,
    creditorAccount: payment.creditorAccount,
    debtorAccount: payment.debtorAccount,
  };
  for (const field of ['proxy', 'ibgeTownCode', 'transactionIdentification', 'remittanceInformation', 'authorisationFlow', 'rejectionReason'] as const) {
    if (payment[field] !== undefined) data[field] = payment[field];
  }
  if (payment.cancellation) data.cancellation = { ...payment.cancellation, cancelledAt: ofbDateTime(payment.cancellation.cancelledAt) };
  return data;
}

export function pixPaymentLinks(apiUrl: string, payment: PixPayment) {
  return { self: `${apiUrl}/pix/payments/${payment.paymentId}` };
}

/** POST /pix/payments: the payments made, as a list. */
export function createdPaymentsResponse(payments: PixPayment[], apiUrl: string, now: Date) {
  return { data: payments.map(pixPaymentData), links: pixPaymentLinks(apiUrl, payments[0]!), meta: { requestDateTime: ofbDateTime(now) } };
}

export function paymentResponse(payment: PixPayment, apiUrl: string, now: Date) {
  return { data: pixPaymentData(payment), links: pixPaymentLinks(apiUrl, payment), meta: { requestDateTime: ofbDateTime(now) } };
}
