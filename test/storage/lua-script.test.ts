/**
 * LuaScript (src/storage/redis/lua-script.ts) on a Redis server of its own: the first call on a server
 * that does not know the script falls back to EVAL, every later one sends only the SHA-1, and a flushed
 * script cache (a restart, a failover) costs one EVAL again, never an error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { LuaScript, deleteIfEquals } from '../../src/storage/redis/lua-script.ts';
import { startRedis, type RunningService } from '../support/services.ts';

let server: RunningService;
let redis: Redis;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assent-lua-'));
  server = await startRedis({ dir });
  redis = new Redis(server.url);
});

after(async () => {
  await redis?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function calls(): Promise<{ eval: number; evalsha: number }> {
  const stats = await redis.info('commandstats');
  const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return { eval: count('eval'), evalsha: count('evalsha') };
}

test('runs as EVALSHA once the server knows the script, as EVAL when it does not', async () => {
  const add = new LuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  await redis.config('RESETSTAT');
  assert.equal(await add.run(redis, ['n'], [2]), 2);
  assert.equal(await add.run(redis, ['n'], [3]), 5);
  assert.equal(await add.run(redis, ['n'], ['4']), 9);
  assert.deepEqual(await calls(), { eval: 1, evalsha: 3 }, 'one EVAL after the first NOSCRIPT, then the SHA only');
  await redis.script('FLUSH');
  await redis.config('RESETSTAT');
  assert.equal(await add.run(redis, ['n'], [1]), 10);
  assert.deepEqual(await calls(), { eval: 1, evalsha: 1 });
});

test('an error of the script itself is thrown, not retried as EVAL', async () => {
  const failing = new LuaScript("return redis.error_reply('ASSENT nope')");
  await assert.rejects(failing.run(redis, [], []), /ASSENT nope/);
});

test('deleteIfEquals deletes a key only while it holds the value', async () => {
  await redis.set('lease', 'mine');
  assert.equal(await deleteIfEquals.run(redis, ['lease'], ['theirs']), 0);
  assert.equal(await redis.get('lease'), 'mine');
  assert.equal(await deleteIfEquals.run(redis, ['lease'], ['mine']), 1);
  assert.equal(await redis.get('lease'), null);
});
