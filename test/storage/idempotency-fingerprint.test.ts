import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprintOf } from '../../src/storage/idempotency-store.ts';

test('fingerprintOf: key order does not matter, content does', () => {
  const a = { payment: { amount: '10.00', currency: 'BRL' }, creditor: { name: 'Loja', cpfCnpj: '12345678000190' } };
  const b = { creditor: { cpfCnpj: '12345678000190', name: 'Loja' }, payment: { currency: 'BRL', amount: '10.00' } };
  assert.equal(fingerprintOf(a), fingerprintOf(b));
  assert.notEqual(fingerprintOf(a), fingerprintOf({ ...a, payment: { amount: '10.01', currency: 'BRL' } }));
  assert.notEqual(fingerprintOf([1, 2]), fingerprintOf([2, 1]));
  assert.notEqual(fingerprintOf({ a: '1' }), fingerprintOf({ a: 1 }));
  assert.match(fingerprintOf(undefined), /^[\w-]{43}$/);
});
