/**
 * Signed messages (Open Finance Brasil "Assinaturas"): request and response bodies are compact JWS
 * (`application/jwt`) signed PS256. All JOSE work is `jose`'s; this module only decides which key, which
 * claims, and which error.
 *
 * Verifying a TPP's message, in this order (the first failure answers, and nothing is recorded):
 *   1. a compact JWS whose protected header says `alg: PS256` and names a `kid`       else BAD_SIGNATURE 400
 *   2. the TPP has registered keys (`jwks` or `jwks_uri` in its client metadata)      else INVALID_CLIENT 403
 *   3. the signature verifies with the TPP's key of that `kid`                        else BAD_SIGNATURE 400
 *   4. `aud` is Assent's API URL, `iss` the TPP's organisation id, `iat` within the
 *      skew of now, `jti` a non-empty string (and `exp`/`nbf`, when present, hold)  else INVALID_CLIENT 403
 *   5. the `jti` was not seen before (ReplayStore: across instances with Redis)        else INVALID_CLIENT 403
 * The `jti` is recorded only in step 5, after everything else passed.
 *
 * Signing Assent's responses: PS256 with Assent's own key from its signing JWKS (the one the provider
 * publishes at `/jwks`), claims `iss` (Assent's organisation id), `aud` (the TPP's organisation id), `iat`,
 * `jti`, header `kid` and `typ: JWT`.
 */
import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { ReplayStore } from '../storage/replay-store.ts';

export const MESSAGE_ALG = 'PS256';

/** What a verifier needs to know about the TPP that sent a message (its client metadata). */
export interface MessageSender {
  clientId: string;
  /** the TPP's organisation id (the `iss` of its messages) */
  organisationId?: string | undefined;
  jwks?: { keys: Array<Record<string, unknown>> } | undefined;
  jwksUri?: string | undefined;
}

export type SignedMessageErrorCode = 'BAD_SIGNATURE' | 'INVALID_CLIENT';

/** A message that is refused; `status` and `code` are the spec's (400 BAD_SIGNATURE, 403 INVALID_CLIENT). */
export class SignedMessageError extends Error {
  readonly code: SignedMessageErrorCode;
  readonly status: 400 | 403;
  constructor(code: SignedMessageErrorCode, message: string) {
    super(message);
    this.name = 'SignedMessageError';
    this.code = code;
    this.status = code === 'BAD_SIGNATURE' ? 400 : 403;
  }
}

export interface MessageVerifierOptions {
  /** the `aud` a message must carry: Assent's API URL (one, or the accepted spellings) */
  audience: string | readonly string[];
  /** how far `iat` may be from now, either way, in seconds */
  clockSkewSeconds: number;
  /** where `jti`s are remembered (Redis: shared by every instance) */
  replay: ReplayStore;
  /** the clock, in milliseconds (tests) */
  now?: () => number;
}

export interface MessageVerifier {
  /** the verified payload of `compact`, sent by `sender`; throws SignedMessageError */
  verify(compact: string, sender: MessageSender): Promise<JWTPayload>;
}

export function createMessageVerifier(options: MessageVerifierOptions): MessageVerifier {
  const audiences = new Set(typeof options.audience === 'string' ? [options.audience] : options.audience);
  const now = options.now ?? Date.now;
  // jose's remote sets cache keys and rate-limit refetches: one per jwks_uri for the process
  const remoteSets = new Map<string, JWTVerifyGetKey>();
  const localSets = new WeakMap<object, JWTVerifyGetKey>();

  const keysOf = (sender: MessageSender): JWTVerifyGetKey | undefined => {
    if (sender.jwks) {
      let set = localSets.get(sender.jwks);
      if (!set) {
        set = createLocalJWKSet(sender.jwks as JSONWebKeySet);
        localSets.set(sender.jwks, set);
      }
      return set;
    }
    if (sender.jwksUri) {
      let set = remoteSets.get(sender.jwksUri);
      if (!set) {
        set = createRemoteJWKSet(new URL(sender.jwksUri));
        remoteSets.set(sender.jwksUri, set);
      }
      return set;
    }
    return undefined;
  };

  return {
    async verify(compact, sender) {
      const bad = (why: string) => new SignedMessageError('BAD_SIGNATURE', why);
      const claims = (why: string) => new SignedMessageError('INVALID_CLIENT', why);

      let header;
      try {
        header = decodeProtectedHeader(compact);
      } catch {
        throw bad('the body is not a compact JWS');
      }
      if (compact.split('.').length !== 3) throw bad('the body is not a compact JWS');
      if (header.alg !== MESSAGE_ALG) throw bad(`the message must be signed ${MESSAGE_ALG}`);
      if (typeof header.kid !== 'string' || header.kid === '') throw bad('the JWS header names no kid');

      const keys = keysOf(sender);
      if (!keys) throw claims('the client has no registered keys (jwks or jwks_uri)');

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(compact, keys, {
          algorithms: [MESSAGE_ALG],
          currentDate: new Date(now()),
          clockTolerance: options.clockSkewSeconds,
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired || err instanceof errors.JWTClaimValidationFailed) {
          throw claims(`claim check failed: ${err.message}`);
        }
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
          throw bad(`no single registered key has kid ${header.kid}`);
        }
        if (err instanceof errors.JOSEError) throw bad('the signature does not verify');
        throw err; // a fetch of jwks_uri that failed in an unexpected way: the caller's 5xx
      }

      const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
      if (!aud.some((a) => audiences.has(a))) throw claims('aud is not this API');
      if (!sender.organisationId || payload.iss !== sender.organisationId) throw claims('iss is not the organisation of the client');
      if (typeof payload.iat !== 'number' || Math.abs(now() / 1000 - payload.iat) > options.clockSkewSeconds) {
        throw claims('iat is missing or outside the allowed clock skew');
      }
      if (typeof payload.jti !== 'string' || payload.jti === '') throw claims('jti is missing');
      // remembered as long as a message with this iat could still be accepted, plus a second
      const ttl = payload.iat + options.clockSkewSeconds - now() / 1000 + 1;
      if (!(await options.replay.firstUse(`${sender.organisationId}\u0000${payload.jti}`, Math.max(1, ttl)))) {
        throw claims('jti was used before');
      }
      return payload;
    },
  };
}

export interface MessageSignerOptions {
  /** Assent's signing JWKS (private keys); the PS256 key in it signs */
  jwks: { keys: Array<Record<string, unknown>> };
  /** Assent's organisation id: the `iss` of its messages */
  organisationId: string;
  now?: () => number;
}

export interface MessageSigner {
  /** a compact JWS of `payload` for the TPP organisation `audience` */
  sign(payload: Record<string, unknown>, audience: string): Promise<string>;
  /** the kid that signs */
  readonly kid: string;
}

export async function createMessageSigner(options: MessageSignerOptions): Promise<MessageSigner> {
  const jwk = options.jwks.keys.find((k) => k.alg === MESSAGE_ALG && typeof k.kid === 'string' && k.use !== 'enc');
  if (!jwk) throw new Error(`the signing JWKS has no ${MESSAGE_ALG} key with a kid (needed to sign Open Finance Brasil messages)`);
  const kid = jwk.kid as string;
  const key = await importJWK(jwk, MESSAGE_ALG);
  const now = options.now ?? Date.now;
  return {
    kid,
    sign: (payload, audience) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: MESSAGE_ALG, kid, typ: 'JWT' })
        .setIssuer(options.organisationId)
        .setAudience(audience)
        .setIssuedAt(Math.floor(now() / 1000))
        .setJti(randomUUID())
        .sign(key),
  };
}
