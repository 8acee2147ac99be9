/**
 * Every consent write holds the consent fence: released with the new revision when stored, released
 * without one when nothing was written (no change, a lost race), kept held when the write's outcome is
 * unknown (the repository threw), and not attempted at all when the hold cannot be taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsentService } from '../../src/application/consents.ts';
import { MemoryConsentRepository } from '../../src/storage/memory/consent-repository.ts';
import { MemoryConsentFence } from '../../src/storage/memory/consent-fence.ts';
import { MemoryUsageCounter } from '../../src/storage/memory/usage-counter.ts';
import type { ConsentChange } from '../../src/consent/types.ts';
import { inDays } from '../support/tpp.ts';

class FlakyRepository extends MemoryConsentRepository {
  failNext = false;
  override async apply(change: ConsentChange) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection lost');
    }
    return super.apply(change);
  }
}

function setup() {
  const repo = new FlakyRepository();
  const fence = new MemoryConsentFence(new MemoryUsageCounter());
  const service = new ConsentService(repo, { receivedTimeoutSeconds: 600, defaultScaMethodId: 'push-otp' });
  service.setFence(fence);
  const create = () =>
    service.create({ clientId: 'tpp', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: inDays(30), frequencyPerDay: 4, combinedServiceIndicator: false });
  return { repo, fence, service, create };
}

test('a stored write publishes its revision; the old one is stale at once', async () => {
  const { fence, service, create } = setup();
  const consent = await create();
  assert.equal(await fence.register(consent.id, consent.revision), true);
  const approved = await service.approve(consent, { psuId: 'psu-1', grantedAccounts: [{ accountId: 'a1', access: ['accounts'] }], grantId: 'g1' });
  assert.ok(approved.revision > consent.revision);
  assert.equal(await fence.register(consent.id, consent.revision), false);
  assert.equal(await fence.register(consent.id, approved.revision), true);
  const revoked = await service.revokeByPsu(approved, { actor: 'PSU' });
  assert.equal(await fence.incrementIfCurrent(consent.id, approved.revision, 'd', '/a', new Date(Date.now() + 60_000)), undefined);
  assert.equal(await fence.register(consent.id, revoked.revision), true);
});

test('a write that threw keeps the consent held: remembered copies are not used', async () => {
  const { repo, fence, service, create } = setup();
  const consent = await create();
  await fence.register(consent.id, consent.revision);
  repo.failNext = true;
  await assert.rejects(service.terminateByTpp(consent, 'tpp'), /connection lost/);
  assert.equal(await fence.register(consent.id, consent.revision), false);
  assert.equal(await fence.incrementIfCurrent(consent.id, consent.revision, 'd', '/a', new Date(Date.now() + 60_000)), undefined);
});

test('a write that lost its race releases without a revision; the winner’s is current', async () => {
  const { fence, service, create } = setup();
  const consent = await create();
  await fence.register(consent.id, consent.revision);
  const winner = await service.terminateByTpp(consent, 'tpp');
  // the loser computes from the stale read, loses, re-reads: nothing left to do (already ended)
  const loser = await service.terminateByTpp(consent, 'tpp');
  assert.equal(loser.revision, winner.revision);
  assert.equal(await fence.register(consent.id, winner.revision), true);
});

test('a hold that cannot be taken stops the write before the repository', async () => {
  const { repo, service, create } = setup();
  const consent = await create();
  service.setFence({
    hold: async () => {
      throw new Error('redis down');
    },
    release: async () => undefined,
    register: async () => false,
    isCurrent: async () => false,
    incrementIfCurrent: async () => undefined,
    usageIfCurrent: async () => undefined,
  });
  await assert.rejects(service.terminateByTpp(consent, 'tpp'), /redis down/);
  assert.equal((await repo.findById(consent.id))!.status, consent.status);
});
