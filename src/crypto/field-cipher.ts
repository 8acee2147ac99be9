/**
 * Field-level encryption: AES-256-GCM, a fresh random 96-bit IV per value, and associated data that binds
 * the ciphertext to its logical field name and key id.
 *
 * Stored form, one string:   enc:v1:<kid>:<iv>.<ciphertext>.<tag>      (iv, ciphertext, tag in base64url)
 *   e.g.                     enc:v1:k2:3q2-7wAAAAAAAAAA.Zm9vYmFy.q1Xb…   (iv 16 chars, tag 22 chars)
 *
 * Why a string and not a sub-document: it drops into the same MongoDB field the plaintext occupied
 * (no schema change per field, works inside arrays), it is recognisable at a glance and by `isEncryptedValue`
 * (a migration can tell encrypted from legacy plaintext), and the version prefix leaves room for a new
 * format. The key id sits in clear beside the value so decryption picks the right key after rotation.
 *
 * Associated data = "assent:field:v1" NUL kid NUL field. The field binding makes a value copied into
 * another field fail to decrypt; the kid binding makes a rewritten kid fail even if two ids ever held
 * the same key. Field names are LOGICAL kinds ("iban", "psuId"), not document paths, so the same value
 * may move between array positions.
 *
 * Random 96-bit IVs keep the collision risk below 2^-32 up to ~2^32 encryptions per key (NIST SP 800-38D);
 * rotate keys well before that.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError } from './errors.ts';
import { assertFieldName, assertText } from './field-name.ts';
import type { KeyRing } from './key-ring.ts';

export type EncryptedValue = `enc:v1:${string}`;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const CURRENT_FORMAT = 'v1';

/** any envelope version: a value that claims to be ours is never mistaken for plaintext */
const ENVELOPE = /^enc:v[0-9]+:/;
const V1 = /^enc:v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

/** True when `value` is an encrypted envelope (of any format version), i.e. not plaintext. */
export function isEncryptedValue(value: unknown): value is string {
  return typeof value === 'string' && ENVELOPE.test(value);
}

interface ParsedValue {
  kid: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function decodeBase64Url(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (stray trailing bits) so one value has exactly one spelling.
  return bytes.toString('base64url') === text ? bytes : null;
}

function parse(field: string, value: unknown): ParsedValue {
  if (typeof value !== 'string' || !ENVELOPE.test(value)) {
    throw new DecryptionError('DECRYPT_MALFORMED', field, 'not an encrypted value');
  }
  if (!value.startsWith(`enc:${CURRENT_FORMAT}:`)) {
    throw new DecryptionError('DECRYPT_UNSUPPORTED_VERSION', field, `unsupported format "${value.split(':')[1]}"`);
  }
  const match = V1.exec(value);
  const [kid, iv, ciphertext, tag] = match
    ? [match[1]!, decodeBase64Url(match[2]!), decodeBase64Url(match[3]!), decodeBase64Url(match[4]!)]
    : [undefined, null, null, null];
  if (kid === undefined || iv === null || ciphertext === null || tag === null || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new DecryptionError('DECRYPT_MALFORMED', field, 'the encrypted value is malformed');
  }
  return { kid, iv, ciphertext, tag };
}

function associatedData(kid: string, field: string): Buffer {
  return Buffer.from(`assent:field:${CURRENT_FORMAT}\0${kid}\0${field}`, 'utf8');
}

/** The key id an encrypted value names (throws DecryptionError when it is not a readable v1 value). */
export function keyIdOf(value: string): string {
  return parse('', value).kid;
}

export class FieldCipher {
  readonly #ring: KeyRing;

  constructor(ring: KeyRing) {
    this.#ring = ring;
  }

  /** Encrypts with the ring's current key; the same plaintext gives a different value every time. */
  encrypt(field: string, plaintext: string): EncryptedValue {
    assertFieldName(field);
    assertText(field, plaintext);
    const kid = this.#ring.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#ring.currentEncryptionKey(), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(kid, field));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `enc:${CURRENT_FORMAT}:${kid}:${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`;
  }

  /**
   * Decrypts a value written by `encrypt` for the same field, with any key still in the ring.
   * Throws DecryptionError: DECRYPT_MALFORMED, DECRYPT_UNSUPPORTED_VERSION, DECRYPT_UNKNOWN_KEY or DECRYPT_FAILED.
   */
  decrypt(field: string, value: string): string {
    assertFieldName(field);
    const { kid, iv, ciphertext, tag } = parse(field, value);
    const key = this.#ring.encryptionKey(kid);
    if (key === undefined) {
      throw new DecryptionError('DECRYPT_UNKNOWN_KEY', field, `key "${kid}" is not in the key ring (retired too early?)`, kid);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(kid, field));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // OpenSSL's message adds nothing; the cause is one of the three below and we cannot tell which.
      throw new DecryptionError(
        'DECRYPT_FAILED',
        field,
        'authentication failed (value tampered with, copied from another field, or encrypted with a different key)',
        kid,
      );
    }
  }

  /** True when the value was encrypted with a key other than the current one (throws when unreadable). */
  needsRotation(value: string): boolean {
    return parse('', value).kid !== this.#ring.current;
  }

  /**
   * Decrypts with whichever key the value names and encrypts again with the current key. Always returns a
   * new value (fresh IV); call it only when `needsRotation` says so, to avoid needless writes.
   */
  reencrypt(field: string, value: string): EncryptedValue {
    return this.encrypt(field, this.decrypt(field, value));
  }
}
