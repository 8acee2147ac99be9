/**
 * The behavioural contract of every RateLimiter (run by rate-limiter.memory.test.ts and
 * rate-limiter.redis.test.ts). `makeStore()` returns a limiter over fresh, isolated storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimiter } from '../../src/storage/rate-limiter.ts';

export function rateLimiterContract(name: string, makeStore: () => RateLimiter | Promise<RateLimiter>): void {
  describe(`RateLimiter contract: ${name}`, { concurrency: true }, () => {
    test('counts per key within a window; over the limit it says how long to wait', async () => {
      const store = await makeStore();
      const key = randomUUID();
      assert.equal(await store.take(key, 2, 10_000), 0);
      assert.equal(await store.take(key, 2, 10_000), 0);
      const wait = await store.take(key, 2, 10_000);
      assert.ok(wait >= 1 && wait <= 10, String(wait));
      assert.equal(await store.take(`${key}-other`, 2, 10_000), 0, 'other keys are independent');
    });

    test('of 30 concurrent requests against a limit of 10, exactly 10 pass', async () => {
      const store = await makeStore();
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 30 }, () => store.take(key, 10, 60_000)));
      assert.equal(results.filter((w) => w === 0).length, 10);
    });

    test('a new window starts after the last one ended', async () => {
      const store = await makeStore();
      const key = randomUUID();
      assert.equal(await store.take(key, 1, 300), 0);
      assert.ok((await store.take(key, 1, 300)) >= 1);
      await sleep(450);
      assert.equal(await store.take(key, 1, 300), 0);
    });
  });
}
