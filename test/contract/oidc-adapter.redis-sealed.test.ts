/**
 * The oidc-provider adapter contract, unchanged, against the Redis adapter with data at rest protected
 * (keys hashed, payloads sealed with a field-encryption key ring), plus what that protection promises.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { adapterFactory } from '../../src/storage/oidc-adapter.ts';
import { redisAdapterClass } from '../../src/storage/redis/oidc-adapter.ts';
import { createFieldProtector } from '../../src/crypto/field-protector.ts';
import { b64, ringA, ringB } from '../crypto/fixtures.ts';
import { keyRingFromConfig } from '../../src/crypto/key-ring.ts';
import { oidcAdapterContract } from './oidc-adapter.contract.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');

const client = new Redis(url);
const FILE_PREFIX = `test:oidc-adapter:sealed:${randomUUID()}:`;
const protector = createFieldProtector(ringA(), { normalisers: {}, fallback: (v) => v });

async function dump(prefix: string): Promise<string> {
  const keys = await client.keys(`${prefix}*`);
  const parts: string[] = [];
  for (const key of keys) {
    const type = await client.type(key);
    parts.push(key, type === 'zset' ? (await client.zrange(key, '0', '-1')).join(' ') : ((await client.get(key)) ?? ''));
  }
  return parts.join('\n');
}

after(async () => {
  const leftovers = await client.keys(`${FILE_PREFIX}*`);
  if (leftovers.length > 0) await client.del(...leftovers);
  await client.quit();
});

oidcAdapterContract('redis-sealed', (space) => adapterFactory(redisAdapterClass(client, { prefix: `${FILE_PREFIX}${space}:`, protector })));

describe('sealed redis adapter specifics', () => {
  test('no id, uid, grant id or payload value in clear; consume and the indexes still work', async () => {
    const prefix = `${FILE_PREFIX}${randomUUID()}:`;
    const Adapter = redisAdapterClass(client, { prefix, protector });
    const token = `tok-${randomUUID()}`;
    await new Adapter('AccessToken').upsert(token, { jti: token, accountId: 'psu-secret-1', grantId: 'grant-secret', claims: { name: 'Secret Name' } }, 60);
    await new Adapter('Session').upsert('sess-secret', { jti: 'sess-secret', uid: 'uid-secret', accountId: 'psu-secret-1' }, 60);
    await new Adapter('AuthorizationCode').upsert('code-secret', { jti: 'code-secret', grantId: 'grant-secret' }, 60);
    assert.equal(await new Adapter('AuthorizationCode').consume('code-secret'), true);
    const all = await dump(prefix);
    for (const secret of [token, 'psu-secret-1', 'grant-secret', 'Secret Name', 'sess-secret', 'uid-secret', 'code-secret']) {
      assert.ok(!all.includes(secret), `${secret} is in clear in Redis`);
    }
    assert.equal((await new Adapter('Session').findByUid('uid-secret'))?.jti, 'sess-secret');
    assert.equal(typeof (await new Adapter('AuthorizationCode').find('code-secret'))?.consumed, 'number');
    await new Adapter('AccessToken').revokeByGrantId('grant-secret');
    assert.equal(await new Adapter('AccessToken').find(token), undefined);
    assert.equal(await new Adapter('AuthorizationCode').find('code-secret'), undefined);
  });

  test('ids are looked up exactly (no normalisation); a rotated ring still reads, a foreign one finds nothing', async () => {
    const prefix = `${FILE_PREFIX}${randomUUID()}:`;
    const Adapter = redisAdapterClass(client, { prefix, protector });
    await new Adapter('AccessToken').upsert('abc', { jti: 'abc' }, 60);
    assert.equal(await new Adapter('AccessToken').find('abc '), undefined);
    assert.equal(await new Adapter('AccessToken').find('ABC'), undefined);
    const rotated = redisAdapterClass(client, { prefix, protector: createFieldProtector(ringB(), { normalisers: {}, fallback: (v) => v }) });
    assert.deepEqual(await new rotated('AccessToken').find('abc'), { jti: 'abc' });
    const foreignRing = keyRingFromConfig({ current: 'x1', encryptionKeys: { x1: b64(0x33) }, blindIndexKey: b64(0x44) });
    const foreign = redisAdapterClass(client, { prefix, protector: createFieldProtector(foreignRing, { normalisers: {}, fallback: (v) => v }) });
    assert.equal(await new foreign('AccessToken').find('abc'), undefined);
  });
});
