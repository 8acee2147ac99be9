/** The consent fence in process memory (embedded demo mode, one instance): the same contract as Redis's. */
import type { ConsentFence } from '../consent-fence.ts';
import { FENCE_TTL_MS } from '../consent-fence.ts';
import type { MemoryUsageCounter } from './usage-counter.ts';

interface Entry {
  revision?: number;
  holds: number;
  expiresAt: number;
}

export class MemoryConsentFence implements ConsentFence {
  readonly #entries = new Map<string, Entry>();
  readonly #usage: MemoryUsageCounter;
  readonly #now: () => number;

  /** `usage`: the counters the fenced increments add to (the store's UsageCounter) */
  constructor(usage: MemoryUsageCounter, now: () => number = Date.now) {
    this.#usage = usage;
    this.#now = now;
  }

  #entry(id: string): Entry | undefined {
    const e = this.#entries.get(id);
    if (e && e.expiresAt <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return e;
  }

  #touch(id: string): Entry {
    const e = this.#entry(id) ?? { holds: 0, expiresAt: 0 };
    e.expiresAt = this.#now() + FENCE_TTL_MS;
    this.#entries.set(id, e);
    return e;
  }

  #current(id: string, revision: number): boolean {
    const e = this.#entry(id);
    return e !== undefined && e.holds === 0 && e.revision === revision;
  }

  async hold(consentId: string): Promise<void> {
    this.#touch(consentId).holds++;
  }

  async release(consentId: string, revision: number | null): Promise<void> {
    const e = this.#touch(consentId);
    e.holds = Math.max(0, e.holds - 1);
    if (revision !== null && (e.revision === undefined || revision > e.revision)) e.revision = revision;
    if (e.holds === 0 && e.revision === undefined) this.#entries.delete(consentId);
  }

  async register(consentId: string, revision: number): Promise<boolean> {
    if (!this.#entry(consentId)) {
      this.#touch(consentId).revision = revision;
      return true;
    }
    return this.#current(consentId, revision);
  }

  async isCurrent(consentId: string, revision: number): Promise<boolean> {
    return this.#current(consentId, revision);
  }

  async incrementIfCurrent(consentId: string, revision: number, bucket: string, resource: string, expiresAt: Date): Promise<number | undefined> {
    if (!this.#current(consentId, revision)) return undefined;
    return this.#usage.increment(consentId, bucket, resource, expiresAt);
  }

  async usageIfCurrent(consentId: string, revision: number, bucket: string): Promise<Record<string, number> | undefined> {
    if (!this.#current(consentId, revision)) return undefined;
    return this.#usage.usage(consentId, bucket);
  }
}
