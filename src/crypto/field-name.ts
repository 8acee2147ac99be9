import { CryptoInputError } from './errors.ts';

/**
 * Field names go into GCM associated data and HMAC input behind a fixed prefix and a NUL separator;
 * forbidding NUL in them keeps those encodings unambiguous.
 */
export function assertFieldName(field: unknown): asserts field is string {
  if (typeof field !== 'string' || field.length === 0 || field.length > 128 || field.includes('\0')) {
    throw new CryptoInputError('field name must be a non-empty string of at most 128 characters without NUL');
  }
}

/** A value to encrypt or index must be a string that survives a UTF-8 round trip (no lone surrogates). */
export function assertText(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new CryptoInputError(`value of field "${field}" must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (!value.isWellFormed()) {
    throw new CryptoInputError(`value of field "${field}" is not well-formed Unicode (lone surrogate)`);
  }
}
