/**
 * "My consents" sessions live on the server: logging out ends the session, so a copy of the cookie taken
 * before (another tab, a stolen cookie) no longer opens the page or withdraws anything.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/assent.ts';
import { ALICE, CookieJar } from '../support/tpp.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

async function loggedIn(): Promise<{ jar: CookieJar; html: string }> {
  const jar = new CookieJar();
  const loginPage = await (await jar.fetch(`${server.url}/my-consents`)).text();
  const res = await jar.fetch(`${server.url}/my-consents/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrf: csrfOf(loginPage) }).toString(),
  });
  assert.equal(res.status, 303);
  const html = await (await jar.fetch(`${server.url}/my-consents`)).text();
  assert.match(html, /Log out/);
  return { jar, html };
}

test('after logout, a copy of the session cookie no longer works', async () => {
  const { jar, html } = await loggedIn();
  const copied = jar.header(`${server.url}/my-consents`);
  assert.match(copied, /assent_me=/);

  const out = await jar.fetch(`${server.url}/my-consents/logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: csrfOf(html) }).toString(),
  });
  assert.equal(out.status, 303);

  const replayed = await fetch(`${server.url}/my-consents`, { headers: { cookie: copied }, redirect: 'manual' });
  const page = await replayed.text();
  assert.doesNotMatch(page, /Log out/, 'the copied cookie still opens the list');
  assert.match(page, /name="password"/);
  // nor can it withdraw anything (the session, not only the page, is gone)
  const withdraw = await fetch(`${server.url}/my-consents/any-id/revoke`, {
    method: 'POST',
    headers: { cookie: copied, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: csrfOf(html) }).toString(),
    redirect: 'manual',
  });
  assert.equal(withdraw.status, 401);
});

test('a forged session cookie value opens nothing', async () => {
  const res = await fetch(`${server.url}/my-consents`, { headers: { cookie: 'assent_me=psu-alice%7C9999999999%7Cx' }, redirect: 'manual' });
  assert.doesNotMatch(await res.text(), /Log out/);
});
