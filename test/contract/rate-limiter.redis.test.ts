import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisRateLimiter } from '../../src/storage/redis/rate-limiter.ts';
import { rateLimiterContract } from './rate-limiter.contract.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');
const client = new Redis(url);
const FILE_PREFIX = `test:rate:${randomUUID()}:`;

after(async () => {
  const keys = await client.keys(`${FILE_PREFIX}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

rateLimiterContract('redis', () => new RedisRateLimiter(client, { prefix: `${FILE_PREFIX}${randomUUID()}:` }));

test('redis: two instances (two connections) count into one window; the key is a hash and expires', async () => {
  const other = new Redis(url);
  try {
    const prefix = `${FILE_PREFIX}${randomUUID()}:`;
    const a = new RedisRateLimiter(client, { prefix });
    const b = new RedisRateLimiter(other, { prefix });
    const key = '192.0.2.77';
    const results = await Promise.all([...Array.from({ length: 15 }, () => a.take(key, 10, 60_000)), ...Array.from({ length: 15 }, () => b.take(key, 10, 60_000))]);
    assert.equal(results.filter((w) => w === 0).length, 10);
    const keys = await client.keys(`${prefix}*`);
    assert.equal(keys.length, 1);
    assert.ok(!keys[0]!.includes(key));
    const pttl = await client.pttl(keys[0]!);
    assert.ok(pttl > 0 && pttl <= 60_000, String(pttl));
  } finally {
    await other.quit();
  }
});
