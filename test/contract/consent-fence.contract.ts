/**
 * One contract for every ConsentFence: a revision is current only when released or registered and while
 * nobody holds it; fenced counts share the usage counters and count nothing when stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ConsentFence } from '../../src/storage/consent-fence.ts';
import type { UsageCounter } from '../../src/consent/usage.ts';

export function consentFenceContract(name: string, make: () => Promise<{ fence: ConsentFence; usage: UsageCounter; close(): Promise<void> }>) {
  const inAMinute = () => new Date(Date.now() + 60_000);

  const run = (title: string, body: (fence: ConsentFence, usage: UsageCounter) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { fence, usage, close } = await make();
      try {
        await body(fence, usage);
      } finally {
        await close();
      }
    });

  run('an unknown consent: the first reader registers its revision; another revision is not current', async (fence) => {
    const id = randomUUID();
    assert.equal(await fence.incrementIfCurrent(id, 1, 'd', '/a', inAMinute()), undefined, 'nothing known: not current');
    assert.equal(await fence.register(id, 1), true);
    assert.equal(await fence.register(id, 1), true);
    assert.equal(await fence.register(id, 0), false);
    assert.equal(await fence.register(id, 2), false);
  });

  run('held: nothing is current and nothing is counted; released with a revision: only that one is', async (fence, usage) => {
    const id = randomUUID();
    await fence.register(id, 1);
    assert.equal(await fence.incrementIfCurrent(id, 1, 'd', '/a', inAMinute()), 1);
    await fence.hold(id);
    assert.equal(await fence.incrementIfCurrent(id, 1, 'd', '/a', inAMinute()), undefined);
    assert.equal(await fence.usageIfCurrent(id, 1, 'd'), undefined);
    assert.equal(await fence.register(id, 2), false, 'a reader cannot register while a writer holds');
    await fence.release(id, 2);
    assert.equal(await fence.incrementIfCurrent(id, 1, 'd', '/a', inAMinute()), undefined, 'the old revision is stale');
    assert.equal(await fence.incrementIfCurrent(id, 2, 'd', '/a', inAMinute()), 2);
    assert.deepEqual(await fence.usageIfCurrent(id, 2, 'd'), { '/a': 2 });
    assert.deepEqual(await usage.usage(id, 'd'), { '/a': 2 }, 'the same counters as the UsageCounter');
    assert.equal(await usage.increment(id, 'd', '/a', inAMinute()), 3);
  });

  run('two writers: current again only when both released; an older release never wins; release(null) changes no revision', async (fence) => {
    const id = randomUUID();
    await fence.register(id, 1);
    await fence.hold(id);
    await fence.hold(id);
    await fence.release(id, 3);
    assert.equal(await fence.register(id, 3), false, 'one writer still holds');
    await fence.release(id, 2);
    assert.equal(await fence.register(id, 3), true);
    assert.equal(await fence.register(id, 2), false);
    await fence.hold(id);
    await fence.release(id, null);
    assert.equal(await fence.register(id, 3), true);
  });

  run('isCurrent: true only for the current, unheld revision; never makes one current', async (fence) => {
    const id = randomUUID();
    assert.equal(await fence.isCurrent(id, 0), false, 'nothing known: not current');
    assert.equal(await fence.register(id, 0), true, 'and isCurrent registered nothing');
    assert.equal(await fence.isCurrent(id, 0), true);
    assert.equal(await fence.isCurrent(id, 1), false);
    await fence.hold(id);
    assert.equal(await fence.isCurrent(id, 0), false, 'held');
    await fence.release(id, 1);
    assert.equal(await fence.isCurrent(id, 0), false, 'stale');
    assert.equal(await fence.isCurrent(id, 1), true);
  });

  run('a writer that never releases keeps the consent held (readers go to the repository)', async (fence) => {
    const id = randomUUID();
    await fence.hold(id);
    assert.equal(await fence.register(id, 1), false);
    assert.equal(await fence.incrementIfCurrent(id, 1, 'd', '/a', inAMinute()), undefined);
  });

  run('concurrent fenced increments each get their own count', async (fence) => {
    const id = randomUUID();
    await fence.register(id, 5);
    const counts = await Promise.all(Array.from({ length: 40 }, () => fence.incrementIfCurrent(id, 5, 'd', '/a', inAMinute())));
    assert.deepEqual(counts.sort((a, b) => a! - b!), Array.from({ length: 40 }, (_, i) => i + 1));
  });
}
