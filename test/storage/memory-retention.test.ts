/**
 * The embedded stores do not grow without bound: ended consents are dropped after their retention, the
 * consent store has a cap (with a warning), and expired oidc-provider records are swept out.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { applyChange } from '../../src/consent/change.ts';
import { approve, createConsent, selectScaMethod, startAuthorisation, terminateByTpp } from '../../src/consent/state.ts';
import type { Consent } from '../../src/consent/types.ts';
import { MemoryConsentRepository } from '../../src/storage/memory/consent-repository.ts';
import { MemoryOidcStore, memoryAdapterClass } from '../../src/storage/memory/oidc-adapter.ts';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../src/log.ts';
import { openStores } from '../../src/stores.ts';
import { MemoryDecisionClaims } from '../../src/storage/memory/decision-claims.ts';
import { ExpiringMap } from '../../src/storage/memory/expiring-map.ts';
import { MemoryReplayStore } from '../../src/storage/memory/replay-store.ts';
import { MemoryRateLimiter } from '../../src/storage/memory/rate-limiter.ts';
import { MemoryLoginAttempts } from '../../src/storage/memory/login-attempts.ts';

const NOW = new Date();
const HOUR = 3_600_000;
const validUntil = new Date(NOW.getTime() + 30 * 24 * HOUR).toISOString().slice(0, 10);

function newConsent(id: string): Consent {
  return createConsent(
    {
      clientId: 'tpp',
      access: { allPsd2: 'allAccounts' },
      recurringIndicator: true,
      validUntil,
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
    },
    { now: NOW, newId: () => id },
  );
}

/** stores a consent and walks it to `valid` with grant `grant-${id}` */
async function approved(repo: MemoryConsentRepository, id: string): Promise<Consent> {
  let consent = newConsent(id);
  await repo.create(consent);
  const started = startAuthorisation(consent, { now: NOW, newId: () => `${id}-a` });
  consent = (await repo.apply(started.change))!;
  consent = (await repo.apply(selectScaMethod(consent, { authorisationId: `${id}-a`, scaMethodId: 'sms' }, { now: NOW })))!;
  return (await repo.apply(
    approve(consent, { authorisationId: `${id}-a`, psuId: 'psu', grantedAccounts: [], grantId: `grant-${id}` }, { now: NOW }),
  ))!;
}

describe('embedded consent store: retention', () => {
  it('drops an ended consent once its retention has passed, with its grant index entry, and nothing else', async () => {
    let clock = 1_000_000;
    const repo = new MemoryConsentRepository({ endedRetentionMs: 10 * HOUR, now: () => clock });
    const ending = await approved(repo, 'ending');
    await approved(repo, 'kept');
    await repo.create(newConsent('pending'));
    await repo.apply(terminateByTpp(ending, { now: NOW })!);
    clock += 10 * HOUR - 1;
    await repo.create(newConsent('trigger-1'));
    assert.equal((await repo.findById('ending'))?.status, 'terminatedByTpp', 'still inside its retention');
    assert.equal((await repo.findByGrantId('grant-ending'))?.id, 'ending');
    clock += 1;
    await repo.create(newConsent('trigger-2'));
    assert.equal(await repo.findById('ending'), null);
    assert.equal(await repo.findByGrantId('grant-ending'), null);
    // its grant id is free again (nothing of it is left behind)
    await repo.create(applyChange(newConsent('reuse'), {
      id: 'reuse',
      expect: { status: 'received', revision: 0 },
      set: { grantId: 'grant-ending', updatedAt: NOW },
    }));
    assert.equal((await repo.findByGrantId('grant-ending'))?.id, 'reuse');
    assert.equal((await repo.findById('kept'))?.status, 'valid');
    assert.equal((await repo.findById('pending'))?.status, 'received');
    assert.equal(repo.size, 5);
  });

  it('the sweeper evicts too, without any write (findDue)', async () => {
    let clock = 0;
    const repo = new MemoryConsentRepository({ endedRetentionMs: HOUR, now: () => clock });
    const consent = await approved(repo, 'c');
    await repo.apply(terminateByTpp(consent, { now: NOW })!);
    assert.equal(repo.size, 1);
    clock = HOUR;
    await repo.findDue(NOW, NOW, 10);
    assert.equal(repo.size, 0);
  });

  it('keeps at most maxConsents: the oldest ended consent goes first, then the oldest, with a warning', async () => {
    let clock = 0;
    const warnings: Array<{ maxConsents: number; dropped: number }> = [];
    const repo = new MemoryConsentRepository({ maxConsents: 3, now: () => clock, onCapReached: (info) => warnings.push(info) });
    await repo.create(newConsent('old'));
    const ended = await approved(repo, 'ended');
    await repo.apply(terminateByTpp(ended, { now: NOW })!);
    await repo.create(newConsent('mid'));
    assert.deepEqual(warnings, []);
    await repo.create(newConsent('new-1'));
    assert.equal(await repo.findById('ended'), null, 'the ended consent made room, although older ones are live');
    assert.equal(await repo.findByGrantId('grant-ended'), null);
    assert.ok(await repo.findById('old'));
    assert.deepEqual(warnings, [{ maxConsents: 3, dropped: 1 }]);
    await repo.create(newConsent('new-2'));
    assert.equal(await repo.findById('old'), null, 'no ended consent left: the oldest made room');
    assert.equal(repo.size, 3);
    assert.equal(warnings.length, 1, 'warned at most once a minute');
    clock += 60_000;
    await repo.create(newConsent('new-3'));
    assert.deepEqual(warnings[1], { maxConsents: 3, dropped: 2 });
    for (let i = 0; i < 50; i++) await repo.create(newConsent(`bulk-${i}`));
    assert.equal(repo.size, 3);
  });

  it('reads hand out the stored frozen value, not a copy', async () => {
    const repo = new MemoryConsentRepository();
    await repo.create(newConsent('f'));
    const a = await repo.findById('f');
    assert.ok(a && Object.isFrozen(a) && Object.isFrozen(a.history) && Object.isFrozen(a.history[0]));
    assert.equal(await repo.findById('f'), a);
    assert.throws(() => {
      (a as { status: string }).status = 'valid';
    }, TypeError);
  });

  it('config embedded.* reaches the store and the cap warning is logged', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const config = loadConfig({ env: {}, overrides: { embedded: { maxConsents: 2 } } });
    const stores = await openStores(config, createLogger('info', sink));
    try {
      for (const id of ['a', 'b', 'c']) await stores.consents.create(newConsent(id));
      assert.equal(await stores.consents.findById('a'), null);
      const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.maxConsents === 2);
      assert.ok(warning, lines.join('\n'));
      assert.match(String(warning.msg), /embedded\.maxConsents/);
    } finally {
      await stores.close();
    }
  });
});

describe('embedded oidc-provider store: expired records are evicted', () => {
  it('sweep removes expired items, their uid index and grant membership from memory', async () => {
    const store = new MemoryOidcStore({ sweepIntervalMs: 0 });
    const Adapter = memoryAdapterClass(store);
    await new Adapter('AccessToken').upsert('short', { grantId: 'g' }, 1);
    await new Adapter('Session').upsert('s', { uid: 'u' }, 1);
    await new Adapter('RefreshToken').upsert('long', { grantId: 'g2' }, 60);
    assert.deepEqual(store.held, { items: 3, indexes: 1, grants: 2 });
    store.sweep(Date.now() + 2_000);
    assert.deepEqual(store.held, { items: 1, indexes: 0, grants: 1 });
    store.sweep(Date.now() + 120_000);
    assert.deepEqual(store.held, { items: 0, indexes: 0, grants: 0 });
  });

  it('the periodic (unref’d) sweep evicts records nobody reads again', async () => {
    const store = new MemoryOidcStore({ sweepIntervalMs: 50 });
    try {
      const Adapter = memoryAdapterClass(store);
      for (let i = 0; i < 100; i++) await new Adapter('AuthorizationCode').upsert(`code-${i}`, { grantId: `g-${i}` }, 0.05);
      assert.equal(store.held.items, 100);
      await sleep(300);
      assert.deepEqual(store.held, { items: 0, indexes: 0, grants: 0 });
    } finally {
      store.close();
    }
  });
});

describe('embedded decision claims: expired claims are evicted without a walk over the live ones', () => {
  it('a new claim evicts the expired ones before it, and stops at the first live one', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-03T12:00:00Z') });
    const claims = new MemoryDecisionClaims();
    assert.equal(await claims.claim('long', 600), true);
    for (let i = 0; i < 1_000; i++) assert.equal(await claims.claim(`short-${i}`, 1), true);
    t.mock.timers.tick(2_000);
    assert.equal(await claims.claim('next', 60), true);
    // the long-lived claim at the front ends the eviction: nothing behind it is looked at yet
    assert.equal(claims.size, 1_002);
    assert.equal(await claims.claim('short-5', 60), true, 'an expired claim does not block its interaction');
    t.mock.timers.tick(600_000);
    assert.equal(await claims.claim('later', 60), true);
    assert.equal(claims.size, 1, 'once the front expired, everything expired behind it went too');
  });
});

describe('embedded short-lived records (ExpiringMap): evicted from the front as new ones are written', () => {
  it('a write evicts the expired entries before the first live one; rewriting a key moves it to the back', () => {
    const map = new ExpiringMap<number>();
    for (let i = 0; i < 5; i++) map.set(`a${i}`, i, 1_000, 0);
    map.set('b', 9, 5_000, 0);
    map.set('a0', 10, 9_000, 0); // a0 again: now behind b, with its new expiry
    assert.equal(map.size, 6);
    map.set('c', 1, 9_000, 2_000); // a1..a4 expired at the front: gone; b is live and ends the eviction
    assert.equal(map.size, 3);
    assert.equal(map.get('a1', 2_000), undefined);
    assert.equal(map.get('a0', 2_000), 10);
    assert.equal(map.get('b', 6_000), undefined, 'an expired entry is not answered, and goes when read');
    assert.equal(map.size, 2);
  });

  it('the replay store, the creation limiter and the login throttle stay bounded by what is live', async () => {
    let now = 0;
    const replays = new MemoryReplayStore({ now: () => now });
    for (let i = 0; i < 20_000; i++) assert.equal(await replays.firstUse(`jti-${i}`, 60), true);
    assert.equal(await replays.firstUse('jti-7', 60), false, 'a live id is refused');
    now = 61_000;
    assert.equal(await replays.firstUse('jti-7', 60), true, 'an expired one is accepted again');
    assert.equal(replays.size, 1, 'the 20,000 expired ids went with the next write');

    const limiter = new MemoryRateLimiter({ now: () => now });
    for (let i = 0; i < 3; i++) assert.equal(await limiter.take('tpp', 2, 1_000), i < 2 ? 0 : 1);
    now += 1_000;
    assert.equal(await limiter.take('tpp', 2, 1_000), 0, 'a new window');

    const attempts = new MemoryLoginAttempts({ now: () => now });
    const state = await attempts.recordFailure('alice', (n) => (n >= 2 ? 5_000 : 0), 60);
    assert.deepEqual(state, { failures: 1, blockedUntil: 0 });
    assert.deepEqual(await attempts.recordFailure('alice', (n) => (n >= 2 ? 5_000 : 0), 60), { failures: 2, blockedUntil: now + 5_000 });
    now += 61_000;
    assert.deepEqual(await attempts.state('alice'), { failures: 0, blockedUntil: 0 }, 'forgotten after its window');
  });
});
