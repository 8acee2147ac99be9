/** One contract for every UsageCounter implementation: counts per resource, atomic increments, expiry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { UsageCounter } from '../../src/consent/usage.ts';

export function usageCounterContract(make: () => Promise<{ counter: UsageCounter; close(): Promise<void> }>) {
  const inAMinute = () => new Date(Date.now() + 60_000);

  test('counts per consent, bucket and resource', async () => {
    const { counter, close } = await make();
    try {
      const id = randomUUID();
      assert.equal(await counter.increment(id, '2026-01-01', '/a', inAMinute()), 1);
      assert.equal(await counter.increment(id, '2026-01-01', '/a', inAMinute()), 2);
      assert.equal(await counter.increment(id, '2026-01-01', '/b', inAMinute()), 1);
      assert.equal(await counter.increment(id, '2026-01-02', '/a', inAMinute()), 1);
      assert.equal(await counter.increment(randomUUID(), '2026-01-01', '/a', inAMinute()), 1);
      assert.deepEqual(await counter.usage(id, '2026-01-01'), { '/a': 2, '/b': 1 });
      assert.deepEqual(await counter.usage(randomUUID(), '2026-01-01'), {});
    } finally {
      await close();
    }
  });

  test('concurrent increments each get their own count', async () => {
    const { counter, close } = await make();
    try {
      const id = randomUUID();
      const counts = await Promise.all(Array.from({ length: 40 }, () => counter.increment(id, 'd', '/a', inAMinute())));
      assert.deepEqual(counts.sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
    } finally {
      await close();
    }
  });

  test('a bucket is gone after its expiry', async () => {
    const { counter, close } = await make();
    try {
      const id = randomUUID();
      await counter.increment(id, 'd', '/a', new Date(Date.now() + 150));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await counter.usage(id, 'd'), {});
      assert.equal(await counter.increment(id, 'd', '/a', inAMinute()), 1);
    } finally {
      await close();
    }
  });
}
