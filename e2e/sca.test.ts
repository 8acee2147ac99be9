/**
 * Strong customer authentication for every consent, in Chromium: a second consent in the same browser,
 * with the session of the first still live, asks for the credentials again; the consent page names who
 * is logged in, and "not you?" ends the session and returns to the login of the same request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { approveFlow, callback, login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { exchangeCode, introspect, startFlow } from '../test/support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makeKeyClient('budget-app', { client_name: 'Budget App' });
  server = await startTestServer({ clients: [tpp.config] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a second consent in the same browser asks for the credentials again', async () => {
  const { context, page, callbacks } = await newContext(browser, tpp);
  try {
    await approveFlow(page, callbacks, await startFlow(server, tpp));
    // the first login's session is still live in this browser
    assert.ok((await context.cookies(server.url)).some((c) => c.name === '_session'));

    const second = await startFlow(server, tpp);
    await page.goto(second.link.href);
    await page.getByLabel(/password/i).waitFor();
    assert.equal(await page.getByRole('button', { name: /allow access/i }).count(), 0, 'went to the consent page without credentials');
    await login(page);
    await page.getByRole('button', { name: /allow access/i }).waitFor();
    assert.match(await page.locator('main').innerText(), /Logged in as Alice/);
    await page.getByRole('button', { name: /allow access/i }).click();
    const back = await callback(callbacks);
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, second.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await introspect(server, tpp, tokens.json.access_token as string)).consent_id, second.consentId);
  } finally {
    await context.close();
  }
});

test('"not you?" logs out and returns to the login of the same request; another customer can then log in', async () => {
  const { context, page, callbacks } = await newContext(browser, tpp);
  try {
    const flow = await startFlow(server, tpp);
    await page.goto(flow.link.href);
    await login(page);
    await page.getByRole('button', { name: /allow access/i }).waitFor();
    const sessionCookie = (await context.cookies(server.url)).find((c) => c.name === '_session');
    assert.ok(sessionCookie);

    await page.getByRole('button', { name: /not you/i }).click();
    await page.getByLabel(/password/i).waitFor();
    assert.match(await page.locator('main').innerText(), /Budget App/);
    // the old session is gone on the server, not only in this browser
    assert.equal(await server.assent.provider.Session.find(sessionCookie.value), undefined);

    await login(page, 'bruno', 'bruno-demo');
    await page.getByRole('button', { name: /allow access/i }).waitFor();
    assert.match(await page.locator('main').innerText(), /Logged in as Bruno/);
    // the same request: denying it reaches the TPP with the original state
    await page.getByRole('button', { name: /don.t allow/i }).click();
    const back = await callback(callbacks);
    assert.equal(back.searchParams.get('state'), flow.state);
    assert.equal(back.searchParams.get('error'), 'access_denied');
  } finally {
    await context.close();
  }
});
