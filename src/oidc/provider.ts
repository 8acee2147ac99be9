/**
 * oidc-provider configuration, and nothing else. The rest of Assent reaches the provider through the
 * small interface in ./oauth.ts; only src/oidc/ knows oidc-provider's internals.
 *
 * Profiles:
 * - `fapi2`: FAPI 2.0 Security Profile — PAR required, PKCE S256, private_key_jwt or tls_client_auth,
 *   sender-constrained access tokens (DPoP or mTLS) required of every client, PS256/ES256 only.
 * - `demo`: the same features, relaxed for a local trial: PAR optional, client_secret_basic/post allowed
 *   (the config schema only admits secrets outside fapi2), bearer tokens allowed.
 */
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { AssentConfig, ClientConfig } from '../../config/schema.ts';
import type { Logger } from '../log.ts';
import type { OidcAdapterClass } from '../storage/oidc-adapter.ts';
import type { SigningJwks } from './keys.ts';
import type { CookieKeys } from '../http/cookie-signer.ts';
import { singleUseAdapter } from './single-use.ts';
import type { ReplayStore } from '../storage/replay-store.ts';
import { BR_DATA_GROUPS } from '../consent/br-permissions.ts';

/** the resource scopes Open Finance Brasil permissions imply (per the spec's role/scope table) */
const BR_RESOURCE_SCOPES = [...new Set(BR_DATA_GROUPS.flatMap((g) => g.scopes))];

/** `consents`: the Open Finance Brasil Consents API (client_credentials); `payments`: its Payments API */
export const API_SCOPES = ['accountinformation', 'consents', 'payments', 'backoffice:read', 'backoffice:revoke', 'consent:validate'] as const;

/**
 * The Grant payload field holding the consent a grant was made for (oidc-provider keeps only the fields
 * a model lists in IN_PAYLOAD; createProvider adds this one to Grant). The token endpoint has the grant in
 * hand (it checks the grant exists), so the tokens' `consent_id` costs no read of the consent store, and a
 * consent that ended has no grant left (its end revokes the grant), so no token is issued for it.
 */
export const GRANT_CONSENT_ID = 'urn:assent:consent_id';

/** The consent binding of authorization requests (see ./consent-binding.ts). */
export interface AuthorizationConsentCheck {
  /** throws an oidc-provider error when the request does not name a consent this client may authorise */
  check(ctx: KoaContextWithOIDC, clientId: string): Promise<void>;
  /** the consent a grant was created for, looked up in the consent store (grants made before GRANT_CONSENT_ID) */
  consentIdForGrant(grantId: string): Promise<string | undefined>;
}

export interface ProviderOptions {
  config: AssentConfig;
  /** an adapter class, constructed by oidc-provider once per model (consume made single-use, ./single-use.ts) */
  adapter: OidcAdapterClass;
  jwks: SigningJwks;
  /** signs and verifies the provider's cookies: a signer (../http/cookie-signer.ts), or secrets for keygrip */
  cookieKeys: CookieKeys | string[];
  log: Logger;
  consentCheck?: AuthorizationConsentCheck;
  /**
   * single-use ids for oidc-provider's own replay checks (DPoP proofs at its endpoints, private_key_jwt
   * assertions): Redis, so a proof used on one instance is refused on every other. Default: the adapter
   */
  replay?: ReplayStore;
  /** Rich Authorization Requests (./rar.ts: richAuthorizationRequests); absent: authorization_details are not supported */
  rar?: Record<string, unknown>;
  /** renders the HTML error page for browser-facing OAuth errors */
  renderError?: Configuration['renderError'];
  /**
   * called (not awaited) when the token endpoint revoked a grant because its code or refresh token was
   * presented again (a replay, a lost race, or a retry after an exchange that failed once the code was
   * consumed): no token of that grant is usable any more, so its consent must not stay active
   */
  onReplayRevokedGrant?: (grantId: string) => void;
  /**
   * called (not awaited) when resuming an authorization failed after the interaction had been decided
   * with a grant (e.g. the code could not be saved): the interaction is gone, so no code for that grant
   * will ever reach the TPP
   */
  onUndeliveredGrant?: (grantId: string) => void;
}

/** The audience of every API access token: the server's own origin. */
export function apiResource(config: AssentConfig): string {
  return new URL(config.issuer).origin;
}

export function issuerMountPath(config: AssentConfig): string {
  return new URL(config.issuer).pathname.replace(/\/+$/, '');
}

type ClientLike = { clientId: string; [key: string]: unknown };

const FAPI2_ALGS = ['PS256', 'ES256'];

export function clientMetadata(client: ClientConfig, profile: AssentConfig['profile']): Record<string, unknown> {
  const { 'urn:assent:internal': internal, 'urn:assent:consent_create_limit': _createLimit, ...metadata } = client;
  const result: Record<string, unknown> = { ...metadata, 'urn:assent:internal': internal === true };
  if (profile === 'fapi2') {
    // Sender-constrained tokens: DPoP unless the client is bound to an mTLS certificate.
    if (!metadata.tls_client_certificate_bound_access_tokens) result.dpop_bound_access_tokens = true;
    result.require_pushed_authorization_requests = true;
    result.id_token_signed_response_alg ??= 'PS256';
  }
  // Rich Authorization Requests (./rar.ts): every client that asks customers may describe account information
  if ((metadata.grant_types ?? ['authorization_code']).includes('authorization_code')) result.authorization_details_types ??= ['account_information'];
  if ((metadata.grant_types ?? []).every((g) => g === 'client_credentials')) {
    result.response_types = [];
    result.redirect_uris = [];
  }
  return result;
}

/**
 * oidc-provider's prompts, with SCA per consent: the login prompt is requested again when the browser's
 * session holds a login that did not happen during this authorization and is older than
 * `loginReuseSeconds` (0, the default: any earlier login). Every authorization names one consent, so
 * every consent authorisation asks for credentials.
 */
export function interactionPrompts(loginReuseSeconds: number): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  login.checks.add(
    new interactionPolicy.Check('sca_per_consent', 'a consent needs a login of its own (SCA)', 'login_required', (ctx) => {
      const { session, result } = ctx.oidc;
      if (!session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT; // no_session asks
      if (result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT; // logged in during this authorization
      if (loginReuseSeconds > 0 && !session.past(loginReuseSeconds)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

/**
 * oidc-provider records every DPoP proof and client assertion `jti` through
 * `ReplayDetection.unique(iss, jti, exp)`, which reads then writes through the adapter: two instances (or
 * two requests) can both see "new". Routed to a ReplayStore instead, the first use wins atomically,
 * across instances. (The one static method every replay check in oidc-provider 9 calls.)
 */
function useReplayStore(provider: Provider, replay: ReplayStore): void {
  const model = provider.ReplayDetection as unknown as { unique(iss: string, jti: string, exp: number): Promise<boolean> };
  Object.defineProperty(model, 'unique', {
    configurable: true,
    value: async (iss: string, jti: string, exp: number) =>
      replay.firstUse(`oidc:${iss}:${jti}`, Math.max(1, exp - Math.floor(Date.now() / 1000))),
  });
}

export function createProvider(options: ProviderOptions): Provider {
  const { config, log, consentCheck } = options;
  const fapi2 = config.profile === 'fapi2';
  const resource = apiResource(config);

  const configuration: Configuration = {
    // (cast: the library's types declare consume() as returning nothing; ours answers a boolean it ignores)
    adapter: singleUseAdapter(options.adapter, options.onReplayRevokedGrant) as unknown as Configuration['adapter'],
    clients: config.clients.map((c) => clientMetadata(c, config.profile)) as unknown as Configuration['clients'],
    jwks: options.jwks as Configuration['jwks'],
    cookies: {
      keys: options.cookieKeys as unknown as NonNullable<NonNullable<Configuration['cookies']>['keys']>,
      long: { httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') },
      short: { httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') },
    },
    scopes: ['openid', 'offline_access', ...API_SCOPES, ...BR_RESOURCE_SCOPES],
    // Open Finance Brasil's `consent:{consentId}` is read from the request's scope by the consent binding
    // (./consent-reference.ts); oidc-provider 9 grants only the static scopes, the tokens carry consent_id.
    claims: { openid: ['sub'] },
    extraClientMetadata: { properties: ['urn:assent:internal', 'urn:assent:organisation_id'] },
    clientAuthMethods: fapi2
      ? ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']
      : ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic', 'client_secret_post'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: fapi2 ? 'PS256' : 'ES256',
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    acceptQueryParamAccessTokens: false,
    allowOmittingSingleRegisteredRedirectUri: !fapi2,
    // (cast: @types/oidc-provider lags the library's feature options)
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A client sees only its own tokens; internal (bank) clients may introspect any.
        allowedPolicy: async (_ctx: unknown, client: ClientLike, token: { clientId?: string }) =>
          token.clientId === client.clientId || client['urn:assent:internal'] === true,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: ClientLike, token: { clientId?: string }) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: fapi2 },
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      dPoP: { enabled: true },
      fapi: { enabled: fapi2, profile: '2.0' },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        certificateBoundAccessTokens: true,
        // The TLS-terminating proxy forwards the verified client certificate (URL-encoded PEM).
        getCertificate(ctx: KoaContextWithOIDC) {
          if (!config.trustProxy) return undefined;
          const header = ctx.get('x-ssl-client-cert');
          return header ? decodeURIComponent(header) : undefined;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => {
          if (resourceIndicator !== resource) throw new errors.InvalidTarget();
          return {
            // the Open Finance Brasil resource scopes too: a customer's token carries what its
            // consent's permissions imply (accounts, resources, …) for the resource servers
            scope: [...API_SCOPES, ...BR_RESOURCE_SCOPES].join(' '),
            audience: resource,
            accessTokenTTL: config.ttl.accessToken,
            accessTokenFormat: 'opaque',
          };
        },
      },
      richAuthorizationRequests: options.rar ?? { enabled: false },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: true },
    } as unknown as Configuration['features'],
    enabledJWA: (fapi2
      ? {
          clientAuthSigningAlgValues: FAPI2_ALGS,
          idTokenSigningAlgValues: FAPI2_ALGS,
          requestObjectSigningAlgValues: FAPI2_ALGS,
          authorizationSigningAlgValues: FAPI2_ALGS,
          introspectionSigningAlgValues: FAPI2_ALGS,
          userinfoSigningAlgValues: FAPI2_ALGS,
          dPoPSigningAlgValues: FAPI2_ALGS,
        }
      : {
          clientAuthSigningAlgValues: ['PS256', 'ES256', 'RS256'],
          idTokenSigningAlgValues: ['PS256', 'ES256', 'RS256'],
          requestObjectSigningAlgValues: ['PS256', 'ES256', 'RS256'],
          dPoPSigningAlgValues: ['ES256', 'PS256', 'EdDSA'],
        }) as Configuration['enabledJWA'],
    ttl: {
      AccessToken: config.ttl.accessToken,
      ClientCredentials: config.ttl.clientCredentials,
      AuthorizationCode: config.ttl.authorizationCode,
      RefreshToken: config.ttl.refreshToken,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.grant,
      IdToken: 300,
    },
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwks',
      pushed_authorization_request: '/par',
      introspection: '/introspect',
      revocation: '/revoke',
      end_session: '/logout',
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: interactionPrompts(config.authentication.loginReuseSeconds),
    },
    // The consent named by the request (consent_id, or acr_values "consentId:<id>") is checked at PAR and
    // at the authorization endpoint; see ./consent-binding.ts.
    extraParams: {
      consent_id: async (ctx) => {
        if (consentCheck && ctx.oidc.client) await consentCheck.check(ctx, ctx.oidc.client.clientId);
      },
    },
    // A grant is never reused across consents: each approval makes a new grant for its one consent.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    extraTokenClaims: async (ctx, token) => {
      if (!('grantId' in token) || !token.grantId) return undefined;
      // the token endpoint loaded and checked the grant already (authorization_code, refresh_token)
      const grant = ctx.oidc.entities.Grant as unknown as Record<string, unknown> | undefined;
      const carried = grant?.jti === token.grantId ? grant[GRANT_CONSENT_ID] : undefined;
      const consentId = typeof carried === 'string' ? carried : await consentCheck?.consentIdForGrant(token.grantId as string);
      return consentId ? { consent_id: consentId } : undefined;
    },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    conformIdTokenClaims: true,
    ...(options.renderError ? { renderError: options.renderError } : {}),
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  if (options.replay) useReplayStore(provider, options.replay);
  // Grants keep the consent they were made for (see GRANT_CONSENT_ID): one more field in their payload.
  const grantPayload = [...provider.Grant.IN_PAYLOAD, GRANT_CONSENT_ID];
  Object.defineProperty(provider.Grant, 'IN_PAYLOAD', { get: () => grantPayload, configurable: true });

  // oidc-provider revokes the grant when a consumed code or a used refresh token comes back (its helper
  // emits grant.revoked); the revocation endpoint and end_session revoke at the client's request instead
  if (options.onReplayRevokedGrant) {
    const onReplay = options.onReplayRevokedGrant;
    provider.on('grant.revoked', (ctx, grantId) => {
      if (ctx.oidc.route === 'token') onReplay(grantId);
    });
  }
  if (options.onUndeliveredGrant) {
    const onUndelivered = options.onUndeliveredGrant;
    const resumeFailed = (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc?.route === 'resume' ? (ctx.oidc.result as { consent?: { grantId?: unknown } } | undefined)?.consent?.grantId : undefined;
      if (typeof grantId === 'string') onUndelivered(grantId);
    };
    provider.on('authorization.error', resumeFailed);
    provider.on('server_error', resumeFailed);
  }
  provider.on('server_error', (_ctx, err) => log.error({ err: { message: err.message, name: err.name } }, 'oidc server_error'));
  provider.on('grant.error', (_ctx, err) => log.warn({ error: (err as { error?: string }).error ?? err.name }, 'token endpoint error'));
  return provider;
}
