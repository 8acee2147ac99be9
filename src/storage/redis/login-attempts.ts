/**
 * LoginAttempts on Redis: one hash per key (`${prefix}${sha256(key)}`: `f` failures, `u` blocked-until
 * epoch ms). A failure is HINCRBY (each concurrent failure gets its own count, on any instance), then the
 * block for that count is merged in by a script that only ever lengthens it and the key's expiry.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';
import type { AttemptState, LoginAttempts } from '../login-attempts.ts';

/** ARGV: failures' window ms, block-until epoch ms (0: none), now epoch ms → blocked-until */
const MERGE_LUA = `
local current = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
local untilMs = tonumber(ARGV[2])
if untilMs > current then redis.call('HSET', KEYS[1], 'u', ARGV[2]); current = untilMs end
local life = tonumber(ARGV[1])
if current - tonumber(ARGV[3]) > life then life = current - tonumber(ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < life then redis.call('PEXPIRE', KEYS[1], life) end
return current
`;
const mergeScript = new LuaScript(MERGE_LUA);

export class RedisLoginAttempts implements LoginAttempts {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  #key(key: string): string {
    return this.#prefix + createHash('sha256').update(key).digest('base64url');
  }

  async state(key: string): Promise<AttemptState> {
    const [f, u] = await this.#redis.hmget(this.#key(key), 'f', 'u');
    return { failures: Number(f ?? 0), blockedUntil: Number(u ?? 0) };
  }

  async recordFailure(key: string, blockMs: (failures: number) => number, windowSeconds: number): Promise<AttemptState> {
    const redisKey = this.#key(key);
    const failures = await this.#redis.hincrby(redisKey, 'f', 1);
    const now = Date.now();
    const block = Math.max(0, blockMs(failures));
    const blockedUntil = Number(
      await mergeScript.run(this.#redis, [redisKey], [String(Math.max(1, Math.round(windowSeconds * 1000))), String(block > 0 ? now + Math.round(block) : 0), String(now)]),
    );
    return { failures, blockedUntil };
  }

  async clear(key: string): Promise<void> {
    await this.#redis.del(this.#key(key));
  }
}
