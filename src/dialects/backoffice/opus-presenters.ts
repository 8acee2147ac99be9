/**
 * Domain → the Opus "Consent BackOffice Services" bodies, in the spec's fields only (en-oasOOFDados.yml):
 * ConsentSummary (list), ConsentDetail (one, and the revocation's answer), ActiveConsent (active). Every
 * regime's consents: Berlin Group and Open Finance Brasil data sharing are DATA_SHARING, Berlin Group and
 * Open Finance Brasil payment consents PAYMENT (br-payment: paymentType PIX).
 */
import { BR_NO_EXPIRY } from '../../consent/br-validation.ts';
import { BR_DATA_GROUPS } from '../../consent/br-permissions.ts';
import { effectiveStatus } from '../../consent/state.ts';
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

/** ConsentSummary */
export function opusSummary(consent: Consent, ctx: PresentContext) {
  const status = effectiveStatus(consent, ctx.now);
  const expiresOn = expiry(consent);
  return {
    id: opusId(consent),
    type: SPEC_TYPE[consent.type],
    ...(consent.type === 'br-payment' ? { paymentType: 'PIX' as const } : {}),
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
