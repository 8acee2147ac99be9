/** The in-process ReplayStore (demo mode, tests): id → expiry, expired ids evicted as new ones come. */
import type { ReplayStore } from '../replay-store.ts';
import { ExpiringMap } from './expiring-map.ts';

export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new ExpiringMap<true>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async firstUse(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    if (this.#seen.get(id, now)) return false;
    this.#seen.set(id, true, now + ttlSeconds * 1000, now);
    return true;
  }

  /** ids held, live or not yet evicted (tests) */
  get size(): number {
    return this.#seen.size;
  }
}
