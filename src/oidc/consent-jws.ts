/**
 * Signs what the validation API says about a consent with Assent's own signing key (the one published at
 * the issuer's jwks_uri), so a backend can trust the consent information a gateway forwards to it.
 * Short-lived: `exp` is 60 seconds after issue; `typ` is `consent-info+jwt`.
 */
import * as jose from 'jose';
import type { SigningJwks } from './keys.ts';

export type ConsentSigner = (claims: Record<string, unknown>) => Promise<string>;

export const CONSENT_JWS_TYPE = 'consent-info+jwt';

export async function consentSigner(jwks: SigningJwks, issuer: string): Promise<ConsentSigner> {
  // ES256 is the cheapest to make; PS256 when the JWKS has no EC key
  const jwk = jwks.keys.find((k) => k.alg === 'ES256') ?? jwks.keys.find((k) => k.alg === 'PS256');
  if (!jwk?.alg) throw new Error('keys.jwks has no ES256 or PS256 signing key');
  const alg = jwk.alg;
  const key = await jose.importJWK(jwk as jose.JWK, alg);
  return (claims) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg, typ: CONSENT_JWS_TYPE, ...(jwk.kid ? { kid: jwk.kid } : {}) })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(key);
}
