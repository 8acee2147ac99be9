/**
 * Usage counters in Redis: one hash per consent and bucket (`{prefix}usage:{consentId}:{bucket}`), one
 * field per resource path. HINCRBY and PEXPIREAT run in one MULTI, so concurrent accesses from any number
 * of Assent instances each get their own count and the hash goes away when the bank's day ends.
 * Any Redis failure is a UsageUnavailable: the caller fails closed.
 */
import type { Redis } from 'ioredis';
import { UsageUnavailable, type UsageCounter } from '../../consent/usage.ts';
import { withTimeout } from '../with-timeout.ts';

/** the hash holding one consent's counts in one bucket (shared with the consent fence's fenced increments) */
export function usageKey(prefix: string, consentId: string, bucket: string): string {
  return `${prefix}usage:${consentId}:${bucket}`;
}

export class RedisUsageCounter implements UsageCounter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(redis: Redis, options: { prefix: string; timeoutMs?: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#timeoutMs = options.timeoutMs ?? 1_500;
  }

  #key(consentId: string, bucket: string): string {
    return usageKey(this.#prefix, consentId, bucket);
  }

  async increment(consentId: string, bucket: string, resource: string, expiresAt: Date): Promise<number> {
    const key = this.#key(consentId, bucket);
    const results = await this.#guard(this.#redis.multi().hincrby(key, resource, 1).pexpireat(key, expiresAt.getTime()).exec());
    const [err, count] = results?.[0] ?? [new Error('no reply'), undefined];
    if (err || typeof count !== 'number') throw new UsageUnavailable('the usage counters could not be updated');
    return count;
  }

  async usage(consentId: string, bucket: string): Promise<Record<string, number>> {
    const raw = await this.#guard(this.#redis.hgetall(this.#key(consentId, bucket)));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  /** a failed or slow Redis is UsageUnavailable (ioredis queues commands while reconnecting) */
  async #guard<T>(promise: Promise<T>): Promise<T> {
    try {
      return await withTimeout(promise, this.#timeoutMs);
    } catch (err) {
      if (err instanceof UsageUnavailable) throw err;
      throw new UsageUnavailable('the usage counters (Redis) are unavailable');
    }
  }
}
