/**
 * The storage contract oidc-provider expects from its `adapter` configuration option, typed for Assent
 * (oidc-provider ships no types). Implementations: storage/redis/oidc-adapter.ts (production) and
 * storage/memory/oidc-adapter.ts (embedded, tests and single-process development).
 *
 * How oidc-provider 9 uses it:
 * - one adapter instance per model, made with `new Adapter(modelName)` (or `Adapter(modelName)` when the
 *   option is a plain factory function); `Client` gets its own separately cached instance;
 * - `upsert(id, payload, expiresIn)`: `expiresIn` in seconds, absent for things that never expire
 *   (e.g. dynamically registered clients);
 * - `find` results go through the model's own `exp` check (with clockTolerance), so storage expiry is
 *   garbage collection, not the authority on validity;
 * - `consume(id)` on AuthorizationCode, RefreshToken, DeviceCode, BackchannelAuthenticationRequest,
 *   PushedAuthorizationRequest, PreAuthorizedCode sets `consumed` (epoch seconds) on the stored payload.
 *   oidc-provider checks `consumed` on the copy it read earlier and ignores what consume returns, so two
 *   parallel redemptions would both pass; ours answer whether this call won, and src/oidc/single-use.ts
 *   turns a lost race into the OAuth error;
 * - `findByUid` only on Session, `findByUserCode` only on DeviceCode;
 * - `revokeByGrantId(grantId)` is called (concurrently) on the adapters of every grant-bearing token kind
 *   the client may hold; any one of those calls removes every token of that grant, whatever its kind.
 */

/** Model names oidc-provider 9 instantiates adapters for. */
export const OIDC_MODEL_NAMES = [
  'Session',
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'ClientCredentials',
  'Client',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'Interaction',
  'ReplayDetection',
  'PushedAuthorizationRequest',
  'Grant',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
] as const;

export type OidcModelName = (typeof OIDC_MODEL_NAMES)[number];

/**
 * Models whose stored items are indexed by `grantId` and removed by `revokeByGrantId` (the same set as
 * oidc-provider's own memory adapter). Interaction payloads also carry a `grantId` but are not
 * grant-bound tokens, so they are not indexed.
 */
export const GRANT_BOUND_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** A stored item as oidc-provider hands it over (always JSON-serialisable); the fields adapters look at are typed. */
export interface AdapterPayload {
  [key: string]: unknown;
  jti?: string;
  kind?: string;
  iat?: number;
  exp?: number;
  /** token → grant link, used by revokeByGrantId */
  grantId?: string;
  /** DeviceCode: the code the user types in, used by findByUserCode */
  userCode?: string;
  /** Session: the session uid, used by findByUid */
  uid?: string;
  /** epoch seconds, set by consume */
  consumed?: number;
}

export interface OidcAdapter {
  /**
   * Creates or replaces the item (and its uid / userCode / grant links); `expiresIn` in seconds, undefined
   * means it never expires, ≤ 0 means already expired (the item is removed).
   */
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  /** The item, or undefined when unknown or expired. */
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  /**
   * Marks the item consumed (`consumed` = now in epoch seconds), keeping its other fields and expiry, in one
   * atomic step: true for the one call that consumed it, false when it was already consumed or is unknown
   * (nothing changes then). Of any number of concurrent calls on one item, exactly one gets true.
   */
  consume(id: string): Promise<boolean>;
  destroy(id: string): Promise<void>;
  /** Removes every grant-bound item (of any kind, see GRANT_BOUND_MODELS) carrying `grantId`. */
  revokeByGrantId(grantId: string): Promise<void>;
}

/** What oidc-provider's `adapter` option accepts: a class it calls with `new` … */
export type OidcAdapterClass = new (modelName: string) => OidcAdapter;
/** … or a plain (non-async, non-constructable) factory function. */
export type OidcAdapterFactory = (modelName: string) => OidcAdapter;

/** Options shared by the adapter implementations. */
export interface OidcAdapterOptions {
  /**
   * Seconds added to every storage TTL, so that items the provider would still accept within its
   * `clockTolerance` are still there (oidc-provider's built-in adapter does the same). Default 0.
   */
  clockTolerance?: number;
}

/** A factory function over an adapter class (for callers that want `(name) => adapter`). */
export function adapterFactory(Adapter: OidcAdapterClass): OidcAdapterFactory {
  return (modelName) => new Adapter(modelName);
}

/**
 * Storage lifetime in milliseconds for an `expiresIn` (seconds) argument: `undefined` = no expiry,
 * a number ≤ 0 = already expired. Throws on anything that is not a number.
 */
export function ttlMilliseconds(expiresIn: unknown, clockTolerance = 0): number | undefined {
  if (expiresIn === undefined || expiresIn === null || expiresIn === Number.POSITIVE_INFINITY) return undefined;
  if (typeof expiresIn !== 'number' || Number.isNaN(expiresIn)) {
    throw new TypeError(`expiresIn must be a number of seconds or undefined, got ${String(expiresIn)}`);
  }
  return Math.ceil((expiresIn + clockTolerance) * 1000);
}

/** The current time in epoch seconds, as oidc-provider writes `consumed`. */
export function epochSeconds(now = Date.now()): number {
  return Math.floor(now / 1000);
}
