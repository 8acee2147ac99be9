/** Decision claims in one process (demo mode; see ../decision-claims.ts). */
import type { ClaimState, DecisionClaims } from '../decision-claims.ts';

interface Claim {
  returnTo?: string;
  expiresAt: number;
}

export class MemoryDecisionClaims implements DecisionClaims {
  readonly #claims = new Map<string, Claim>();
  /** uid → the noted grant and when (insertion order is note order) */
  readonly #notes = new Map<string, { grantId: string; at: number }>();

  #live(uid: string): Claim | undefined {
    const claim = this.#claims.get(uid);
    if (claim && claim.expiresAt <= Date.now()) {
      this.#claims.delete(uid);
      return undefined;
    }
    return claim;
  }

  async claim(uid: string, ttlSeconds: number): Promise<boolean> {
    if (this.#live(uid)) return false;
    // Expired claims of other interactions go as new ones come, oldest first, until the first live one:
    // amortised O(1) per claim, never a walk over every claim held. (The map is in claim order; a claim
    // whose interaction ends sooner than one claimed before it goes when read, or when those before it
    // have expired: at most one interaction lifetime of claims is ever held.)
    const now = Date.now();
    for (const [key, claim] of this.#claims) {
      if (claim.expiresAt > now) break;
      this.#claims.delete(key);
    }
    this.#claims.set(uid, { expiresAt: now + Math.max(1, Math.ceil(ttlSeconds)) * 1000 });
    return true;
  }

  /** claims held, live or not yet evicted (tests) */
  get size(): number {
    return this.#claims.size;
  }

  async settle(uid: string, returnTo: string): Promise<void> {
    const claim = this.#live(uid);
    if (claim) claim.returnTo = returnTo;
    this.#notes.delete(uid);
  }

  async release(uid: string): Promise<void> {
    if (this.#live(uid)?.returnTo === undefined) this.#claims.delete(uid);
    this.#notes.delete(uid);
  }

  async note(uid: string, grantId: string): Promise<void> {
    this.#notes.delete(uid);
    this.#notes.set(uid, { grantId, at: Date.now() });
  }

  async pending(before: Date, limit: number): Promise<Array<{ uid: string; grantId: string }>> {
    const found: Array<{ uid: string; grantId: string }> = [];
    for (const [uid, { grantId, at }] of this.#notes) {
      if (found.length >= limit || at >= before.getTime()) break;
      found.push({ uid, grantId });
    }
    return found;
  }

  async forget(uid: string): Promise<void> {
    this.#notes.delete(uid);
  }

  async state(uid: string): Promise<ClaimState> {
    const claim = this.#live(uid);
    if (!claim) return { state: 'open' };
    return claim.returnTo === undefined ? { state: 'deciding' } : { state: 'decided', returnTo: claim.returnTo };
  }
}
