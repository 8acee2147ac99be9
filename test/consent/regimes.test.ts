import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChange } from '../../src/consent/change.ts';
import { ConsentExpired, ConsentStateConflict } from '../../src/consent/errors.ts';
import { defineRegime } from '../../src/consent/regime.ts';
import {
  ACTIVE_STATUSES,
  AWAITING_STATUSES,
  CONSENT_STATUSES,
  ENDED_STATUSES,
  REGIMES,
  brazilDataSharing,
  isActive,
  isAwaiting,
  isEnded,
  regimeOf,
} from '../../src/consent/regimes/index.ts';
import {
  approve,
  canTransition,
  createConsent,
  deny,
  effectiveStatus,
  expire,
  rejectStale,
  revokeByPsu,
  sweep,
  terminateByTpp,
  transition,
} from '../../src/consent/state.ts';
import type { Consent, ConsentChange } from '../../src/consent/types.ts';

const CREATED = new Date('2026-03-01T09:00:00.000Z');
const NOW = new Date('2026-03-01T09:30:00.000Z');
const EXPIRES_AT = new Date('2026-09-01T12:00:00.000Z');

function brazilian(status: Consent['status'] = 'AWAITING_AUTHORISATION'): Consent {
  const consent = createConsent(
    {
      clientId: 'tpp-br',
      type: 'br-data-sharing',
      access: {},
      recurringIndicator: true,
      validUntil: '2026-09-01',
      expiresAt: EXPIRES_AT,
      frequencyPerDay: 1,
      combinedServiceIndicator: false,
      details: { permissions: ['ACCOUNTS_READ', 'RESOURCES_READ'] },
    },
    { now: CREATED, newId: () => 'urn:assent:1' },
  );
  return { ...consent, status, authorisations: [{ id: 'a-1', scaStatus: 'scaMethodSelected', createdAt: CREATED, updatedAt: CREATED, history: [] }] };
}

const approval = { authorisationId: 'a-1', psuId: 'psu-1', grantedAccounts: [], grantId: 'g-1' };

function outcome(change: ConsentChange | null) {
  return change ? { to: change.set.status, rejection: change.set.rejection, actor: change.history?.[0]?.actor } : null;
}

describe('consent regimes', () => {
  it('every status belongs to exactly one regime, as awaiting, active or ended', () => {
    assert.equal(new Set(CONSENT_STATUSES).size, CONSENT_STATUSES.length);
    for (const status of CONSENT_STATUSES) {
      assert.equal([isAwaiting(status), isActive(status), isEnded(status)].filter(Boolean).length, 1, status);
    }
    assert.deepEqual([...AWAITING_STATUSES].sort(), ['AWAITING_AUTHORISATION', 'received']);
    assert.deepEqual([...ACTIVE_STATUSES].sort(), ['AUTHORISED', 'valid']);
    assert.deepEqual([...ENDED_STATUSES].sort(), ['CONSUMED', 'REJECTED', 'expired', 'rejected', 'revokedByPsu', 'terminatedByTpp']);
    assert.deepEqual(REGIMES.map((r) => r.id), ['berlin-group', 'br-data-sharing', 'br-payment']);
  });

  it('maps consent types to their regime and refuses a type no regime claims', () => {
    assert.equal(regimeOf('accounts').id, 'berlin-group');
    assert.equal(regimeOf('br-data-sharing').id, 'br-data-sharing');
    assert.equal(regimeOf('br-payment').id, 'br-payment');
    assert.throws(() => regimeOf('unknown-type' as never), /no consent regime handles consent type unknown-type/);
  });

  it('derives the Brazilian graph from its moves', () => {
    assert.deepEqual(brazilDataSharing.transitions, {
      AWAITING_AUTHORISATION: ['AUTHORISED', 'REJECTED'],
      AUTHORISED: ['REJECTED'],
      REJECTED: [],
    });
    assert.equal(canTransition('br-data-sharing', 'AUTHORISED', 'AWAITING_AUTHORISATION'), false);
    assert.equal(canTransition('br-data-sharing', 'AWAITING_AUTHORISATION', 'AUTHORISED'), true);
    // vocabularies do not mix
    assert.equal(canTransition('br-data-sharing', 'received', 'valid'), false);
  });

  it('refuses a broken regime at definition time', () => {
    const base = {
      id: 'broken',
      statuses: ['A', 'B'] as const,
      initial: 'A' as const,
      moves: { approve: { A: { to: 'B' as const } }, deny: {}, terminateByTpp: {}, revokeByPsu: {}, expire: {}, rejectStale: {} },
      awaiting: ['A'] as const,
      active: [] as const,
      ended: ['B'] as const,
      expired: [] as const,
      consentTypes: {},
    };
    assert.doesNotThrow(() => defineRegime(base));
    assert.throws(() => defineRegime({ ...base, ended: [] }), /status B must be exactly one of/);
    assert.throws(() => defineRegime({ ...base, moves: { ...base.moves, deny: { B: { to: 'A' as const } } } }), /ended status B cannot move/);
    assert.throws(() => defineRegime({ ...base, expired: ['A'] as const }), /expired status A is not ended/);
  });
});

describe('Open Finance Brasil data-sharing state machine', () => {
  it('starts AWAITING_AUTHORISATION with its first history entry', () => {
    const consent = brazilian();
    assert.equal(consent.status, 'AWAITING_AUTHORISATION');
    assert.deepEqual(consent.history.map((h) => [h.from, h.to]), [[null, 'AWAITING_AUTHORISATION']]);
  });

  const cases: Array<[string, Consent['status'], (c: Consent) => ConsentChange | null, ReturnType<typeof outcome> | 'conflict' | 'expired', Date?]> = [
    ['approve', 'AWAITING_AUTHORISATION', (c) => approve(c, approval, { now: NOW }), { to: 'AUTHORISED', rejection: undefined, actor: 'PSU' }],
    ['deny', 'AWAITING_AUTHORISATION', (c) => deny(c, { authorisationId: 'a-1' }, { now: NOW }),
      { to: 'REJECTED', rejection: { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REJECTED' } }, actor: 'PSU' }],
    ['deny with the bank\'s reason', 'AWAITING_AUTHORISATION',
      (c) => deny(c, { authorisationId: 'a-1', rejection: { rejectedBy: 'ASPSP', reason: { code: 'INTERNAL_SECURITY_REASON', additionalInformation: 'CPF' } } }, { now: NOW, actor: 'ASPSP' }),
      { to: 'REJECTED', rejection: { rejectedBy: 'ASPSP', reason: { code: 'INTERNAL_SECURITY_REASON', additionalInformation: 'CPF' } }, actor: 'ASPSP' }],
    ['DELETE while awaiting', 'AWAITING_AUTHORISATION', (c) => terminateByTpp(c, { now: NOW }),
      { to: 'REJECTED', rejection: { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REJECTED' } }, actor: 'TPP' }],
    ['DELETE when authorised', 'AUTHORISED', (c) => terminateByTpp(c, { now: NOW }),
      { to: 'REJECTED', rejection: { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } }, actor: 'TPP' }],
    ['customer withdrawal', 'AUTHORISED', (c) => revokeByPsu(c, { now: NOW }),
      { to: 'REJECTED', rejection: { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } }, actor: 'PSU' }],
    ['60-minute rule', 'AWAITING_AUTHORISATION', (c) => rejectStale(c, { now: NOW }),
      { to: 'REJECTED', rejection: { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_EXPIRED' } }, actor: 'system' }],
    ['max date reached', 'AUTHORISED', (c) => expire(c, { now: EXPIRES_AT }),
      { to: 'REJECTED', rejection: { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_MAX_DATE_REACHED' } }, actor: 'system' }, EXPIRES_AT],
    ['expiry while awaiting', 'AWAITING_AUTHORISATION', (c) => expire(c, { now: EXPIRES_AT }),
      { to: 'REJECTED', rejection: { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_EXPIRED' } }, actor: 'system' }, EXPIRES_AT],
    ['withdrawal past the max date records the max date', 'AUTHORISED', (c) => revokeByPsu(c, { now: EXPIRES_AT }),
      { to: 'REJECTED', rejection: { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_MAX_DATE_REACHED' } }, actor: 'system' }, EXPIRES_AT],
    ['withdrawal before authorisation', 'AWAITING_AUTHORISATION', (c) => revokeByPsu(c, { now: NOW }), 'conflict'],
    ['approve twice', 'AUTHORISED', (c) => approve(c, approval, { now: NOW }), 'conflict'],
    ['approve once expired', 'AWAITING_AUTHORISATION', (c) => approve(c, approval, { now: EXPIRES_AT }), 'expired', EXPIRES_AT],
    ['DELETE of a rejected consent', 'REJECTED', (c) => terminateByTpp(c, { now: NOW }), null],
    ['withdrawal of a rejected consent', 'REJECTED', (c) => revokeByPsu(c, { now: NOW }), null],
    ['approve a rejected consent', 'REJECTED', (c) => approve(c, approval, { now: NOW }), 'conflict'],
  ];
  for (const [name, status, intent, expected] of cases) {
    it(`${name}: ${status} → ${expected === null ? 'no-op' : typeof expected === 'string' ? expected : expected.to}`, () => {
      const consent = brazilian(status);
      if (expected === 'conflict' || expected === 'expired') {
        assert.throws(() => intent(consent), (err: unknown) => err instanceof ConsentStateConflict && (err instanceof ConsentExpired) === (expected === 'expired'));
        return;
      }
      const change = intent(consent);
      assert.deepEqual(outcome(change), expected);
      if (change) {
        const after = applyChange(consent, change);
        assert.equal(after.history.at(-1)?.from, status);
        assert.equal(after.history.at(-1)?.to, after.status);
      }
    });
  }

  it('reads an open consent past its expirationDateTime as REJECTED', () => {
    assert.equal(effectiveStatus(brazilian('AUTHORISED'), NOW), 'AUTHORISED');
    assert.equal(effectiveStatus(brazilian('AUTHORISED'), EXPIRES_AT), 'REJECTED');
  });

  it('the sweeper rejects a stale AWAITING_AUTHORISATION consent and expires an AUTHORISED one', () => {
    const stale = sweep(brazilian(), new Date(CREATED.getTime() + 1), { now: NOW });
    assert.equal(stale?.set.rejection?.reason.code, 'CONSENT_EXPIRED');
    assert.equal(sweep(brazilian(), CREATED, { now: NOW }), null);
    const due = sweep(brazilian('AUTHORISED'), CREATED, { now: EXPIRES_AT });
    assert.equal(due?.set.rejection?.reason.code, 'CONSENT_MAX_DATE_REACHED');
  });

  it('a regime intent the regime does not have is a conflict', () => {
    assert.throws(() => transition(brazilian('AUTHORISED'), 'consume', { now: NOW }, { actor: 'TPP' }), ConsentStateConflict);
  });
});
