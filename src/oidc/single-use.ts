/**
 * Single use of codes and one-time tokens, whatever oidc-provider does in between. oidc-provider reads an
 * authorization code, checks its `consumed` flag on that copy, runs its other checks and only then calls
 * `consume()`: two parallel redemptions both pass the check. Our adapters consume atomically and say
 * whether this call won (storage/oidc-adapter.ts); this wrapper turns a lost race into what the provider
 * does on a sequential replay: the grant's tokens are revoked (RFC 6749 §4.1.2: a code used twice may
 * have been stolen) and the request gets the OAuth error. Either way the outcome does not depend on timing:
 * one exchange answers tokens, and once a second one arrives that token family is dead.
 * (It also keeps access tokens a while after expiry: EXPIRED_TOKEN_GRACE_SECONDS.)
 */
import { errors } from 'oidc-provider';
import type { AdapterPayload, OidcAdapter, OidcAdapterClass } from '../storage/oidc-adapter.ts';

/** what the provider consumes, and the error a lost race answers */
const LOST_RACE: Record<string, () => Error> = {
  AuthorizationCode: () => new errors.InvalidGrant('authorization code already consumed'),
  RefreshToken: () => new errors.InvalidGrant('refresh token already used'),
  DeviceCode: () => new errors.InvalidGrant('device code already consumed'),
  BackchannelAuthenticationRequest: () => new errors.InvalidGrant('backchannel authentication request already consumed'),
  PreAuthorizedCode: () => new errors.InvalidGrant('pre-authorized code already consumed'),
  PushedAuthorizationRequest: () => new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used'),
};

/**
 * Access tokens are kept this long after they expire, so that an API can tell an expired token
 * (401 TOKEN_EXPIRED) from one it never issued (TOKEN_INVALID). oidc-provider checks `exp` on every
 * lookup, so an expired token is refused everywhere (introspection says inactive) whatever the storage
 * keeps; only OAuthService asks with `ignoreExpiration` to name the problem.
 */
export const EXPIRED_TOKEN_GRACE_SECONDS = 3600;
const KEPT_AFTER_EXPIRY = new Set(['AccessToken', 'ClientCredentials']);

/** `Adapter` with consume() throwing the OAuth error when another call consumed the item first. */
/** `onRevoked`: told the grant a lost race revoked (see ProviderOptions.onReplayRevokedGrant) */
export function singleUseAdapter(Adapter: OidcAdapterClass, onRevoked?: (grantId: string) => void): OidcAdapterClass {
  return class SingleUseAdapter implements OidcAdapter {
    readonly #inner: OidcAdapter;
    readonly #modelName: string;
    readonly #lostRace: (() => Error) | undefined;

    constructor(modelName: string) {
      this.#inner = new Adapter(modelName);
      this.#modelName = modelName;
      this.#lostRace = LOST_RACE[modelName];
    }

    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const keep = expiresIn !== undefined && KEPT_AFTER_EXPIRY.has(this.#modelName) ? expiresIn + EXPIRED_TOKEN_GRACE_SECONDS : expiresIn;
      return this.#inner.upsert(id, payload, keep);
    }
    find(id: string): Promise<AdapterPayload | undefined> {
      return this.#inner.find(id);
    }
    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#inner.findByUid(uid);
    }
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#inner.findByUserCode(userCode);
    }
    async consume(id: string): Promise<boolean> {
      const won = await this.#inner.consume(id);
      if (won || !this.#lostRace) return won;
      if (this.#modelName !== 'PushedAuthorizationRequest') {
        const grantId = (await this.#inner.find(id))?.grantId;
        if (typeof grantId === 'string') {
          // every grant-bound kind goes with one call (storage contract), then the grant itself
          await Promise.all([this.#inner.revokeByGrantId(grantId), new Adapter('Grant').destroy(grantId)]);
          onRevoked?.(grantId);
        }
      }
      throw this.#lostRace();
    }
    destroy(id: string): Promise<void> {
      return this.#inner.destroy(id);
    }
    revokeByGrantId(grantId: string): Promise<void> {
      return this.#inner.revokeByGrantId(grantId);
    }
  };
}
