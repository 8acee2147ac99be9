/**
 * Cookie signatures for Koa (`cookies`) and oidc-provider, compatible with keygrip's defaults:
 * `name.sig` is the HMAC-SHA1 of `name=value`, base64url without padding; the first secret signs, every
 * secret verifies (prepend a new secret to rotate; `index` tells which one matched, so `cookies` re-signs
 * a cookie verified by an older secret).
 *
 * Why not keygrip itself: it hands the secret string to `createHmac` on every call, and node:crypto
 * imports the key anew each time. Every request verifies several cookies, and that import was ~5 % of
 * the approval flow's CPU. Here each secret becomes a KeyObject once, at startup, and signatures are
 * compared in constant time.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** the shape Koa's `app.keys` and oidc-provider's `cookies.keys` accept besides an array of strings */
export interface CookieKeys {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  index(data: string, digest: string): number;
}

export class CookieSigner implements CookieKeys {
  readonly #keys: readonly KeyObject[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('CookieSigner needs at least one secret');
    this.#keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  sign(data: string): string {
    return hmac(this.#keys[0]!, data);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** the index of the secret whose signature `digest` is, else -1 (every secret is tried: no early exit) */
  index(data: string, digest: string): number {
    const given = Buffer.from(String(digest));
    let found = -1;
    this.#keys.forEach((key, i) => {
      const expected = Buffer.from(hmac(key, data));
      if (found === -1 && given.length === expected.length && timingSafeEqual(given, expected)) found = i;
    });
    return found;
  }
}

function hmac(key: KeyObject, data: string): string {
  return createHmac('sha1', key).update(data).digest('base64url');
}
