import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceOfPath, usageRule } from '../../src/consent/access-check.ts';
import { bankDay, isTimeZone } from '../../src/consent/usage.ts';

describe('resourceOfPath', () => {
  const cases: Array<[string, ReturnType<typeof resourceOfPath>]> = [
    ['/psd2/accountinformation/v1/accounts', { kind: 'accounts' }],
    ['/psd2/accountinformation/v1/accounts/', { kind: 'accounts' }],
    ['/psd2/accountinformation/v1/accounts/a%201', { kind: 'accounts', accountId: 'a 1' }],
    ['/psd2/accountinformation/v1/accounts/a1/balances', { kind: 'balances', accountId: 'a1' }],
    ['/psd2/accountinformation/v1/accounts/a1/transactions?bookingStatus=booked', { kind: 'transactions', accountId: 'a1' }],
    ['/psd2/accountinformation/v1/accounts/a1/transactions/t9', { kind: 'transactions', accountId: 'a1' }],
    ['/v1/card-accounts/c1/balances', { kind: 'balances', accountId: 'c1' }],
    ['/psd2/accountinformation/v1/accounts/a1/owners', undefined],
    ['/psd2/consent/v1/consents', undefined],
  ];
  for (const [path, expected] of cases) test(path, () => assert.deepEqual(resourceOfPath(path), expected));
});

describe('usageRule (Berlin Group)', () => {
  test('recurring: counted per day without the customer, not counted with', () => {
    assert.deepEqual(usageRule({ recurringIndicator: true, frequencyPerDay: 4 }, false), { counted: true, limit: 4, period: 'day' });
    assert.deepEqual(usageRule({ recurringIndicator: true, frequencyPerDay: 4 }, true), { counted: false, limit: 4 });
  });
  test('one-off: once per resource for its whole life, customer present or not', () => {
    for (const present of [true, false]) assert.deepEqual(usageRule({ recurringIndicator: false, frequencyPerDay: 1 }, present), { counted: true, limit: 1, period: 'lifetime' });
  });
});

describe('bankDay', () => {
  test('UTC', () => {
    assert.deepEqual(bankDay(new Date('2026-03-10T23:59:59Z'), 'UTC'), { day: '2026-03-10', endsAt: new Date('2026-03-11T00:00:00Z') });
  });
  test('a zone east of UTC: the local date, and the local midnight', () => {
    assert.deepEqual(bankDay(new Date('2026-01-10T23:30:00Z'), 'Europe/Stockholm'), { day: '2026-01-11', endsAt: new Date('2026-01-11T23:00:00Z') });
  });
  test('a zone west of UTC', () => {
    assert.deepEqual(bankDay(new Date('2026-01-11T02:00:00Z'), 'America/Sao_Paulo'), { day: '2026-01-10', endsAt: new Date('2026-01-11T03:00:00Z') });
  });
  test('the day a DST change happens: midnight in the new offset', () => {
    // Stockholm moves to CEST (+2) on 2026-03-29 at 01:00 UTC
    assert.deepEqual(bankDay(new Date('2026-03-29T12:00:00Z'), 'Europe/Stockholm'), { day: '2026-03-29', endsAt: new Date('2026-03-29T22:00:00Z') });
    assert.deepEqual(bankDay(new Date('2026-03-28T12:00:00Z'), 'Europe/Stockholm'), { day: '2026-03-28', endsAt: new Date('2026-03-28T23:00:00Z') });
  });
  test('isTimeZone', () => {
    assert.equal(isTimeZone('Europe/Stockholm'), true);
    assert.equal(isTimeZone('Mars/Olympus'), false);
  });
});
