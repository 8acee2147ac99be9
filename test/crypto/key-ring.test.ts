import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { KeyRingError } from '../../src/crypto/errors.ts';
import {
  KeyRingConfigSchema,
  generateKeyRing,
  generateKeyRingConfig,
  keyRingFromConfig,
  parseKeyRing,
} from '../../src/crypto/key-ring.ts';
import { BI, K1, K2, b64, ringB, spellings } from './fixtures.ts';

function keyRingError(fn: () => unknown): KeyRingError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof KeyRingError, `expected KeyRingError, got ${String(error)}`);
    assert.equal(error.code, 'KEY_RING_INVALID');
    return error;
  }
  assert.fail('expected a KeyRingError');
}

/** the message, the JSON and the inspect output of an error must not carry any of the given keys */
function assertNoKeyMaterial(error: unknown, fills: number[]): void {
  const outputs = [String(error), JSON.stringify(error), inspect(error, { depth: 10 })];
  for (const output of outputs) {
    for (const fill of fills) {
      for (const spelling of spellings(fill)) assert.ok(!output.includes(spelling), `key material leaked: ${output}`);
    }
  }
}

describe('key ring configuration', () => {
  it('parses JSON text into a ring with the current key and every key id', () => {
    const ring = parseKeyRing(JSON.stringify({ current: 'k2', encryptionKeys: { k1: K1, k2: K2 }, blindIndexKey: BI }));
    assert.equal(ring.current, 'k2');
    assert.deepEqual(ring.encryptionKeyIds, ['k1', 'k2']);
    assert.equal(ring.hasEncryptionKey('k1'), true);
    assert.equal(ring.hasEncryptionKey('k3'), false);
    assert.equal(ring.encryptionKey('k3'), undefined);
    assert.equal(ring.currentEncryptionKey().symmetricKeySize, 32);
    assert.match(ring.blindIndexKeyId, /^bi-[A-Za-z0-9_-]{8}$/);
  });

  it('accepts base64url keys and surrounding whitespace', () => {
    const url = Buffer.alloc(32, 0xfb).toString('base64url');
    const ring = keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: url }, blindIndexKey: ` ${BI}\n` });
    assert.equal(ring.current, 'k1');
  });

  it('derives the blind-index key id from the key alone', () => {
    const other = keyRingFromConfig({ current: 'x', encryptionKeys: { x: b64(0x33) }, blindIndexKey: BI });
    assert.equal(other.blindIndexKeyId, ringB().blindIndexKeyId);
    const changed = keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: b64(0x98) });
    assert.notEqual(changed.blindIndexKeyId, ringB().blindIndexKeyId);
  });

  it('rejects an encryption key of the wrong length, naming the key id and its decoded size', () => {
    const error = keyRingError(() =>
      keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1, short: b64(0x44, 16) }, blindIndexKey: BI }),
    );
    assert.match(error.message, /encryption key "short" must be 32 bytes .* decodes to 16 bytes/);
    assert.deepEqual(error.issues.map((i) => i.path), ['encryptionKeys.short']);
    assertNoKeyMaterial(error, [0x11, 0x44, 0x99]);
  });

  it('rejects a key that is not base64 without echoing it', () => {
    const secret = 'not*base64*but*someones*secret!!';
    const error = keyRingError(() => keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: secret }, blindIndexKey: BI }));
    assert.match(error.message, /encryption key "k1" is not valid base64/);
    assert.ok(!error.message.includes(secret));
    assert.ok(!JSON.stringify(error).includes(secret));
  });

  it('rejects a blind-index key of the wrong length', () => {
    const error = keyRingError(() => keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: b64(0x55, 31) }));
    assert.match(error.message, /blindIndexKey must be 32 bytes .* decodes to 31 bytes/);
    assertNoKeyMaterial(error, [0x11, 0x55]);
  });

  it('rejects a missing current', () => {
    const error = keyRingError(() => keyRingFromConfig({ encryptionKeys: { k1: K1 }, blindIndexKey: BI }));
    assert.match(error.message, /current is required/);
    assertNoKeyMaterial(error, [0x11, 0x99]);
  });

  it('rejects a current that names no configured key, listing the ids', () => {
    const error = keyRingError(() => keyRingFromConfig({ current: 'k3', encryptionKeys: { k1: K1, k2: K2 }, blindIndexKey: BI }));
    assert.match(error.message, /current key "k3" is not one of the encryption keys \("k1", "k2"\)/);
    assertNoKeyMaterial(error, [0x11, 0x22, 0x99]);
  });

  it('rejects an empty key set, bad key ids, unknown properties and non-objects', () => {
    assert.match(keyRingError(() => keyRingFromConfig({ current: 'k1', encryptionKeys: {}, blindIndexKey: BI })).message, /at least one key/);
    assert.match(
      keyRingError(() => keyRingFromConfig({ current: 'a:b', encryptionKeys: { 'a:b': K1 }, blindIndexKey: BI })).message,
      /key id "a:b" may only use/,
    );
    assert.match(
      keyRingError(() => keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: BI, blindIndexKeys: BI })).message,
      /Unrecognized key: "blindIndexKeys"/,
    );
    assert.match(keyRingError(() => keyRingFromConfig('k1')).message, /expected object/);
  });

  it('rejects a key reused under two ids, or as the blind-index key', () => {
    assert.match(
      keyRingError(() => keyRingFromConfig({ current: 'k2', encryptionKeys: { k1: K1, k2: K1 }, blindIndexKey: BI })).message,
      /"k1" and "k2" are the same key/,
    );
    const error = keyRingError(() => keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: K1 }));
    assert.match(error.message, /blindIndexKey must differ from the encryption keys \(it equals "k1"\)/);
    assertNoKeyMaterial(error, [0x11]);
  });

  it('reports invalid JSON without quoting the text', () => {
    const text = `{"current":"k1","encryptionKeys":{"k1":"${K1}"`;
    const error = keyRingError(() => parseKeyRing(text));
    assert.match(error.message, /not valid JSON/);
    assert.equal(error.cause, undefined);
    assertNoKeyMaterial(error, [0x11]);
  });

  it('exposes a zod schema that can be embedded in a larger config', () => {
    const result = KeyRingConfigSchema.safeParse({ current: 'k1', encryptionKeys: { k1: b64(1, 8) }, blindIndexKey: BI });
    assert.equal(result.success, false);
    assert.ok(!JSON.stringify(result.error).includes(b64(1, 8)));
    assert.equal(KeyRingConfigSchema.safeParse({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: BI }).success, true);
  });
});

describe('key ring redaction', () => {
  it('JSON.stringify, String and util.inspect show ids, never key bytes', () => {
    const ring = ringB();
    const outputs = [JSON.stringify(ring), JSON.stringify({ nested: { ring } }), String(ring), inspect(ring, { depth: 10, showHidden: true }), inspect({ ring })];
    for (const output of outputs) {
      assert.match(output, /k2/);
      for (const fill of [0x11, 0x22, 0x99]) {
        for (const spelling of spellings(fill)) assert.ok(!output.includes(spelling), `leaked in ${output}`);
      }
    }
    assert.deepEqual(JSON.parse(JSON.stringify(ring)), { current: 'k2', encryptionKeyIds: ['k1', 'k2'], blindIndexKeyId: ring.blindIndexKeyId });
  });

  it('keeps no key bytes in enumerable properties', () => {
    const ring = ringB();
    assert.deepEqual(Object.keys(ring).sort(), ['blindIndexKeyId', 'current']);
  });
});

describe('generated key rings', () => {
  it('makes random 256-bit keys every time', () => {
    const config = generateKeyRingConfig('demo');
    assert.equal(config.current, 'demo');
    assert.equal(Buffer.from(config.encryptionKeys.demo!, 'base64').length, 32);
    assert.equal(Buffer.from(config.blindIndexKey, 'base64').length, 32);
    assert.notEqual(generateKeyRingConfig().blindIndexKey, generateKeyRingConfig().blindIndexKey);
    const ring = generateKeyRing();
    assert.equal(ring.current, 'k1');
    assert.notEqual(ring.blindIndexKeyId, generateKeyRing().blindIndexKeyId);
  });
});
