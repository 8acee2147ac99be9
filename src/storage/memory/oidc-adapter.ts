/**
 * Embedded in-memory oidc-provider adapter: single process only (tests, local development). Items are
 * kept as JSON text, so what comes back is a fresh copy with exactly the JSON round trip the Redis
 * adapter gives. Expiry is honoured on every read, and an unref'd timer sweeps expired entries out.
 */
import {
  GRANT_BOUND_MODELS,
  epochSeconds,
  ttlMilliseconds,
  type AdapterPayload,
  type OidcAdapter,
  type OidcAdapterClass,
  type OidcAdapterOptions,
} from '../oidc-adapter.ts';

interface Entry {
  value: string;
  /** epoch milliseconds; Infinity = never */
  expiresAt: number;
}

export interface MemoryOidcStoreOptions {
  /** how often expired entries are swept out; 0 disables the timer (reads still honour expiry). Default 60 s. */
  sweepIntervalMs?: number;
}

const isLive = (entry: Entry | undefined, now: number): entry is Entry => entry !== undefined && entry.expiresAt > now;

function parse(json: string): AdapterPayload {
  return JSON.parse(json) as AdapterPayload;
}

const stringField = (payload: AdapterPayload, field: 'uid' | 'userCode' | 'grantId'): string | undefined => {
  const value = payload[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/**
 * The storage behind memory adapters. Every adapter class made over the same store (all models of one
 * provider) shares it — the grant index spans models — and separate stores are fully isolated.
 */
export class MemoryOidcStore {
  /** `${model}:${id}` → JSON payload */
  readonly #items = new Map<string, Entry>();
  /** `uid:${model}:${uid}` / `userCode:${model}:${userCode}` → id */
  readonly #indexes = new Map<string, Entry>();
  /** grantId → item key → the item's expiresAt */
  readonly #grants = new Map<string, Map<string, number>>();
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  constructor({ sweepIntervalMs = 60_000 }: MemoryOidcStoreOptions = {}) {
    if (sweepIntervalMs > 0) {
      this.#timer = setInterval(() => this.sweep(), sweepIntervalMs);
      this.#timer.unref();
    }
  }

  /** number of stored, unexpired items (indexes not counted) */
  get size(): number {
    const now = Date.now();
    let n = 0;
    for (const entry of this.#items.values()) if (isLive(entry, now)) n += 1;
    return n;
  }

  /** what the store holds, expired entries not swept yet included (items, uid/userCode indexes, grants) */
  get held(): { items: number; indexes: number; grants: number } {
    return { items: this.#items.size, indexes: this.#indexes.size, grants: this.#grants.size };
  }

  /** Drops every expired item, index entry and grant membership. */
  sweep(now = Date.now()): void {
    for (const [key, entry] of this.#items) if (!isLive(entry, now)) this.#items.delete(key);
    for (const [key, entry] of this.#indexes) if (!isLive(entry, now)) this.#indexes.delete(key);
    for (const [grantId, members] of this.#grants) {
      for (const [key, expiresAt] of members) if (expiresAt <= now) members.delete(key);
      if (members.size === 0) this.#grants.delete(grantId);
    }
  }

  /** Stops the sweep timer (it is unref'd, so this is only needed for tidiness). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  upsert(model: string, id: string, payload: AdapterPayload, ttlMs: number | undefined): void {
    if (ttlMs !== undefined && ttlMs <= 0) {
      this.destroy(model, id);
      return;
    }
    const now = Date.now();
    const key = itemKey(model, id);
    const expiresAt = ttlMs === undefined ? Number.POSITIVE_INFINITY : now + ttlMs;
    const value = JSON.stringify(payload);

    const previous = this.#items.get(key);
    if (isLive(previous, now)) this.#dropStaleLinks(model, id, parse(previous.value), payload);

    this.#items.set(key, { value, expiresAt });
    const uid = stringField(payload, 'uid');
    if (uid) this.#indexes.set(uidKey(model, uid), { value: id, expiresAt });
    const userCode = stringField(payload, 'userCode');
    if (userCode) this.#indexes.set(userCodeKey(model, userCode), { value: id, expiresAt });
    const grantId = stringField(payload, 'grantId');
    if (grantId && GRANT_BOUND_MODELS.has(model)) {
      let members = this.#grants.get(grantId);
      if (!members) {
        members = new Map();
        this.#grants.set(grantId, members);
      }
      for (const [member, memberExpiresAt] of members) if (memberExpiresAt <= now) members.delete(member);
      members.set(key, expiresAt);
    }
  }

  find(model: string, id: string): AdapterPayload | undefined {
    const entry = this.#items.get(itemKey(model, id));
    return isLive(entry, Date.now()) ? parse(entry.value) : undefined;
  }

  findByUid(model: string, uid: string): AdapterPayload | undefined {
    return this.#findByIndex(model, uidKey(model, uid), 'uid', uid);
  }

  findByUserCode(model: string, userCode: string): AdapterPayload | undefined {
    return this.#findByIndex(model, userCodeKey(model, userCode), 'userCode', userCode);
  }

  /** true when this call consumed the item (synchronous, so atomic within the process) */
  consume(model: string, id: string): boolean {
    const entry = this.#items.get(itemKey(model, id));
    if (!isLive(entry, Date.now())) return false;
    const payload = parse(entry.value);
    if (payload.consumed !== undefined) return false;
    payload.consumed = epochSeconds();
    entry.value = JSON.stringify(payload);
    return true;
  }

  destroy(model: string, id: string): void {
    const key = itemKey(model, id);
    const entry = this.#items.get(key);
    if (!entry) return;
    this.#items.delete(key);
    this.#dropLinks(model, id, parse(entry.value));
  }

  revokeByGrantId(grantId: string): void {
    const members = this.#grants.get(grantId);
    if (!members) return;
    this.#grants.delete(grantId);
    for (const key of members.keys()) {
      const entry = this.#items.get(key);
      if (!entry) continue;
      const separator = key.indexOf(':');
      const model = key.slice(0, separator);
      const id = key.slice(separator + 1);
      this.#items.delete(key);
      this.#dropLinks(model, id, parse(entry.value), grantId);
    }
  }

  #findByIndex(
    model: string,
    indexKey: string,
    field: 'uid' | 'userCode',
    expected: string,
  ): AdapterPayload | undefined {
    const index = this.#indexes.get(indexKey);
    if (!isLive(index, Date.now())) return undefined;
    const payload = this.find(model, index.value);
    // an index entry can outlive a change of the item it points to; only trust it when the item agrees
    return payload && payload[field] === expected ? payload : undefined;
  }

  /** Removes the index entries and grant membership `payload` (stored as model:id) owns. */
  #dropLinks(model: string, id: string, payload: AdapterPayload, revokedGrant?: string): void {
    const uid = stringField(payload, 'uid');
    if (uid) this.#deleteIndexIfOwned(uidKey(model, uid), id);
    const userCode = stringField(payload, 'userCode');
    if (userCode) this.#deleteIndexIfOwned(userCodeKey(model, userCode), id);
    const grantId = stringField(payload, 'grantId');
    if (grantId && grantId !== revokedGrant) this.#leaveGrant(grantId, itemKey(model, id));
  }

  /** On overwrite: removes the links of `previous` that `next` no longer has. */
  #dropStaleLinks(model: string, id: string, previous: AdapterPayload, next: AdapterPayload): void {
    const uid = stringField(previous, 'uid');
    if (uid && uid !== stringField(next, 'uid')) this.#deleteIndexIfOwned(uidKey(model, uid), id);
    const userCode = stringField(previous, 'userCode');
    if (userCode && userCode !== stringField(next, 'userCode')) {
      this.#deleteIndexIfOwned(userCodeKey(model, userCode), id);
    }
    const grantId = stringField(previous, 'grantId');
    if (grantId && grantId !== stringField(next, 'grantId')) this.#leaveGrant(grantId, itemKey(model, id));
  }

  /** Deletes an index entry only while it still points at `id` (a Session re-keyed under the same uid owns it now). */
  #deleteIndexIfOwned(indexKey: string, id: string): void {
    if (this.#indexes.get(indexKey)?.value === id) this.#indexes.delete(indexKey);
  }

  #leaveGrant(grantId: string, key: string): void {
    const members = this.#grants.get(grantId);
    if (!members) return;
    members.delete(key);
    if (members.size === 0) this.#grants.delete(grantId);
  }
}

function itemKey(model: string, id: string): string {
  return `${model}:${id}`;
}
function uidKey(model: string, uid: string): string {
  return `uid:${model}:${uid}`;
}
function userCodeKey(model: string, userCode: string): string {
  return `userCode:${model}:${userCode}`;
}

/** An adapter class as returned by memoryAdapterClass, exposing the store it writes to. */
export type MemoryOidcAdapterClass = OidcAdapterClass & { readonly store: MemoryOidcStore };

/**
 * An adapter class for oidc-provider's `adapter` option over `store` (a new, private store by default),
 * so each provider instance or test gets isolated storage.
 */
export function memoryAdapterClass(
  store: MemoryOidcStore = new MemoryOidcStore(),
  { clockTolerance = 0 }: OidcAdapterOptions = {},
): MemoryOidcAdapterClass {
  return class MemoryOidcAdapter implements OidcAdapter {
    static readonly store = store;
    readonly modelName: string;

    constructor(modelName: string) {
      this.modelName = modelName;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      store.upsert(this.modelName, id, payload, ttlMilliseconds(expiresIn, clockTolerance));
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return typeof id === 'string' ? store.find(this.modelName, id) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return typeof uid === 'string' ? store.findByUid(this.modelName, uid) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return typeof userCode === 'string' ? store.findByUserCode(this.modelName, userCode) : undefined;
    }

    async consume(id: string): Promise<boolean> {
      return store.consume(this.modelName, id);
    }

    async destroy(id: string): Promise<void> {
      store.destroy(this.modelName, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      store.revokeByGrantId(grantId);
    }
  };
}
