/**
 * ConsentService answers `get` from a remembered copy only while the consent fence (real Redis) confirms
 * its revision; the repository is real MongoDB-wire. Several services on one fence and one collection
 * stand for several Assent instances: a write on one is seen by the next read on every other, a held
 * consent is read from the repository, a write the fence never saw costs a retry and nothing else, and
 * concurrent writers from copies still end with one winner per revision.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { ConsentService } from '../../src/application/consents.ts';
import { ConsentStateConflict } from '../../src/consent/errors.ts';
import type { Consent } from '../../src/consent/types.ts';
import { MongoConsentRepository } from '../../src/storage/mongo/consent-repository.ts';
import { RedisConsentFence } from '../../src/storage/redis/consent-fence.ts';
import type { ConsentFence } from '../../src/storage/consent-fence.ts';
import { makeSecretClient, requireEnv, startTestServer } from '../support/assent.ts';
import { AccessValidator } from '../../src/application/access.ts';
import { RememberedConsents } from '../../src/application/remembered-consents.ts';
import { RedisUsageCounter } from '../../src/storage/redis/usage-counter.ts';
import { inDays } from '../support/tpp.ts';

/** the real repository, counting the reads that reach MongoDB */
class CountingRepository extends MongoConsentRepository {
  reads = 0;
  override async findById(id: string): Promise<Consent | null> {
    this.reads++;
    return super.findById(id);
  }
}

describe('remembered consent reads across instances', () => {
  const mongo = new MongoClient(requireEnv('MONGODB_URI'));
  const redis = new Redis(requireEnv('REDIS_URL'));
  const database = `assent_test_${randomUUID().replaceAll('-', '')}`;
  const prefix = `test:remembered:${randomUUID()}:`;
  let fence: ConsentFence;

  before(async () => {
    await mongo.connect();
    fence = new RedisConsentFence(redis, { prefix });
    await new MongoConsentRepository(mongo.db(database)).ensureIndexes();
  });
  after(async () => {
    await mongo.db(database).dropDatabase().catch(() => undefined);
    await mongo.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  /** one "instance": its own service and memory, the shared fence and collection */
  function instance(options: { fence?: ConsentFence; remembered?: number } = {}) {
    const repo = new CountingRepository(mongo.db(database));
    const service = new ConsentService(repo, { receivedTimeoutSeconds: 600, defaultScaMethodId: 'push-otp' });
    service.setFence(options.fence ?? fence, { rememberedConsents: options.remembered ?? 100 });
    return { repo, service };
  }
  const create = (service: ConsentService) =>
    service.create({ clientId: 'tpp', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: inDays(30), frequencyPerDay: 4, combinedServiceIndicator: false });

  test('the instance that created or wrote a consent reads it without MongoDB; a copy is frozen', async () => {
    const a = instance();
    const consent = await create(a.service);
    const read = await a.service.get(consent.id);
    assert.equal(read?.revision, consent.revision);
    const { consent: started } = await a.service.startAuthorisation(read!, 'tpp');
    const again = await a.service.get(consent.id);
    assert.equal(again?.revision, started.revision);
    assert.equal(again?.authorisations.length, 1);
    assert.equal(a.repo.reads, 0, 'no read reached MongoDB');
    assert.ok(Object.isFrozen(again) && Object.isFrozen(again!.authorisations));
  });

  test('a write on another instance is seen by the next read here', async () => {
    const a = instance();
    const b = instance();
    const consent = await create(a.service);
    await a.service.get(consent.id); // A remembers it
    const onB = await b.service.get(consent.id);
    assert.equal(b.repo.reads, 1, 'B had no copy');
    const terminated = await b.service.terminateByTpp(onB!, 'tpp');
    assert.notEqual(terminated.status, consent.status);
    const onA = await a.service.get(consent.id);
    assert.equal(onA?.status, terminated.status, 'A does not answer from its outdated copy');
    assert.equal(onA?.revision, terminated.revision);
    assert.equal(a.repo.reads, 1, 'A read the repository once');
    await a.service.get(consent.id);
    assert.equal(a.repo.reads, 1, 'and remembers what it read');
  });

  test('while a writer holds the consent, readers go to MongoDB', async () => {
    const a = instance();
    const consent = await create(a.service);
    await fence.hold(consent.id);
    try {
      await a.service.get(consent.id);
      await a.service.get(consent.id);
      assert.equal(a.repo.reads, 2);
    } finally {
      await fence.release(consent.id, null);
    }
    await a.service.get(consent.id);
    assert.equal(a.repo.reads, 3, 'a read while held was not remembered');
    await a.service.get(consent.id);
    assert.equal(a.repo.reads, 3);
  });

  test('a search key written on one instance publishes the revision it moved to: others read it, a writer from its copy wins at once', async () => {
    const a = instance();
    const b = instance();
    const consent = await create(a.service);
    await b.service.get(consent.id); // B remembers revision 0
    const readsBefore = b.repo.reads;
    assert.equal(await a.service.addSearchKeys(consent.id, ['contract-1'], 5), 'added');
    const onB = await b.service.get(consent.id);
    const stored = await new MongoConsentRepository(mongo.db(database)).findById(consent.id);
    assert.equal(onB?.revision, stored?.revision, 'B does not answer from the copy before the key');
    assert.equal(b.repo.reads, readsBefore + 1);
    assert.deepEqual(await a.service.heldSearchKeys(consent.id, ['contract-1']), [true]);
    // A remembers what it read after its write: a change from its copy needs no retry
    const aReads = a.repo.reads;
    const onA = await a.service.get(consent.id);
    assert.equal(onA?.revision, stored?.revision);
    const terminated = await a.service.terminateByTpp(onA!, 'tpp');
    assert.equal(terminated.revision, stored!.revision + 1);
    assert.equal(a.repo.reads, aReads, 'no read of the repository, no retry');
    assert.deepEqual(await b.service.heldSearchKeys(consent.id, ['contract-1']), [true], 'the key survived the change');
  });

  test('one memory per instance: validation answers from the copy the service stored, through one fenced count', async () => {
    const memory = new RememberedConsents(100);
    const seen = { register: 0, incrementIfCurrent: 0 };
    const spy: ConsentFence = {
      hold: (id) => fence.hold(id),
      release: (id, revision) => fence.release(id, revision),
      register: (id, revision) => (seen.register++, fence.register(id, revision)),
      isCurrent: (id, revision) => fence.isCurrent(id, revision),
      incrementIfCurrent: (...args) => (seen.incrementIfCurrent++, fence.incrementIfCurrent(...args)),
      usageIfCurrent: (...args) => fence.usageIfCurrent(...args),
    };
    const repo = new CountingRepository(mongo.db(database));
    const service = new ConsentService(repo, { receivedTimeoutSeconds: 600, defaultScaMethodId: 'push-otp' });
    service.setFence(spy, { remembered: memory });
    assert.equal(service.remembered, memory);
    const consent = await create(service);
    const approved = await service.approve(consent, { psuId: 'psu-1', grantedAccounts: [{ accountId: 'a1', iban: 'DE89370400440532013000', access: ['accounts'] }], grantId: 'g1' });
    const validator = new AccessValidator(
      { consents: service, tokens: { describeUserToken: () => Promise.reject(new Error('no tokens here')) }, usage: new RedisUsageCounter(redis, { prefix }), fence: spy, remembered: memory },
      { timeZone: 'UTC' },
    );
    assert.equal(validator.remembered, memory);
    seen.register = 0;
    const answer = await validator.validate({ subject: { consentId: approved.id, clientId: 'tpp' }, method: 'GET', path: '/psd2/accountinformation/v1/accounts', psuPresent: false });
    assert.equal(answer.outcome, 'valid');
    assert.deepEqual(seen, { register: 0, incrementIfCurrent: 1 }, 'the fast path, from the copy the approval stored');
    assert.equal(repo.reads, 0);
  });

  test('Assent wires one memory into the service and the validator (MongoDB); on the embedded stores only the validator keeps copies', async () => {
    const tpp = makeSecretClient(`tpp-memory-${randomUUID().slice(0, 8)}`);
    const withMongo = await startTestServer({ clients: [tpp.config] });
    try {
      assert.ok(withMongo.assent.consents.remembered);
      assert.equal(withMongo.assent.access.remembered, withMongo.assent.consents.remembered);
    } finally {
      await withMongo.stop();
    }
    const embedded = await startTestServer({ clients: [tpp.config] }, { embedded: true });
    try {
      assert.equal(embedded.assent.consents.remembered, undefined);
      assert.ok(embedded.assent.access.remembered);
    } finally {
      await embedded.stop();
    }
  });

  test('a change stored past the fence (maintenance) costs a writer one retry, never a lost write', async () => {
    const a = instance();
    const consent = await create(a.service);
    const copy = await a.service.get(consent.id);
    // what `npm run reencrypt` does: a stored change under the claim protocol that bumps the revision without the fence
    assert.equal(await a.repo.rewriteStored(consent.id, { status: consent.status, revision: consent.revision }, { frequencyPerDay: 4 }), true);
    const stale = await a.service.get(consent.id);
    assert.equal(stale?.revision, copy?.revision, 'the fence never heard of it: the copy is still answered');
    const { consent: started } = await a.service.startAuthorisation(stale!, 'tpp');
    assert.equal(started.revision, consent.revision + 2, 'computed again from the stored revision');
    assert.equal(started.authorisations.length, 1);
    assert.equal(a.repo.reads, 1, 'the retry read MongoDB');
  });

  test('a fence that cannot answer sends reads to MongoDB', async () => {
    const a = instance();
    const consent = await create(a.service);
    const down = instance({
      fence: {
        ...fence,
        hold: (id) => fence.hold(id),
        release: (id, r) => fence.release(id, r),
        register: async () => { throw new Error('redis down'); },
        isCurrent: async () => { throw new Error('redis down'); },
        incrementIfCurrent: async () => undefined,
        usageIfCurrent: async () => undefined,
      },
    });
    assert.equal((await down.service.get(consent.id))?.id, consent.id);
    assert.equal((await down.service.get(consent.id))?.id, consent.id);
    assert.equal(down.repo.reads, 2);
  });

  test('a bounded memory: beyond its size the oldest copy is forgotten', async () => {
    const a = instance({ remembered: 2 });
    const [first, second, third] = [await create(a.service), await create(a.service), await create(a.service)];
    await a.service.get(second.id);
    await a.service.get(third.id);
    assert.equal(a.repo.reads, 0);
    await a.service.get(first.id);
    assert.equal(a.repo.reads, 1, 'the first was forgotten');
  });

  test('six instances start authorisations on one consent from their copies at once: every revision has one winner', async () => {
    const creator = instance();
    const consent = await create(creator.service);
    const instances = Array.from({ length: 6 }, () => instance());
    const copies = await Promise.all(instances.map((i) => i.service.get(consent.id)));
    const outcomes = await Promise.allSettled(instances.map((i, n) => i.service.startAuthorisation(copies[n]!, 'tpp')));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof ConsentStateConflict, String(o.reason));
    assert.ok(won.length >= 1);
    const stored = (await new MongoConsentRepository(mongo.db(database)).findById(consent.id))!;
    assert.equal(stored.authorisations.length, won.length, 'one stored authorisation per success');
    assert.equal(stored.revision, consent.revision + won.length, 'one revision per success');
    const ids = new Set(won.map((o) => (o as PromiseFulfilledResult<{ authorisation: { id: string } }>).value.authorisation.id));
    assert.deepEqual(new Set(stored.authorisations.map((x) => x.id)), ids, 'what each instance answered is what is stored');
    for (const i of instances) assert.equal((await i.service.get(consent.id))?.revision, stored.revision, 'every instance now reads the stored revision');
  });
});
