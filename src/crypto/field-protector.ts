/**
 * The one seam storage code uses for personal data: encrypt a field before it is written, decrypt it after
 * it is read, and compute the blind index that is stored beside it for equality search.
 *
 *   doc.psuId      = protector.protect('psuId', consent.psuId)       // enc:v1:k2:…
 *   doc.psuIdIndex = protector.index('psuId', consent.psuId)         // 22 chars, deterministic
 *   filter         = { psuIdIndex: protector.index('psuId', query.psuId) }
 *   consent.psuId  = protector.reveal('psuId', doc.psuId)
 *
 * Field names are logical kinds ("iban" for every IBAN wherever it sits), and must be the same on write
 * and on search. `identityProtector` keeps values in clear (tests, or a store that needs no encryption)
 * behind the same interface, so repository code has one path.
 */
import { BlindIndexer, normaliserFor, type NormaliserOptions } from './blind-index.ts';
import { DecryptionError } from './errors.ts';
import { FieldCipher, isEncryptedValue } from './field-cipher.ts';
import { assertFieldName, assertText } from './field-name.ts';
import type { KeyRing } from './key-ring.ts';

export interface FieldProtector {
  /** false for the identity protector: values are stored in clear */
  readonly encrypts: boolean;
  /** the blind-index key's public id (null when indexes are plain normalised values) */
  readonly blindIndexKeyId: string | null;
  /** the value to store for `field` */
  protect(field: string, value: string): string;
  /** the plaintext of a stored value; throws DecryptionError when it cannot be read */
  reveal(field: string, stored: string): string;
  /** the deterministic equality-search key for `value` (normalised per field) */
  index(field: string, value: string): string;
  /** true when `stored` is an encrypted envelope rather than plaintext */
  isProtected(stored: unknown): boolean;
  /** true when `stored` was encrypted with a key that is no longer current */
  needsRotation(stored: string): boolean;
  /** `stored` re-encrypted with the current key */
  reprotect(field: string, stored: string): string;
}

/** Encrypts with the ring's current key, decrypts with any key still in it, indexes with its blind-index key. */
export function createFieldProtector(ring: KeyRing, options: NormaliserOptions = {}): FieldProtector {
  const cipher = new FieldCipher(ring);
  const indexer = new BlindIndexer(ring, options);
  return {
    encrypts: true,
    blindIndexKeyId: indexer.keyId,
    protect: (field, value) => cipher.encrypt(field, value),
    // Strict: plaintext where a ciphertext belongs is an error (DECRYPT_MALFORMED), not silently passed
    // through; a migration from clear values checks isProtected first.
    reveal: (field, stored) => cipher.decrypt(field, stored),
    index: (field, value) => indexer.index(field, value),
    isProtected: isEncryptedValue,
    needsRotation: (stored) => cipher.needsRotation(stored),
    reprotect: (field, stored) => cipher.reencrypt(field, stored),
  };
}

/**
 * No encryption: values are stored as given and the "index" is the normalised value itself, so searches
 * behave exactly as with encryption (same normalisation), only readable. An encrypted value reaching it
 * means encryption was switched off over encrypted data: that fails loudly instead of showing ciphertext.
 */
export function createIdentityProtector(options: NormaliserOptions = {}): FieldProtector {
  const checked = (field: string, value: string): string => {
    assertFieldName(field);
    assertText(field, value);
    return value;
  };
  return {
    encrypts: false,
    blindIndexKeyId: null,
    protect: checked,
    reveal: (field, stored) => {
      checked(field, stored);
      if (isEncryptedValue(stored)) {
        throw new DecryptionError('DECRYPT_NOT_CONFIGURED', field, 'the value is encrypted but no key ring is configured');
      }
      return stored;
    },
    index: (field, value) => normaliserFor(field, options)(checked(field, value)),
    isProtected: isEncryptedValue,
    needsRotation: () => false,
    reprotect: checked,
  };
}

export const identityProtector: FieldProtector = createIdentityProtector();
