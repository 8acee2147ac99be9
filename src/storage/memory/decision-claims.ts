/** Decision claims in one process (demo mode; see ../decision-claims.ts). */
import type { ClaimState, DecisionClaims } from '../decision-claims.ts';

interface Claim {
  returnTo?: string;
  expiresAt: number;
}

export class MemoryDecisionClaims implements DecisionClaims {
  readonly #claims = new Map<string, Claim>();

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
    // expired claims of other interactions go as new ones come: the map stays as small as the live set
    for (const [key, claim] of this.#claims) if (claim.expiresAt <= Date.now()) this.#claims.delete(key);
    this.#claims.set(uid, { expiresAt: Date.now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000 });
    return true;
  }

  async settle(uid: string, returnTo: string): Promise<void> {
    const claim = this.#live(uid);
    if (claim) claim.returnTo = returnTo;
  }

  async release(uid: string): Promise<void> {
    if (this.#live(uid)?.returnTo === undefined) this.#claims.delete(uid);
  }

  async state(uid: string): Promise<ClaimState> {
    const claim = this.#live(uid);
    if (!claim) return { state: 'open' };
    return claim.returnTo === undefined ? { state: 'deciding' } : { state: 'decided', returnTo: claim.returnTo };
  }
}
