/**
 * ReplayStore on Redis: one `SET key 1 PX ttl NX` per sighting, so the first of any number of concurrent
 * callers on any instance wins. Keys: `${prefix}${sha256(id)}` (ids come from TPPs: hashed to a fixed
 * length, never stored as given).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ReplayStore } from '../replay-store.ts';

export class RedisReplayStore implements ReplayStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  async firstUse(id: string, ttlSeconds: number): Promise<boolean> {
    const key = this.#prefix + createHash('sha256').update(id).digest('base64url');
    const ms = Math.max(1, Math.ceil(ttlSeconds * 1000));
    return (await this.#redis.set(key, '1', 'PX', ms, 'NX')) === 'OK';
  }
}
