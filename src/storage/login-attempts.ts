/**
 * Failed login attempts per key (an account, a client address), for login throttling
 * (src/interaction/login-throttle.ts). Implementations: storage/redis/login-attempts.ts (shared by
 * every instance) and storage/memory/login-attempts.ts (one process: demo mode and tests). Both pass
 * test/contract/login-attempts.contract.ts. Keys are opaque (callers pass keyed hashes, never usernames).
 */
export interface AttemptState {
  /** failed attempts counted (they are forgotten `windowSeconds` after the last one) */
  failures: number;
  /** epoch ms until which the key is blocked; 0 or a past time: not blocked */
  blockedUntil: number;
}

export interface LoginAttempts {
  /** the key's state ({ failures: 0, blockedUntil: 0 } when unknown) */
  state(key: string): Promise<AttemptState>;
  /**
   * Counts one failure (atomically: concurrent failures on any instance are each counted) and blocks the
   * key for `blockMs(failures)` from now, never shortening a block already in place. The record lives
   * `windowSeconds` after this failure, and at least as long as its block.
   */
  recordFailure(key: string, blockMs: (failures: number) => number, windowSeconds: number): Promise<AttemptState>;
  /** forgets the key (a successful login) */
  clear(key: string): Promise<void>;
}
