/**
 * Signs what the validation API says about a consent with Assent's own signing key (the one published at
 * the issuer's jwks_uri), so a backend can trust the consent information a gateway forwards to it.
 * Short-lived: `exp` is 60 seconds after issue; `typ` is `consent-info+jwt`.
 *
 * This is on the validation hot path, so the compact JWS is made with node:crypto's synchronous sign on
 * a key imported once (jose's SignJWT goes through WebCrypto, several times slower per call here); the
 * result is an ordinary JWS that jose (or any JOSE library) verifies, as the tests do.
 */
import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { SigningJwks } from './keys.ts';

export type ConsentSigner = (claims: Record<string, unknown>) => Promise<string>;

export const CONSENT_JWS_TYPE = 'consent-info+jwt';

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export async function consentSigner(jwks: SigningJwks, issuer: string): Promise<ConsentSigner> {
  // ES256 is the cheapest to make; PS256 when the JWKS has no EC key
  const jwk = jwks.keys.find((k) => k.alg === 'ES256') ?? jwks.keys.find((k) => k.alg === 'PS256');
  if (!jwk?.alg) throw new Error('keys.jwks has no ES256 or PS256 signing key');
  const alg = jwk.alg;
  const key: KeyObject = createPrivateKey({ key: jwk, format: 'jwk' });
  const options =
    alg === 'ES256'
      ? { key, dsaEncoding: 'ieee-p1363' as const }
      : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  const header = b64url(JSON.stringify({ alg, typ: CONSENT_JWS_TYPE, ...(jwk.kid ? { kid: jwk.kid } : {}) }));
  return async (claims) => {
    const iat = Math.floor(Date.now() / 1000);
    const input = `${header}.${b64url(JSON.stringify({ ...claims, iss: issuer, iat, exp: iat + 60 }))}`;
    return `${input}.${sign('sha256', Buffer.from(input), options).toString('base64url')}`;
  };
}
