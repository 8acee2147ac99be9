/** Encryption at rest for personal data: key ring, field cipher, blind index, and the FieldProtector facade. */
export { CryptoInputError, DecryptionError, KeyRingError } from './errors.ts';
export type { CryptoInputErrorCode, DecryptionErrorCode, KeyRingErrorCode } from './errors.ts';
export {
  KEY_BYTES,
  KEY_ID_PATTERN,
  KeyRing,
  KeyRingConfigSchema,
  generateKeyRing,
  generateKeyRingConfig,
  keyRingFromConfig,
  parseKeyRing,
} from './key-ring.ts';
export type { KeyRingConfig } from './key-ring.ts';
export { FieldCipher, isEncryptedValue, keyIdOf } from './field-cipher.ts';
export type { EncryptedValue } from './field-cipher.ts';
export { BlindIndexer, computeBlindIndex, normaliserFor } from './blind-index.ts';
export type { NormaliserOptions } from './blind-index.ts';
export * as normalise from './normalise.ts';
export type { Normaliser } from './normalise.ts';
export { createFieldProtector, createIdentityProtector, identityProtector } from './field-protector.ts';
export type { FieldProtector } from './field-protector.ts';
