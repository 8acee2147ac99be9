/** The in-process LoginAttempts (demo mode, tests): a map of key → state, pruned as it is used. */
import type { AttemptState, LoginAttempts } from '../login-attempts.ts';

interface Entry extends AttemptState {
  expiresAt: number;
}

export class MemoryLoginAttempts implements LoginAttempts {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async state(key: string): Promise<AttemptState> {
    const entry = this.#live(key);
    return entry ? { failures: entry.failures, blockedUntil: entry.blockedUntil } : { failures: 0, blockedUntil: 0 };
  }

  async recordFailure(key: string, blockMs: (failures: number) => number, windowSeconds: number): Promise<AttemptState> {
    const now = this.#now();
    if (this.#entries.size >= 10_000) this.#prune(now);
    const entry = this.#live(key) ?? { failures: 0, blockedUntil: 0, expiresAt: 0 };
    entry.failures += 1;
    const block = Math.max(0, blockMs(entry.failures));
    if (block > 0) entry.blockedUntil = Math.max(entry.blockedUntil, now + block);
    entry.expiresAt = Math.max(now + windowSeconds * 1000, entry.blockedUntil);
    this.#entries.set(key, entry);
    return { failures: entry.failures, blockedUntil: entry.blockedUntil };
  }

  async clear(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
