/**
 * sessionDataKey: the handle the bank's own consent UI uses with the retrieve/persist API. A random
 * 256-bit value, stored only as its SHA-256 (so a leaked store does not leak usable keys), pointing at
 * one interaction and expiring with it. It is useless without the internal API's credentials, and the
 * persist call consumes it: one key, one decision.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OidcAdapter, OidcAdapterClass } from '../storage/oidc-adapter.ts';

const MODEL = 'SessionDataKey';
const SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hash = (key: string) => createHash('sha256').update(key).digest('base64url');

export class SessionDataKeys {
  readonly #store: OidcAdapter;

  constructor(Adapter: OidcAdapterClass) {
    this.#store = new Adapter(MODEL);
  }

  /** a new key for the interaction `uid`, valid until `exp` (epoch seconds) */
  async issue(uid: string, exp: number): Promise<string> {
    const key = randomBytes(32).toString('base64url');
    const ttl = Math.max(1, exp - Math.floor(Date.now() / 1000));
    await this.#store.upsert(hash(key), { uid, exp }, ttl);
    return key;
  }

  /** the interaction uid behind a key that is known, unexpired and not yet used */
  async resolve(key: string): Promise<string | undefined> {
    if (!SHAPE.test(key)) return undefined;
    const entry = await this.#store.find(hash(key));
    if (!entry || entry.consumed || typeof entry.uid !== 'string') return undefined;
    return entry.uid;
  }

  /** marks the key used; later calls to resolve() find nothing */
  async consume(key: string): Promise<void> {
    if (SHAPE.test(key)) await this.#store.destroy(hash(key));
  }
}
