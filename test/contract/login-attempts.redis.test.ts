import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisLoginAttempts } from '../../src/storage/redis/login-attempts.ts';
import { loginAttemptsContract } from './login-attempts.contract.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');
const client = new Redis(url);
const FILE_PREFIX = `test:login:${randomUUID()}:`;

after(async () => {
  const keys = await client.keys(`${FILE_PREFIX}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

loginAttemptsContract('redis', () => new RedisLoginAttempts(client, { prefix: `${FILE_PREFIX}${randomUUID()}:` }));

test('redis: two connections count into one record; the key is a hash of the given key and expires', async () => {
  const other = new Redis(url);
  try {
    const prefix = `${FILE_PREFIX}${randomUUID()}:`;
    const a = new RedisLoginAttempts(client, { prefix });
    const b = new RedisLoginAttempts(other, { prefix });
    const key = 'account:some-keyed-hash';
    await Promise.all([...Array.from({ length: 5 }, () => a.recordFailure(key, () => 0, 60)), ...Array.from({ length: 5 }, () => b.recordFailure(key, () => 0, 60))]);
    assert.equal((await a.state(key)).failures, 10);
    const keys = await client.keys(`${prefix}*`);
    assert.equal(keys.length, 1);
    assert.ok(!keys[0]!.includes('some-keyed-hash'));
    const pttl = await client.pttl(keys[0]!);
    assert.ok(pttl > 0 && pttl <= 60_000, String(pttl));
  } finally {
    await other.quit();
  }
});
