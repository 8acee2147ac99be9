/**
 * Domain → the Opus "Consent BackOffice Services" bodies, in the spec's fields only (en-oasOOFDados.yml):
 * ConsentSummary (list), ConsentDetail (one, and the revocation's answer), ActiveConsent (active). Every
 * regime's consents: Berlin Group and Open Finance Brasil data sharing are DATA_SHARING, Berlin Group and
 * Open Finance Brasil payment consents PAYMENT (br-payment: paymentType PIX, the creditor, the modality,
 * paymentData and the id of its payment), and a consent's PIX payments (ResponsePaymentsDetailSchema).
 */
import { BR_NO_EXPIRY } from '../../consent/br-validation.ts';
import { BR_DATA_GROUPS } from '../../consent/br-permissions.ts';
import { effectiveStatus } from '../../consent/state.ts';
import type { BrPaymentConsentRequest } from '../../consent/br-payment.ts';
import type { PixPayment } from '../../consent/pix-payment.ts';
import type { Consent, ConsentStatus } from '../../consent/types.ts';
import { rejection as bgRejection, revocation as bgRevocation, type PresentContext } from './presenters.ts';
import { SPEC_STATUS, SPEC_TYPE } from './vocabulary.ts';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const isBrazilian = (c: Consent) => c.type === 'br-data-sharing' || c.type === 'br-payment';

function documents(consent: Consent) {
  const out: Record<string, string> = {};
  const details = consent.details as Record<string, { document?: { identification?: unknown; rel?: unknown } }> | undefined;
  const person = details?.loggedUser?.document;
  if (typeof person?.identification === 'string') {
    out.personDocumentType = typeof person.rel === 'string' ? person.rel : 'CPF';
    out.personDocumentNumber = person.identification;
  }
  const business = details?.businessEntity?.document;
  if (typeof business?.identification === 'string') {
    out.businessDocumentType = typeof business.rel === 'string' ? business.rel : 'CNPJ';
    out.businessDocumentNumber = business.identification;
  }
  return out;
}

/** an indefinite consent (Brazil without expirationDateTime, Berlin Group 9999-12-31) has no expiry to show */
function expiry(consent: Consent): string | undefined {
  return consent.expiresAt.getTime() >= BR_NO_EXPIRY.getTime() - 86_400_000 ? undefined : iso(consent.expiresAt);
}

function names(consent: Consent, ctx: PresentContext) {
  const name = ctx.tppNames.get(consent.clientId) ?? consent.clientId;
  return { orgName: name, tppName: name };
}

const URN_UUID = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/** The spec's `id` / `{consentId}` is a UUID: a consent URN's UUID part (its `externalId` is the URN). */
export function opusId(consent: Consent): string {
  return URN_UUID.exec(consent.id)?.[1] ?? consent.id;
}

/** A payment consent's request as stored (the approval adds debtorAccount); undefined for other types. */
function paymentRequest(consent: Consent): Partial<BrPaymentConsentRequest> | undefined {
  return consent.type === 'br-payment' ? ((consent.details ?? {}) as Partial<BrPaymentConsentRequest>) : undefined;
}

/** ModalityPaymentEnum: a payment on a later day (schedule.single) is SCHEDULED, today's IMMEDIATE. */
function modality(request: Partial<BrPaymentConsentRequest>): 'IMMEDIATE' | 'SCHEDULED' | undefined {
  if (!request.payment) return undefined;
  return request.payment.scheduled ? 'SCHEDULED' : 'IMMEDIATE';
}

/** ConsentSummary's payment fields: PIX, who is paid, the modality. */
function paymentSummary(consent: Consent) {
  const request = paymentRequest(consent);
  if (!request) return {};
  const modalityPayment = modality(request);
  return {
    paymentType: 'PIX' as const,
    ...(modalityPayment ? { modalityPayment } : {}),
    ...(request.creditor?.name ? { creditorName: request.creditor.name } : {}),
  };
}

/** ConsentDetail's payment fields: paymentData (creditor, payment, debtorAccount), modality, its payment's id. */
function paymentDetail(consent: Consent) {
  const request = paymentRequest(consent);
  if (!request) return {};
  const paymentData: Record<string, unknown> = {};
  if (request.creditor) paymentData.creditor = request.creditor;
  if (request.payment) {
    const { type, currency, amount, date, scheduled, ibgeTownCode, details } = request.payment;
    paymentData.payment = {
      type,
      currency,
      amount,
      ...(scheduled ? { schedule: { single: { date } } } : { date }),
      ...(ibgeTownCode ? { ibgeTownCode } : {}),
      ...(details ? { details } : {}),
    };
  }
  if (request.debtorAccount) paymentData.debtorAccount = request.debtorAccount;
  const paymentId = (consent.details as { paymentId?: unknown } | undefined)?.paymentId;
  const modalityPayment = modality(request);
  return {
    ...(Object.keys(paymentData).length > 0 ? { paymentData } : {}),
    ...(modalityPayment ? { modalityPayment } : {}),
    ...(typeof paymentId === 'string' ? { paymentIds: [{ externalId: paymentId }] } : {}),
  };
}

/** ConsentSummary */
export function opusSummary(consent: Consent, ctx: PresentContext) {
  const status = effectiveStatus(consent, ctx.now);
  const expiresOn = expiry(consent);
  return {
    id: opusId(consent),
    type: SPEC_TYPE[consent.type],
    ...paymentSummary(consent),
    status: SPEC_STATUS[status],
    createdOn: iso(consent.createdAt),
    ...(expiresOn ? { expiresOn } : {}),
    ...names(consent, ctx),
  };
}

/** Permission: Open Finance Brasil codes with their data group's plain title; Berlin Group access kinds. */
function permissions(consent: Consent) {
  const details = consent.details as { permissions?: unknown } | undefined;
  if (Array.isArray(details?.permissions)) {
    return (details.permissions as string[]).map((name) => {
      const group = BR_DATA_GROUPS.find((g) => (g.permissions as readonly string[]).includes(name) && name !== 'RESOURCES_READ');
      return { name, title: name, ...(group ? { description: group.title['pt-BR'] } : {}) };
    });
  }
  if (consent.type === 'br-payment') return [{ name: 'PAYMENTS_INITIATE', title: 'PAYMENTS_INITIATE' }];
  return Object.keys(consent.access)
    .filter((kind) => (consent.access as Record<string, unknown>)[kind] !== undefined)
    .map((kind) => ({ name: kind, title: kind }));
}

const PAYMENT_PARTY = { USER: 'USUARIO', ASPSP: 'DETENTORA', TPP: 'INICIADORA' } as const;

/** Rejection (data sharing) / RejectionPaymentOob (payments) / the Berlin Group endings. */
function endings(consent: Consent): Record<string, unknown> {
  if (isBrazilian(consent)) {
    if (consent.status !== 'REJECTED' || !consent.rejection) return {};
    const { rejectedBy, reason } = consent.rejection;
    if (consent.type === 'br-payment') {
      return { rejection: { rejectedBy: PAYMENT_PARTY[rejectedBy], reason: { code: reason.code, detail: reason.additionalInformation ?? reason.code }, rejectedAt: iso(consent.updatedAt) } };
    }
    return {
      rejection: {
        rejectedBy,
        reason: { code: reason.code, ...(reason.additionalInformation ? { additionalInformation: reason.additionalInformation.slice(0, 140) } : {}) },
      },
    };
  }
  const revoked = bgRevocation(consent);
  if (revoked) return { revocation: { revokedBy: revoked.revokedBy, reason: revoked.reason } };
  const rejected = bgRejection(consent);
  if (rejected) return { rejection: { rejectedBy: rejected.rejectedBy, reason: rejected.reason } };
  return {};
}

/** ConsentDetail */
export function opusDetail(consent: Consent, ctx: PresentContext) {
  const status = effectiveStatus(consent, ctx.now);
  const expiredOn = expiry(consent);
  return {
    externalId: consent.id,
    ...documents(consent),
    createdOn: iso(consent.createdAt),
    ...(expiredOn ? { expiredOn } : {}),
    resources: (consent.grantedAccounts ?? []).map((a) => ({ resourceId: a.accountId, type: 'ACCOUNT' as const, status: 'AVAILABLE' as const })),
    permissions: permissions(consent),
    consentHistoryStatus: consent.history.map((h) => ({
      consentStatus: SPEC_STATUS[h.to],
      updatedOn: iso(h.at),
      ...(h.by !== undefined ? { operatorUsername: h.by } : {}),
    })),
    ...endings(consent),
    ...paymentDetail(consent),
    status: SPEC_STATUS[status],
    type: SPEC_TYPE[consent.type],
    ...names(consent, ctx),
  };
}

/** StatusEnum has no EXPIRED: a consent that ran out is REJECTED, as Open Finance Brasil records it. */
const ACTIVE_STATUS: Partial<Record<ConsentStatus, string>> = { expired: 'REJECTED' };

/** ActiveConsent */
export function opusActive(consent: Consent, ctx: PresentContext) {
  const status = effectiveStatus(consent, ctx.now);
  const expirationDateTime = expiry(consent);
  return {
    externalId: consent.id,
    ...documents(consent),
    creationDateTime: iso(consent.createdAt),
    status: ACTIVE_STATUS[status] ?? SPEC_STATUS[status],
    ...(expirationDateTime ? { expirationDateTime } : {}),
  };
}

/** ResponseRecurringPaymentsDataRead: a PIX payment of a consent, as the back-office reads it. */
export function opusPayment(payment: PixPayment) {
  return {
    paymentId: payment.paymentId,
    consentId: payment.consentId,
    endToEndId: payment.endToEndId,
    date: payment.date,
    creationDateTime: iso(payment.createdAt),
    statusUpdateDateTime: iso(payment.updatedAt),
    status: payment.status,
    localInstrument: payment.localInstrument,
    ...(payment.ibgeTownCode ? { ibgeTownCode: payment.ibgeTownCode } : {}),
    ...(payment.rejectionReason ? { rejectionReason: opusRejectionReason(payment.rejectionReason) } : {}),
    cnpjInitiator: payment.cnpjInitiator,
    payment: payment.payment,
    ...(payment.remittanceInformation !== undefined ? { remittanceInformation: payment.remittanceInformation } : {}),
    creditorAccount: payment.creditorAccount,
    debtorAccount: payment.debtorAccount,
    ...(payment.cancellation ? { cancellation: { ...payment.cancellation, cancelledAt: iso(payment.cancellation.cancelledAt) } } : {}),
    ...(payment.authorisationFlow ? { authorisationFlow: payment.authorisationFlow } : {}),
    ...(payment.transactionIdentification ? { transactionIdentification: payment.transactionIdentification } : {}),
  };
}

/** The Opus RejectionReason takes the consent codes: a payment's own code becomes its nearest one. */
const OPUS_REJECTION_CODES: ReadonlySet<string> = new Set([
  'VALOR_INVALIDO', 'NAO_INFORMADO', 'FALHA_INFRAESTRUTURA', 'TEMPO_EXPIRADO_AUTORIZACAO', 'TEMPO_EXPIRADO_CONSUMO', 'REJEITADO_USUARIO',
  'CONTAS_ORIGEM_DESTINO_IGUAIS', 'CONTA_NAO_PERMITE_PAGAMENTO', 'SALDO_INSUFICIENTE', 'VALOR_ACIMA_LIMITE', 'QRCODE_INVALIDO', 'CONTA_DIVERGENTE_DA_SOLICITADA',
]);
function opusRejectionReason(reason: { code: string; detail: string }) {
  const code = OPUS_REJECTION_CODES.has(reason.code) ? reason.code : reason.code.startsWith('FALHA_INFRAESTRUTURA') ? 'FALHA_INFRAESTRUTURA' : 'NAO_INFORMADO';
  return { code, detail: code === reason.code ? reason.detail : `${reason.code}: ${reason.detail}` };
}
