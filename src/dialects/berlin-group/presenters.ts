/**
 * Domain → Berlin Group (Open Payments 1.3.3) response bodies. Pure functions; each names the spec schema
 * it produces. Links are paths on this server, as in the Open Payments walk-through.
 */
import type { AccountAccess, AccountReference, Authorisation, Consent, GrantedAccount } from '../../consent/types.ts';
import type { AssentConfig } from '../../../config/schema.ts';

export const BASE_PATH = '/psd2/consent/v1';

export type ScaMethod = AssentConfig['consent']['scaMethods'][number];

interface Href {
  href: string;
}

export const paths = {
  consent: (consentId: string) => `${BASE_PATH}/consents/${encodeURIComponent(consentId)}`,
  status: (consentId: string) => `${paths.consent(consentId)}/status`,
  authorisations: (consentId: string) => `${paths.consent(consentId)}/authorisations`,
  authorisation: (consentId: string, authorisationId: string) =>
    `${paths.authorisations(consentId)}/${encodeURIComponent(authorisationId)}`,
};

/** authenticationObject */
export function authenticationObject(method: ScaMethod) {
  return {
    authenticationType: method.authenticationType,
    authenticationMethodId: method.authenticationMethodId,
    ...(method.name ? { name: method.name } : {}),
  };
}

/** consentsResponse-201 */
export function consentCreated(consent: Consent, scaMethods: readonly ScaMethod[]) {
  return {
    consentStatus: consent.status,
    consentId: consent.id,
    scaMethods: scaMethods.map(authenticationObject),
    _links: {
      self: { href: paths.consent(consent.id) },
      status: { href: paths.status(consent.id) },
      startAuthorisation: { href: paths.authorisations(consent.id) },
    },
  };
}

/** consentInformationResponse-200_json */
export function consentInformation(consent: Consent) {
  return {
    access: presentAccess(consent.access, consent.grantedAccounts),
    recurringIndicator: consent.recurringIndicator,
    validUntil: consent.validUntil,
    frequencyPerDay: consent.frequencyPerDay,
    lastActionDate: consent.lastActionDate,
    consentStatus: consent.status,
  };
}

/** consentStatusResponse-200 */
export function consentStatus(consent: Consent) {
  return { consentStatus: consent.status };
}

/** startScaprocessResponse */
export function authorisationStarted(consent: Consent, authorisation: Authorisation, scaMethods: readonly ScaMethod[]) {
  const self = paths.authorisation(consent.id, authorisation.id);
  return {
    authorisationId: authorisation.id,
    scaStatus: authorisation.scaStatus,
    scaMethods: scaMethods.map(authenticationObject),
    _links: {
      scaStatus: { href: self },
      selectAuthenticationMethod: { href: self },
    },
  };
}

/** authorisations */
export function authorisationList(consent: Consent) {
  return { authorisationIds: consent.authorisations.map((a) => a.id) };
}

/** scaStatusResponse */
export function scaStatus(authorisation: Authorisation) {
  return { scaStatus: authorisation.scaStatus };
}

/** selectPsuAuthenticationMethodResponse */
export function authenticationMethodSelected(consent: Consent, authorisation: Authorisation, method: ScaMethod, scaOAuth: string) {
  const links: Record<string, Href> = {
    scaStatus: { href: paths.authorisation(consent.id, authorisation.id) },
    scaOAuth: { href: scaOAuth },
  };
  return {
    chosenScaMethod: authenticationObject(method),
    psuMessage: `Please confirm with your bank${method.name ? ` (${method.name})` : ''}.`,
    scaStatus: authorisation.scaStatus,
    _links: links,
  };
}

/**
 * The authorization request that lets the PSU authorise this consent: the Open Payments `scaOAuth` link.
 * The TPP adds `state`, `code_challenge` + `code_challenge_method=S256` (PKCE is required) and, when the
 * consent named none, `redirect_uri`.
 */
export function scaOAuthHref(issuer: string, clientId: string, consent: Consent, authorisation: Authorisation): string {
  const params: Array<[string, string]> = [
    ['client_id', clientId],
    ['response_type', 'code'],
    // A recurring consent is used again later: ask for a refresh token (OIDC needs prompt=consent for it).
    ['scope', consent.recurringIndicator ? 'openid offline_access accountinformation' : 'openid accountinformation'],
    ['acr_values', `consentId:${consent.id} consentAuthorisationId:${authorisation.id}`],
  ];
  if (consent.recurringIndicator) params.push(['prompt', 'consent']);
  const redirectUri = consent.details?.tppRedirectUri;
  if (typeof redirectUri === 'string') params.push(['redirect_uri', redirectUri]);
  const query = params.map(([k, v]) => `${k}=${encodeQueryValue(v)}`).join('&');
  return `${issuer.replace(/\/+$/, '')}/authorize?${query}`;
}

/** Percent-encoding with ':' and '/' left as they are (both are allowed in a query, RFC 3986 §3.4). */
function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':').replace(/%2F/gi, '/');
}

/**
 * The domain's access in the Open Payments spelling (see schemas.ts consentBodyToDomain). A bank-offered
 * consent (empty lists) shows the accounts the PSU chose once they are granted, each list with the
 * accounts granted for that kind, as the Berlin Group implementation guidelines describe.
 */
export function presentAccess(access: AccountAccess, granted: readonly GrantedAccount[] = []) {
  const out: {
    accounts?: AccountReference[];
    balances?: AccountReference[];
    transactions?: AccountReference[];
    availableAccounts?: 'allAccounts' | 'allAccountsWithBalances';
    allPsd2?: 'allAccounts';
  } = {};
  for (const name of ['accounts', 'balances', 'transactions'] as const) {
    const list = access[name];
    if (list !== undefined) out[name] = list.map((ref) => ({ ...ref }));
    if (list?.length === 0 && granted.length > 0) {
      out[name] = granted
        .filter((a) => a.access.includes(name) && a.iban !== undefined)
        .map((a) => ({ iban: a.iban!, ...(a.currency !== undefined ? { currency: a.currency } : {}) }));
    }
  }
  if (access.availableAccountsWithBalance !== undefined) out.availableAccounts = 'allAccountsWithBalances';
  else if (access.availableAccounts !== undefined) out.availableAccounts = 'allAccounts';
  if (access.allPsd2 !== undefined) out.allPsd2 = 'allAccounts';
  return out;
}
