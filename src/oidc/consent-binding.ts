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

export interface ConsentLookup {
  get(id: string): Promise<Consent | null>;
  findByGrantId(grantId: string): Promise<Consent | null>;
}

const AWAITING_SCA = new Set(['received', 'started', 'psuIdentified', 'psuAuthenticated', 'scaMethodSelected']);

export function consentBinding(consents: ConsentLookup, resolvers?: readonly ConsentReferenceResolver[]): AuthorizationConsentCheck {
  return {
    async check(ctx: KoaContextWithOIDC, clientId: string) {
      const params = ctx.oidc.params as Record<string, unknown>;
      const reference = resolveConsentReference(params, resolvers);
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
    },
    async consentIdForGrant(grantId: string) {
      return (await consents.findByGrantId(grantId))?.id;
    },
  };
}
