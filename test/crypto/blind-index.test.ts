import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlindIndexer, computeBlindIndex } from '../../src/crypto/blind-index.ts';
import { CryptoInputError } from '../../src/crypto/errors.ts';
import { keyRingFromConfig } from '../../src/crypto/key-ring.ts';
import { compact, digits, ipAddress, phone, taxId, text } from '../../src/crypto/normalise.ts';
import { K1, b64, ringA, ringB } from './fixtures.ts';

describe('blind index', () => {
  it('is deterministic, 128 bits in base64url, and independent of the encryption keys', () => {
    const a = new BlindIndexer(ringA());
    const index = a.index('psuId', 'PSU-0001');
    assert.match(index, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(index, 'base64url').length, 16);
    assert.equal(a.index('psuId', 'PSU-0001'), index);
    // ring B rotated the encryption key but shares the blind-index key: searches keep working
    assert.equal(new BlindIndexer(ringB()).index('psuId', 'PSU-0001'), index);
    assert.equal(a.keyId, ringA().blindIndexKeyId);
  });

  it('differs for different values', () => {
    const indexer = new BlindIndexer(ringA());
    assert.notEqual(indexer.index('psuId', 'PSU-0001'), indexer.index('psuId', 'PSU-0002'));
    assert.notEqual(indexer.index('psuId', 'psu-0001'), indexer.index('psuId', 'PSU-0001')); // psuId is case-sensitive
  });

  it('normalises IBANs: spaces and lower case give the compact form', () => {
    const indexer = new BlindIndexer(ringA());
    const compactIban = indexer.index('iban', 'DE89370400440532013000');
    assert.equal(indexer.index('iban', 'de89 3704 0044 0532 0130 00'), compactIban);
    assert.equal(indexer.index('iban', '  DE89\t3704 0044 0532 0130 00\n'), compactIban);
  });

  it('normalises CPF/CNPJ to letters and digits, including alphanumeric CNPJs', () => {
    const indexer = new BlindIndexer(ringA());
    assert.equal(indexer.index('document', '123.456.789-09'), indexer.index('document', '12345678909'));
    assert.equal(indexer.index('document', '12.abc.345/01de-35'), indexer.index('document', '12ABC34501DE35'));
  });

  it('separates fields: the same value in two fields gives unrelated indexes', () => {
    const indexer = new BlindIndexer(ringA());
    assert.notEqual(indexer.index('psuId', '12345678909'), indexer.index('document', '12345678909'));
    assert.notEqual(indexer.index('cpf', '12345678909'), indexer.index('cnpj', '12345678909'));
  });

  it('changes with the blind-index key', () => {
    const other = keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: b64(0x98) });
    assert.notEqual(new BlindIndexer(other).index('psuId', 'PSU-0001'), new BlindIndexer(ringA()).index('psuId', 'PSU-0001'));
  });

  it('takes a normaliser per field, and a fallback', () => {
    const indexer = new BlindIndexer(ringA(), { normalisers: { email: (v) => v.trim().toLowerCase() }, fallback: (v) => v });
    assert.equal(indexer.index('email', ' Ana@Example.com'), indexer.index('email', 'ana@example.com'));
    assert.notEqual(indexer.index('psuId', ' x'), indexer.index('psuId', 'x')); // fallback keeps spaces
    // with custom normalisers the defaults are replaced, not merged
    assert.notEqual(indexer.index('iban', 'de89 3704'), indexer.index('iban', 'DE893704'));
  });

  it('matches the documented construction', () => {
    const ring = ringA();
    assert.equal(new BlindIndexer(ring).index('iban', 'de89 3704'), computeBlindIndex(ring.blindIndexKey(), 'iban', 'DE893704'));
  });

  it('rejects bad field names and non-strings', () => {
    const indexer = new BlindIndexer(ringA());
    assert.throws(() => indexer.index('', 'x'), CryptoInputError);
    assert.throws(() => indexer.index('psuId', null as unknown as string), CryptoInputError);
  });
});

describe('normalisers', () => {
  it('text: NFC and trim', () => {
    assert.equal(text('  Jose\u0301 '), 'José');
  });
  it('compact: no whitespace, upper case', () => {
    assert.equal(compact(' gb33 bukb 2020 1555 5555 55 '), 'GB33BUKB20201555555555');
  });
  it('digits and taxId', () => {
    assert.equal(digits('4111 1111-1111 1111'), '4111111111111111');
    assert.equal(taxId('12.345.678/0001-95'), '12345678000195');
    assert.equal(taxId('12.abc.345/01de-35'), '12ABC34501DE35');
  });
  it('phone keeps a leading plus', () => {
    assert.equal(phone(' +49 (170) 123-4567 '), '+491701234567');
    assert.equal(phone('0170 1234567'), '01701234567');
  });
  it('ipAddress canonicalises IPv6 and trims IPv4', () => {
    assert.equal(ipAddress(' 0:0:0:0:0:0:0:1 '), '::1');
    assert.equal(ipAddress('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(ipAddress(' 192.168.0.1 '), '192.168.0.1');
    assert.equal(ipAddress('not-an-ip '), 'not-an-ip');
  });
});
