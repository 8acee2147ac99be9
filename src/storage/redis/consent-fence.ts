/**
 * The consent fence in Redis (see ../consent-fence.ts): one hash per consent,
 * `{prefix}consent-fence:{id}` = { r: current revision, h: writers holding it }, expiring a day after its
 * last write. Every operation is one Lua script, so check-and-count is atomic across instances; the
 * fenced increment adds to the same usage hashes as RedisUsageCounter.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';
import { UsageUnavailable } from '../../consent/usage.ts';
import { FENCE_TTL_MS, type ConsentFence } from '../consent-fence.ts';
import { usageKey } from './usage-counter.ts';
import { withTimeout } from '../with-timeout.ts';

const HOLD = `redis.call('HINCRBY', KEYS[1], 'h', 1) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1`;

const RELEASE = `
local h = redis.call('HINCRBY', KEYS[1], 'h', -1)
if h <= 0 then redis.call('HDEL', KEYS[1], 'h') end
if ARGV[2] ~= '' then
  local r = redis.call('HGET', KEYS[1], 'r')
  if not r or tonumber(ARGV[2]) > tonumber(r) then redis.call('HSET', KEYS[1], 'r', ARGV[2]) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`;

const REGISTER = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'r', ARGV[2]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1
end
local f = redis.call('HMGET', KEYS[1], 'r', 'h')
if f[2] and tonumber(f[2]) > 0 then return 0 end
if f[1] == ARGV[2] then return 1 end
return 0`;

/** KEYS: fence; ARGV: revision. 1 when current and unheld. */
const CURRENT = `
local f = redis.call('HMGET', KEYS[1], 'r', 'h')
if f[1] ~= ARGV[1] or (f[2] and tonumber(f[2]) > 0) then return 0 end
return 1`;

/** KEYS: fence, usage hash; ARGV: revision, resource, expiry (epoch ms). -1 when not current. */
const INCREMENT = `
local f = redis.call('HMGET', KEYS[1], 'r', 'h')
if f[1] ~= ARGV[1] or (f[2] and tonumber(f[2]) > 0) then return -1 end
local c = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
return c`;

/** KEYS: fence, usage hash; ARGV: revision. false when not current, else the hash as a flat list. */
const USAGE = `
local f = redis.call('HMGET', KEYS[1], 'r', 'h')
if f[1] ~= ARGV[1] or (f[2] and tonumber(f[2]) > 0) then return false end
return redis.call('HGETALL', KEYS[2])`;

const holdScript = new LuaScript(HOLD);
const releaseScript = new LuaScript(RELEASE);
const registerScript = new LuaScript(REGISTER);
const currentScript = new LuaScript(CURRENT);
const incrementScript = new LuaScript(INCREMENT);
const usageScript = new LuaScript(USAGE);

export class RedisConsentFence implements ConsentFence {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(redis: Redis, options: { prefix: string; timeoutMs?: number }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#timeoutMs = options.timeoutMs ?? 1_500;
  }

  #key(consentId: string): string {
    return `${this.#prefix}consent-fence:${consentId}`;
  }

  async hold(consentId: string): Promise<void> {
    await this.#guard(holdScript.run(this.#redis, [this.#key(consentId)], [FENCE_TTL_MS]), 'the consent could not be locked for writing (Redis unavailable)');
  }

  async release(consentId: string, revision: number | null): Promise<void> {
    await this.#guard(releaseScript.run(this.#redis, [this.#key(consentId)], [FENCE_TTL_MS, revision === null ? '' : String(revision)]), 'the consent fence could not be released');
  }

  async register(consentId: string, revision: number): Promise<boolean> {
    return (await this.#guard(registerScript.run(this.#redis, [this.#key(consentId)], [FENCE_TTL_MS, String(revision)]), 'the consent fence is unavailable')) === 1;
  }

  async isCurrent(consentId: string, revision: number): Promise<boolean> {
    return (await this.#guard(currentScript.run(this.#redis, [this.#key(consentId)], [String(revision)]), 'the consent fence is unavailable')) === 1;
  }

  async incrementIfCurrent(consentId: string, revision: number, bucket: string, resource: string, expiresAt: Date): Promise<number | undefined> {
    const count = await this.#guard(
      incrementScript.run(this.#redis, [this.#key(consentId), usageKey(this.#prefix, consentId, bucket)], [String(revision), resource, expiresAt.getTime()]) as Promise<number>,
      'the usage counters (Redis) are unavailable',
      true,
    );
    return count < 0 ? undefined : count;
  }

  async usageIfCurrent(consentId: string, revision: number, bucket: string): Promise<Record<string, number> | undefined> {
    const flat = await this.#guard(
      usageScript.run(this.#redis, [this.#key(consentId), usageKey(this.#prefix, consentId, bucket)], [String(revision)]) as Promise<string[] | null>,
      'the usage counters (Redis) are unavailable',
      true,
    );
    if (!flat) return undefined;
    const usage: Record<string, number> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) usage[flat[i]!] = Number(flat[i + 1]);
    return usage;
  }

  /** a failed or slow Redis: UsageUnavailable for the counting paths (fail closed), a plain Error otherwise */
  async #guard<T>(promise: Promise<T>, message: string, usage = false): Promise<T> {
    try {
      return await withTimeout(promise, this.#timeoutMs);
    } catch {
      throw usage ? new UsageUnavailable(message) : new Error(message);
    }
  }
}
