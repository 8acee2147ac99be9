import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { CryptoInputError, DecryptionError, type DecryptionErrorCode } from '../../src/crypto/errors.ts';
import { FieldCipher, isEncryptedValue, keyIdOf } from '../../src/crypto/field-cipher.ts';
import { KeyRing } from '../../src/crypto/key-ring.ts';
import { keyBytes, ringA, ringB, ringC } from './fixtures.ts';

const STORED = /^enc:v1:([A-Za-z0-9_-]+):([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

function parts(value: string): { kid: string; iv: Buffer; ct: Buffer; tag: Buffer } {
  const m = STORED.exec(value);
  assert.ok(m, `not a v1 value: ${value}`);
  return { kid: m[1]!, iv: Buffer.from(m[2]!, 'base64url'), ct: Buffer.from(m[3]!, 'base64url'), tag: Buffer.from(m[4]!, 'base64url') };
}

function assemble(p: { kid: string; iv: Buffer; ct: Buffer; tag: Buffer }): string {
  return `enc:v1:${p.kid}:${p.iv.toString('base64url')}.${p.ct.toString('base64url')}.${p.tag.toString('base64url')}`;
}

function flipBit(bytes: Buffer, index = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

/** asserts a DecryptionError with `code`, and that its message, JSON and fields carry no plaintext */
function assertDecryptionError(fn: () => unknown, code: DecryptionErrorCode, plaintext?: string): DecryptionError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DecryptionError, `expected DecryptionError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (plaintext) {
      assert.ok(!error.message.includes(plaintext));
      assert.ok(!JSON.stringify(error).includes(plaintext));
    }
    return error;
  }
  assert.fail(`expected DecryptionError ${code}`);
}

describe('FieldCipher', () => {
  it('round-trips, including empty and non-ASCII text', () => {
    const cipher = new FieldCipher(ringA());
    for (const plaintext of ['DE89 3704 0044 0532 0130 00', '', 'José da Silva — São Paulo 🏦', 'x'.repeat(10_000)]) {
      const stored = cipher.encrypt('psuName', plaintext);
      assert.match(stored, STORED);
      assert.equal(cipher.decrypt('psuName', stored), plaintext);
    }
  });

  it('stores a self-describing string naming the key, without the plaintext', () => {
    const stored = new FieldCipher(ringB()).encrypt('psuId', 'PSU-0001');
    assert.ok(stored.startsWith('enc:v1:k2:'));
    assert.equal(keyIdOf(stored), 'k2');
    assert.ok(!stored.includes('PSU-0001'));
    assert.ok(!stored.includes(Buffer.from('PSU-0001').toString('base64url')));
    const { iv, tag } = parts(stored);
    assert.equal(iv.length, 12);
    assert.equal(tag.length, 16);
  });

  it('uses a fresh IV for every value: the same plaintext never gives the same ciphertext', () => {
    const cipher = new FieldCipher(ringA());
    const values = Array.from({ length: 200 }, () => cipher.encrypt('iban', 'DE89370400440532013000'));
    assert.equal(new Set(values).size, values.length);
    assert.equal(new Set(values.map((v) => parts(v).iv.toString('hex'))).size, values.length);
  });

  it('detects tampering with the IV, the ciphertext, the tag and the key id', () => {
    const cipher = new FieldCipher(ringB());
    const plaintext = '123.456.789-09';
    const original = parts(cipher.encrypt('document', plaintext));
    const tampered = [
      { ...original, iv: flipBit(original.iv) },
      { ...original, ct: flipBit(original.ct) },
      { ...original, ct: flipBit(original.ct, original.ct.length - 1) },
      { ...original, tag: flipBit(original.tag, 15) },
      { ...original, kid: 'k1' }, // another key the ring holds
    ];
    for (const value of tampered) assertDecryptionError(() => cipher.decrypt('document', assemble(value)), 'DECRYPT_FAILED', plaintext);
    const unknownKid = assertDecryptionError(() => cipher.decrypt('document', assemble({ ...original, kid: 'k9' })), 'DECRYPT_UNKNOWN_KEY', plaintext);
    assert.equal(unknownKid.kid, 'k9');
    assert.match(unknownKid.message, /key "k9" is not in the key ring/);
  });

  it('binds the key id even when two ids hold the same key', () => {
    const key = createSecretKey(keyBytes(0x77));
    const ring = new KeyRing('a', new Map([['a', key], ['b', key]]), createSecretKey(keyBytes(0x78)));
    const cipher = new FieldCipher(ring);
    const stored = cipher.encrypt('psuId', 'PSU-1');
    assertDecryptionError(() => cipher.decrypt('psuId', stored.replace('enc:v1:a:', 'enc:v1:b:')), 'DECRYPT_FAILED');
  });

  it('binds the value to its field: a value copied to another field does not decrypt', () => {
    const cipher = new FieldCipher(ringA());
    const stored = cipher.encrypt('psuId', 'PSU-0001');
    const error = assertDecryptionError(() => cipher.decrypt('psuIpAddress', stored), 'DECRYPT_FAILED', 'PSU-0001');
    assert.equal(error.field, 'psuIpAddress');
    assertDecryptionError(() => cipher.decrypt('psuid', stored), 'DECRYPT_FAILED');
  });

  it('rejects malformed and unsupported values with a typed error', () => {
    const cipher = new FieldCipher(ringA());
    const good = cipher.encrypt('iban', 'DE89');
    const { iv, ct, tag } = parts(good);
    const malformed = [
      'DE89370400440532013000', // plaintext
      '',
      'enc:v1:k1:',
      `enc:v1:k1:${iv.toString('base64url')}.${ct.toString('base64url')}`, // no tag
      `enc:v1:k1:${iv.subarray(0, 8).toString('base64url')}.${ct.toString('base64url')}.${tag.toString('base64url')}`, // short IV
      `enc:v1:k1:${iv.toString('base64url')}.${ct.toString('base64url')}.${tag.subarray(0, 12).toString('base64url')}`, // short tag
      `enc:v1:k1:${iv.toString('base64url')}.${ct.toString('base64url')}.${tag.toString('base64url')}=`,
      `enc:v1:k1:${iv.toString('base64url')}.${ct.toString('base64url')}.${tag.toString('base64url').slice(0, -1)}B`, // non-canonical last char
      good.replace('.', '+'),
      `${good}.extra`,
    ];
    for (const value of malformed) assertDecryptionError(() => cipher.decrypt('iban', value), 'DECRYPT_MALFORMED');
    assertDecryptionError(() => cipher.decrypt('iban', good.replace('enc:v1:', 'enc:v2:')), 'DECRYPT_UNSUPPORTED_VERSION');
    assertDecryptionError(() => cipher.decrypt('iban', 42 as unknown as string), 'DECRYPT_MALFORMED');
  });

  it('rejects bad field names and values that are not well-formed strings', () => {
    const cipher = new FieldCipher(ringA());
    assert.throws(() => cipher.encrypt('', 'x'), CryptoInputError);
    assert.throws(() => cipher.encrypt('a\0b', 'x'), CryptoInputError);
    assert.throws(() => cipher.encrypt('psuId', undefined as unknown as string), CryptoInputError);
    assert.throws(() => cipher.encrypt('psuId', 'broken \uD800 surrogate'), { code: 'CRYPTO_INVALID_INPUT' });
  });

  it('recognises encrypted values of any version, and only those', () => {
    const stored = new FieldCipher(ringA()).encrypt('iban', 'DE89');
    assert.equal(isEncryptedValue(stored), true);
    assert.equal(isEncryptedValue('enc:v2:whatever'), true);
    assert.equal(isEncryptedValue('DE89370400440532013000'), false);
    assert.equal(isEncryptedValue('enc:'), false);
    assert.equal(isEncryptedValue(undefined), false);
  });
});

describe('key rotation', () => {
  it('keeps old values readable, writes with the new key, and moves values over', () => {
    const before = new FieldCipher(ringA());
    const old = before.encrypt('iban', 'DE89370400440532013000');
    assert.equal(keyIdOf(old), 'k1');
    assert.equal(before.needsRotation(old), false);

    const after = new FieldCipher(ringB());
    assert.equal(after.decrypt('iban', old), 'DE89370400440532013000');
    const fresh = after.encrypt('iban', 'FR1420041010050500013M02606');
    assert.equal(keyIdOf(fresh), 'k2');
    assert.equal(after.needsRotation(old), true);
    assert.equal(after.needsRotation(fresh), false);

    const moved = after.reencrypt('iban', old);
    assert.equal(keyIdOf(moved), 'k2');
    assert.equal(after.needsRotation(moved), false);
    assert.equal(after.decrypt('iban', moved), 'DE89370400440532013000');
    // re-encryption checks the field binding too
    assertDecryptionError(() => after.reencrypt('psuId', old), 'DECRYPT_FAILED');

    const retired = new FieldCipher(ringC());
    assert.equal(retired.decrypt('iban', moved), 'DE89370400440532013000');
    assert.equal(retired.decrypt('iban', fresh), 'FR1420041010050500013M02606');
    const error = assertDecryptionError(() => retired.decrypt('iban', old), 'DECRYPT_UNKNOWN_KEY', 'DE89370400440532013000');
    assert.equal(error.kid, 'k1');
    assert.equal(error.field, 'iban');
    assert.equal(error.message, 'cannot decrypt field "iban": key "k1" is not in the key ring (retired too early?)');
  });

  it('needsRotation throws on what is not an encrypted value', () => {
    assertDecryptionError(() => new FieldCipher(ringB()).needsRotation('DE89'), 'DECRYPT_MALFORMED');
  });
});
