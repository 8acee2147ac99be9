/**
 * The ConsentRepository contract against a real MongoDB-wire server (FerretDB in `npm test`), in clear and
 * through a field protector, plus what only the MongoDB implementation has: stored shape, indexes, and
 * the completion of abandoned write claims.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { createConsent, terminateByTpp } from '../../src/consent/state.ts';
import { applyChange } from '../../src/consent/change.ts';
import type { Consent, ConsentChange } from '../../src/consent/types.ts';
import type { FieldProtection } from '../../src/storage/mongo/consent-document.ts';
import { MongoConsentRepository, type MongoConsentRepositoryOptions } from '../../src/storage/mongo/consent-repository.ts';
import { consentRepositoryContract } from './consent-repository.contract.ts';

const uri = process.env.MONGODB_URI;
if (!uri) throw new Error('MONGODB_URI is not set: run this file through scripts/test-env.ts');

const client = await new MongoClient(uri).connect();
const db = client.db(`assent_test_${randomUUID().replaceAll('-', '')}`);
let collections = 0;

after(async () => {
  await db.dropDatabase();
  await client.close();
});

async function makeRepository(options: MongoConsentRepositoryOptions = {}) {
  const repo = new MongoConsentRepository(db, { collectionName: `consents_${++collections}`, ...options });
  await repo.ensureIndexes();
  return {
    repo,
    async cleanup() {
      await repo.consents.drop().catch(() => undefined);
      await repo.claims.drop().catch(() => undefined);
    },
  };
}

/** Reversible stand-in for encryption: values are unreadable at a glance, indexes are keyed hashes. */
const fakeProtector: FieldProtection = {
  protect: (field, value) => `enc:${field}:${Buffer.from(value).toString('base64')}`,
  reveal: (field, stored) => {
    assert.ok(stored.startsWith(`enc:${field}:`), `${field} was not protected: ${stored}`);
    return Buffer.from(stored.slice(`enc:${field}:`.length), 'base64').toString();
  },
  index: (field, value) => createHash('sha256').update(`${field}\0${value}`).digest('base64url').slice(0, 22),
};

consentRepositoryContract('mongo', () => makeRepository());
consentRepositoryContract('mongo with field protection', () => makeRepository({ protector: fakeProtector }));

const IBAN = 'DE89370400440532013000';
const T0 = new Date('2025-03-01T12:00:00.000Z');

function consent(id: string): Consent {
  return createConsent(
    {
      clientId: 'client-a',
      access: { accounts: [{ iban: IBAN, currency: 'EUR' }], transactions: [{ iban: IBAN }] },
      recurringIndicator: true,
      validUntil: '2025-06-01',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
      psuId: 'psu-alice',
      psuIpAddress: '192.0.2.7',
    },
    { now: T0, newId: () => id },
  );
}

function approveChange(c: Consent, now: Date): ConsentChange {
  return {
    id: c.id,
    expect: { status: c.status, revision: c.revision },
    set: { status: 'valid', updatedAt: now, grantId: `grant-${c.id}` },
    history: [{ from: c.status, to: 'valid', actor: 'PSU', at: now }],
  };
}

describe('MongoConsentRepository', () => {
  it('stores dates as BSON dates, nested ones included', async () => {
    const { repo, cleanup } = await makeRepository();
    try {
      const c = consent('dates');
      c.authorisations.push({ id: 'a', scaStatus: 'started', createdAt: T0, updatedAt: T0, history: [{ from: null, to: 'started', actor: 'TPP', at: T0 }] });
      await repo.create(c);
      const raw = await repo.consents.findOne({ _id: 'dates' });
      assert.ok(raw);
      for (const value of [raw.createdAt, raw.updatedAt, raw.expiresAt, raw.history[0]?.at, raw.authorisations[0]?.createdAt, raw.authorisations[0]?.history[0]?.at]) {
        assert.ok(value instanceof Date, `${String(value)} is not a Date`);
      }
    } finally {
      await cleanup();
    }
  });

  it('creates its indexes, and creating them again is harmless', async () => {
    const { repo, cleanup } = await makeRepository();
    try {
      await repo.ensureIndexes();
      const names = (await repo.consents.listIndexes().toArray()).map((i) => i.name as string);
      for (const name of ['clientId_createdAt', 'psuIdIndex', 'status_expiresAt', 'grantId_unique', 'createdAt', 'expiresAt', 'accessIbanIndex']) {
        assert.ok(names.includes(name), `index ${name} missing from ${names.join(', ')}`);
      }
    } finally {
      await cleanup();
    }
  });

  it('the termMonths backfill racing transitions of another instance undoes none of them', async () => {
    const { repo, cleanup } = await makeRepository();
    try {
      const legacy = Array.from({ length: 40 }, (_, i) => consent(`old-race-${i}`));
      for (const c of legacy) await repo.create(c);
      await repo.consents.updateMany({ _id: { $in: legacy.map((c) => c.id) } }, { $unset: { termMonths: '' } });
      const changes = legacy.map((c) => terminateByTpp(c, { now: new Date(c.createdAt.getTime() + 60_000) })!);
      const [, ...applied] = await Promise.all([repo.backfillTermMonths(), ...changes.map((change, i) => repo.apply(change, legacy[i]))]);
      // a change that lost to the backfill's write is computed again, as ConsentService would
      for (const [i, result] of applied.entries()) {
        if (result) continue;
        const now = (await repo.findById(legacy[i]!.id))!;
        assert.ok(await repo.apply({ ...changes[i]!, expect: { status: now.status, revision: now.revision } }), `${legacy[i]!.id}: the change applies when computed again`);
      }
      await repo.backfillTermMonths();
      for (const [i, c] of legacy.entries()) {
        const stored = await repo.findById(c.id);
        assert.equal(stored?.status, applyChange(c, changes[i]!).status, `${c.id}: the transition was undone`);
        assert.equal((await repo.consents.findOne({ _id: c.id }))?.termMonths, c.termMonths, `${c.id}: no termMonths`);
      }
    } finally {
      await cleanup();
    }
  });

  it('gives termMonths to consents stored before it existed (once, at startup), so the term filter finds them', async () => {
    const { repo, cleanup } = await makeRepository();
    try {
      const c = consent('old-term');
      await repo.create(c);
      await repo.consents.updateOne({ _id: 'old-term' }, { $unset: { termMonths: '' } });
      assert.equal((await repo.query({ termMonths: c.termMonths! }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 5 })).total, 0);
      assert.equal(await repo.backfillTermMonths(), 1);
      assert.equal(await repo.backfillTermMonths(), 0, 'idempotent');
      assert.deepEqual((await repo.query({ termMonths: c.termMonths! }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 5 })).items.map((x) => x.id), ['old-term']);
    } finally {
      await cleanup();
    }
  });

  it('stores personal data only in protected form, and searches it through the blind indexes', async () => {
    const { repo, cleanup } = await makeRepository({ protector: fakeProtector });
    try {
      const c = consent('protected');
      await repo.create(c);
      const raw = JSON.stringify(await repo.consents.findOne({ _id: 'protected' }));
      for (const secret of [IBAN, 'psu-alice', '192.0.2.7']) assert.ok(!raw.includes(secret), `${secret} stored in clear`);
      assert.deepEqual(await repo.findById('protected'), c);
      const page = await repo.query({ psuId: 'psu-alice', iban: IBAN }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 5 });
      assert.deepEqual(page.items, [c]);
    } finally {
      await cleanup();
    }
  });

  it('completes a claim whose writer stopped before updating, once the lease has passed', async () => {
    let now = new Date('2025-03-01T13:00:00.000Z');
    const { repo, cleanup } = await makeRepository({ claimLeaseMs: 10_000, now: () => now });
    try {
      const c = consent('wedged');
      await repo.create(c);
      // a writer claimed revision 0 with its change, then died
      const abandoned = approveChange(c, now);
      await repo.claims.insertOne({
        _id: 'wedged@0',
        consentId: 'wedged',
        expect: abandoned.expect,
        claimedAt: now,
        set: { status: 'valid', updatedAt: now, grantId: 'grant-wedged' },
        history: abandoned.history ?? [],
      });

      // within the lease: the claim holds, nothing changes
      const rival = approveChange(c, now);
      assert.equal(await repo.apply({ ...rival, set: { ...rival.set, grantId: 'grant-rival' } }), null);
      assert.deepEqual(await repo.findById('wedged'), c);

      // after the lease: the next writer completes the recorded change (not its own) and clears the claim
      now = new Date(now.getTime() + 10_000);
      assert.equal(await repo.apply({ ...rival, set: { ...rival.set, grantId: 'grant-rival' } }), null);
      const completed = await repo.findById('wedged');
      assert.equal(completed?.status, 'valid');
      assert.equal(completed?.grantId, 'grant-wedged');
      assert.equal(completed?.revision, 1);
      assert.deepEqual(completed?.history.map((h) => h.to), ['received', 'valid']);
      assert.equal(await repo.claims.countDocuments({}), 0);

      // and the consent moves on from there
      const next = await repo.apply({
        id: 'wedged',
        expect: { status: 'valid', revision: 1 },
        set: { status: 'terminatedByTpp', updatedAt: now },
        history: [{ from: 'valid', to: 'terminatedByTpp', actor: 'TPP', at: now }],
      });
      assert.equal(next?.revision, 2);
    } finally {
      await cleanup();
    }
  });

  it('a transition is two commands; the winner leaves its claim, which blocks nobody', async () => {
    let now = T0;
    const { repo, cleanup } = await makeRepository({ claimLeaseMs: 10_000, now: () => now });
    try {
      const c = consent('tidy');
      await repo.create(c);
      const results = await Promise.all(Array.from({ length: 10 }, () => repo.apply(approveChange(c, T0))));
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await repo.claims.find({}).map((claim) => claim._id).toArray(), ['tidy@0']);
      // a stale writer on the finished revision loses, within the lease and after it (which clears the claim)
      assert.equal(await repo.apply(approveChange(c, T0)), null);
      now = new Date(T0.getTime() + 10_000);
      assert.equal(await repo.apply(approveChange(c, T0)), null);
      assert.equal((await repo.findById('tidy'))?.revision, 1);
      assert.equal(await repo.claims.countDocuments({}), 0);
      // the consent moves on at once from its new revision
      const next = await repo.apply({
        id: 'tidy',
        expect: { status: 'valid', revision: 1 },
        set: { status: 'terminatedByTpp', updatedAt: now },
        history: [{ from: 'valid', to: 'terminatedByTpp', actor: 'TPP', at: now }],
      });
      assert.equal(next?.revision, 2);
    } finally {
      await cleanup();
    }
  });

  it('a claim whose update matched nothing is released at once, so it holds no live revision', async () => {
    const { repo, cleanup } = await makeRepository();
    try {
      const c = consent('bogus');
      await repo.create(c);
      const wrong = approveChange(c, T0);
      assert.equal(await repo.apply({ ...wrong, expect: { status: 'valid', revision: 0 } }), null);
      assert.equal(await repo.claims.countDocuments({}), 0);
      assert.equal((await repo.apply(approveChange(c, T0)))?.status, 'valid');
    } finally {
      await cleanup();
    }
  });

  it('housekeeping deletes the claims older than claimRetentionMs, in one command', async () => {
    let now = T0;
    const { repo, cleanup } = await makeRepository({ claimLeaseMs: 1_000, claimRetentionMs: 60_000, now: () => now });
    try {
      for (const id of ['h1', 'h2']) {
        await repo.create(consent(id));
        await repo.apply(approveChange(consent(id), now));
      }
      now = new Date(T0.getTime() + 30_000);
      await repo.create(consent('h3'));
      await repo.apply(approveChange(consent('h3'), now));
      now = new Date(T0.getTime() + 60_001);
      await repo.housekeeping();
      assert.deepEqual(await repo.claims.find({}).map((claim) => claim._id).toArray(), ['h3@0']);
      now = new Date(T0.getTime() + 120_000);
      await repo.housekeeping();
      assert.equal(await repo.claims.countDocuments({}), 0);
      assert.equal((await repo.findById('h1'))?.status, 'valid');
    } finally {
      await cleanup();
    }
  });
});
