/**
 * Decision claims in Redis (see ../decision-claims.ts): SET NX for the claim, the outcome in the same key.
 * Notes: `${prefix}decision-notes` (sorted set of uids by the time noted) and `${prefix}decision-grants`
 * (hash uid → grant id), written and dropped together.
 */
import type { Redis } from 'ioredis';
import { deleteIfEquals } from './lua-script.ts';
import type { ClaimState, DecisionClaims } from '../decision-claims.ts';

/** the value of a claim being decided; a decided claim holds its return URL (never empty) */
const DECIDING = '';

export class RedisDecisionClaims implements DecisionClaims {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #notes: string;
  readonly #grants: string;

  /** keys are `${prefix}decision:${uid}` */
  constructor(client: Redis, prefix = 'assent:') {
    this.#client = client;
    this.#prefix = `${prefix}decision:`;
    this.#notes = `${prefix}decision-notes`;
    this.#grants = `${prefix}decision-grants`;
  }

  async claim(uid: string, ttlSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return (await this.#client.set(this.#prefix + uid, DECIDING, 'EX', ttl, 'NX')) === 'OK';
  }

  async settle(uid: string, returnTo: string): Promise<void> {
    await this.#client.multi().set(this.#prefix + uid, returnTo, 'KEEPTTL', 'XX').zrem(this.#notes, uid).hdel(this.#grants, uid).exec();
  }

  async release(uid: string): Promise<void> {
    // only an undecided claim goes back
    await deleteIfEquals.run(this.#client, [this.#prefix + uid], [DECIDING]);
    await this.forget(uid);
  }

  async note(uid: string, grantId: string): Promise<void> {
    await this.#client.multi().hset(this.#grants, uid, grantId).zadd(this.#notes, Date.now(), uid).exec();
  }

  async pending(before: Date, limit: number): Promise<Array<{ uid: string; grantId: string }>> {
    const uids = await this.#client.zrangebyscore(this.#notes, '-inf', `(${before.getTime()}`, 'LIMIT', 0, limit);
    if (uids.length === 0) return [];
    const grants = await this.#client.hmget(this.#grants, ...uids);
    // (a uid without its grant cannot be acted on: dropped, so it never holds the head of the set)
    const orphans = uids.filter((_, i) => !grants[i]);
    if (orphans.length > 0) await this.#client.zrem(this.#notes, ...orphans);
    return uids.flatMap((uid, i) => (grants[i] ? [{ uid, grantId: grants[i] }] : []));
  }

  async forget(uid: string): Promise<void> {
    await this.#client.multi().zrem(this.#notes, uid).hdel(this.#grants, uid).exec();
  }

  async state(uid: string): Promise<ClaimState> {
    const value = await this.#client.get(this.#prefix + uid);
    if (value === null) return { state: 'open' };
    return value === DECIDING ? { state: 'deciding' } : { state: 'decided', returnTo: value };
  }
}
