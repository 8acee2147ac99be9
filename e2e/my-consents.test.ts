/**
 * Customer self-service in Chromium: a customer approves a consent, finds it on "My consents", withdraws
 * it after confirming, and the TPP's token is inactive at once. Another customer sees none of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { launchBrowser, SCREENSHOTS_DIR } from './support/browser.ts';
import { approveFlow, login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { bg, exchangeCode, introspect, refresh, startFlow } from '../test/support/tpp.ts';

const SCREENSHOTS = SCREENSHOTS_DIR;

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

test('approve, see it on "My consents", withdraw it; the TPP token is inactive at once', async () => {
  const { context, page, callbacks } = await newContext(browser, tpp);
  try {
    const flow = await startFlow(server, tpp);
    const back = await approveFlow(page, callbacks, flow);
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const accessToken = tokens.json.access_token as string;
    assert.equal((await introspect(server, tpp, accessToken)).active, true);

    await page.goto(`${server.url}/my-consents`);
    await login(page);
    const card = page.locator('.card', { hasText: 'Budget App' });
    await card.waitFor();
    assert.match(await card.innerText(), /active|valid/i);
    await page.screenshot({ path: join(SCREENSHOTS, 'my-consents.png'), fullPage: true });

    await card.getByRole('link', { name: /withdraw access/i }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await page.locator('main').innerText(), /Budget App/);
    await page.getByRole('button', { name: /withdraw access/i }).click();

    await page.getByRole('status').waitFor();
    const after = await page.locator('.card', { hasText: 'Budget App' }).innerText();
    assert.doesNotMatch(after, /withdraw access/i);

    // the effect is immediate for the TPP
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    assert.equal((await refresh(server, tpp, tokens.json.refresh_token as string)).json.error, 'invalid_grant');
    const status = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`);
    assert.equal(status.body.consentStatus, 'revokedByPsu');
    const stored = await server.assent.consents.get(flow.consentId);
    const last = stored!.history.at(-1)!;
    assert.equal(last.to, 'revokedByPsu');
    assert.equal(last.actor, 'PSU');
  } finally {
    await context.close();
  }
});

test("another customer sees none of Alice's consents and cannot withdraw them", async () => {
  const alice = await newContext(browser, tpp);
  const bruno = await newContext(browser, tpp);
  try {
    const flow = await startFlow(server, tpp);
    await approveFlow(alice.page, alice.callbacks, flow);

    await bruno.page.goto(`${server.url}/my-consents`);
    await login(bruno.page, 'bruno', 'bruno-demo');
    await bruno.page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await bruno.page.locator('.card', { hasText: 'Budget App' }).count(), 0);

    const confirm = await bruno.page.goto(`${server.url}/my-consents/${flow.consentId}/revoke`);
    assert.equal(confirm?.status(), 404);
    await bruno.page.goto(`${server.url}/my-consents`);
    const csrf = await bruno.page.locator('input[name="csrf"]').first().inputValue();
    const forced = await bruno.page.request.post(`${server.url}/my-consents/${flow.consentId}/revoke`, { form: { csrf }, maxRedirects: 0 });
    assert.ok([403, 404].includes(forced.status()), `got ${forced.status()}`);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
  } finally {
    await alice.context.close();
    await bruno.context.close();
  }
});

test('without a session the page asks to log in; a wrong password says so', async () => {
  const { context, page } = await newContext(browser, tpp);
  try {
    await page.goto(`${server.url}/my-consents`);
    await login(page, 'alice', 'wrong');
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /incorrect/i);
  } finally {
    await context.close();
  }
});
