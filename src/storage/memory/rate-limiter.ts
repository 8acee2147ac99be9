/** The in-process RateLimiter (demo mode, tests): a fixed window per key, expired windows evicted as new ones open. */
import type { RateLimiter } from '../rate-limiter.ts';
import { ExpiringMap } from './expiring-map.ts';

export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new ExpiringMap<{ start: number; count: number; windowMs: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    const now = this.#now();
    let window = this.#windows.get(key, now);
    if (!window) {
      window = { start: now, count: 0, windowMs };
      this.#windows.set(key, window, now + windowMs, now);
    }
    window.count++;
    return window.count > limit ? Math.max(1, Math.ceil((window.start + window.windowMs - now) / 1000)) : 0;
  }
}
