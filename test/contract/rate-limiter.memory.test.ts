import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryRateLimiter } from '../../src/storage/memory/rate-limiter.ts';
import { rateLimiterContract } from './rate-limiter.contract.ts';

rateLimiterContract('memory', () => new MemoryRateLimiter());

test('memory: the wait counts down with the window and a window starts afresh after it', async () => {
  let now = 1_000_000;
  const limiter = new MemoryRateLimiter({ now: () => now });
  assert.equal(await limiter.take('a', 2, 10_000), 0);
  assert.equal(await limiter.take('a', 2, 10_000), 0);
  assert.equal(await limiter.take('a', 2, 10_000), 10);
  assert.equal(await limiter.take('b', 2, 10_000), 0);
  now += 4_000;
  assert.equal(await limiter.take('a', 2, 10_000), 6);
  now += 6_000;
  assert.equal(await limiter.take('a', 2, 10_000), 0);
});
