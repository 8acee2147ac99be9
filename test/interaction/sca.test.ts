/**
 * SCA per consent over HTTP: with the default policy every authorization shows the login form, even
 * with a live session; `authentication.loginReuseSeconds` lets a bank reuse a recent login; a different
 * customer logging in on a browser that holds a session gets a session of their own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, CookieJar, followRedirects, startFlow, submitDecision, type StartedFlow } from '../support/tpp.ts';

/** Opens the flow's link in `jar`; logs in when a login form comes; returns the consent page's html and whether it asked. */
async function reachConsent(server: TestServer, jar: CookieJar, flow: StartedFlow, user: { username: string; password: string } = ALICE) {
  let { res } = await followRedirects(server, jar, await jar.fetch(flow.link.href));
  let html = await res.text();
  const loginAction = /action="([^"]+\/login)"/.exec(html)?.[1];
  if (loginAction) {
    res = await jar.fetch(new URL(loginAction, server.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! }).toString(),
    });
    ({ res } = await followRedirects(server, jar, res));
    html = await res.text();
  }
  const action = /action="([^"]+\/decision)"/.exec(html)?.[1];
  assert.ok(action, 'no consent form');
  const form = new URLSearchParams({ csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! });
  for (const m of html.matchAll(/<input[^>]*name="accounts"[^>]*checked[^>]*>/g)) form.append('accounts', /value="([^"]+)"/.exec(m[0])![1]!);
  return { askedForLogin: Boolean(loginAction), html, page: { jar, action: new URL(action, server.url).href, form } };
}

async function approve(server: TestServer, page: Awaited<ReturnType<typeof reachConsent>>['page']) {
  const { left } = await followRedirects(server, page.jar, await submitDecision(page, 'approve'));
  assert.ok(left && new URL(left).searchParams.get('code'), `no code: ${left}`);
}

describe('default: a login for every consent', () => {
  let server: TestServer;
  let tpp: TestClient;
  before(async () => {
    tpp = await makeKeyClient('sca-tpp');
    server = await startTestServer({ clients: [tpp.config] });
  });
  after(() => server.stop());

  test('the second authorization in the same browser shows the login form again', async () => {
    const jar = new CookieJar();
    const first = await reachConsent(server, jar, await startFlow(server, tpp));
    assert.equal(first.askedForLogin, true);
    await approve(server, first.page);
    const second = await reachConsent(server, jar, await startFlow(server, tpp));
    assert.equal(second.askedForLogin, true, 'the session of the first login was reused');
    assert.match(second.html, /Logged in as Alice/);
    await approve(server, second.page);
  });

  test('another customer logging in on that browser gets a session of their own', async () => {
    const jar = new CookieJar();
    const first = await reachConsent(server, jar, await startFlow(server, tpp));
    await approve(server, first.page);
    const aliceSession = jar.all()._session;
    const bruno = await reachConsent(server, jar, await startFlow(server, tpp), { username: 'bruno', password: 'bruno-demo' });
    assert.match(bruno.html, /Logged in as Bruno/);
    assert.notEqual(jar.all()._session, aliceSession);
    assert.equal(await server.assent.provider.Session.find(aliceSession!), undefined, "Alice's session was not ended");
  });
});

describe('authentication.loginReuseSeconds: a bank that reuses a recent login', () => {
  let server: TestServer;
  let tpp: TestClient;
  before(async () => {
    tpp = await makeKeyClient('sca-reuse-tpp');
    server = await startTestServer({ clients: [tpp.config], authentication: { loginReuseSeconds: 600 } });
  });
  after(() => server.stop());

  test('the second authorization within the window goes to the consent page', async () => {
    const jar = new CookieJar();
    await approve(server, (await reachConsent(server, jar, await startFlow(server, tpp))).page);
    const second = await reachConsent(server, jar, await startFlow(server, tpp));
    assert.equal(second.askedForLogin, false);
    await approve(server, second.page);
  });
});
