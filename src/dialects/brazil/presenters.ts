/**
 * Consents as the Open Finance Brasil Consents API 3.3.1 shows them (ResponseConsent, ResponseConsentRead,
 * ResponseConsentReadExtensions). Reads `details` as the dialect stored it (see routes.ts).
 */
import type { Consent } from '../../consent/types.ts';
import { effectiveStatus } from '../../consent/state.ts';
import { BR_NO_EXPIRY } from '../../consent/br-validation.ts';
import { ofbDateTime } from './time.ts';

export const BASE_PATH = '/open-banking/consents/v3';

/** What the dialect keeps in `details` of a br-data-sharing consent. */
export interface BrDetails {
  permissions: string[];
  loggedUser: { document: { identification: string; rel: string } };
  businessEntity?: { document: { identification: string; rel: string } };
  /** newest last */
  extensions?: BrExtensionRecord[];
}

export interface BrExtensionRecord {
  /** absent: indefinite */
  expirationDateTime?: string;
  previousExpirationDateTime?: string;
  requestDateTime: string;
  loggedUser: { document: { identification: string; rel: string } };
  xFapiCustomerIpAddress?: string;
  xCustomerUserAgent?: string;
}

export function brDetails(consent: Consent): BrDetails {
  return (consent.details ?? {}) as unknown as BrDetails;
}

export function consentLinks(origin: string, consent: Consent) {
  return { self: `${origin}${BASE_PATH}/consents/${consent.id}` };
}

function meta(now: Date) {
  return { totalRecords: 1, totalPages: 1, requestDateTime: ofbDateTime(now) };
}

/** The consent as `data`: the status its regime reads at `now`, its rejection when it ended. */
export function consentResponse(consent: Consent, origin: string, now: Date) {
  const details = brDetails(consent);
  const status = effectiveStatus(consent, now);
  const statusUpdatedAt = status === consent.status ? consent.updatedAt : now;
  const data: Record<string, unknown> = {
    consentId: consent.id,
    creationDateTime: ofbDateTime(consent.createdAt),
    status,
    statusUpdateDateTime: ofbDateTime(statusUpdatedAt),
    permissions: [...details.permissions],
  };
  if (consent.expiresAt.getTime() !== BR_NO_EXPIRY.getTime()) data.expirationDateTime = ofbDateTime(consent.expiresAt);
  if (status === 'REJECTED') {
    data.rejection = consent.rejection ?? { rejectedBy: 'ASPSP', reason: { code: consent.status === 'AUTHORISED' ? 'CONSENT_MAX_DATE_REACHED' : 'CONSENT_EXPIRED' } };
  }
  return { data, links: consentLinks(origin, consent), meta: meta(now) };
}

/** The extensions, newest first (the spec orders by requestDateTime, descending). */
export function extensionsResponse(consent: Consent, origin: string, now: Date) {
  const records = [...(brDetails(consent).extensions ?? [])].reverse();
  return {
    data: records,
    links: { self: `${origin}${BASE_PATH}/consents/${consent.id}/extensions` },
    meta: { totalRecords: records.length, totalPages: 1, requestDateTime: ofbDateTime(now) },
  };
}
