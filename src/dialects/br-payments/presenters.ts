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
