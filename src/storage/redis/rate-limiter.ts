/**
 * RateLimiter on Redis: one script per request, INCR and (for the window's first request) PEXPIRE, so
 * every instance counts into the same window. Keys: `${prefix}${sha256(key)}` (keys may be client
 * addresses: hashed, never stored as given), expiring with their window.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';
import type { RateLimiter } from '../rate-limiter.ts';

/** → { count in this window, ms until it ends } */
const TAKE_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { n, ttl }
`;
const takeScript = new LuaScript(TAKE_LUA);

export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    const redisKey = this.#prefix + createHash('sha256').update(key).digest('base64url');
    const [count, ttl] = (await takeScript.run(this.#redis, [redisKey], [String(Math.max(1, Math.round(windowMs)))])) as [number, number];
    return count > limit ? Math.max(1, Math.ceil(ttl / 1000)) : 0;
  }
}
