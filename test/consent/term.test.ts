/** consent/term.ts: whole calendar months from creation to expiry (UTC); -1 without an end. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { termMonths } from '../../src/consent/term.ts';
import { createConsent, extendValidity } from '../../src/consent/state.ts';
import { BR_NO_EXPIRY } from '../../src/consent/br-validation.ts';

const d = (iso: string) => new Date(iso);

describe('termMonths', () => {
  const cases: Array<[string, string, string, number]> = [
    ['six months to the minute', '2026-01-15T10:00:00Z', '2026-07-15T10:00:00Z', 6],
    ['one minute short of six', '2026-01-15T10:00:00Z', '2026-07-15T09:59:00Z', 5],
    ['a year', '2026-12-03T08:00:00Z', '2027-12-03T08:00:00Z', 12],
    ['across a year end', '2026-11-30T00:00:00Z', '2027-02-28T00:00:00Z', 2],
    ['the 31st to the end of February: no whole month', '2026-01-31T00:00:00Z', '2026-02-28T23:59:59Z', 0],
    ['five minutes (a payment consent)', '2026-12-03T08:00:00Z', '2026-12-03T08:05:00Z', 0],
    ['expiry before creation', '2026-12-03T08:00:00Z', '2026-12-01T00:00:00Z', 0],
    ['no end (Open Finance Brasil indefinite)', '2026-12-03T08:00:00Z', BR_NO_EXPIRY.toISOString(), -1],
  ];
  for (const [name, from, to, months] of cases) {
    it(name, () => assert.equal(termMonths(d(from), d(to)), months));
  }

  it('is set with the expiry: at creation and by an extension', () => {
    const now = d('2026-01-15T10:00:00Z');
    const consent = createConsent(
      { clientId: 'tpp', type: 'br-data-sharing', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: '2026-04-15', expiresAt: d('2026-04-15T10:00:00Z'), frequencyPerDay: 1, combinedServiceIndicator: false },
      { now, newId: () => 'urn:assent:1' },
    );
    assert.equal(consent.termMonths, 3);
    const active = { ...consent, status: 'AUTHORISED' as const };
    const change = extendValidity(active, { expiresAt: d('2027-01-15T10:00:00Z'), validUntil: '2027-01-15', details: {} }, { now: d('2026-02-01T00:00:00Z') });
    assert.equal(change.set.termMonths, 12);
    const forever = extendValidity(active, { expiresAt: BR_NO_EXPIRY, validUntil: '9999-12-31', details: {} }, { now: d('2026-02-01T00:00:00Z') });
    assert.equal(forever.set.termMonths, -1);
  });
});
