/**
 * A hung Redis (the process alive, its socket open, nothing answering: SIGSTOP) cannot hold a token
 * request: each command fails after `redis.commandTimeoutMs` and the token endpoint answers 503
 * `temporarily_unavailable`. Once Redis answers again, tokens are issued again; the server closes cleanly
 * (no reconnecting client keeps the process alive). This file runs its own redis-server so it can pause it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startRedis, type RunningService } from '../support/services.ts';
import { clientCredentialsToken, makeSecretClient, startTestServer, type TestServer } from '../support/assent.ts';

const COMMAND_TIMEOUT_MS = 300;
let redis: RunningService;
let server: TestServer;
const tpp = makeSecretClient('tpp-timeout');
const dir = mkdtempSync(join(tmpdir(), 'assent-redis-timeout-'));

before(async () => {
  redis = await startRedis({ dir: join(dir, 'r') });
  server = await startTestServer({ clients: [tpp.config], redis: { url: redis.url, prefix: 'timeout:', commandTimeoutMs: COMMAND_TIMEOUT_MS } });
});
after(async () => {
  if (redis.pid) process.kill(redis.pid, 'SIGCONT');
  await server.stop().catch(() => undefined);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a token request fails fast with 503 temporarily_unavailable while Redis hangs, and works again after', async () => {
  assert.equal((await clientCredentialsToken(server, tpp)).status, 200);
  assert.ok(redis.pid);
  process.kill(redis.pid, 'SIGSTOP');
  try {
    const start = Date.now();
    // without a command timeout this request never ends (the socket stays open): the test would time out
    const res = await clientCredentialsToken(server, tpp);
    const elapsed = Date.now() - start;
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json.error, 'temporarily_unavailable');
    assert.doesNotMatch(res.text, /stack|at .*\.ts/);
    // a few commands at most, each bounded by the timeout: far below a hang
    assert.ok(elapsed < 20 * COMMAND_TIMEOUT_MS, `took ${elapsed} ms`);
  } finally {
    process.kill(redis.pid, 'SIGCONT');
  }
  const deadline = Date.now() + 10_000;
  let status = 0;
  while (Date.now() < deadline && status !== 200) {
    status = (await clientCredentialsToken(server, tpp)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 200);
});

test('a server whose Redis is gone closes, and its process exits by itself', async () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'close-after-redis-gone.ts');
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  assert.match(out, /closed/);
  assert.equal(code, 0, 'the process was still running 30 s later (killed)');
});
