/**
 * Binds authorization requests to consents. At PAR and at the authorization endpoint (oidc-provider runs
 * extraParams validators on both), the request must name a consent that exists, belongs to the requesting
 * client and awaits authorisation; unknown and foreign consents get the same answer, so a TPP learns
 * nothing about other TPPs' consents. Tokens then carry the consent of their grant as `consent_id`.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Consent } from '../consent/types.ts';
import { resolveConsentReference, type ConsentReferenceResolver } from './consent-reference.ts';
import type { AuthorizationConsentCheck } from './provider.ts';
import { isAwaiting } from '../consent/regimes/index.ts';
import type { ConsentRequestOptions } from '../consent/validation.ts';
import { accountInformationDetails, consentMatches, parseAccountInformation } from './rar.ts';

export interface ConsentLookup {
  get(id: string): Promise<Consent | null>;
  findByGrantId(grantId: string): Promise<Consent | null>;
}

const AWAITING_SCA = new Set(['received', 'started', 'psuIdentified', 'psuAuthenticated', 'scaMethodSelected']);

/**
 * `rar`: with Rich Authorization Requests (./rar.ts), a request may describe the consent in
 * authorization_details instead of naming one (it is created at the approval page), or name one and
 * describe it, in which case the description must be that consent's.
 */
export function consentBinding(
  consents: ConsentLookup,
  resolvers?: readonly ConsentReferenceResolver[],
  rar?: { requestOptions(): ConsentRequestOptions },
): AuthorizationConsentCheck {
  return {
    async check(ctx: KoaContextWithOIDC, clientId: string) {
      const params = ctx.oidc.params as Record<string, unknown>;
      const reference = resolveConsentReference(params, resolvers);
      const details = rar ? accountInformationDetails(params) : [];
      if (!reference && details.length === 1) return;
      if (!reference) {
        throw new errors.InvalidRequest('the authorization request must name a consent (consent_id, or acr_values consentId:<id>)');
      }
      const consent = await consents.get(reference.consentId);
      if (!consent || consent.clientId !== clientId) throw new errors.InvalidRequest('unknown consent');
      if (!isAwaiting(consent.status)) throw new errors.InvalidRequest('the consent is not awaiting authorisation');
      if (reference.authorisationId) {
        const authorisation = consent.authorisations.find((a) => a.id === reference.authorisationId);
        if (!authorisation) throw new errors.InvalidRequest('unknown consent authorisation');
        if (!AWAITING_SCA.has(authorisation.scaStatus)) throw new errors.InvalidRequest('the consent authorisation is finished');
      }
      if (rar && details.length === 1) {
        const described = parseAccountInformation(details[0], rar.requestOptions());
        if (!described.ok || !consentMatches(consent, described.value)) {
          throw new errors.InvalidAuthorizationDetails('the authorization_details do not describe the consent the request names');
        }
      }
    },
    async consentIdForGrant(grantId: string) {
      return (await consents.findByGrantId(grantId))?.id;
    },
  };
}
