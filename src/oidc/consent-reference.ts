/**
 * How an authorization request names its consent. Pluggable: each resolver reads the request parameters;
 * the first that finds a reference wins. Built in:
 *  - `consent_id=<id>` (a request parameter, also inside a request object)
 *  - `acr_values=… consentId:<id> consentAuthorisationId:<id>` (the Open Payments `scaOAuth` link form)
 *  - `scope=openid consent:<id> …` (Open Finance Brasil: a dynamic scope naming the consent)
 */
export interface ConsentReference {
  consentId: string;
  authorisationId?: string;
}

export type ConsentReferenceResolver = (params: Readonly<Record<string, unknown>>) => ConsentReference | undefined;

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const fromConsentIdParam: ConsentReferenceResolver = (params) => {
  const value = params.consent_id;
  return typeof value === 'string' && ID.test(value) ? { consentId: value } : undefined;
};

export const fromAcrValues: ConsentReferenceResolver = (params) => {
  const acr = params.acr_values;
  if (typeof acr !== 'string') return undefined;
  let consentId: string | undefined;
  let authorisationId: string | undefined;
  for (const token of acr.split(' ')) {
    if (token.startsWith('consentId:')) consentId = token.slice('consentId:'.length);
    else if (token.startsWith('consentAuthorisationId:')) authorisationId = token.slice('consentAuthorisationId:'.length);
  }
  if (!consentId || !ID.test(consentId)) return undefined;
  return authorisationId && ID.test(authorisationId) ? { consentId, authorisationId } : { consentId };
};

/** `consent:` followed by the id, as a dynamic scope (see CONSENT_SCOPE in ./provider.ts). */
export const CONSENT_SCOPE_PREFIX = 'consent:';
export const CONSENT_SCOPE = /^consent:[A-Za-z0-9._:-]{1,128}$/;

export const fromConsentScope: ConsentReferenceResolver = (params) => {
  const scope = params.scope;
  if (typeof scope !== 'string') return undefined;
  const named = scope.split(' ').filter((s) => CONSENT_SCOPE.test(s));
  // exactly one consent per authorization
  return named.length === 1 ? { consentId: named[0]!.slice(CONSENT_SCOPE_PREFIX.length) } : undefined;
};

export const DEFAULT_RESOLVERS: readonly ConsentReferenceResolver[] = [fromConsentIdParam, fromAcrValues, fromConsentScope];

export function resolveConsentReference(
  params: Readonly<Record<string, unknown>>,
  resolvers: readonly ConsentReferenceResolver[] = DEFAULT_RESOLVERS,
): ConsentReference | undefined {
  for (const resolve of resolvers) {
    const found = resolve(params);
    if (found) return found;
  }
  return undefined;
}
