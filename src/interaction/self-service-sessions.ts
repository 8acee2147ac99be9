/**
 * "My consents" sessions, held on the server: the cookie carries a random 256-bit id, the store (the
 * oidc adapter: Redis, shared by every instance, or memory in demo mode) holds the customer under the
 * id's SHA-256, expiring with the session. Logging out destroys the record, so a copied cookie stops
 * working at once. The PSU id is stored as `accountId`, the field name oidc-provider's own sessions use.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OidcAdapter, OidcAdapterClass } from '../storage/oidc-adapter.ts';

const MODEL = 'SelfServiceSession';
const SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hash = (id: string) => createHash('sha256').update(id).digest('base64url');

export class SelfServiceSessions {
  readonly #store: OidcAdapter;
  readonly #ttlSeconds: number;

  constructor(Adapter: OidcAdapterClass, ttlSeconds: number) {
    this.#store = new Adapter(MODEL);
    this.#ttlSeconds = ttlSeconds;
  }

  /** a new session for `psuId`; the returned id goes into the cookie */
  async start(psuId: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + this.#ttlSeconds;
    await this.#store.upsert(hash(id), { accountId: psuId, exp }, this.#ttlSeconds);
    return id;
  }

  /** the customer of a live session, or undefined (unknown, expired or ended) */
  async psuOf(id: string): Promise<string | undefined> {
    if (!SHAPE.test(id)) return undefined;
    const entry = await this.#store.find(hash(id));
    if (!entry || typeof entry.accountId !== 'string' || typeof entry.exp !== 'number' || entry.exp < Date.now() / 1000) return undefined;
    return entry.accountId;
  }

  async end(id: string): Promise<void> {
    if (SHAPE.test(id)) await this.#store.destroy(hash(id));
  }
}
