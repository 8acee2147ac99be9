/** Usage counters in process memory (embedded demo mode): the same contract as the Redis counters. */
import type { UsageCounter } from '../../consent/usage.ts';

export class MemoryUsageCounter implements UsageCounter {
  readonly #buckets = new Map<string, { counts: Map<string, number>; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #bucket(consentId: string, bucket: string) {
    const key = `${consentId}:${bucket}`;
    const found = this.#buckets.get(key);
    if (found && found.expiresAt <= this.#now()) {
      this.#buckets.delete(key);
      return undefined;
    }
    return found;
  }

  async increment(consentId: string, bucket: string, resource: string, expiresAt: Date): Promise<number> {
    let b = this.#bucket(consentId, bucket);
    if (!b) {
      b = { counts: new Map(), expiresAt: expiresAt.getTime() };
      this.#buckets.set(`${consentId}:${bucket}`, b);
    }
    b.expiresAt = expiresAt.getTime();
    const count = (b.counts.get(resource) ?? 0) + 1;
    b.counts.set(resource, count);
    return count;
  }

  async usage(consentId: string, bucket: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.#bucket(consentId, bucket)?.counts ?? []);
  }
}
