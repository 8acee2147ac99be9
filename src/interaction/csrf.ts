/**
 * CSRF tokens for the interaction forms: an HMAC of the interaction uid (or the self-service session id)
 * under a server key. A forged cross-site POST lacks both the token and — cookies being SameSite=Lax — the
 * interaction cookie that oidc-provider checks.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export class Csrf {
  /** imported once: node:crypto would import a string key on every HMAC */
  readonly #key: KeyObject;
  constructor(key: string) {
    this.#key = createSecretKey(Buffer.from(key, 'utf8'));
  }

  token(binding: string): string {
    return createHmac('sha256', this.#key).update(`csrf:${binding}`).digest('base64url');
  }

  verify(binding: string, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.token(binding));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
