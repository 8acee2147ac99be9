import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisReplayStore } from '../../src/storage/redis/replay-store.ts';
import { replayStoreContract } from './replay-store.contract.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');
const client = new Redis(url);
const FILE_PREFIX = `test:replay:${randomUUID()}:`;

after(async () => {
  const keys = await client.keys(`${FILE_PREFIX}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

replayStoreContract('redis', () => new RedisReplayStore(client, { prefix: `${FILE_PREFIX}${randomUUID()}:` }));

test('redis: two instances (two connections) share the record; the key is a hash, not the id', async () => {
  const other = new Redis(url);
  try {
    const prefix = `${FILE_PREFIX}${randomUUID()}:`;
    const a = new RedisReplayStore(client, { prefix });
    const b = new RedisReplayStore(other, { prefix });
    const id = `jti-${randomUUID()}`;
    const results = await Promise.all([...Array.from({ length: 10 }, () => a.firstUse(id, 60)), ...Array.from({ length: 10 }, () => b.firstUse(id, 60))]);
    assert.equal(results.filter(Boolean).length, 1);
    const keys = await client.keys(`${prefix}*`);
    assert.equal(keys.length, 1);
    assert.ok(!keys[0]!.includes(id));
    const pttl = await client.pttl(keys[0]!);
    assert.ok(pttl > 59_000 && pttl <= 60_000, String(pttl));
  } finally {
    await other.quit();
  }
});
