/** Decision claims in one process (demo mode; see ../decision-claims.ts). */
import type { ClaimState, DecisionClaims } from '../decision-claims.ts';
import { ExpiringMap } from './expiring-map.ts';

interface Claim {
  returnTo?: string;
}

export class MemoryDecisionClaims implements DecisionClaims {
  /** uid → claim, expiring with its interaction (./expiring-map.ts: no walk over the live claims) */
  readonly #claims = new ExpiringMap<Claim>();
  /** uid → the noted grant and when (insertion order is note order) */
  readonly #notes = new Map<string, { grantId: string; at: number }>();

  #live(uid: string): Claim | undefined {
    return this.#claims.get(uid, Date.now());
  }

  async claim(uid: string, ttlSeconds: number): Promise<boolean> {
    if (this.#live(uid)) return false;
    const now = Date.now();
    this.#claims.set(uid, {}, now + Math.max(1, Math.ceil(ttlSeconds)) * 1000, now);
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
