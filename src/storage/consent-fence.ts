/**
 * Which revision of each consent is current, shared by every Assent instance, so that an instance may
 * keep consents in memory for the hot path (consent validation) and still never act on an outdated one.
 *
 *   writer (ConsentService):  hold(id) → repository write → release(id, new revision | null)
 *   reader (AccessValidator): a remembered copy of revision R is used only while the fence says R is
 *                             current and nobody holds it; the check and the usage count are one atomic
 *                             step (incrementIfCurrent / usageIfCurrent), so a revocation that has
 *                             released wins over every later access, at once, on every instance.
 *   reader (ConsentService):  `get` answers from a remembered copy only when isCurrent(id, R) says so
 *                             (one Redis round trip instead of a MongoDB read); a writer that computed
 *                             from it is still checked by the repository's conditional update.
 *
 * A writer whose write ended in an unknown state (the repository threw) never releases: the consent stays
 * held until the fence entry expires (a day), and every reader goes to the repository meanwhile (slow,
 * never wrong). A hold that cannot be taken stops the write (the repository is not touched).
 * Implementations: storage/redis/consent-fence.ts (shared), storage/memory/ (one process, demo mode);
 * one contract suite (test/contract/consent-fence.contract.ts).
 */

export interface ConsentFence {
  /** a write of the consent begins: remembered copies are not used until it is released */
  hold(consentId: string): Promise<void>;
  /** the write is over: `revision` is the consent's revision now (null: this writer changed nothing) */
  release(consentId: string, revision: number | null): Promise<void>;
  /**
   * A reader has just read `revision` from the repository: true when it is current and unheld (it may be
   * remembered). When the fence knows nothing of the consent, `revision` becomes current.
   */
  register(consentId: string, revision: number): Promise<boolean>;
  /**
   * True when `revision` is current and nobody holds the consent; false otherwise, and false when the
   * fence knows nothing of the consent (unlike `register`, it never makes a revision current).
   */
  isCurrent(consentId: string, revision: number): Promise<boolean>;
  /**
   * When `revision` is current and unheld: adds one access to the usage counter (the same counters as
   * UsageCounter: bucket, resource, expiry) and returns the count after it. Otherwise undefined, and
   * nothing is counted. Throws UsageUnavailable when the store cannot answer.
   */
  incrementIfCurrent(consentId: string, revision: number, bucket: string, resource: string, expiresAt: Date): Promise<number | undefined>;
  /** When `revision` is current and unheld: the usage so far (as UsageCounter.usage); otherwise undefined. */
  usageIfCurrent(consentId: string, revision: number, bucket: string): Promise<Record<string, number> | undefined>;
}

/** how long a fence entry lives after its last write (a stuck hold ends with it) */
export const FENCE_TTL_MS = 24 * 3_600_000;
