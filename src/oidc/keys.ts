/**
 * Signing keys. Production loads a JWKS from configuration and refuses to start without one; demo mode
 * generates ephemeral keys (one RSA key for PS256/RS256, one P-256 key for ES256) and says so.
 */
import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';

export interface SigningJwks {
  keys: Array<JsonWebKey & { kid?: string; alg?: string; use?: string }>;
}

export function generateEphemeralJwks(): SigningJwks {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...ec, kid: `ec-${randomUUID()}`, use: 'sig', alg: 'ES256' },
      { ...rsa, kid: `rsa-${randomUUID()}`, use: 'sig', alg: 'PS256' },
    ],
  };
}

export function generateCookieKeys(): string[] {
  return [randomBytes(32).toString('base64url')];
}
