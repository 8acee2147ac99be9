/**
 * The contract of DecisionClaims (storage/decision-claims.ts), run against every implementation by
 * decision-claims.test.ts. `make()` gives claims over fresh, isolated storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DecisionClaims } from '../../src/storage/decision-claims.ts';

export function decisionClaimsContract(name: string, make: () => DecisionClaims): void {
  describe(`decision claims contract: ${name}`, { concurrency: true }, () => {
    test('of 20 concurrent claims on one interaction exactly one wins', async () => {
      const claims = make();
      for (let trial = 0; trial < 5; trial += 1) {
        const uid = randomUUID();
        const results = await Promise.all(Array.from({ length: 20 }, () => claims.claim(uid, 60)));
        assert.equal(results.filter(Boolean).length, 1, results.join(','));
      }
    });

    test('open → deciding → decided; a decided claim is neither taken again nor released', async () => {
      const claims = make();
      const uid = randomUUID();
      assert.deepEqual(await claims.state(uid), { state: 'open' });
      assert.equal(await claims.claim(uid, 60), true);
      assert.deepEqual(await claims.state(uid), { state: 'deciding' });
      await claims.settle(uid, 'https://as.example/auth/1');
      assert.deepEqual(await claims.state(uid), { state: 'decided', returnTo: 'https://as.example/auth/1' });
      assert.equal(await claims.claim(uid, 60), false);
      await claims.release(uid);
      assert.deepEqual(await claims.state(uid), { state: 'decided', returnTo: 'https://as.example/auth/1' });
    });

    test('a released claim can be taken again; other interactions are independent', async () => {
      const claims = make();
      const uid = randomUUID();
      const other = randomUUID();
      assert.equal(await claims.claim(uid, 60), true);
      assert.equal(await claims.claim(other, 60), true);
      await claims.release(uid);
      assert.deepEqual(await claims.state(uid), { state: 'open' });
      assert.deepEqual(await claims.state(other), { state: 'deciding' });
      assert.equal(await claims.claim(uid, 60), true);
    });

    test('settle without a claim records nothing', async () => {
      const claims = make();
      const uid = randomUUID();
      await claims.settle(uid, 'https://as.example/auth/2');
      assert.deepEqual(await claims.state(uid), { state: 'open' });
    });

    test('a claim expires with its interaction', async () => {
      const claims = make();
      const uid = randomUUID();
      assert.equal(await claims.claim(uid, 1), true);
      await claims.settle(uid, 'https://as.example/auth/3');
      await sleep(1_150);
      assert.deepEqual(await claims.state(uid), { state: 'open' });
      assert.equal(await claims.claim(uid, 1), true);
    });

    test('notes: a noted decision is pending until settled, released or forgotten; oldest first; bounded', async () => {
      const claims = make();
      const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()] as [string, string, string, string];
      for (const uid of [a, b, c, d]) assert.equal(await claims.claim(uid, 60), true);
      await claims.note(a, 'grant-a');
      await sleep(5);
      await claims.note(b, 'grant-b');
      await sleep(5);
      await claims.note(c, 'grant-c');
      await sleep(5);
      await claims.note(d, 'grant-d');
      const mine = (list: Array<{ uid: string; grantId: string }>) => list.filter((n) => [a, b, c, d].includes(n.uid));
      const later = new Date(Date.now() + 1_000);
      assert.deepEqual(mine(await claims.pending(later, 100)), [
        { uid: a, grantId: 'grant-a' },
        { uid: b, grantId: 'grant-b' },
        { uid: c, grantId: 'grant-c' },
        { uid: d, grantId: 'grant-d' },
      ]);
      assert.deepEqual(mine(await claims.pending(new Date(0), 100)), [], 'none noted before the epoch');
      await claims.settle(a, 'https://as.example/auth/a');
      await claims.release(b);
      await claims.forget(c);
      assert.deepEqual(mine(await claims.pending(later, 100)), [{ uid: d, grantId: 'grant-d' }]);
      assert.equal((await claims.pending(later, 1)).length, 1);
      assert.deepEqual(await claims.state(d), { state: 'deciding' }, 'a note does not change the claim');
    });
  });
}
