import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChange } from '../../src/consent/change.ts';
import {
  AuthorisationNotFound,
  AuthorisationStateConflict,
  ConsentExpired,
  ConsentStateConflict,
  PsuMismatch,
} from '../../src/consent/errors.ts';
import {
  advanceAuthorisation,
  approve,
  canTransition,
  canTransitionSca,
  createConsent,
  deny,
  effectiveStatus,
  expire,
  isFinal,
  isFinalSca,
  rejectStale,
  revokeByPsu,
  selectScaMethod,
  startAuthorisation,
  sweep,
  terminateByTpp,
} from '../../src/consent/state.ts';
import { BERLIN_GROUP_STATUSES } from '../../src/consent/regimes/berlin-group.ts';
import {
  SCA_STATUSES,
  type Consent,
  type ConsentChange,
  type ScaStatus,
} from '../../src/consent/types.ts';

/** this file is about the Berlin Group regime; test/consent/regimes.test.ts covers the others */
const CONSENT_STATUSES = BERLIN_GROUP_STATUSES;
type ConsentStatus = (typeof BERLIN_GROUP_STATUSES)[number];

const CREATED = new Date('2025-03-01T09:00:00.000Z');
const NOW = new Date('2025-03-10T10:00:00.000Z');
/** the consent below is valid until 2025-06-01, so it ends at this instant */
const EXPIRES_AT = new Date('2025-06-02T00:00:00.000Z');

function consentIn(status: ConsentStatus, scaStatus: ScaStatus = 'scaMethodSelected'): Consent {
  return {
    id: 'consent-1',
    clientId: 'tpp-1',
    type: 'accounts',
    access: { accounts: [{ iban: 'DE89370400440532013000' }] },
    recurringIndicator: true,
    validUntil: '2025-06-01',
    expiresAt: EXPIRES_AT,
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    status,
    lastActionDate: '2025-03-01',
    createdAt: CREATED,
    updatedAt: CREATED,
    history: [{ from: null, to: 'received', actor: 'TPP', at: CREATED }],
    authorisations: [
      { id: 'auth-1', scaStatus, createdAt: CREATED, updatedAt: CREATED, history: [{ from: null, to: scaStatus, actor: 'TPP', at: CREATED }] },
    ],
    revision: 3,
  };
}

type Intent = (consent: Consent, now: Date) => ConsentChange | null;

const INTENTS: Record<string, Intent> = {
  approve: (c, now) => approve(c, { authorisationId: 'auth-1', psuId: 'psu-1', grantedAccounts: [], grantId: 'grant-1' }, { now }),
  deny: (c, now) => deny(c, { authorisationId: 'auth-1' }, { now }),
  terminateByTpp: (c, now) => terminateByTpp(c, { now }),
  revokeByPsu: (c, now) => revokeByPsu(c, { now }),
  rejectStale: (c, now) => rejectStale(c, { now }),
  expire: (c, now) => expire(c, { now }),
  startAuthorisation: (c, now) => startAuthorisation(c, { now, newId: () => 'auth-2' }).change,
  selectScaMethod: (c, now) =>
    selectScaMethod({ ...c, authorisations: c.authorisations.map((a) => ({ ...a, scaStatus: 'started' as const })) }, { authorisationId: 'auth-1', scaMethodId: 'sms' }, { now }),
};

/** `to:X` status change, `fields` (no status change), `noop` (null), or the error class thrown */
type Outcome = `to:${ConsentStatus}` | 'fields' | 'noop' | 'conflict' | 'expired';

const C = 'conflict';
const FINAL_ROW = { approve: C, deny: C, terminateByTpp: 'noop', revokeByPsu: 'noop', rejectStale: 'noop', expire: 'noop', startAuthorisation: C, selectScaMethod: C } as const;

/** intents on a consent within its validity */
const BEFORE_EXPIRY: Record<ConsentStatus, Record<string, Outcome>> = {
  received: {
    approve: 'to:valid', deny: 'to:rejected', terminateByTpp: 'to:rejected', revokeByPsu: C,
    rejectStale: 'to:rejected', expire: C, startAuthorisation: 'fields', selectScaMethod: 'fields',
  },
  valid: {
    approve: C, deny: C, terminateByTpp: 'to:terminatedByTpp', revokeByPsu: 'to:revokedByPsu',
    rejectStale: C, expire: C, startAuthorisation: C, selectScaMethod: C,
  },
  rejected: FINAL_ROW,
  revokedByPsu: FINAL_ROW,
  terminatedByTpp: FINAL_ROW,
  expired: { ...FINAL_ROW, approve: 'expired', deny: 'expired', startAuthorisation: 'expired', selectScaMethod: 'expired' },
};

/** the same intents once expiresAt has passed */
const PENDING_PAST_EXPIRY: Record<string, Outcome> = {
  approve: 'expired', deny: 'expired', terminateByTpp: 'to:expired', revokeByPsu: 'to:expired',
  rejectStale: 'to:expired', expire: 'to:expired', startAuthorisation: 'expired', selectScaMethod: 'expired',
};
const AFTER_EXPIRY: Record<ConsentStatus, Record<string, Outcome>> = {
  ...BEFORE_EXPIRY,
  received: PENDING_PAST_EXPIRY,
  valid: PENDING_PAST_EXPIRY,
};

function check(consent: Consent, intentName: string, now: Date, expected: Outcome): void {
  const intent = INTENTS[intentName]!;
  const before = structuredClone(consent);
  if (expected === 'conflict' || expected === 'expired') {
    assert.throws(
      () => intent(consent, now),
      (err: unknown) => {
        assert.ok(err instanceof ConsentStateConflict, `expected a conflict, got ${String(err)}`);
        assert.equal(err instanceof ConsentExpired, expected === 'expired', `wrong class ${err.name}`);
        assert.equal(err.consentId, consent.id);
        assert.equal(err.status, consent.status);
        return true;
      },
    );
  } else {
    const change = intent(consent, now);
    if (expected === 'noop') {
      assert.equal(change, null);
    } else {
      assert.ok(change);
      assert.deepEqual(change.expect, { status: consent.status, revision: consent.revision });
      assert.equal(change.set.updatedAt, now);
      assert.equal(change.set.lastActionDate, now.toISOString().slice(0, 10));
      if (expected === 'fields') {
        assert.equal(change.set.status, undefined);
        assert.equal(change.history, undefined);
      } else {
        const to = expected.slice(3) as ConsentStatus;
        assert.equal(change.set.status, to);
        assert.equal(change.history?.length, 1);
        assert.equal(change.history?.[0]?.from, consent.status);
        assert.equal(change.history?.[0]?.to, to);
        assert.equal(change.history?.[0]?.at, now);
      }
    }
  }
  assert.deepEqual(consent, before, 'the input consent must not be mutated');
}

describe('consent status machine', () => {
  const allowed = new Set([
    'received>valid', 'received>rejected', 'received>expired',
    'valid>revokedByPsu', 'valid>terminatedByTpp', 'valid>expired',
  ]);
  for (const from of CONSENT_STATUSES) {
    for (const to of CONSENT_STATUSES) {
      const ok = allowed.has(`${from}>${to}`);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'forbidden'}`, () => {
        assert.equal(canTransition('accounts', from, to), ok);
      });
    }
  }

  it('knows the final statuses', () => {
    assert.deepEqual(CONSENT_STATUSES.filter(isFinal), ['rejected', 'revokedByPsu', 'expired', 'terminatedByTpp']);
  });

  describe('intents within validity', () => {
    for (const status of CONSENT_STATUSES) {
      for (const [intent, expected] of Object.entries(BEFORE_EXPIRY[status])) {
        it(`${intent} on ${status} → ${expected}`, () => check(consentIn(status), intent, NOW, expected));
      }
    }
  });

  describe('intents once expiresAt has passed', () => {
    for (const status of CONSENT_STATUSES) {
      for (const [intent, expected] of Object.entries(AFTER_EXPIRY[status])) {
        it(`${intent} on ${status} → ${expected}`, () => check(consentIn(status), intent, EXPIRES_AT, expected));
      }
    }
  });

  it('every intent is covered by the tables', () => {
    for (const status of CONSENT_STATUSES) {
      assert.deepEqual(Object.keys(BEFORE_EXPIRY[status]).sort(), Object.keys(INTENTS).sort());
      assert.deepEqual(Object.keys(AFTER_EXPIRY[status]).sort(), Object.keys(INTENTS).sort());
    }
  });

  it('final states never change, whatever is attempted and whenever', () => {
    for (const status of CONSENT_STATUSES.filter(isFinal)) {
      for (const intent of Object.values(INTENTS)) {
        for (const now of [NOW, EXPIRES_AT, new Date('2030-01-01T00:00:00Z')]) {
          let change: ConsentChange | null = null;
          try {
            change = intent(consentIn(status), now);
          } catch (err) {
            assert.ok(err instanceof ConsentStateConflict);
          }
          assert.equal(change, null, `${status} changed`);
        }
      }
    }
  });

  it('a repeated TPP delete is a no-op: no second history entry', () => {
    const valid = consentIn('valid');
    const first = terminateByTpp(valid, { now: NOW, requestId: 'del-1' });
    assert.ok(first);
    const terminated = applyChange(valid, first);
    assert.equal(terminated.status, 'terminatedByTpp');
    assert.equal(terminated.history.length, 2);
    assert.equal(terminateByTpp(terminated, { now: NOW, requestId: 'del-2' }), null);
  });

  it('a TPP delete of a consent never authorised rejects it', () => {
    const change = terminateByTpp(consentIn('received'), { now: NOW });
    assert.equal(change?.set.status, 'rejected');
    assert.equal(change?.history?.[0]?.actor, 'TPP');
  });

  it('records who, why and which request, with the actor the intent implies unless told', () => {
    const revoked = revokeByPsu(consentIn('valid'), { now: NOW, reason: 'no longer needed', requestId: 'r-9' });
    assert.deepEqual(revoked?.history, [
      { from: 'valid', to: 'revokedByPsu', actor: 'PSU', at: NOW, reason: 'no longer needed', requestId: 'r-9' },
    ]);
    const byBank = revokeByPsu(consentIn('valid'), { now: NOW, actor: 'ASPSP' });
    assert.deepEqual(byBank?.history, [{ from: 'valid', to: 'revokedByPsu', actor: 'ASPSP', at: NOW }]);
    const stale = rejectStale(consentIn('received'), { now: NOW });
    assert.deepEqual(stale?.history, [{ from: 'received', to: 'rejected', actor: 'system', at: NOW, reason: 'not authorised in time' }]);
  });

  it('records an expiry noticed by someone else as the system ending it', () => {
    const change = terminateByTpp(consentIn('valid'), { now: EXPIRES_AT, actor: 'TPP', reason: 'ignored', requestId: 'r-1' });
    assert.deepEqual(change?.history, [
      { from: 'valid', to: 'expired', actor: 'system', at: EXPIRES_AT, reason: 'validUntil passed', requestId: 'r-1' },
    ]);
  });

  it('refuses to expire a consent before expiresAt', () => {
    assert.throws(() => expire(consentIn('valid'), { now: new Date(EXPIRES_AT.getTime() - 1) }), ConsentStateConflict);
    assert.equal(expire(consentIn('valid'), { now: EXPIRES_AT })?.set.status, 'expired');
  });
});

describe('effectiveStatus', () => {
  const cases: Array<[ConsentStatus, Date, ConsentStatus]> = [
    ['received', NOW, 'received'],
    ['valid', NOW, 'valid'],
    ['valid', new Date(EXPIRES_AT.getTime() - 1), 'valid'],
    ['valid', EXPIRES_AT, 'expired'],
    ['received', EXPIRES_AT, 'expired'],
    ['revokedByPsu', EXPIRES_AT, 'revokedByPsu'],
    ['terminatedByTpp', EXPIRES_AT, 'terminatedByTpp'],
    ['rejected', EXPIRES_AT, 'rejected'],
    ['expired', NOW, 'expired'],
  ];
  for (const [status, now, expected] of cases) {
    it(`${status} at ${now.toISOString()} reads as ${expected}`, () => {
      assert.equal(effectiveStatus(consentIn(status), now), expected);
    });
  }
});

describe('sweep', () => {
  const receivedBefore = new Date(CREATED.getTime() + 1);
  it('expires a pending consent past expiresAt', () => {
    assert.equal(sweep(consentIn('valid'), receivedBefore, { now: EXPIRES_AT })?.set.status, 'expired');
    assert.equal(sweep(consentIn('received'), receivedBefore, { now: EXPIRES_AT })?.set.status, 'expired');
  });
  it('rejects a received consent created before the cutoff', () => {
    const change = sweep(consentIn('received'), receivedBefore, { now: NOW });
    assert.equal(change?.set.status, 'rejected');
    assert.equal(change?.history?.[0]?.actor, 'system');
  });
  it('leaves everything else alone', () => {
    assert.equal(sweep(consentIn('received'), CREATED, { now: NOW }), null);
    assert.equal(sweep(consentIn('valid'), receivedBefore, { now: NOW }), null);
    for (const status of CONSENT_STATUSES.filter(isFinal)) {
      assert.equal(sweep(consentIn(status), receivedBefore, { now: EXPIRES_AT }), null);
    }
  });
});

describe('createConsent', () => {
  it('builds a received consent at revision 0 with its first history entry', () => {
    const access = { balances: [{ iban: 'DE89370400440532013000', currency: 'EUR' }] };
    const consent = createConsent(
      {
        clientId: 'tpp-1',
        access,
        recurringIndicator: true,
        validUntil: '2025-06-01',
        frequencyPerDay: 4,
        combinedServiceIndicator: false,
        psuIpAddress: '192.0.2.1',
      },
      { now: NOW, newId: () => 'generated-id', requestId: 'req-1' },
    );
    assert.deepEqual(consent, {
      id: 'generated-id',
      clientId: 'tpp-1',
      type: 'accounts',
      access,
      recurringIndicator: true,
      validUntil: '2025-06-01',
      expiresAt: EXPIRES_AT,
      // 10 March to the end of 1 June: two whole months
      termMonths: 2,
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
      psuIpAddress: '192.0.2.1',
      status: 'received',
      lastActionDate: '2025-03-10',
      createdAt: NOW,
      updatedAt: NOW,
      history: [{ from: null, to: 'received', actor: 'TPP', at: NOW, requestId: 'req-1' }],
      authorisations: [],
      revision: 0,
    });
    access.balances.push({ iban: 'GB29NWBK60161331926819', currency: 'GBP' });
    assert.equal(consent.access.balances?.length, 1, 'the consent owns its access');
  });

  it('takes an explicit expiry instant and type', () => {
    const expiresAt = new Date('2025-04-01T15:00:00.000Z');
    const consent = createConsent(
      { clientId: 't', type: 'br-data-sharing', access: {}, recurringIndicator: true, validUntil: '2025-04-01', expiresAt, frequencyPerDay: 1, combinedServiceIndicator: false, psuId: 'p', details: { a: 1 } },
      { now: NOW, newId: () => 'x' },
    );
    assert.equal(consent.type, 'br-data-sharing');
    assert.deepEqual(consent.expiresAt, expiresAt);
    assert.equal(consent.psuId, 'p');
    assert.deepEqual(consent.details, { a: 1 });
  });
});

describe('approve and deny', () => {
  it('approves in one change: status, PSU, accounts, grant and the finalised authorisation', () => {
    const consent = consentIn('received');
    const grantedAccounts = [{ accountId: 'acc-1', iban: 'DE89370400440532013000', currency: 'EUR', access: ['accounts' as const] }];
    const change = approve(consent, { authorisationId: 'auth-1', psuId: 'psu-1', grantedAccounts, grantId: 'grant-1' }, { now: NOW, requestId: 'r' });
    assert.deepEqual(change, {
      id: 'consent-1',
      expect: { status: 'received', revision: 3 },
      set: {
        psuId: 'psu-1',
        grantedAccounts,
        grantId: 'grant-1',
        authorisations: [
          {
            ...consent.authorisations[0],
            scaStatus: 'finalised',
            updatedAt: NOW,
            history: [...consent.authorisations[0]!.history, { from: 'scaMethodSelected', to: 'finalised', actor: 'PSU', at: NOW, requestId: 'r' }],
          },
        ],
        status: 'valid',
        lastActionDate: '2025-03-10',
        updatedAt: NOW,
      },
      history: [{ from: 'received', to: 'valid', actor: 'PSU', at: NOW, requestId: 'r' }],
    });
  });

  it('accepts the PSU the consent was requested for and refuses another', () => {
    const forAlice = { ...consentIn('received'), psuId: 'alice' };
    const approval = { authorisationId: 'auth-1', grantedAccounts: [], grantId: 'g' };
    assert.equal(approve(forAlice, { ...approval, psuId: 'alice' }, { now: NOW }).set.status, 'valid');
    assert.throws(() => approve(forAlice, { ...approval, psuId: 'mallory' }, { now: NOW }), PsuMismatch);
  });

  it('denies in one change: rejected consent, failed authorisation', () => {
    const change = deny(consentIn('received', 'psuAuthenticated'), { authorisationId: 'auth-1' }, { now: NOW });
    assert.equal(change.set.status, 'rejected');
    assert.equal(change.set.authorisations?.[0]?.scaStatus, 'failed');
    assert.deepEqual(change.set.authorisations?.[0]?.history.at(-1), { from: 'psuAuthenticated', to: 'failed', actor: 'PSU', at: NOW });
  });

  it('ending a consent fails its open authorisations in the same change; finished ones stay', () => {
    const consent = consentIn('received', 'started');
    consent.authorisations.push({ ...consent.authorisations[0]!, id: 'auth-0', scaStatus: 'finalised' });
    for (const change of [terminateByTpp(consent, { now: NOW })!, rejectStale(consent, { now: NOW })!]) {
      assert.equal(change.set.status, 'rejected');
      assert.deepEqual(change.set.authorisations?.map((a) => [a.id, a.scaStatus]), [['auth-1', 'failed'], ['auth-0', 'finalised']]);
      assert.deepEqual(change.set.authorisations?.[0]?.history.at(-1)?.to, 'failed');
    }
    // an ending with nothing open leaves the authorisations alone
    assert.equal(terminateByTpp(consentIn('valid', 'finalised'), { now: NOW })!.set.authorisations, undefined);
  });

  it('names an unknown authorisation', () => {
    assert.throws(
      () => approve(consentIn('received'), { authorisationId: 'nope', psuId: 'p', grantedAccounts: [], grantId: 'g' }, { now: NOW }),
      (err: unknown) => err instanceof AuthorisationNotFound && err.authorisationId === 'nope' && err.consentId === 'consent-1',
    );
    assert.throws(() => deny(consentIn('received'), { authorisationId: 'nope' }, { now: NOW }), AuthorisationNotFound);
  });
});

describe('authorisations', () => {
  it('starts an authorisation in scaStatus started and appends it', () => {
    const consent = consentIn('received');
    const { change, authorisation } = startAuthorisation(consent, { now: NOW, newId: () => 'auth-2', requestId: 'r' });
    assert.deepEqual(authorisation, {
      id: 'auth-2',
      scaStatus: 'started',
      createdAt: NOW,
      updatedAt: NOW,
      history: [{ from: null, to: 'started', actor: 'TPP', at: NOW, requestId: 'r' }],
    });
    assert.deepEqual(change.set.authorisations, [...consent.authorisations, authorisation]);
  });

  it('records the selected SCA method', () => {
    const change = selectScaMethod(consentIn('received', 'started'), { authorisationId: 'auth-1', scaMethodId: 'push-tan' }, { now: NOW });
    assert.equal(change.set.authorisations?.[0]?.scaStatus, 'scaMethodSelected');
    assert.equal(change.set.authorisations?.[0]?.scaMethodId, 'push-tan');
  });

  it('leaves the other authorisations as they were', () => {
    const consent = consentIn('received', 'started');
    consent.authorisations.push({ ...consent.authorisations[0]!, id: 'auth-0', scaStatus: 'failed' });
    const change = selectScaMethod(consent, { authorisationId: 'auth-1', scaMethodId: 'sms' }, { now: NOW });
    assert.deepEqual(change.set.authorisations?.[1], consent.authorisations[1]);
  });
});

describe('SCA status machine', () => {
  const allowed = new Set([
    'received>psuIdentified', 'received>failed',
    'started>psuIdentified', 'started>scaMethodSelected', 'started>failed',
    'psuIdentified>psuAuthenticated', 'psuIdentified>failed',
    'psuAuthenticated>scaMethodSelected', 'psuAuthenticated>failed',
    'scaMethodSelected>finalised', 'scaMethodSelected>failed',
  ]);
  for (const from of SCA_STATUSES) {
    for (const to of SCA_STATUSES) {
      const ok = allowed.has(`${from}>${to}`);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'forbidden'}`, () => {
        assert.equal(canTransitionSca(from, to), ok);
      });
    }
  }

  it('knows the final SCA statuses', () => {
    assert.deepEqual(SCA_STATUSES.filter(isFinalSca), ['finalised', 'failed', 'exempted']);
  });

  // each function that moves an authorisation, from every SCA status
  const steps: Array<[string, ScaStatus, (c: Consent) => ConsentChange]> = [
    ['selectScaMethod', 'scaMethodSelected', (c) => selectScaMethod(c, { authorisationId: 'auth-1', scaMethodId: 'm' }, { now: NOW })],
    ['approve', 'finalised', (c) => approve(c, { authorisationId: 'auth-1', psuId: 'p', grantedAccounts: [], grantId: 'g' }, { now: NOW })],
    ['deny', 'failed', (c) => deny(c, { authorisationId: 'auth-1' }, { now: NOW })],
    ...(['psuIdentified', 'psuAuthenticated', 'scaMethodSelected', 'failed'] as const).map(
      (to) => [`advanceAuthorisation to ${to}`, to, (c: Consent) => advanceAuthorisation(c, { authorisationId: 'auth-1', to }, { now: NOW })] as [string, ScaStatus, (c: Consent) => ConsentChange],
    ),
  ];
  for (const [name, to, step] of steps) {
    for (const from of SCA_STATUSES) {
      const ok = allowed.has(`${from}>${to}`);
      it(`${name} from ${from} ${ok ? 'moves it' : 'is refused'}`, () => {
        const consent = consentIn('received', from);
        if (ok) {
          const change = step(consent);
          const moved = change.set.authorisations?.[0];
          assert.equal(moved?.scaStatus, to);
          assert.deepEqual(moved?.history.at(-1)?.from, from);
        } else {
          assert.throws(
            () => step(consent),
            (err: unknown) => err instanceof AuthorisationStateConflict && err.scaStatus === from && err.authorisationId === 'auth-1',
          );
        }
      });
    }
  }

  it('only approve finalises an authorisation', () => {
    assert.throws(() =>
      advanceAuthorisation(consentIn('received'), { authorisationId: 'auth-1', to: 'finalised' as 'failed' }, { now: NOW }),
      AuthorisationStateConflict,
    );
  });
});
