import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecryptionError } from '../../src/crypto/errors.ts';
import { createFieldProtector, createIdentityProtector, identityProtector } from '../../src/crypto/field-protector.ts';
import { ringA, ringB, ringC } from './fixtures.ts';

describe('FieldProtector', () => {
  it('protects, reveals and indexes', () => {
    const protector = createFieldProtector(ringA());
    assert.equal(protector.encrypts, true);
    assert.equal(protector.blindIndexKeyId, ringA().blindIndexKeyId);
    const stored = protector.protect('psuId', 'PSU-0001');
    assert.equal(protector.isProtected(stored), true);
    assert.equal(protector.isProtected('PSU-0001'), false);
    assert.equal(protector.reveal('psuId', stored), 'PSU-0001');
    assert.equal(protector.index('iban', 'de89 3704'), protector.index('iban', 'DE893704'));
    assert.notEqual(protector.index('psuId', 'PSU-0001'), 'PSU-0001');
  });

  it('refuses plaintext where a ciphertext belongs', () => {
    const protector = createFieldProtector(ringA());
    assert.throws(() => protector.reveal('psuId', 'PSU-0001'), { name: 'DecryptionError', code: 'DECRYPT_MALFORMED' });
  });

  it('rotates through needsRotation and reprotect, with indexes unchanged', () => {
    const old = createFieldProtector(ringA());
    const stored = old.protect('psuIpAddress', '2001:db8::1');
    const current = createFieldProtector(ringB());
    assert.equal(current.needsRotation(stored), true);
    const moved = current.reprotect('psuIpAddress', stored);
    assert.equal(current.needsRotation(moved), false);
    assert.equal(createFieldProtector(ringC()).reveal('psuIpAddress', moved), '2001:db8::1');
    assert.throws(() => createFieldProtector(ringC()).reveal('psuIpAddress', stored), (e) => e instanceof DecryptionError && e.code === 'DECRYPT_UNKNOWN_KEY');
    assert.equal(current.index('psuIpAddress', '2001:DB8:0::1'), old.index('psuIpAddress', '2001:db8::1'));
  });

  it('uses the given normalisers', () => {
    const protector = createFieldProtector(ringA(), { normalisers: { psuId: (v) => v.trim().toUpperCase() } });
    assert.equal(protector.index('psuId', ' psu-1 '), protector.index('psuId', 'PSU-1'));
  });
});

describe('identityProtector', () => {
  it('stores values as given and indexes with the normalised plaintext', () => {
    assert.equal(identityProtector.encrypts, false);
    assert.equal(identityProtector.blindIndexKeyId, null);
    assert.equal(identityProtector.protect('psuId', 'PSU-0001'), 'PSU-0001');
    assert.equal(identityProtector.reveal('psuId', 'PSU-0001'), 'PSU-0001');
    assert.equal(identityProtector.index('iban', 'de89 3704'), 'DE893704');
    assert.equal(identityProtector.index('psuId', ' PSU-0001 '), 'PSU-0001');
    assert.equal(identityProtector.isProtected('PSU-0001'), false);
    assert.equal(identityProtector.needsRotation('PSU-0001'), false);
    assert.equal(identityProtector.reprotect('psuId', 'PSU-0001'), 'PSU-0001');
  });

  it('fails loudly on an encrypted value instead of showing ciphertext', () => {
    const stored = createFieldProtector(ringA()).protect('psuId', 'PSU-0001');
    assert.equal(identityProtector.isProtected(stored), true);
    assert.throws(() => identityProtector.reveal('psuId', stored), { code: 'DECRYPT_NOT_CONFIGURED' });
  });

  it('takes normalisers too', () => {
    assert.equal(createIdentityProtector({ normalisers: {}, fallback: (v) => v }).index('iban', 'de89 3704'), 'de89 3704');
  });
});
