/**
 * The behavioural contract of every IdempotencyStore (run by idempotency-store.memory.test.ts and
 * idempotency-store.redis.test.ts). `makeStore()` returns a store over fresh, isolated storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { beginIdempotent, type IdempotencyStore, type StoredResponse } from '../../src/storage/idempotency-store.ts';

const response = (body = `eyJ.${randomUUID()}.sig`): StoredResponse => ({ status: 201, body, contentType: 'application/jwt' });
const PENDING = { pendingSeconds: 30 };

export function idempotencyStoreContract(name: string, makeStore: () => IdempotencyStore | Promise<IdempotencyStore>): void {
  describe(`IdempotencyStore contract: ${name}`, { concurrency: true }, () => {
    test('first request starts; the same content after completion replays the first response exactly', async () => {
      const store = await makeStore();
      const key = randomUUID();
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'started' });
      const first = response('ünïcødé ✓ "quoted" body');
      await store.complete(key, 'fp-1', first, 60);
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'replay', response: first });
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'replay', response: first });
    });

    test('other content under the same key: mismatch, pending or done; other keys are independent', async () => {
      const store = await makeStore();
      const key = randomUUID();
      await store.begin(key, 'fp-1', PENDING);
      assert.deepEqual(await store.begin(key, 'fp-2', PENDING), { outcome: 'mismatch' });
      await store.complete(key, 'fp-1', response(), 60);
      assert.deepEqual(await store.begin(key, 'fp-2', PENDING), { outcome: 'mismatch' });
      assert.deepEqual(await store.begin(`${key}-other`, 'fp-2', PENDING), { outcome: 'started' });
    });

    test('while the first is running, the same content is pending', async () => {
      const store = await makeStore();
      const key = randomUUID();
      await store.begin(key, 'fp', PENDING);
      assert.deepEqual(await store.begin(key, 'fp', PENDING), { outcome: 'pending' });
    });

    test('20 concurrent duplicates: exactly one starts; the waiting ones get its response', async () => {
      const store = await makeStore();
      const key = randomUUID();
      const first = response();
      let runs = 0;
      const attempt = async () => {
        const begun = await beginIdempotent(store, key, 'fp', { ...PENDING, waitMs: 5_000, pollMs: 10 });
        if (begun.outcome !== 'started') return begun;
        runs++;
        await sleep(100);
        await store.complete(key, 'fp', first, 60);
        return { outcome: 'replay' as const, response: first };
      };
      const results = await Promise.all(Array.from({ length: 20 }, attempt));
      assert.equal(runs, 1);
      for (const r of results) assert.deepEqual(r, { outcome: 'replay', response: first });
    });

    test('beginIdempotent gives up waiting with pending', async () => {
      const store = await makeStore();
      const key = randomUUID();
      await store.begin(key, 'fp', PENDING);
      assert.deepEqual(await beginIdempotent(store, key, 'fp', { ...PENDING, waitMs: 60, pollMs: 10 }), { outcome: 'pending' });
    });

    test('abandon releases only a pending claim of the same content', async () => {
      const store = await makeStore();
      const key = randomUUID();
      await store.begin(key, 'fp-1', PENDING);
      await store.abandon(key, 'fp-2');
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'pending' }, 'another content cannot release it');
      await store.abandon(key, 'fp-1');
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'started' }, 'a retry runs again');
      const done = response();
      await store.complete(key, 'fp-1', done, 60);
      await store.abandon(key, 'fp-1');
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'replay', response: done }, 'a decision is never released');
    });

    test('complete never overwrites a decision', async () => {
      const store = await makeStore();
      const key = randomUUID();
      await store.begin(key, 'fp-1', PENDING);
      const first = response();
      await store.complete(key, 'fp-1', first, 60);
      await store.complete(key, 'fp-1', response(), 60);
      await store.complete(key, 'fp-2', response(), 60);
      assert.deepEqual(await store.begin(key, 'fp-1', PENDING), { outcome: 'replay', response: first });
    });

    test('a pending claim lapses after pendingSeconds; a decision after its window', async () => {
      const store = await makeStore();
      const stuck = randomUUID();
      await store.begin(stuck, 'fp', { pendingSeconds: 0.3 });
      const done = randomUUID();
      await store.begin(done, 'fp', PENDING);
      await store.complete(done, 'fp', response(), 0.3);
      await sleep(450);
      assert.deepEqual(await store.begin(stuck, 'fp', PENDING), { outcome: 'started' });
      assert.deepEqual(await store.begin(done, 'fp-2', PENDING), { outcome: 'started' }, 'after the window the key is free');
    });
  });
}
