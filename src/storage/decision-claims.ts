/**
 * One decision per interaction, across instances. Whoever ends an authorization (the customer's approve,
 * deny or cancel, an approval that can no longer happen, the bank UI's persist call) first claims the
 * interaction here, before any persist step runs; only the holder of the claim runs them and hands the
 * result to oidc-provider, then records where it sent the browser. A second submission of the same form
 * (two tabs, a retry) loses the claim and is sent where the first was, or told the request was decided.
 * Implementations: storage/redis/decision-claims.ts (shared by every instance), storage/memory/ (one
 * process, demo mode); one contract suite (test/contract/decision-claims.contract.ts).
 */

export type ClaimState =
  /** nobody holds a claim (never claimed, released, or expired) */
  | { state: 'open' }
  /** a decision is being made (by another request, maybe on another instance) */
  | { state: 'deciding' }
  /** decided: the browser was sent to `returnTo` */
  | { state: 'decided'; returnTo: string };

export interface DecisionClaims {
  /** Atomically takes the claim on `uid` for `ttlSeconds`; true for exactly one of concurrent callers. */
  claim(uid: string, ttlSeconds: number): Promise<boolean>;
  /** The holder records the outcome (keeps the claim's expiry). */
  settle(uid: string, returnTo: string): Promise<void>;
  /** The holder gives the claim back without deciding (nothing was stored, a retry may decide). */
  release(uid: string): Promise<void>;
  state(uid: string): Promise<ClaimState>;
  /**
   * The holder notes the grant its decision approves, before the consent records the approval. Settling
   * or releasing the claim drops the note; a note that stays says the deciding instance died (or hangs)
   * between storing the approval and handing it over, so the recovery can end that consent.
   */
  note(uid: string, grantId: string): Promise<void>;
  /** Notes older than `before`, oldest first, at most `limit`. */
  pending(before: Date, limit: number): Promise<Array<{ uid: string; grantId: string }>>;
  /** Drops a note (the recovery dealt with it). */
  forget(uid: string): Promise<void>;
}
