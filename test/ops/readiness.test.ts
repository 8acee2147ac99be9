/**
 * /readyz follows the stores: 503 naming Redis within 2 s of Redis going away, 200 again once it is back.
 * This file runs its own redis-server so it can stop it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RunningService } from '../support/services.ts';
import { startTestServer, type TestServer } from '../support/assent.ts';

let redis: RunningService;
let server: TestServer;
const dir = mkdtempSync(join(tmpdir(), 'assent-readyz-'));

before(async () => {
  redis = await startRedis({ dir: join(dir, 'r1') });
  server = await startTestServer({ redis: { url: redis.url, prefix: 'readyz:' } });
});
after(async () => {
  await server.stop().catch(() => undefined);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function readyz(): Promise<{ status: number; body: { stores: Record<string, string>; down?: string[] } }> {
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { stores: Record<string, string>; down?: string[] } };
}

test('/healthz is up and /readyz is ready with both stores', async () => {
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const r = await readyz();
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.stores, { redis: 'up', mongodb: 'up' });
});

test('/readyz answers 503 naming redis within 2 s when Redis stops, and recovers when it returns', async () => {
  const port = redis.port;
  await redis.stop();
  const start = Date.now();
  const down = await readyz();
  const elapsed = Date.now() - start;
  assert.equal(down.status, 503);
  assert.deepEqual(down.body.down, ['redis']);
  assert.equal(down.body.stores.mongodb, 'up');
  assert.ok(elapsed < 2_000, `took ${elapsed} ms`);

  redis = await startRedis({ dir: join(dir, 'r2'), port });
  const deadline = Date.now() + 15_000;
  let last = down;
  while (Date.now() < deadline) {
    last = await readyz();
    if (last.status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(last.status, 200, JSON.stringify(last.body));
  assert.equal(last.body.stores.redis, 'up');
});
