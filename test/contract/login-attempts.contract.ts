/**
 * The behavioural contract of every LoginAttempts store (run by login-attempts.memory.test.ts and
 * login-attempts.redis.test.ts). `makeStore()` returns a store over fresh, isolated storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoginAttempts } from '../../src/storage/login-attempts.ts';

export function loginAttemptsContract(name: string, makeStore: () => LoginAttempts | Promise<LoginAttempts>): void {
  describe(`LoginAttempts contract: ${name}`, { concurrency: true }, () => {
    test('an unknown key has no failures and no block', async () => {
      const store = await makeStore();
      assert.deepEqual(await store.state(randomUUID()), { failures: 0, blockedUntil: 0 });
    });

    test('failures count up; the block for the count starts now; other keys are independent', async () => {
      const store = await makeStore();
      const key = randomUUID();
      const first = await store.recordFailure(key, () => 0, 60);
      assert.deepEqual(first, { failures: 1, blockedUntil: 0 });
      const before = Date.now();
      const second = await store.recordFailure(key, (n) => (n >= 2 ? 30_000 : 0), 60);
      assert.equal(second.failures, 2);
      assert.ok(second.blockedUntil >= before + 29_000 && second.blockedUntil <= Date.now() + 30_000, String(second.blockedUntil - before));
      assert.deepEqual(await store.state(key), second);
      assert.deepEqual(await store.state(`${key}-other`), { failures: 0, blockedUntil: 0 });
    });

    test('a shorter block never shortens a longer one', async () => {
      const store = await makeStore();
      const key = randomUUID();
      const long = await store.recordFailure(key, () => 60_000, 60);
      const short = await store.recordFailure(key, () => 1_000, 60);
      assert.equal(short.blockedUntil, long.blockedUntil);
    });

    test('of 20 concurrent failures each is counted once', async () => {
      const store = await makeStore();
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.recordFailure(key, () => 0, 60)));
      assert.deepEqual(results.map((r) => r.failures).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal((await store.state(key)).failures, 20);
    });

    test('clear forgets the key; failures are forgotten after the window', async () => {
      const store = await makeStore();
      const key = randomUUID();
      await store.recordFailure(key, () => 10_000, 60);
      await store.clear(key);
      assert.deepEqual(await store.state(key), { failures: 0, blockedUntil: 0 });
      const short = randomUUID();
      await store.recordFailure(short, () => 0, 0.3);
      await sleep(450);
      assert.deepEqual(await store.state(short), { failures: 0, blockedUntil: 0 });
    });

    test('a record lives at least as long as its block, even past the window', async () => {
      const store = await makeStore();
      const key = randomUUID();
      const blocked = await store.recordFailure(key, () => 2_000, 0.2);
      await sleep(400);
      assert.deepEqual(await store.state(key), blocked);
    });
  });
}
