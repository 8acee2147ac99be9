/**
 * IdempotencyStore on Redis. One key per idempotency key: `${prefix}${sha256(key)}` → JSON
 * `{ f: fingerprint, r?: response }`, the response body protected by the FieldProtector (it carries
 * personal data: names, CPFs). Each operation is one Lua script, so concurrent requests on any instance
 * see one decision. Keys come from TPPs: hashed to a fixed length, never stored as given.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.ts';
import { identityProtector, type FieldProtector } from '../../crypto/index.ts';
import type { IdempotencyBegin, IdempotencyStore, StoredResponse } from '../idempotency-store.ts';

const FIELD = 'idempotency.response';

// KEYS[1] key; ARGV fingerprint, pending ms. Returns the stored JSON, or false when it claimed the key.
const BEGIN = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], cjson.encode({ f = ARGV[1] }), 'PX', ARGV[2])
return false`;
const beginScript = new LuaScript(BEGIN);

// KEYS[1] key; ARGV fingerprint, stored JSON, ttl ms. Completes only the caller's own pending claim
// (or a key that lapsed meanwhile); never overwrites another request's decision.
const COMPLETE = `
local current = redis.call('GET', KEYS[1])
if current then
  local entry = cjson.decode(current)
  if entry.f ~= ARGV[1] or entry.r then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;
const completeScript = new LuaScript(COMPLETE);

const ABANDON = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local entry = cjson.decode(current)
if entry.f == ARGV[1] and not entry.r then return redis.call('DEL', KEYS[1]) end
return 0`;
const abandonScript = new LuaScript(ABANDON);

interface StoredEntry {
  f: string;
  r?: { s: number; b: string; t: string };
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #protector: FieldProtector;

  constructor(redis: Redis, options: { prefix: string; protector?: FieldProtector }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#protector = options.protector ?? identityProtector;
  }

  #key(key: string): string {
    return this.#prefix + createHash('sha256').update(key).digest('base64url');
  }

  async begin(key: string, fingerprint: string, options: { pendingSeconds: number }): Promise<IdempotencyBegin> {
    const ms = Math.max(1, Math.ceil(options.pendingSeconds * 1000));
    const current = (await beginScript.run(this.#redis, [this.#key(key)], [fingerprint, ms])) as string | null;
    if (!current) return { outcome: 'started' };
    const entry = JSON.parse(current) as StoredEntry;
    if (entry.f !== fingerprint) return { outcome: 'mismatch' };
    if (!entry.r) return { outcome: 'pending' };
    return { outcome: 'replay', response: { status: entry.r.s, body: this.#protector.reveal(FIELD, entry.r.b), contentType: entry.r.t } };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse, ttlSeconds: number): Promise<void> {
    const entry: StoredEntry = {
      f: fingerprint,
      r: { s: response.status, b: this.#protector.protect(FIELD, response.body), t: response.contentType },
    };
    await completeScript.run(this.#redis, [this.#key(key)], [fingerprint, JSON.stringify(entry), Math.max(1, Math.ceil(ttlSeconds * 1000))]);
  }

  async abandon(key: string, fingerprint: string): Promise<void> {
    await abandonScript.run(this.#redis, [this.#key(key)], [fingerprint]);
  }
}
