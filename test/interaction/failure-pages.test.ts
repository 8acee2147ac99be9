/**
 * The customer's routes answer every failure with a friendly HTML page, never JSON, on real stores:
 * Redis stopped (consent page, decision, the authorization request): 503 with Retry-After and a retry
 * hint; MongoDB stopped (consent page, My consents): the same; an oversized form: 413; oversized
 * headers: 431 (the page for the customer's paths, nothing for the APIs); a lost race (parallel
 * withdrawals of one consent): a redirect or a page, never JSON or a 500. This file runs its own
 * redis-server and FerretDB (SQLite) so it can stop them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDb, startRedis, type RunningService } from '../support/services.ts';
import { makeKeyClient, requireEnv, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, CookieJar, decideWithoutBrowser, openConsentPage, startFlow, submitDecision } from '../support/tpp.ts';

const dir = mkdtempSync(join(tmpdir(), 'assent-pages-'));
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('pages-tpp');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A friendly page: HTML with a CSP, the status, never JSON or a stack trace. */
async function assertPage(res: Response, status: number, text: RegExp) {
  const body = await res.text();
  assert.equal(res.status, status, body.slice(0, 300));
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.ok(res.headers.get('content-security-policy'));
  assert.doesNotMatch(body, /^\s*[{[]/);
  assert.doesNotMatch(body, /\bat [\w.]+ \(|node_modules|Mongo\w*Error|ECONNREFUSED/);
  assert.match(body, text);
  return body;
}

async function myConsentsSession(server: TestServer): Promise<CookieJar> {
  const jar = new CookieJar();
  const page = await jar.fetch(`${server.url}/my-consents`);
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const login = await jar.fetch(`${server.url}/my-consents/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrf }).toString(),
  });
  assert.equal(login.status, 303);
  return jar;
}

describe('Redis stopped', () => {
  let redis: RunningService;
  let server: TestServer;
  before(async () => {
    redis = await startRedis({ dir: join(dir, 'redis') });
    server = await startTestServer({ clients: [tpp.config], redis: { url: redis.url, prefix: 'pages:', commandTimeoutMs: 300 } });
  });
  after(async () => {
    await server.stop().catch(() => undefined);
    await redis.stop();
  });

  test('the consent page, the decision and the authorization request answer 503 pages with a retry hint', async () => {
    const flow = await startFlow(server, tpp);
    const page = await openConsentPage(server, flow);
    const consentPage = page.action.replace(/\/decision$/, '');
    await redis.stop();

    const shown = await page.jar.fetch(consentPage, { headers: { accept: 'text/html' } });
    assert.equal(shown.headers.get('retry-after'), '5');
    const body = await assertPage(shown, 503, /try again in a few seconds/);
    assert.match(body, /href="\/interaction\/[^"]+"/, 'a retry link to the same page');

    await assertPage(await submitDecision(page, 'approve'), 503, /try again/);
    const again = await fetch(flow.link.href, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(again.headers.get('retry-after'), '5');
    await assertPage(again, 503, /try again/);
  });
});

describe('MongoDB stopped', () => {
  let mongo: RunningService;
  let server: TestServer;
  before(async () => {
    mongo = await startFerretDb({ dir: join(dir, 'ferret') });
    // one remembered consent: a second flow's consent pushes the first one's copy out (see the test)
    server = await startTestServer({
      clients: [tpp.config],
      mongodb: { uri: mongo.url, database: 'pages' },
      redis: { url: requireEnv('REDIS_URL'), prefix: `pages-m-${Date.now()}:` },
      consent: { sweepIntervalSeconds: 0, rememberedConsents: 1 },
    });
  });
  after(async () => {
    await server.stop().catch(() => undefined);
    await mongo.stop();
  });

  test('the authorization request and My consents answer 503 pages with a retry hint', async () => {
    const flow = await startFlow(server, tpp);
    const remembered = await startFlow(server, tpp); // the instance now remembers this one, not `flow`'s
    const jar = await myConsentsSession(server);
    assert.equal((await jar.fetch(`${server.url}/my-consents`)).status, 200);
    await mongo.stop();

    await assertPage(await jar.fetch(`${server.url}/my-consents`, { headers: { 'accept-language': 'pt-BR' } }), 503, /Tente de novo em alguns segundos/);
    // the customer arrives from the TPP: the consent the request names cannot be read
    const res = await fetch(flow.link.href, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(res.headers.get('retry-after'), '5');
    await assertPage(res, 503, /try again in a few seconds/);
    // a consent the instance remembers (its revision confirmed by the fence in Redis) is read without
    // MongoDB: its authorization request goes on to the login page
    const login = await fetch(remembered.link.href, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(login.status, 303, await login.text());
  });
});

describe('hostile input and races (shared stores)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ clients: [tpp.config] });
  });
  after(() => server.stop());

  test('an oversized form: 413 page (login, decision, My consents)', async () => {
    const big = new URLSearchParams({ username: 'x'.repeat(40_000), password: 'y', csrf: 'z' }).toString();
    for (const path of ['/interaction/some-uid/login', '/interaction/some-uid/decision', '/my-consents/login']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big });
      await assertPage(res, 413, /too large/);
    }
  });

  test('oversized headers: 431 page on the customer routes, an empty 431 for the APIs', async () => {
    const cookie = `junk=${'c'.repeat(20_000)}`;
    await assertPage(await fetch(`${server.url}/interaction/some-uid`, { headers: { cookie } }), 431, /too many cookies/);
    await assertPage(await fetch(`${server.url}/my-consents`, { headers: { cookie } }), 431, /too many cookies/);
    const api = await fetch(`${server.url}/psd2/consentmanagement/v1/consents`, { headers: { cookie } });
    assert.equal(api.status, 431);
    assert.doesNotMatch(api.headers.get('content-type') ?? '', /html/);
    // the server is fine afterwards
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('a lost race: 10 parallel withdrawals of one consent all end in a redirect, never JSON or a 500', async () => {
    const flow = await startFlow(server, tpp);
    await decideWithoutBrowser(server, flow);
    const jar = await myConsentsSession(server);
    const confirm = await (await jar.fetch(`${server.url}/my-consents/${encodeURIComponent(flow.consentId)}/revoke`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)![1]!;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        jar.fetch(`${server.url}/my-consents/${encodeURIComponent(flow.consentId)}/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf }).toString(),
        }),
      ),
    );
    for (const res of results) {
      if (res.status === 303) continue;
      await assertPage(res, res.status, /./);
      assert.ok(res.status < 500, `status ${res.status}`);
    }
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'revokedByPsu');
  });

  test('an unexpected failure on a customer page is a 500 page, not JSON', async () => {
    // an interaction id that is not a string oidc-provider can look up still ends on a page
    const res = await fetch(`${server.url}/interaction/${'%'.repeat(3)}`, { headers: { accept: 'text/html' } });
    assert.ok(/text\/html/.test(res.headers.get('content-type') ?? ''), `${res.status} ${res.headers.get('content-type')}`);
  });
});
