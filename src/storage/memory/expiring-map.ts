/**
 * A map whose entries expire, for the embedded stores' short-lived records (replayed ids, rate-limit
 * windows, login attempts, decision claims). Entries are kept in write order; each write evicts the
 * expired entries at the front until the first live one, so the cost per write is amortised O(1) and
 * never a walk over every live entry. An entry whose expiry is shorter than one written before it is
 * evicted when read, or once the entries before it have expired: memory stays bounded by one maximum
 * lifetime's worth of writes. Writing a key again moves it to the back with its new expiry.
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  /** the live value of `key` at `now` (an expired one is removed) */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number, now: number): void {
    this.#entries.delete(key);
    for (const [front, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(front);
    }
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** entries held, live or not yet evicted */
  get size(): number {
    return this.#entries.size;
  }
}
