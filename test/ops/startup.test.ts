/**
 * Startup rules: configuration errors name the key; production refuses to start without stores and keys;
 * `npm start` defaults run on embedded stores and say so; SIGTERM shuts down cleanly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { freePort, waitForPort } from '../support/services.ts';

const NODE = process.execPath;

function run(env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['src/main.ts'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('configuration', () => {
  test('an unknown key in the config file is named', () => {
    assert.throws(
      () => loadConfig({ env: {}, overrides: { colour: 'blue' } as never }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('colour: unknown key')),
    );
  });

  test('a bad value is named with its path', () => {
    assert.throws(
      () => loadConfig({ env: { PORT: 'eighty' } }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('port:')),
    );
    assert.throws(
      () => loadConfig({ env: { REDIS_URL: 'http://nope' } }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('redis.url:')),
    );
  });

  test('an unknown ASSENT_ environment variable is named', () => {
    assert.throws(
      () => loadConfig({ env: { ASSENT_PROFLIE: 'fapi2' } }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('ASSENT_PROFLIE: unknown environment variable')),
    );
  });

  test('demo defaults: demo profile, the demo TPP and demo customers', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.mode, 'demo');
    assert.equal(config.profile, 'demo');
    assert.equal(config.port, 3000);
    assert.equal(config.issuer, 'http://localhost:3000/connect');
    const demo = config.clients.find((c) => c.client_id === 'demo-tpp');
    assert.equal(demo?.client_secret, 'demo-tpp-secret');
    assert.equal(demo?.scope, 'openid offline_access accountinformation');
    assert.ok(config.customers.length >= 2);
    for (const c of config.customers) assert.ok(c.accounts.length >= 2);
  });

  test('production lists everything it is missing, and defaults to fapi2', () => {
    assert.throws(
      () => loadConfig({ env: { NODE_ENV: 'production' } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join('\n');
        for (const key of ['mongodb.uri', 'redis.url', 'keys.jwks', 'keys.cookieKeys', 'keys.dataKeys']) assert.ok(text.includes(key), key);
        return true;
      },
    );
  });

  test('the fapi2 profile refuses client secrets', () => {
    assert.throws(
      () =>
        loadConfig({
          env: {},
          overrides: {
            profile: 'fapi2',
            clients: [{ client_id: 'x', client_secret: 'a-long-enough-secret', token_endpoint_auth_method: 'client_secret_basic' }],
          },
        }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.includes('not allowed in the fapi2 profile')),
    );
  });
});

describe('the process', () => {
  test('production without stores or keys exits with a message naming them', async () => {
    const { code, stderr } = await run({ NODE_ENV: 'production' });
    assert.equal(code, 78);
    assert.match(stderr, /mongodb\.uri \(MONGODB_URI\): required in production/);
    assert.match(stderr, /redis\.url \(REDIS_URL\): required in production/);
    assert.match(stderr, /keys\.jwks/);
  });

  test('npm start defaults: embedded stores with a loud warning; SIGTERM stops it cleanly', async () => {
    const port = await freePort();
    const child = spawn(NODE, ['src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), ISSUER: `http://127.0.0.1:${port}/connect` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitForPort(port, 90_000); // a bound for a loaded machine, not a timing assertion
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { stores: unknown }).stores, { redis: 'embedded', mongodb: 'embedded' });
      assert.match(out, /EMBEDDED IN-MEMORY STORES/);
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
      assert.match(out, /"msg":"stopped"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('the embedded stores load neither the MongoDB nor the Redis driver (nor yaml)', async () => {
    // a process of its own: this one has loaded the drivers through the test support
    const script = `
      import { createRequire } from 'node:module';
      const { loadConfig } = await import(${JSON.stringify(new URL('../../config/load.ts', import.meta.url).href)});
      const { createLogger } = await import(${JSON.stringify(new URL('../../src/log.ts', import.meta.url).href)});
      const { startAssent } = await import(${JSON.stringify(new URL('../../src/server.ts', import.meta.url).href)});
      const assent = await startAssent(loadConfig({ env: { PORT: '0', HOST: '127.0.0.1' } }), createLogger('error'));
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      await assent.close();
      console.log(JSON.stringify({ modules: loaded.length, drivers: loaded.filter((f) => /node_modules\\/(mongodb|ioredis|bson|yaml)\\//.test(f)) }));`;
    const { stdout } = await promisify(execFile)(NODE, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '' }, timeout: 90_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { modules: number; drivers: string[] };
    assert.ok(result.modules > 100, `the CommonJS modules of the dependencies are listed (${result.modules})`);
    assert.deepEqual(result.drivers, []);
  });
});
