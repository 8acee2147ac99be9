/**
 * The ConsentRepository contract: every implementation (memory, MongoDB/FerretDB) runs this same suite.
 * Expected results come from the domain's pure functions (applyChange, the state machine), so the suite
 * also pins the repositories to the domain's meaning of a change.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { applyChange } from '../../src/consent/change.ts';
import { ConsentAlreadyExists, GrantIdInUse } from '../../src/consent/errors.ts';
import type { ConsentQuery, ConsentRepository } from '../../src/consent/repository.ts';
import {
  approve,
  createConsent,
  selectScaMethod,
  startAuthorisation,
  terminateByTpp,
  type NewConsent,
} from '../../src/consent/state.ts';
import type { Consent, ConsentChange, ConsentStatus } from '../../src/consent/types.ts';

type QueryOptions = Parameters<ConsentRepository['query']>[1];

export interface RepositoryHandle {
  repo: ConsentRepository;
  cleanup(): Promise<void>;
}

const T0 = new Date('2025-03-01T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);

const IBAN_DE = 'DE89370400440532013000';
const IBAN_GB = 'GB29NWBK60161331926819';
const IBAN_NL = 'NL91ABNA0417164300';

function newConsent(id: string, overrides: Partial<NewConsent> = {}, now = T0): Consent {
  return createConsent(
    {
      clientId: 'client-a',
      access: { accounts: [{ iban: IBAN_DE, currency: 'EUR' }], balances: [{ iban: IBAN_DE, currency: 'EUR' }] },
      recurringIndicator: true,
      validUntil: '2025-06-01',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
      ...overrides,
    },
    { now, newId: () => id, requestId: `req-${id}` },
  );
}

/** A consent walked through authorisation to `valid`, with granted accounts and a grant. */
function approvedConsent(id: string, options: { grantId?: string; psuId?: string; iban?: string; now?: Date } = {}): Consent {
  const now = options.now ?? T0;
  let consent = newConsent(id, {}, now);
  let n = 0;
  const started = startAuthorisation(consent, { now, newId: () => `${id}-auth-${++n}` });
  consent = applyChange(consent, started.change);
  consent = applyChange(
    consent,
    selectScaMethod(consent, { authorisationId: started.authorisation.id, scaMethodId: 'redirect' }, { now }),
  );
  return applyChange(
    consent,
    approve(
      consent,
      {
        authorisationId: started.authorisation.id,
        psuId: options.psuId ?? 'psu-alice',
        grantedAccounts: [
          { accountId: 'acc-1', iban: options.iban ?? IBAN_DE, currency: 'EUR', access: ['accounts', 'balances'] },
        ],
        grantId: options.grantId ?? `grant-${id}`,
      },
      { now },
    ),
  );
}

/** `consent` moved to `status` with a history entry, as a stored fixture. */
function withStatus(consent: Consent, status: ConsentStatus, now: Date): Consent {
  return applyChange(consent, {
    id: consent.id,
    expect: { status: consent.status, revision: consent.revision },
    set: { status, updatedAt: now, lastActionDate: now.toISOString().slice(0, 10) },
    history: [{ from: consent.status, to: status, actor: 'system', at: now }],
  });
}

/** runs `mutate`; a TypeError (a frozen read) is as good as a change to a private copy */
function mutateIfAllowed(mutate: () => unknown): void {
  try {
    mutate();
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
}

export function consentRepositoryContract(name: string, makeRepo: () => Promise<RepositoryHandle>): void {
  describe(`ConsentRepository contract: ${name}`, () => {
    let handle: RepositoryHandle;
    let repo: ConsentRepository;

    beforeEach(async () => {
      handle = await makeRepo();
      repo = handle.repo;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    describe('create and find', () => {
      it('reads back exactly what was stored, embedded authorisations and history included', async () => {
        const consent = approvedConsent('c-rich');
        consent.psuIpAddress = '2001:db8::1';
        consent.details = { note: 'kept as is', nested: { list: [1, 'two'] } };
        await repo.create(consent);
        assert.deepEqual(await repo.findById('c-rich'), consent);
      });

      it('reads back a minimal consent without inventing optional fields', async () => {
        const consent = newConsent('c-min', { access: { allPsd2: 'allAccounts' } });
        await repo.create(consent);
        const read = await repo.findById('c-min');
        assert.deepEqual(read, consent);
        for (const key of ['psuId', 'psuIpAddress', 'grantId', 'grantedAccounts', 'details'] as const) {
          assert.equal(key in (read as object), false, `${key} must be absent`);
        }
      });

      it('returns null for an unknown id', async () => {
        assert.equal(await repo.findById('nope'), null);
      });

      it('refuses a second consent with the same id and keeps the first', async () => {
        const first = newConsent('dup');
        await repo.create(first);
        await assert.rejects(repo.create(newConsent('dup', { clientId: 'other' })), (err: unknown) => {
          assert.ok(err instanceof ConsentAlreadyExists);
          assert.equal(err.consentId, 'dup');
          return true;
        });
        assert.deepEqual(await repo.findById('dup'), first);
      });

      it('keeps stored state apart from the objects callers hold', async () => {
        const consent = newConsent('c-copy');
        const original = structuredClone(consent);
        await repo.create(consent);
        consent.status = 'valid';
        consent.access.accounts?.push({ iban: IBAN_GB });
        const read = await repo.findById('c-copy');
        assert.ok(read);
        // a read is either the caller's own copy or a frozen value that refuses changes
        mutateIfAllowed(() => read.history.push({ from: 'received', to: 'valid', actor: 'PSU', at: T0 }));
        mutateIfAllowed(() => (read.access.accounts = []));
        assert.deepEqual(await repo.findById('c-copy'), original);
        const applied = await repo.apply({
          id: 'c-copy',
          expect: { status: original.status, revision: original.revision },
          set: { updatedAt: T0, lastActionDate: '2025-03-01' },
        });
        assert.ok(applied);
        mutateIfAllowed(() => (applied.status = 'valid'));
        assert.equal((await repo.findById('c-copy'))?.status, original.status);
      });

      it('finds a consent by its grant id', async () => {
        const consent = approvedConsent('c-grant', { grantId: 'grant-xyz' });
        await repo.create(consent);
        await repo.create(newConsent('c-nogrant'));
        assert.deepEqual(await repo.findByGrantId('grant-xyz'), consent);
        assert.equal(await repo.findByGrantId('grant-unknown'), null);
      });
    });

    describe('apply', () => {
      it('applies a change, bumps the revision and returns the stored result', async () => {
        const consent = newConsent('a-1');
        await repo.create(consent);
        const { change } = startAuthorisation(consent, { now: at(HOUR), newId: () => 'auth-1' });
        const expected = applyChange(consent, change);
        const result = await repo.apply(change);
        assert.deepEqual(result, expected);
        assert.equal(result?.revision, 1);
        assert.deepEqual(await repo.findById('a-1'), expected);
      });

      it('applies a status change with its history entry and every set field in one go', async () => {
        let consent = newConsent('a-2');
        await repo.create(consent);
        const started = startAuthorisation(consent, { now: at(HOUR), newId: () => 'auth-2' });
        consent = (await repo.apply(started.change))!;
        consent = (await repo.apply(
          selectScaMethod(consent, { authorisationId: 'auth-2', scaMethodId: 'sms' }, { now: at(2 * HOUR) }),
        ))!;
        const approval = approve(
          consent,
          {
            authorisationId: 'auth-2',
            psuId: 'psu-bob',
            grantedAccounts: [{ accountId: 'x', iban: IBAN_DE, access: ['accounts'] }],
            grantId: 'g-a2',
          },
          { now: at(3 * HOUR), requestId: 'req-approve' },
        );
        const expected = applyChange(consent, approval);
        const stored = await repo.apply(approval);
        assert.deepEqual(stored, expected);
        assert.equal(stored?.status, 'valid');
        assert.equal(stored?.revision, 3);
        assert.deepEqual(stored?.history.map((h) => h.to), ['received', 'valid']);
        assert.equal(stored?.authorisations[0]?.scaStatus, 'finalised');
        assert.deepEqual(await repo.findByGrantId('g-a2'), expected);
      });

      it('appends every history entry of a change, in order', async () => {
        const consent = newConsent('a-3');
        await repo.create(consent);
        const change: ConsentChange = {
          id: 'a-3',
          expect: { status: 'received', revision: 0 },
          set: { status: 'valid', updatedAt: at(HOUR) },
          history: [
            { from: 'received', to: 'valid', actor: 'PSU', at: at(HOUR), requestId: 'r1' },
            { from: 'valid', to: 'valid', actor: 'ASPSP', at: at(HOUR), reason: 'second entry' },
          ],
        };
        const stored = await repo.apply(change);
        assert.deepEqual(stored?.history, [...consent.history, ...(change.history ?? [])]);
      });

      for (const [label, expect] of [
        ['a stale status', { status: 'valid', revision: 0 }],
        ['a stale revision', { status: 'received', revision: 1 }],
        ['an older revision', { status: 'received', revision: -1 }],
      ] as const) {
        it(`returns null and changes nothing for ${label}`, async () => {
          const consent = newConsent('a-stale');
          await repo.create(consent);
          const change: ConsentChange = {
            id: 'a-stale',
            expect,
            set: { status: 'rejected', updatedAt: at(HOUR), psuId: 'someone' },
            history: [{ from: 'received', to: 'rejected', actor: 'TPP', at: at(HOUR) }],
          };
          assert.equal(await repo.apply(change), null);
          assert.deepEqual(await repo.findById('a-stale'), consent);
        });
      }

      describe('given the consent the change was computed from', () => {
        it('answers what a read of the stored consent answers, through a whole approval', async () => {
          let consent = newConsent('f-1');
          await repo.create(consent);
          const started = startAuthorisation(consent, { now: at(HOUR), newId: () => 'auth-f1' });
          consent = (await repo.apply(started.change, consent))!;
          assert.deepEqual(consent, await repo.findById('f-1'));
          consent = (await repo.apply(selectScaMethod(consent, { authorisationId: 'auth-f1', scaMethodId: 'sms' }, { now: at(2 * HOUR) }), consent))!;
          assert.deepEqual(consent, await repo.findById('f-1'));
          const approval = approve(
            consent,
            { authorisationId: 'auth-f1', psuId: 'psu-bob', grantedAccounts: [{ accountId: 'x', iban: IBAN_DE, access: ['accounts'] }], grantId: 'g-f1' },
            { now: at(3 * HOUR), requestId: 'req-f1' },
          );
          const stored = await repo.apply(approval, consent);
          assert.equal(stored?.status, 'valid');
          assert.equal(stored?.revision, 3);
          assert.deepEqual(stored, await repo.findById('f-1'));
          assert.deepEqual(stored, await repo.findByGrantId('g-f1'));
        });

        it('reads the result back when that consent is not at the expected revision', async () => {
          const consent = newConsent('f-2');
          await repo.create(consent);
          const first = (await repo.apply(startAuthorisation(consent, { now: at(HOUR), newId: () => 'auth-f2' }).change))!;
          const change = terminateByTpp(first, { now: at(2 * HOUR) })!;
          const result = await repo.apply(change, consent); // an older copy: not the base of this change
          assert.deepEqual(result, applyChange(first, change));
          assert.deepEqual(result, await repo.findById('f-2'));
        });

        it('returns null and changes nothing when the stored consent has moved past it', async () => {
          const consent = newConsent('f-3');
          await repo.create(consent);
          const moved = (await repo.apply(terminateByTpp(consent, { now: at(HOUR) })!))!;
          const stale = startAuthorisation(consent, { now: at(2 * HOUR), newId: () => 'auth-f3' }).change;
          assert.equal(await repo.apply(stale, consent), null);
          assert.deepEqual(await repo.findById('f-3'), moved);
        });

        it('lets exactly one of 20 concurrent changes from the same consent win, and answers the winner what is stored', async () => {
          let consent = newConsent('f-race');
          await repo.create(consent);
          for (let round = 0; round < 3; round++) {
            const from = consent;
            const changes: ConsentChange[] = Array.from({ length: 20 }, (_, i) => ({
              id: 'f-race',
              expect: { status: from.status, revision: from.revision },
              set: { updatedAt: at(round * HOUR + i), lastActionDate: `2025-04-${String(i + 1).padStart(2, '0')}` },
              history: [{ from: from.status, to: from.status, actor: 'TPP', at: at(round * HOUR), requestId: `f${round}-${i}` }],
            }));
            const results = await Promise.all(changes.map((c) => repo.apply(c, from)));
            const winners = results.filter((r) => r !== null);
            assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
            assert.deepEqual(winners[0], await repo.findById('f-race'));
            consent = winners[0]!;
          }
          assert.equal(consent.revision, 3);
        });
      });

      it('returns null for an unknown consent', async () => {
        const change = terminateByTpp(newConsent('ghost'), { now: at(HOUR) });
        assert.ok(change);
        assert.equal(await repo.apply(change), null);
        assert.equal(await repo.findById('ghost'), null);
      });

      it('lets a change apply once: a replay of the same change is refused', async () => {
        const consent = newConsent('a-replay');
        await repo.create(consent);
        const change = terminateByTpp(consent, { now: at(HOUR) });
        assert.ok(change);
        assert.ok(await repo.apply(change));
        assert.equal(await repo.apply(change), null);
        const stored = await repo.findById('a-replay');
        assert.equal(stored?.revision, 1);
        assert.equal(stored?.history.length, 2);
      });

      it('lets exactly one of 20 concurrent changes on the same revision win, round after round', async () => {
        let consent = newConsent('race');
        await repo.create(consent);
        for (let round = 0; round < 5; round++) {
          // each contender carries its own marker, so the stored state shows whose change won
          const changes: ConsentChange[] = Array.from({ length: 20 }, (_, i) => ({
            id: 'race',
            expect: { status: consent.status, revision: consent.revision },
            set: { updatedAt: at(round * HOUR + i), lastActionDate: `2025-03-${String(i + 1).padStart(2, '0')}` },
            history: [{ from: consent.status, to: consent.status, actor: 'TPP', at: at(round * HOUR), requestId: `r${round}-${i}` }],
          }));
          const results = await Promise.all(changes.map((c) => repo.apply(c)));
          const winners = results.flatMap((r, i) => (r ? [i] : []));
          assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
          const winner = changes[winners[0]!]!;
          const expected = applyChange(consent, winner);
          assert.deepEqual(await repo.findById('race'), expected);
          consent = expected;
        }
        assert.equal(consent.revision, 5);
        assert.equal(consent.history.length, 6);
      });

      it('refuses to bind a grant id that another consent holds, and changes nothing', async () => {
        await repo.create(approvedConsent('holder', { grantId: 'g-shared' }));
        let other = newConsent('other');
        await repo.create(other);
        const started = startAuthorisation(other, { now: T0, newId: () => 'auth-o' });
        other = (await repo.apply(started.change))!;
        other = (await repo.apply(selectScaMethod(other, { authorisationId: 'auth-o', scaMethodId: 'sms' }, { now: T0 })))!;
        const approval = approve(
          other,
          { authorisationId: 'auth-o', psuId: 'p', grantedAccounts: [], grantId: 'g-shared' },
          { now: T0 },
        );
        await assert.rejects(repo.apply(approval), GrantIdInUse);
        assert.deepEqual(await repo.findById('other'), other);
        assert.equal((await repo.findByGrantId('g-shared'))?.id, 'holder');
        // and the consent is not wedged: another grant id goes through
        assert.equal((await repo.apply({ ...approval, set: { ...approval.set, grantId: 'g-own' } }))?.status, 'valid');
      });

      it('finds a consent by the grant id a change bound, and only by its current one', async () => {
        let consent = newConsent('bound');
        await repo.create(consent);
        const started = startAuthorisation(consent, { now: T0, newId: () => 'auth-b' });
        consent = (await repo.apply(started.change))!;
        consent = (await repo.apply(selectScaMethod(consent, { authorisationId: 'auth-b', scaMethodId: 'sms' }, { now: T0 })))!;
        assert.equal(await repo.findByGrantId('g-bound'), null);
        consent = (await repo.apply(
          approve(consent, { authorisationId: 'auth-b', psuId: 'p', grantedAccounts: [], grantId: 'g-bound' }, { now: T0 }),
        ))!;
        assert.deepEqual(await repo.findByGrantId('g-bound'), consent);
        // a later change that leaves grantId alone keeps it findable; ending the consent too
        const ended = await repo.apply(terminateByTpp(consent, { now: T0 })!);
        assert.equal(ended?.status, 'terminatedByTpp');
        assert.deepEqual(await repo.findByGrantId('g-bound'), ended);
        // the grant id is still taken
        await repo.create(newConsent('late'));
        await assert.rejects(repo.create(approvedConsent('late-2', { grantId: 'g-bound' })), GrantIdInUse);
      });
    });

    describe('search keys', () => {
      it('adds a set, says which are held, finds consents holding any, removes; unknown consents; the cap', async () => {
        await repo.create(newConsent('k1'));
        await repo.create(newConsent('k2'));
        assert.equal(await repo.addSearchKeys('k1', ['a', 'b'], 5), 'added');
        assert.equal(await repo.addSearchKeys('k1', ['b'], 5), 'added');
        assert.equal(await repo.addSearchKeys('k2', ['b', 'c'], 5), 'added');
        assert.deepEqual(await repo.heldSearchKeys('k1', ['a', 'b', 'c']), [true, true, false]);
        const page = { sort: 'createdAt' as const, direction: 'asc' as const, skip: 0, limit: 10 };
        assert.deepEqual((await repo.query({ searchKeys: ['a'] }, page)).items.map((c) => c.id), ['k1']);
        assert.deepEqual((await repo.query({ searchKeys: ['c', 'a'] }, page)).items.map((c) => c.id).sort(), ['k1', 'k2']);
        assert.deepEqual((await repo.query({ searchKeys: ['b'], clientId: 'nobody' }, page)).total, 0);
        assert.deepEqual((await repo.query({ searchKeys: ['z'] }, page)).total, 0);
        assert.equal(await repo.removeSearchKeys('k1', ['a', 'never']), true);
        assert.deepEqual(await repo.heldSearchKeys('k1', ['a', 'b']), [false, true]);
        assert.equal(await repo.addSearchKeys('k1', ['d', 'e', 'f', 'g', 'h'], 5), 'too-many');
        assert.deepEqual(await repo.heldSearchKeys('k1', ['d']), [false], 'nothing added past the cap');
        assert.equal(await repo.addSearchKeys('missing', ['a'], 5), 'not-found');
        assert.equal(await repo.removeSearchKeys('missing', ['a']), false);
        assert.equal(await repo.heldSearchKeys('missing', ['a']), null);
      });

      it('a search key added or removed while the consent changes loses neither the key nor the change, round after round', async () => {
        for (let round = 0; round < 15; round++) {
          const id = `kr-${round}`;
          const consent = newConsent(id);
          await repo.create(consent);
          if (round % 2 === 1) assert.equal(await repo.addSearchKeys(id, ['old'], 5), 'added');
          const change = terminateByTpp(consent, { now: at(HOUR) })!;
          const [applied] = await Promise.all([
            repo.apply(change, consent),
            round % 2 === 0 ? repo.addSearchKeys(id, ['new'], 5) : repo.removeSearchKeys(id, ['old']),
          ]);
          // the key write may move the revision on: a change that lost to it applies when computed again
          const stored = applied ?? (await repo.apply({ ...change, expect: { status: consent.status, revision: (await repo.findById(id))!.revision } }));
          const now = await repo.findById(id);
          assert.equal(stored?.status, applyChange(consent, change).status, `round ${round}: the change did not apply`);
          assert.equal(now?.status, stored?.status, `round ${round}: the change was undone (${now?.status})`);
          assert.deepEqual(now?.history, stored?.history);
          assert.deepEqual(await repo.heldSearchKeys(id, round % 2 === 0 ? ['new'] : ['old']), [round % 2 === 0], `round ${round}: the key change was lost`);
        }
      });
    });

    describe('query', () => {
      // c2 and c3 share createdAt, c1 and c4 share expiresAt: ties are broken by id
      const fixtures = (): Consent[] => {
        const c1 = newConsent('c1', { psuId: 'psu-alice', access: { accounts: [{ iban: IBAN_DE }] } }, at(HOUR));
        const c2 = approvedConsent('c2', { psuId: 'psu-bob', iban: IBAN_GB, now: at(2 * HOUR) });
        const c3 = newConsent(
          'c3',
          { clientId: 'client-b', psuId: 'psu-alice', type: 'payments', validUntil: '2025-05-01', access: { accounts: [{ iban: IBAN_NL }] } },
          at(2 * HOUR),
        );
        const c4 = withStatus(newConsent('c4', { clientId: 'client-b', access: { allPsd2: 'allAccounts' } }, at(3 * HOUR)), 'rejected', at(6 * HOUR));
        const c5 = newConsent(
          'c5',
          {
            psuId: 'psu-carol',
            type: 'br-data-sharing',
            validUntil: '2025-04-15',
            expiresAt: new Date('2025-04-15T15:30:00.000Z'),
            access: { availableAccounts: 'allAccounts' },
            details: { loggedUser: { document: { identification: '123.456.789-09', rel: 'CPF' } } },
          },
          at(4 * HOUR),
        );
        const c6 = withStatus(
          approvedConsent('c6', { psuId: 'psu-alice', iban: IBAN_NL, now: at(5 * HOUR) }),
          'terminatedByTpp',
          at(7 * HOUR),
        );
        c6.clientId = 'client-c';
        return [c1, c2, c3, c4, c5, c6];
      };
      const page: QueryOptions = { sort: 'createdAt', direction: 'asc', skip: 0, limit: 50 };
      const ids = async (filter: ConsentQuery, options: Partial<QueryOptions> = {}) => {
        const result = await repo.query(filter, { ...page, ...options });
        return { ids: result.items.map((c) => c.id), total: result.total };
      };

      beforeEach(async () => {
        for (const c of fixtures()) await repo.create(c);
      });

      const cases: Array<[string, ConsentQuery, string[]]> = [
        ['no filter', {}, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']],
        ['clientId', { clientId: 'client-b' }, ['c3', 'c4']],
        ['psuId', { psuId: 'psu-alice' }, ['c1', 'c3', 'c6']],
        ['psuId nobody has', { psuId: 'psu-zoe' }, []],
        ['document, as stored', { document: '123.456.789-09' }, ['c5']],
        ['document, digits only', { document: '12345678909' }, ['c5']],
        ['document nobody has', { document: '98765432100' }, []],
        ['documents: every one', { documents: ['12345678909'] }, ['c5']],
        ['documents: one of them missing', { documents: ['12345678909', '11222333000181'] }, []],
        ['documents: empty is no filter', { documents: [] }, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']],
        ['clientIds: any of them', { clientIds: ['client-b', 'client-c'] }, ['c3', 'c4', 'c6']],
        ['clientIds: empty matches nothing', { clientIds: [] }, []],
        ['clientIds + clientId', { clientIds: ['client-b', 'client-c'], clientId: 'client-c' }, ['c6']],
        ['iban in access (accounts and balances)', { iban: IBAN_DE }, ['c1', 'c2', 'c6']],
        ['iban in access or granted, any spacing and case', { iban: 'nl91 abna 0417 1643 00' }, ['c3', 'c6']],
        ['iban granted only', { iban: IBAN_GB }, ['c2']],
        ['type', { type: ['payments', 'br-data-sharing'] }, ['c3', 'c5']],
        ['status', { status: ['received'] }, ['c1', 'c3']],
        ['status of another regime', { status: ['AWAITING_AUTHORISATION'] }, ['c5']],
        ['statuses of two regimes', { status: ['received', 'AWAITING_AUTHORISATION'] }, ['c1', 'c3', 'c5']],
        ['several statuses', { status: ['valid', 'rejected', 'terminatedByTpp'] }, ['c2', 'c4', 'c6']],
        ['empty lists are no filter', { status: [], type: [] }, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']],
        ['createdFrom is inclusive', { createdFrom: at(2 * HOUR) }, ['c2', 'c3', 'c4', 'c5', 'c6']],
        ['createdTo is exclusive', { createdTo: at(2 * HOUR) }, ['c1']],
        ['created range', { createdFrom: at(2 * HOUR), createdTo: at(4 * HOUR) }, ['c2', 'c3', 'c4']],
        // created 1 March 2025, most valid until 1 June (3 months), c3 until 1 May (2), c5 until 15 April (1)
        ['termMonths', { termMonths: 3 }, ['c1', 'c2', 'c4', 'c6']],
        ['termMonths of one', { termMonths: 1 }, ['c5']],
        ['termMonths nobody has', { termMonths: 7 }, []],
        ['termMonths + status', { termMonths: 3, status: ['valid'] }, ['c2']],
        ['expiresFrom', { expiresFrom: new Date('2025-05-01T00:00:00.000Z') }, ['c1', 'c2', 'c3', 'c4', 'c6']],
        ['expiresTo', { expiresTo: new Date('2025-05-01T00:00:00.000Z') }, ['c5']],
        ['expires range', { expiresFrom: new Date('2025-04-15T15:30:00.000Z'), expiresTo: new Date('2025-05-03T00:00:00.000Z') }, ['c3', 'c5']],
        ['expiresTo is exclusive', { expiresTo: new Date('2025-05-02T00:00:00.000Z') }, ['c5']],
        ['clientId + status', { clientId: 'client-a', status: ['received', 'AWAITING_AUTHORISATION'] }, ['c1', 'c5']],
        ['psuId + type + status', { psuId: 'psu-alice', type: ['accounts'], status: ['received', 'terminatedByTpp'] }, ['c1', 'c6']],
        ['iban + clientId', { iban: IBAN_NL, clientId: 'client-c' }, ['c6']],
        ['iban + psuId + created range', { iban: IBAN_DE, psuId: 'psu-alice', createdFrom: at(0), createdTo: at(5 * HOUR) }, ['c1']],
        ['everything at once', {
          clientId: 'client-a', psuId: 'psu-carol', document: '12345678909', type: ['br-data-sharing'], status: ['AWAITING_AUTHORISATION'],
          createdFrom: at(4 * HOUR), createdTo: at(5 * HOUR), expiresFrom: at(0), expiresTo: new Date('2026-01-01T00:00:00.000Z'),
        }, ['c5']],
        ['contradiction', { clientId: 'client-b', psuId: 'psu-bob' }, []],
        // granted consents only: c2 valid since 2h; c6 granted at 5h, terminated at 7h
        ['active during a window', { activeDuring: { from: at(0), to: at(10 * HOUR) } }, ['c2', 'c6']],
        ['active: ended before the window starts', { activeDuring: { from: at(8 * HOUR), to: at(10 * HOUR) } }, ['c2']],
        ['active: created after the window ends', { activeDuring: { from: at(0), to: at(3 * HOUR) } }, ['c2']],
        ['active: ended exactly at the window start', { activeDuring: { from: at(7 * HOUR), to: at(7 * HOUR) } }, ['c2', 'c6']],
        ['active: after expiry', { activeDuring: { from: new Date('2025-06-03T00:00:00.000Z'), to: new Date('2025-06-04T00:00:00.000Z') } }, []],
        ['active + clientId', { clientId: 'client-c', activeDuring: { from: at(0), to: at(10 * HOUR) } }, ['c6']],
      ];
      for (const [label, filter, expected] of cases) {
        it(`filters by ${label}`, async () => {
          assert.deepEqual(await ids(filter), { ids: expected, total: expected.length });
        });
      }

      it('filters payment consents by paymentScheduled (details.payment.scheduled); no other consent matches', async () => {
        const payment = (scheduled: boolean) => ({ type: 'br-payment' as const, details: { payment: { type: 'PIX', amount: '10.00', currency: 'BRL', date: '2025-06-01', scheduled } } });
        await repo.create(newConsent('p-now', payment(false), at(8 * HOUR)));
        await repo.create(newConsent('p-later', payment(true), at(9 * HOUR)));
        assert.deepEqual(await ids({ paymentScheduled: false }), { ids: ['p-now'], total: 1 });
        assert.deepEqual(await ids({ paymentScheduled: true }), { ids: ['p-later'], total: 1 });
        assert.deepEqual(await ids({ paymentScheduled: true, type: ['br-payment', 'accounts'] }), { ids: ['p-later'], total: 1 });
        assert.deepEqual(await ids({ paymentScheduled: false, type: ['accounts'] }), { ids: [], total: 0 });
        assert.deepEqual((await ids({ type: ['br-payment'] })).ids, ['p-now', 'p-later']);
      });

      it('sorts by createdAt both ways, ties broken by id in the same direction', async () => {
        assert.deepEqual((await ids({})).ids, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
        assert.deepEqual((await ids({}, { direction: 'desc' })).ids, ['c6', 'c5', 'c4', 'c3', 'c2', 'c1']);
      });

      it('sorts by expiresAt and updatedAt', async () => {
        // expiresAt: c5 (04-15 15:30) < c3 (05-02) < c1 = c2 = c4 = c6 (06-02)
        assert.deepEqual((await ids({}, { sort: 'expiresAt' })).ids, ['c5', 'c3', 'c1', 'c2', 'c4', 'c6']);
        assert.deepEqual((await ids({}, { sort: 'expiresAt', direction: 'desc' })).ids, ['c6', 'c4', 'c2', 'c1', 'c3', 'c5']);
        // updatedAt: c1 1h, c2 2h, c3 2h, c5 4h, c4 6h (rejected), c6 7h (terminated)
        assert.deepEqual((await ids({}, { sort: 'updatedAt' })).ids, ['c1', 'c2', 'c3', 'c5', 'c4', 'c6']);
      });

      it('pages with skip and limit while total counts every match', async () => {
        assert.deepEqual(await ids({}, { skip: 1, limit: 2 }), { ids: ['c2', 'c3'], total: 6 });
        assert.deepEqual(await ids({}, { skip: 4, limit: 10 }), { ids: ['c5', 'c6'], total: 6 });
        assert.deepEqual(await ids({}, { skip: 6, limit: 10 }), { ids: [], total: 6 });
        assert.deepEqual(await ids({ psuId: 'psu-alice' }, { skip: 1, limit: 1, direction: 'desc' }), { ids: ['c3'], total: 3 });
      });

      it('returns whole consents', async () => {
        const expected = fixtures().find((c) => c.id === 'c2');
        const result = await repo.query({ clientId: 'client-a', status: ['valid'] }, page);
        assert.deepEqual(result.items, [expected]);
      });

      it('refuses a negative skip or a limit below one', async () => {
        await assert.rejects(repo.query({}, { ...page, skip: -1 }), RangeError);
        await assert.rejects(repo.query({}, { ...page, limit: 0 }), RangeError);
      });
    });

    describe('findDue', () => {
      const now = new Date('2025-06-10T08:00:00.000Z');
      const receivedBefore = new Date(now.getTime() - DAY);

      beforeEach(async () => {
        const expiring = (id: string, validUntil: string, created: Date) => newConsent(id, { validUntil }, created);
        // d1: valid, expired yesterday → due
        await repo.create(withStatus(expiring('d1', '2025-06-08', at(0)), 'valid', at(HOUR)));
        // d2: received, expiresAt exactly now → due
        await repo.create(newConsent('d2', { validUntil: '2025-06-09', expiresAt: now }, new Date(now.getTime() - HOUR)));
        // d3: received, created before the cutoff, still within validity → due (stale)
        await repo.create(expiring('d3', '2025-09-01', new Date(receivedBefore.getTime() - 1)));
        // d4: received recently, valid → not due
        await repo.create(expiring('d4', '2025-09-01', new Date(receivedBefore.getTime() + 1)));
        // d5: valid and still within validity, created long ago → not due
        await repo.create(withStatus(expiring('d5', '2025-09-01', at(0)), 'valid', at(HOUR)));
        // d6 and d7: final, whatever their dates → not due
        await repo.create(withStatus(expiring('d6', '2025-06-01', at(0)), 'expired', now));
        await repo.create(withStatus(expiring('d7', '2025-06-01', at(0)), 'rejected', at(HOUR)));
        await repo.create(withStatus(expiring('d8', '2025-06-01', at(0)), 'revokedByPsu', at(HOUR)));
        // Open Finance Brasil: b1 AUTHORISED past its expirationDateTime → due; b2 AWAITING_AUTHORISATION
        // created before the cutoff → due (the 60-minute rule); b3 AWAITING recently → not due; b4 REJECTED → not due
        const brazilian = (id: string, expiresAt: Date, created: Date) =>
          newConsent(id, { type: 'br-data-sharing', validUntil: expiresAt.toISOString().slice(0, 10), expiresAt }, created);
        await repo.create(withStatus(brazilian('b1', new Date('2025-06-09T12:00:00.000Z'), at(0)), 'AUTHORISED', at(HOUR)));
        await repo.create(brazilian('b2', new Date('2025-09-01T12:00:00.000Z'), new Date(receivedBefore.getTime() - 1)));
        await repo.create(brazilian('b3', new Date('2025-09-01T12:00:00.000Z'), new Date(receivedBefore.getTime() + 1)));
        await repo.create(withStatus(brazilian('b4', new Date('2025-06-01T12:00:00.000Z'), at(0)), 'REJECTED', at(HOUR)));
      });

      it('finds expired-but-pending and stale awaiting consents of every regime, oldest expiry first', async () => {
        assert.deepEqual((await repo.findDue(now, receivedBefore, 50)).map((c) => c.id), ['d1', 'b1', 'd2', 'b2', 'd3']);
      });

      it('stops at the limit', async () => {
        assert.deepEqual((await repo.findDue(now, receivedBefore, 2)).map((c) => c.id), ['d1', 'b1']);
      });

      it('returns whole consents', async () => {
        const [first] = await repo.findDue(now, receivedBefore, 1);
        assert.deepEqual(first, await repo.findById('d1'));
      });
    });
  });
}
