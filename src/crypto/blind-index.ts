/**
 * Blind index: a keyed, deterministic fingerprint of a normalised value, stored beside its ciphertext so
 * that equality search works without decrypting ("find consents of CPF x" → index(x) → exact match).
 *
 *   index = base64url( HMAC-SHA256(blindIndexKey, "assent:blind-index:v1" NUL field NUL normalise(value))[0..16) )
 *
 * Domain separation by field: the same string as a psuId and as a document gives unrelated indexes, so
 * indexes cannot be joined across fields. Truncation to 128 bits (22 characters): accidental collisions
 * stay negligible (~2^-64 even at billions of values) while the index stays short; and a shorter tag
 * reveals nothing more than a longer one. What any blind index does reveal is equality (which rows share
 * a value) and therefore frequencies; without the key, the low-entropy values behind it (an 11-digit CPF)
 * cannot be brute-forced — which is why the key lives in the key ring, never in the database.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { assertFieldName, assertText } from './field-name.ts';
import type { KeyRing } from './key-ring.ts';
import { DEFAULT_NORMALISERS, text, type Normaliser } from './normalise.ts';

const INDEX_BYTES = 16;

/** The primitive: HMAC an already normalised value under `key` for `field`. */
export function computeBlindIndex(key: KeyObject, field: string, normalisedValue: string): string {
  return createHmac('sha256', key)
    .update(`assent:blind-index:v1\0${field}\0`, 'utf8')
    .update(normalisedValue, 'utf8')
    .digest()
    .subarray(0, INDEX_BYTES)
    .toString('base64url');
}

export interface NormaliserOptions {
  /** normaliser per logical field name; defaults to DEFAULT_NORMALISERS */
  normalisers?: Readonly<Record<string, Normaliser>>;
  /** for fields not in `normalisers`; defaults to `text` (NFC + trim) */
  fallback?: Normaliser;
}

/** Picks the normaliser for a field; shared by the blind index and the identity protector. */
export function normaliserFor(field: string, options: NormaliserOptions = {}): Normaliser {
  const table = options.normalisers ?? DEFAULT_NORMALISERS;
  return (Object.hasOwn(table, field) ? table[field] : undefined) ?? options.fallback ?? text;
}

export class BlindIndexer {
  /** the blind-index key's public id: store it to detect indexes built with another key */
  readonly keyId: string;
  readonly #key: KeyObject;
  readonly #options: NormaliserOptions;

  constructor(ring: KeyRing, options: NormaliserOptions = {}) {
    this.#key = ring.blindIndexKey();
    this.keyId = ring.blindIndexKeyId;
    this.#options = options;
  }

  normalise(field: string, value: string): string {
    assertFieldName(field);
    assertText(field, value);
    return normaliserFor(field, this.#options)(value);
  }

  /** Deterministic: the same (field, normalised value, key) always gives the same 22-character string. */
  index(field: string, value: string): string {
    return computeBlindIndex(this.#key, field, this.normalise(field, value));
  }
}
