import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createFieldProtector, generateKeyRing } from '../../src/crypto/index.ts';
import { RedisIdempotencyStore } from '../../src/storage/redis/idempotency-store.ts';
import { idempotencyStoreContract } from './idempotency-store.contract.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');
const client = new Redis(url);
const FILE_PREFIX = `test:idempotency:${randomUUID()}:`;
const protector = createFieldProtector(generateKeyRing());

after(async () => {
  const keys = await client.keys(`${FILE_PREFIX}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

idempotencyStoreContract('redis', () => new RedisIdempotencyStore(client, { prefix: `${FILE_PREFIX}${randomUUID()}:`, protector }));

test('redis: two instances share keys; the response is encrypted at rest and the key is hashed', async () => {
  const other = new Redis(url);
  try {
    const prefix = `${FILE_PREFIX}${randomUUID()}:`;
    const a = new RedisIdempotencyStore(client, { prefix, protector });
    const b = new RedisIdempotencyStore(other, { prefix, protector });
    const key = `tpp-1:consents:${randomUUID()}`;
    const begun = await Promise.all([a.begin(key, 'fp', { pendingSeconds: 30 }), b.begin(key, 'fp', { pendingSeconds: 30 })]);
    assert.deepEqual(begun.map((r) => r.outcome).sort(), ['pending', 'started']);
    const body = 'secret-cpf-12345678909';
    await a.complete(key, 'fp', { status: 201, body, contentType: 'application/jwt' }, 86_400);
    assert.deepEqual(await b.begin(key, 'fp', { pendingSeconds: 30 }), { outcome: 'replay', response: { status: 201, body, contentType: 'application/jwt' } });
    assert.deepEqual(await b.begin(key, 'fp-2', { pendingSeconds: 30 }), { outcome: 'mismatch' });
    const keys = await client.keys(`${prefix}*`);
    assert.equal(keys.length, 1);
    assert.ok(!keys[0]!.includes(key));
    const raw = (await client.get(keys[0]!)) ?? '';
    assert.ok(!raw.includes('12345678909'), raw);
    const pttl = await client.pttl(keys[0]!);
    assert.ok(pttl > 86_399_000, String(pttl));
  } finally {
    await other.quit();
  }
});
