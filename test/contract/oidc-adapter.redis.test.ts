import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { adapterFactory } from '../../src/storage/oidc-adapter.ts';
import { redisAdapterClass } from '../../src/storage/redis/oidc-adapter.ts';
import { oidcAdapterContract } from './oidc-adapter.contract.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');

const client = new Redis(url);
/** every key this file writes starts with it */
const FILE_PREFIX = `test:oidc-adapter:redis:${randomUUID()}:`;

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

after(async () => {
  const leftovers = await keysUnder(FILE_PREFIX);
  if (leftovers.length > 0) await client.del(...leftovers);
  await client.quit();
});

oidcAdapterContract('redis', (space) => adapterFactory(redisAdapterClass(client, { prefix: `${FILE_PREFIX}${space}:` })));

describe('redis oidc adapter specifics', { concurrency: true }, () => {
  const freshPrefix = () => `${FILE_PREFIX}${randomUUID()}:`;

  test('keyspace: the payload is a JSON string under prefix + model:id, indexes share its TTL', async () => {
    const prefix = freshPrefix();
    const Adapter = redisAdapterClass(client, { prefix });
    const payload = { jti: 's1', uid: 'u1', kind: 'Session', empty: [] };
    await new Adapter('Session').upsert('s1', payload, 60);
    assert.deepEqual(JSON.parse((await client.get(`${prefix}Session:s1`)) ?? 'null'), payload);
    assert.equal(await client.get(`${prefix}uid:Session:u1`), 's1');
    for (const key of [`${prefix}Session:s1`, `${prefix}uid:Session:u1`]) {
      const pttl = await client.pttl(key);
      assert.ok(pttl > 59_000 && pttl <= 60_000, `${key}: ${pttl}`);
    }
    await new Adapter('Client').upsert('c1', { client_id: 'c1' });
    assert.equal(await client.pttl(`${prefix}Client:c1`), -1);
    await new Adapter('Session').destroy('s1');
    await new Adapter('Client').destroy('c1');
    assert.deepEqual(await keysUnder(prefix), [], 'destroy leaves nothing behind');
  });

  test('consume keeps the TTL and the JSON exactly (empty arrays stay arrays)', async () => {
    const prefix = freshPrefix();
    const codes = new (redisAdapterClass(client, { prefix }))('AuthorizationCode');
    const payload = { jti: 'c', resource: [], claims: {}, nested: { list: [[], {}] }, text: 'a}"consumed":1}' };
    await codes.upsert('c', payload, 60);
    const before = await client.pttl(`${prefix}AuthorizationCode:c`);
    await codes.consume('c');
    const after = await client.pttl(`${prefix}AuthorizationCode:c`);
    assert.ok(after > 0 && after <= before, `${before} → ${after}`);
    const { consumed, ...rest } = (await codes.find('c')) ?? {};
    assert.equal(typeof consumed, 'number');
    assert.deepEqual(rest, payload);
    await codes.destroy('c');
  });

  test('the grant index is a sorted set whose TTL covers its longest-lived member', async () => {
    const prefix = freshPrefix();
    const Adapter = redisAdapterClass(client, { prefix });
    const grantKey = `${prefix}grant:g`;
    await new Adapter('RefreshToken').upsert('r', { grantId: 'g' }, 600);
    await new Adapter('AccessToken').upsert('a', { grantId: 'g' }, 60);
    let pttl = await client.pttl(grantKey);
    assert.ok(pttl > 599_000, `after a short member: ${pttl}`);
    assert.deepEqual((await client.zrange(grantKey, '0', '-1')).sort(), [`${prefix}AccessToken:a`, `${prefix}RefreshToken:r`]);

    await new Adapter('RefreshToken').upsert('forever', { grantId: 'g' });
    pttl = await client.pttl(grantKey);
    assert.ok(pttl > 10 * 365 * 24 * 3600 * 1000, `with a member without expiry: ${pttl}`);

    await new Adapter('Interaction').upsert('i', { grantId: 'g' }, 60);
    assert.equal(await client.zcard(grantKey), 3, 'Interactions are not indexed');

    await new Adapter('AccessToken').revokeByGrantId('g');
    assert.deepEqual(await keysUnder(prefix), [`${prefix}Interaction:i`]);
    await new Adapter('Interaction').destroy('i');
  });

  test('revocation also removes the user code index of a revoked DeviceCode', async () => {
    const prefix = freshPrefix();
    const Adapter = redisAdapterClass(client, { prefix });
    await new Adapter('DeviceCode').upsert('d', { grantId: 'g', userCode: 'ABCD-EFGH' });
    assert.equal(await client.get(`${prefix}userCode:DeviceCode:ABCD-EFGH`), 'd');
    await new Adapter('RefreshToken').revokeByGrantId('g');
    assert.deepEqual(await keysUnder(prefix), []);
  });

  test('clockTolerance is added to every TTL', async () => {
    const prefix = freshPrefix();
    const adapter = new (redisAdapterClass(client, { prefix, clockTolerance: 1 }))('AccessToken');
    await adapter.upsert('x', { a: 1 }, 0);
    assert.deepEqual(await adapter.find('x'), { a: 1 });
    await sleep(1_150);
    assert.equal(await adapter.find('x'), undefined);
  });

  test('the default prefix is oidc:', async () => {
    const id = `test-default-prefix-${randomUUID()}`;
    const adapter = new (redisAdapterClass(client))('ReplayDetection');
    await adapter.upsert(id, { iat: 1 }, 5);
    try {
      assert.equal(await client.get(`oidc:ReplayDetection:${id}`), '{"iat":1}');
    } finally {
      await adapter.destroy(id);
    }
  });
});
