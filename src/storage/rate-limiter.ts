/**
 * Fixed-window request counters (the Berlin Group consent-creation limit). Implementations:
 * storage/redis/rate-limiter.ts (shared by every instance) and storage/memory/rate-limiter.ts (one
 * process: demo mode and tests). Both pass test/contract/rate-limiter.contract.ts.
 */
export interface RateLimiter {
  /**
   * Counts one request under `key` in its current window (a window starts with the first request and
   * lasts `windowMs`). Returns 0 while at most `limit` requests were counted in the window, else the
   * seconds until it ends (at least 1). Atomic: concurrent calls, on any instance for the shared store,
   * are each counted once.
   */
  take(key: string, limit: number, windowMs: number): Promise<number>;
}
