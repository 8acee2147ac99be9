/** The in-process LoginAttempts (demo mode, tests): key → state, expired states evicted as new failures come. */
import type { AttemptState, LoginAttempts } from '../login-attempts.ts';
import { ExpiringMap } from './expiring-map.ts';

export class MemoryLoginAttempts implements LoginAttempts {
  readonly #entries = new ExpiringMap<AttemptState>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async state(key: string): Promise<AttemptState> {
    const entry = this.#entries.get(key, this.#now());
    return entry ? { failures: entry.failures, blockedUntil: entry.blockedUntil } : { failures: 0, blockedUntil: 0 };
  }

  async recordFailure(key: string, blockMs: (failures: number) => number, windowSeconds: number): Promise<AttemptState> {
    const now = this.#now();
    const before = this.#entries.get(key, now) ?? { failures: 0, blockedUntil: 0 };
    const failures = before.failures + 1;
    const block = Math.max(0, blockMs(failures));
    const blockedUntil = block > 0 ? Math.max(before.blockedUntil, now + block) : before.blockedUntil;
    this.#entries.set(key, { failures, blockedUntil }, Math.max(now + windowSeconds * 1000, blockedUntil), now);
    return { failures, blockedUntil };
  }

  async clear(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}
