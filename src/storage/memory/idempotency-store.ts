/** The in-process IdempotencyStore (demo mode, tests). */
import type { IdempotencyBegin, IdempotencyStore, StoredResponse } from '../idempotency-store.ts';

interface Entry {
  fingerprint: string;
  response?: StoredResponse;
  until: number;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.until <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async begin(key: string, fingerprint: string, options: { pendingSeconds: number }): Promise<IdempotencyBegin> {
    const entry = this.#live(key);
    if (!entry) {
      if (this.#entries.size >= 10_000) for (const k of [...this.#entries.keys()]) this.#live(k);
      this.#entries.set(key, { fingerprint, until: Date.now() + options.pendingSeconds * 1000 });
      return { outcome: 'started' };
    }
    if (entry.fingerprint !== fingerprint) return { outcome: 'mismatch' };
    return entry.response ? { outcome: 'replay', response: { ...entry.response } } : { outcome: 'pending' };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse, ttlSeconds: number): Promise<void> {
    const entry = this.#live(key);
    if (entry && (entry.fingerprint !== fingerprint || entry.response)) return;
    this.#entries.set(key, { fingerprint, response: { ...response }, until: Date.now() + ttlSeconds * 1000 });
  }

  async abandon(key: string, fingerprint: string): Promise<void> {
    const entry = this.#live(key);
    if (entry && entry.fingerprint === fingerprint && !entry.response) this.#entries.delete(key);
  }
}
