/**
 * The sweeper under a backlog, on real Redis + MongoDB-wire: 1,000 due consents and two sweepers (two
 * Assent instances on one Redis and one database) sweep them all, never at the same time (the Redis
 * lease), in bounded batches, with progress logged; one instance never starts a second run while one
 * runs; leftover claim documents are cleared; memory mode keeps a local single-flight sweeper.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { createLogger } from '../../src/log.ts';
import { Sweeper, type SweepTarget } from '../../src/application/sweeper.ts';
import { RedisSweepLease } from '../../src/storage/redis/sweep-lease.ts';
import type { SweepLease } from '../../src/storage/sweep-lease.ts';
import { MongoConsentRepository } from '../../src/storage/mongo/consent-repository.ts';
import { makeKeyClient, requireEnv, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { seedConsent } from '../support/tpp.ts';

const database = `assent_sweep_${randomUUID().replaceAll('-', '')}`;
const prefix = `assent-sweep:${randomUUID()}:`;
let a: TestServer;
let b: TestServer;
let tpp: TestClient;
let mongo: MongoClient;

before(async () => {
  tpp = await makeKeyClient('sweep-tpp');
  const shared = {
    clients: [tpp.config],
    consent: { receivedTimeoutSeconds: 600, sweepIntervalSeconds: 0 },
    mongodb: { uri: requireEnv('MONGODB_URI'), database },
    redis: { url: requireEnv('REDIS_URL'), prefix },
  };
  a = await startTestServer(shared);
  b = await startTestServer(shared);
  mongo = new MongoClient(requireEnv('MONGODB_URI'));
});
after(async () => {
  await a.stop();
  await b.stop();
  await mongo.db(database).dropDatabase().catch(() => undefined);
  await mongo.close();
});

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, log: createLogger('info', sink) };
}

/** backdates creation so every `received` consent is past the authorisation timeout */
async function makeAllStale() {
  await mongo.db(database).collection('consents').updateMany({ status: 'received' }, { $set: { createdAt: new Date(Date.now() - 3_600_000) } });
}

describe('a backlog of 1,000 due consents, two sweepers on one Redis', () => {
  // no wall-clock bound on a noisy machine: the wait below fails only when the sweep stops making progress
  test('all swept, never concurrent, in bounded batches, progress logged', { timeout: 600_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 1000; i += 50) {
      const made = await Promise.all(Array.from({ length: 50 }, () => seedConsent(i % 100 === 0 ? a : b, tpp.clientId)));
      ids.push(...made.map((c) => c.id));
    }
    await makeAllStale();

    const BATCH = 50;
    let inRun = 0;
    let maxInRun = 0;
    let activeBatches = 0;
    let maxActiveBatches = 0;
    const batches: { who: string; limit: number; examined: number }[] = [];
    const target = (who: string, server: TestServer): SweepTarget => ({
      async sweepBatch(limit) {
        activeBatches++;
        maxActiveBatches = Math.max(maxActiveBatches, activeBatches);
        try {
          const r = await server.assent.consents.sweepBatch(limit);
          batches.push({ who, limit, examined: r.examined });
          return r;
        } finally {
          activeBatches--;
        }
      },
    });
    /** the real Redis lease, watched: how many holders are inside a run at once */
    const watched = (lease: SweepLease): SweepLease => ({
      async acquire() {
        const held = await lease.acquire();
        if (held) maxInRun = Math.max(maxInRun, ++inRun);
        return held;
      },
      renew: () => lease.renew(),
      async release() {
        inRun--;
        await lease.release();
      },
    });
    const logs = capture();
    const sweepers = [a, b].map(
      (server, i) =>
        new Sweeper({
          target: target(`s${i}`, server),
          lease: watched(new RedisSweepLease(server.assent.stores.redis!, { prefix })),
          log: logs.log,
          intervalMs: 5,
          batchSize: BATCH,
          maxBatches: 4,
          renewEveryMs: 500,
        }),
    );
    sweepers.forEach((s) => s.start());
    const consents = mongo.db(database).collection('consents');
    // wait while the backlog shrinks; give up only after 30 s without any progress
    let left = Infinity;
    let progressAt = Date.now();
    while (Date.now() - progressAt < 30_000) {
      const now = await consents.countDocuments({ _id: { $in: ids as never[] }, status: 'received' });
      if (now < left) progressAt = Date.now();
      left = now;
      if (left === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(sweepers.map((s) => s.close()));

    assert.equal(left, 0, 'every due consent was swept');
    assert.equal(await consents.countDocuments({ _id: { $in: ids as never[] }, status: 'rejected' }), 1000);
    assert.equal(maxInRun, 1, 'two sweeps ran at the same time');
    assert.equal(maxActiveBatches, 1);
    assert.ok(batches.length >= 1000 / BATCH);
    assert.ok(batches.every((x) => x.limit === BATCH && x.examined <= BATCH), 'every batch bounded');
    const progress = logs.lines.map((l) => JSON.parse(l) as { msg: string; changed?: number; totalChanged?: number });
    assert.ok(progress.filter((l) => l.msg === 'consent sweep batch').length >= 1000 / BATCH);
    assert.equal(
      progress.filter((l) => l.msg === 'consent sweep').reduce((sum, l) => sum + (l.changed ?? 0), 0),
      1000,
      'run totals logged',
    );
    assert.equal(await a.assent.stores.redis!.exists(`${prefix}sweeper:lease`), 0, 'lease released on close');
  });
});

describe('one instance', () => {
  test('run() during a run returns that run: no second sweep starts', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sweeper = new Sweeper({
      target: {
        async sweepBatch() {
          calls++;
          await gate;
          return { examined: 0, changed: 0 };
        },
      },
      lease: new RedisSweepLease(a.assent.stores.redis!, { prefix: `${prefix}single:` }),
      log: capture().log,
      intervalMs: 1_000,
    });
    const first = sweeper.run();
    const second = sweeper.run();
    assert.equal(first, second);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await first;
    assert.equal(calls, 1);
    await sweeper.close();
  });

  test('a lease held by another instance: this one does nothing', async () => {
    const other = new RedisSweepLease(b.assent.stores.redis!, { prefix: `${prefix}held:` });
    assert.equal(await other.acquire(), true);
    let calls = 0;
    const sweeper = new Sweeper({
      target: { sweepBatch: async () => (calls++, { examined: 0, changed: 0 }) },
      lease: new RedisSweepLease(a.assent.stores.redis!, { prefix: `${prefix}held:` }),
      log: capture().log,
      intervalMs: 1_000,
    });
    const run = await sweeper.run();
    assert.equal(run.leader, false);
    assert.equal(calls, 0);
    await other.release();
    assert.equal((await sweeper.run()).leader, true);
    assert.equal(calls, 1);
  });

  test('leftover claim documents are cleared (completed or dropped); a fresh claim is left to its writer', async () => {
    const repo = a.assent.stores.consents as MongoConsentRepository;
    assert.ok(repo instanceof MongoConsentRepository);
    const moved = await seedConsent(a, tpp.clientId);
    const claims = mongo.db(database).collection('consents_claims');
    const old = new Date(Date.now() - 3_600_000);
    // finished writers leave their claims behind (the earlier tests' transitions): start from none
    await claims.deleteMany({});
    await claims.insertMany([
      // its consent has moved on (revision 0 is long gone after this update)
      { _id: `${moved.id}@-1`, consentId: moved.id, expect: { status: 'received', revision: -1 }, claimedAt: old, set: {}, history: [] },
      { _id: `gone@0`, consentId: 'gone', expect: { status: 'received', revision: 0 }, claimedAt: old, set: {}, history: [] },
      { _id: `${moved.id}@99`, consentId: moved.id, expect: { status: 'received', revision: 99 }, claimedAt: new Date(), set: {}, history: [] },
    ] as never[]);
    const sweeper = new Sweeper({
      target: { sweepBatch: async () => ({ examined: 0, changed: 0 }) },
      lease: new RedisSweepLease(a.assent.stores.redis!, { prefix: `${prefix}claims:` }),
      log: capture().log,
      intervalMs: 1_000,
      cleanUp: () => repo.cleanUpClaims(),
    });
    const run = await sweeper.run();
    assert.equal(run.claimsCleared, 2);
    assert.deepEqual((await claims.find({}).toArray()).map((c) => c._id), [`${moved.id}@99`]);
    await claims.deleteMany({});
  });
});

describe('memory mode', () => {
  test('the embedded server has a local single-flight sweeper that sweeps', async () => {
    const server = await startTestServer({ clients: [tpp.config], consent: { receivedTimeoutSeconds: 600, sweepIntervalSeconds: 3600 } }, { embedded: true });
    try {
      const sweeper = server.assent.sweeper;
      assert.ok(sweeper);
      const consent = await seedConsent(server, tpp.clientId);
      const stored = (await server.assent.stores.consents.findById(consent.id))!;
      // the memory store has no raw access: a consent created an hour ago through the service's clock
      const { ConsentService } = await import('../../src/application/consents.ts');
      const late = new ConsentService(server.assent.stores.consents, {
        receivedTimeoutSeconds: 600,
        defaultScaMethodId: 'push-otp',
        now: () => new Date(stored.createdAt.getTime() + 3_600_000),
      });
      const lateSweeper = new Sweeper({
        target: late,
        lease: new (await import('../../src/storage/memory/sweep-lease.ts')).LocalSweepLease(),
        log: capture().log,
        intervalMs: 1_000,
      });
      const first = lateSweeper.run();
      assert.equal(lateSweeper.run(), first);
      assert.equal((await first).changed, 1);
      assert.equal((await server.assent.stores.consents.findById(consent.id))?.status, 'rejected');
      assert.equal((await sweeper.run()).leader, true);
    } finally {
      await server.stop();
    }
  });
});
