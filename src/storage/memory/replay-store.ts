/** The in-process ReplayStore (demo mode, tests): a map of id → expiry, pruned as it is used. */
import type { ReplayStore } from '../replay-store.ts';

export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async firstUse(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#seen.get(id);
    if (until !== undefined && until > now) return false;
    if (this.#seen.size >= 10_000) this.#prune(now);
    this.#seen.set(id, now + ttlSeconds * 1000);
    return true;
  }

  #prune(now: number): void {
    for (const [id, until] of this.#seen) if (until <= now) this.#seen.delete(id);
  }
}
