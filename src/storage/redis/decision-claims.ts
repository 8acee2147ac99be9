/** Decision claims in Redis (see ../decision-claims.ts): SET NX for the claim, the outcome in the same key. */
import type { Redis } from 'ioredis';
import type { ClaimState, DecisionClaims } from '../decision-claims.ts';

/** the value of a claim being decided; a decided claim holds its return URL (never empty) */
const DECIDING = '';

export class RedisDecisionClaims implements DecisionClaims {
  readonly #client: Redis;
  readonly #prefix: string;

  /** keys are `${prefix}decision:${uid}` */
  constructor(client: Redis, prefix = 'assent:') {
    this.#client = client;
    this.#prefix = `${prefix}decision:`;
  }

  async claim(uid: string, ttlSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return (await this.#client.set(this.#prefix + uid, DECIDING, 'EX', ttl, 'NX')) === 'OK';
  }

  async settle(uid: string, returnTo: string): Promise<void> {
    await this.#client.set(this.#prefix + uid, returnTo, 'KEEPTTL', 'XX');
  }

  async release(uid: string): Promise<void> {
    // only an undecided claim goes back
    await this.#client.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      this.#prefix + uid,
      DECIDING,
    );
  }

  async state(uid: string): Promise<ClaimState> {
    const value = await this.#client.get(this.#prefix + uid);
    if (value === null) return { state: 'open' };
    return value === DECIDING ? { state: 'deciding' } : { state: 'decided', returnTo: value };
  }
}
