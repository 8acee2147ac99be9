/**
 * Login throttling, on the bank login (the authorization's login page) and on "My consents": failed
 * attempts are counted per account (the username as typed, whether or not it exists) and per client
 * address, in a LoginAttempts store (Redis: every instance sees the same counts). After a few free
 * failures each further one blocks the key for an increasing delay (base · 2ⁿ, capped); at the lockout
 * threshold the key is locked for `lockoutSeconds`. A blocked attempt is refused before the credentials
 * are checked and is not counted. A successful login clears the account's count (not the address's).
 *
 * Keys and log fields are keyed hashes (HMAC under a server key) of the username and the address: no
 * personal data in Redis or in the logs.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { LoginAttempts } from '../storage/login-attempts.ts';

export interface ThrottleTier {
  /** failures without any delay */
  freeAttempts: number;
  /** at this many failures the key is locked for `lockoutSeconds` */
  lockoutAfter: number;
}

export interface ThrottlePolicy {
  account: ThrottleTier;
  address: ThrottleTier;
  /** the first delay after the free attempts; each further failure doubles it */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  lockoutSeconds: number;
  /** failures are forgotten this long after the last one */
  windowSeconds: number;
}

/** How long the `failures`-th failure blocks a key (ms). Pure. */
export function blockMs(failures: number, tier: ThrottleTier, policy: ThrottlePolicy): number {
  if (failures >= tier.lockoutAfter) return policy.lockoutSeconds * 1000;
  if (failures <= tier.freeAttempts) return 0;
  return Math.min(policy.baseDelaySeconds * 2 ** (failures - tier.freeAttempts - 1), policy.maxDelaySeconds) * 1000;
}

export type ThrottleVerdict = { blocked: false } | { blocked: true; retryAfterSeconds: number; locked: boolean };

export interface LoginAttempt {
  /** which login page: 'bank' (authorization) or 'my-consents' */
  surface: string;
  username: string;
  address: string;
}

export class LoginThrottle {
  readonly #store: LoginAttempts;
  readonly #policy: ThrottlePolicy;
  /** imported once: node:crypto would import a string key on every HMAC */
  readonly #key: KeyObject;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(store: LoginAttempts, policy: ThrottlePolicy, options: { secret: string; log: Logger; now?: () => number }) {
    this.#store = store;
    this.#policy = policy;
    this.#key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  #hash(kind: string, value: string): string {
    return createHmac('sha256', this.#key).update(`login-throttle:${kind}:${value}`).digest('base64url').slice(0, 22);
  }

  #keys(attempt: LoginAttempt) {
    return { account: `account:${this.#hash('account', attempt.username.trim().toLowerCase())}`, address: `address:${this.#hash('address', attempt.address)}` };
  }

  /** Whether this attempt may check credentials now; logs a refused one. */
  async check(attempt: LoginAttempt): Promise<ThrottleVerdict> {
    const keys = this.#keys(attempt);
    const [account, address] = await Promise.all([this.#store.state(keys.account), this.#store.state(keys.address)]);
    const verdict = this.#verdict([
      [account, this.#policy.account],
      [address, this.#policy.address],
    ]);
    if (verdict.blocked) this.#event('login attempt refused while throttled', attempt, keys, verdict);
    return verdict;
  }

  /** Counts a failed attempt; says whether the account or the address is now blocked. */
  async failed(attempt: LoginAttempt): Promise<ThrottleVerdict> {
    const keys = this.#keys(attempt);
    const { account: a, address: d, windowSeconds } = this.#policy;
    const [account, address] = await Promise.all([
      this.#store.recordFailure(keys.account, (n) => blockMs(n, a, this.#policy), windowSeconds),
      this.#store.recordFailure(keys.address, (n) => blockMs(n, d, this.#policy), windowSeconds),
    ]);
    const verdict = this.#verdict([
      [account, a],
      [address, d],
    ]);
    if (verdict.blocked) this.#event('login throttled', attempt, keys, verdict, { accountFailures: account.failures, addressFailures: address.failures });
    return verdict;
  }

  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.#store.clear(this.#keys(attempt).account);
  }

  #verdict(states: Array<[{ failures: number; blockedUntil: number }, ThrottleTier]>): ThrottleVerdict {
    const now = this.#now();
    let until = 0;
    let locked = false;
    for (const [state, tier] of states) {
      if (state.blockedUntil > now) {
        until = Math.max(until, state.blockedUntil);
        locked ||= state.failures >= tier.lockoutAfter;
      }
    }
    return until > now ? { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)), locked } : { blocked: false };
  }

  #event(message: string, attempt: LoginAttempt, keys: { account: string; address: string }, verdict: ThrottleVerdict & { blocked: true }, extra: object = {}) {
    this.#log.warn(
      { event: 'login_throttled', surface: attempt.surface, account: keys.account, address: keys.address, locked: verdict.locked, retryAfterSeconds: verdict.retryAfterSeconds, ...extra },
      message,
    );
  }
}
