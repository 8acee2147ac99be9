/**
 * Single-use identifiers (a signed message's `jti`): the first sighting wins, every later one is a replay.
 * Implementations: storage/redis/replay-store.ts (shared by every instance) and
 * storage/memory/replay-store.ts (one process: demo mode and tests). Both pass
 * test/contract/replay-store.contract.ts.
 */
export interface ReplayStore {
  /**
   * Records `id` for `ttlSeconds`. True the first time; false while it is still recorded. Atomic: of
   * concurrent calls with one id, exactly one gets true (across instances, for the shared store).
   */
  firstUse(id: string, ttlSeconds: number): Promise<boolean>;
}
