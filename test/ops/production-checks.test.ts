/**
 * Production checks: an http:// issuer is refused in production (or runs with a loud warning when
 * explicitly allowed); plain http to an https issuer is redirected or refused with a clear 400, never a
 * 500; an unreachable Redis or MongoDB at startup is named with where it was looked for (no
 * credentials); no clients, no start; every HTML page (oidc-provider's own included) carries a
 * Content-Security-Policy whose hashes cover its inline blocks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ConfigError, loadConfig } from '../../config/load.ts';
import type { AssentConfigInput } from '../../config/schema.ts';
import { generateCookieKeys, generateEphemeralJwks } from '../../src/oidc/keys.ts';
import { policyFor } from '../../src/http/content-security-policy.ts';
import { K1, BI } from '../crypto/fixtures.ts';
import { freePort } from '../support/services.ts';
import { makeKeyClient, makeSecretClient, requireEnv, startTestServer } from '../support/assent.ts';

async function productionInput(extra: AssentConfigInput = {}): Promise<AssentConfigInput> {
  const tpp = await makeKeyClient('prod-tpp');
  return {
    mode: 'production',
    issuer: 'https://bank.example/connect',
    mongodb: { uri: 'mongodb://127.0.0.1:1/' },
    redis: { url: 'redis://127.0.0.1:1' },
    keys: {
      jwks: generateEphemeralJwks() as never,
      cookieKeys: generateCookieKeys(),
      dataKeys: JSON.stringify({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: BI }),
    },
    clients: [tpp.config],
    ...extra,
  };
}

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

const awaitedInput = await productionInput();

describe('configuration', () => {
  test('production refuses an http:// issuer, names the key and the flag', async () => {
    assert.deepEqual(problems(() => loadConfig({ env: {}, overrides: awaitedInput })), []);
    const found = problems(() => loadConfig({ env: {}, overrides: { ...awaitedInput, issuer: 'http://bank.example/connect' } }));
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^issuer \(ISSUER\): production needs an https:\/\/ issuer/);
    assert.match(found[0]!, /ASSENT_ALLOW_HTTP_ISSUER/);
  });

  test('…unless explicitly allowed (the flag from the environment)', () => {
    const config = loadConfig({ env: { ASSENT_ALLOW_HTTP_ISSUER: 'true' }, overrides: { ...awaitedInput, issuer: 'http://bank.example/connect' } });
    assert.equal(config.allowHttpIssuer, true);
  });

  test('no clients: refused', () => {
    const found = problems(() => loadConfig({ env: {}, overrides: { ...awaitedInput, clients: [] } }));
    assert.ok(found.some((p) => p.startsWith('clients (ASSENT_CLIENTS_FILE): no OAuth clients')), found.join('\n'));
  });
});

describe('startup', () => {
  test('production with an allowed http issuer starts, warning loudly', async () => {
    const server = await startTestServer({
      ...awaitedInput,
      issuer: 'http://127.0.0.1/connect',
      allowHttpIssuer: true,
      mongodb: { uri: requireEnv('MONGODB_URI'), database: `assent_prod_${Date.now()}` },
      redis: { url: requireEnv('REDIS_URL'), prefix: `prod-${Date.now()}:` },
    });
    try {
      assert.ok(server.logs.some((l) => /INSECURE ISSUER/.test(l) && /"level":"warn"/.test(l)), server.logs.join('\n'));
    } finally {
      await server.stop();
    }
  });

  test('an unreachable Redis is named with where it was looked for, without the password', async () => {
    const port = await freePort();
    await assert.rejects(
      startTestServer({ redis: { url: `redis://:s3cret-pw@127.0.0.1:${port}/0`, prefix: 'x:' } }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${port} is unreachable`));
        assert.doesNotMatch(err.message, /s3cret-pw/);
        return true;
      },
    );
  });

  test('an unreachable MongoDB is named with where it was looked for, without the password', async () => {
    const port = await freePort();
    await assert.rejects(
      startTestServer({ mongodb: { uri: `mongodb://admin:s3cret-pw@127.0.0.1:${port}/?authSource=admin`, database: 'x' } }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`^MongoDB at mongodb://127\\.0\\.0\\.1:${port} is unreachable`));
        assert.doesNotMatch(err.message, /s3cret-pw/);
        return true;
      },
    );
  });
});

describe('plain http to an https issuer', () => {
  test('GET is redirected to https, POST gets a clear 400, health answers; never a 500', async () => {
    const tpp = makeSecretClient('http-tpp');
    const server = await startTestServer({ clients: [tpp.config], issuer: 'https://bank.example/connect' });
    try {
      const auth = await fetch(`${server.url}/connect/auth?client_id=${tpp.clientId}&response_type=code&scope=openid`, { redirect: 'manual' });
      assert.equal(auth.status, 308);
      assert.equal(auth.headers.get('location'), `https://bank.example/connect/auth?client_id=${tpp.clientId}&response_type=code&scope=openid`);
      const discovery = await fetch(`${server.url}/connect/.well-known/openid-configuration`, { redirect: 'manual' });
      assert.equal(discovery.status, 308);
      const token = await fetch(`${server.url}/connect/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
      assert.equal(token.status, 400);
      assert.deepEqual(await token.json(), { error: 'invalid_request', error_description: 'this server answers only over https (https://bank.example)' });
      const form = await fetch(`${server.url}/interaction/x/login`, { method: 'POST', headers: { accept: 'text/html' }, body: new URLSearchParams({ a: 'b' }) });
      assert.equal(form.status, 400);
      assert.match(form.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await form.text(), /only over https/);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('behind a proxy that says https (trustProxy), requests go through', async () => {
    const tpp = makeSecretClient('proxy-tpp');
    const server = await startTestServer({ clients: [tpp.config], issuer: 'https://bank.example/connect', trustProxy: true });
    try {
      const discovery = await fetch(`${server.url}/connect/.well-known/openid-configuration`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(discovery.status, 200);
      const auth = await fetch(`${server.url}/connect/auth?client_id=${tpp.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(tpp.redirectUri)}`, {
        headers: { 'x-forwarded-proto': 'https', accept: 'text/html' },
        redirect: 'manual',
      });
      assert.ok(auth.status < 500, `status ${auth.status}`);
    } finally {
      await server.stop();
    }
  });
});

describe('Content-Security-Policy on every HTML page', () => {
  const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

  test('inline blocks are hashed into the policy; external scripts are not', () => {
    const html = '<html><head><style>p{color:red}</style><script src="/static/a.js"></script><script>go()</script></head></html>';
    const policy = policyFor(html, "default-src 'self'; style-src 'self'; script-src 'self'");
    assert.match(policy, new RegExp(`style-src 'self' ${sha('p{color:red}').replace(/[+/]/g, '\\$&')}`));
    assert.ok(policy.includes(`script-src 'self' ${sha('go()')}`));
    assert.equal(policy.match(/sha256-/g)?.length, 2);
  });

  test("Assent's pages, oidc-provider's error and logout pages carry it, with the hashes of their inline blocks; JSON does not", async () => {
    const tpp = makeSecretClient('csp-tpp');
    const server = await startTestServer({ clients: [tpp.config] });
    try {
      const pages = [
        `${server.url}/connect/auth?client_id=unknown-client&response_type=code&scope=openid`, // oidc-provider → renderError
        `${server.url}/connect/logout`, // oidc-provider's own logout page (inline style)
        `${server.url}/my-consents`,
        `${server.url}/demo-tpp`,
      ];
      for (const url of pages) {
        const res = await fetch(url, { headers: { accept: 'text/html' }, redirect: 'manual' });
        assert.ok(res.status < 500, `${url}: ${res.status}`);
        if (!/text\/html/.test(res.headers.get('content-type') ?? '')) continue;
        const policy = res.headers.get('content-security-policy');
        assert.ok(policy, `${url} has no CSP`);
        assert.match(policy, /default-src 'self'/);
        assert.match(policy, /frame-ancestors 'none'/);
        assert.doesNotMatch(policy, /unsafe-inline/);
        const body = await res.text();
        for (const m of body.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)) assert.ok(policy.includes(sha(m[1]!)), `${url}: inline style not covered`);
        for (const m of body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
          if (!/src=/.test(m[1]!)) assert.ok(policy.includes(sha(m[2]!)), `${url}: inline script not covered`);
        }
      }
      const logout = await fetch(`${server.url}/connect/logout`, { headers: { accept: 'text/html' } });
      assert.match(await logout.text(), /<script>/, 'the logout page has an inline script to cover');
      const json = await fetch(`${server.url}/connect/.well-known/openid-configuration`);
      assert.equal(json.headers.get('content-security-policy'), null);
    } finally {
      await server.stop();
    }
  });
});
