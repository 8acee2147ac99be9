/**
 * The behavioural contract of every ReplayStore (run by replay-store.memory.test.ts and
 * replay-store.redis.test.ts). `makeStore()` returns a store over fresh, isolated storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplayStore } from '../../src/storage/replay-store.ts';

export function replayStoreContract(name: string, makeStore: () => ReplayStore | Promise<ReplayStore>): void {
  describe(`ReplayStore contract: ${name}`, { concurrency: true }, () => {
    test('the first use wins, the second is a replay', async () => {
      const store = await makeStore();
      const id = randomUUID();
      assert.equal(await store.firstUse(id, 60), true);
      assert.equal(await store.firstUse(id, 60), false);
      assert.equal(await store.firstUse(`${id}-other`, 60), true, 'other ids are independent');
    });

    test('of 20 concurrent first uses exactly one wins', async () => {
      const store = await makeStore();
      const id = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.firstUse(id, 60)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('an id is forgotten after its TTL', async () => {
      const store = await makeStore();
      const id = randomUUID();
      assert.equal(await store.firstUse(id, 0.3), true);
      assert.equal(await store.firstUse(id, 0.3), false);
      await sleep(450);
      assert.equal(await store.firstUse(id, 60), true);
    });

    test('ids of any length and content, kept apart', async () => {
      const store = await makeStore();
      const long = 'x'.repeat(5_000);
      assert.equal(await store.firstUse(long, 60), true);
      assert.equal(await store.firstUse(`${long}y`, 60), true);
      assert.equal(await store.firstUse('ünï\u0000cødé', 60), true);
      assert.equal(await store.firstUse('ünï\u0000cødé', 60), false);
    });
  });
}
