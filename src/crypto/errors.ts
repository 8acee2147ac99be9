/**
 * Errors of the crypto module. Each carries a stable `code`; messages may name a field or a key id
 * (neither is secret) but never a plaintext, a ciphertext or key material, so they are safe to log.
 */

export type KeyRingErrorCode = 'KEY_RING_INVALID';

/** The key ring configuration is unusable; `issues` lists every problem, each naming its path. */
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
  readonly code: KeyRingErrorCode = 'KEY_RING_INVALID';
  readonly issues: readonly { path: string; message: string }[];

  constructor(issues: readonly { path: string; message: string }[]) {
    super(`invalid key ring configuration: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.issues = issues;
  }
}

export type DecryptionErrorCode =
  /** not an `enc:v1:` value, or one whose parts do not have the right shape */
  | 'DECRYPT_MALFORMED'
  /** an `enc:vN:` value of a format version this code does not know */
  | 'DECRYPT_UNSUPPORTED_VERSION'
  /** encrypted with a key id that is not in the key ring (a retired key, or another deployment's) */
  | 'DECRYPT_UNKNOWN_KEY'
  /** the GCM tag does not verify: tampered, copied from another field, or a different key under the same id */
  | 'DECRYPT_FAILED'
  /** an encrypted value met a protector that has no keys (encryption is switched off) */
  | 'DECRYPT_NOT_CONFIGURED';

/** A stored value could not be turned back into its plaintext. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  readonly code: DecryptionErrorCode;
  /** the logical field the caller tried to decrypt ('' when only the envelope was read, e.g. needsRotation) */
  readonly field: string;
  /** the key id the value names, when it could be read */
  readonly kid: string | undefined;

  constructor(code: DecryptionErrorCode, field: string, detail: string, kid?: string) {
    super(field ? `cannot decrypt field "${field}": ${detail}` : `cannot read encrypted value: ${detail}`);
    this.code = code;
    this.field = field;
    this.kid = kid;
  }
}

export type CryptoInputErrorCode = 'CRYPTO_INVALID_INPUT';

/** A programming error at the call site: a bad field name or a value that is not a well-formed string. */
export class CryptoInputError extends Error {
  override readonly name = 'CryptoInputError';
  readonly code: CryptoInputErrorCode = 'CRYPTO_INVALID_INPUT';
}
