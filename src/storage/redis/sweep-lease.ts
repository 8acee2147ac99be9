/** The sweeper lease in Redis (see ../sweep-lease.ts): `${prefix}sweeper:lease` holds the holder's random token. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript, deleteIfEquals } from './lua-script.ts';
import type { SweepLease } from '../sweep-lease.ts';

const RENEW_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
const renewScript = new LuaScript(RENEW_LUA);

export class RedisSweepLease implements SweepLease {
  readonly #client: Redis;
  readonly #key: string;
  readonly #ttlMs: number;
  /** this holder's token: only the instance that took the lease can renew or release it */
  readonly #token = randomUUID();

  constructor(client: Redis, { prefix = 'assent:', ttlMs = 30_000 }: { prefix?: string; ttlMs?: number } = {}) {
    this.#client = client;
    this.#key = `${prefix}sweeper:lease`;
    this.#ttlMs = ttlMs;
  }

  async acquire(): Promise<boolean> {
    if ((await this.#client.set(this.#key, this.#token, 'PX', this.#ttlMs, 'NX')) === 'OK') return true;
    return this.renew();
  }

  async renew(): Promise<boolean> {
    return (await renewScript.run(this.#client, [this.#key], [this.#token, this.#ttlMs])) === 1;
  }

  async release(): Promise<void> {
    await deleteIfEquals.run(this.#client, [this.#key], [this.#token]);
  }
}
