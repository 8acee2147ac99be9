import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { adapterFactory } from '../../src/storage/oidc-adapter.ts';
import { MemoryOidcStore, memoryAdapterClass } from '../../src/storage/memory/oidc-adapter.ts';
import { oidcAdapterContract } from './oidc-adapter.contract.ts';

const stores = new Map<string, MemoryOidcStore>();
function storeFor(space: string): MemoryOidcStore {
  let store = stores.get(space);
  if (!store) {
    store = new MemoryOidcStore();
    stores.set(space, store);
  }
  return store;
}
after(() => {
  for (const store of stores.values()) store.close();
});

oidcAdapterContract('memory', (space) => adapterFactory(memoryAdapterClass(storeFor(space))));

describe('memory oidc adapter specifics', () => {
  test('each memoryAdapterClass() without a store gets its own storage; the class exposes it', async () => {
    const One = memoryAdapterClass();
    const Two = memoryAdapterClass();
    assert.notEqual(One.store, Two.store);
    const id = randomUUID();
    await new One('AccessToken').upsert(id, { jti: id }, 60);
    assert.deepEqual(await new One('AccessToken').find(id), { jti: id });
    assert.equal(await new Two('AccessToken').find(id), undefined);
    assert.equal(One.store.size, 1);
  });

  test('sweep drops expired entries that were never read again', async () => {
    const store = new MemoryOidcStore({ sweepIntervalMs: 0 });
    const Adapter = memoryAdapterClass(store);
    await new Adapter('AccessToken').upsert('short', { grantId: 'g' }, 1);
    await new Adapter('Session').upsert('s', { uid: 'u' }, 1);
    await new Adapter('RefreshToken').upsert('long', { grantId: 'g' }, 60);
    store.sweep(Date.now() + 2_000);
    assert.equal(store.size, 1);
    store.sweep(Date.now() + 120_000);
    assert.equal(store.size, 0);
  });

  test('the periodic sweep runs', async () => {
    const store = new MemoryOidcStore({ sweepIntervalMs: 50 });
    try {
      const Adapter = memoryAdapterClass(store);
      await new Adapter('AccessToken').upsert('x', {}, 0.05);
      await sleep(200);
      assert.equal(store.size, 0);
    } finally {
      store.close();
    }
  });

  test('clockTolerance is added to every TTL', async () => {
    const Adapter = memoryAdapterClass(undefined, { clockTolerance: 1 });
    const adapter = new Adapter('AccessToken');
    await adapter.upsert('x', { a: 1 }, 0);
    assert.deepEqual(await adapter.find('x'), { a: 1 });
    await sleep(1_150);
    assert.equal(await adapter.find('x'), undefined);
  });

  test('a non-numeric expiresIn is rejected', async () => {
    const adapter = new (memoryAdapterClass())('AccessToken');
    await assert.rejects(adapter.upsert('x', {}, Number.NaN), TypeError);
    await assert.rejects(adapter.upsert('x', {}, '60' as unknown as number), TypeError);
  });
});
