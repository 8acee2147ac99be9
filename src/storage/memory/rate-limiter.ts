/** The in-process RateLimiter (demo mode, tests): a fixed window per key, pruned as it is used. */
import type { RateLimiter } from '../rate-limiter.ts';

export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number; windowMs: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= window.windowMs) {
      if (this.#windows.size > 10_000) this.#prune(now);
      window = { start: now, count: 0, windowMs };
      this.#windows.set(key, window);
    }
    window.count++;
    return window.count > limit ? Math.max(1, Math.ceil((window.start + window.windowMs - now) / 1000)) : 0;
  }

  #prune(now: number): void {
    for (const [key, window] of this.#windows) if (now - window.start >= window.windowMs) this.#windows.delete(key);
  }
}
