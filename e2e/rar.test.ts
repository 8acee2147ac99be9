/**
 * A Rich Authorization Request (RFC 9396) end to end in Debian's Chromium against a real Assent on real
 * Redis + MongoDB-wire: the TPP pushes account_information details (no consent created beforehand), the
 * customer sees what the details ask for, keeps only the salary account and approves; the token and its
 * introspection carry the enriched details (the consent, with the account the customer chose).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { launchBrowser, SCREENSHOTS_DIR } from './support/browser.ts';
import { callback, login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { ALICE, exchangeCode, introspect } from '../test/support/tpp.ts';
import { accountInformation, rarFlow } from '../test/support/rar.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makeKeyClient('rar-budget-app', { client_name: 'Budget App' });
  server = await startTestServer({ clients: [tpp.config], profile: 'demo' });
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('authorization_details in, consent approved with the chosen account, introspection shows the enriched details', async () => {
  const { context, page, callbacks } = await newContext(browser, tpp);
  try {
    const flow = await rarFlow(server, tpp, [accountInformation()]);
    await page.goto(flow.link.href);
    await login(page);

    await page.getByRole('button', { name: /allow access/i }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /Budget App/);
    // what the details ask for: the data kinds, how often, both accounts (pre-selected)
    assert.match(text, /See your balances/);
    assert.match(text, /See your transactions/);
    assert.match(text, /Up to 4 times a day/);
    assert.match(text, /5000 0000 0583 9825 7466|SE45/);
    assert.match(text, /5000 0000 0583 9825 7474|SE23/);
    assert.equal(await page.locator('input[name="accounts"]:checked').count(), 2);
    await page.screenshot({ path: join(SCREENSHOTS_DIR, 'consent-rar.png'), fullPage: true });
    // the customer keeps only the salary account
    await page.locator(`input[name="accounts"][value="${ALICE.salary.accountId}"]`).check();
    await page.locator(`input[name="accounts"][value="${ALICE.savings.accountId}"]`).uncheck();
    await page.getByRole('button', { name: /allow access/i }).click();

    const back = await callback(callbacks);
    assert.equal(back.searchParams.get('state'), flow.state);
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);

    const info = await introspect(server, tpp, tokens.json.access_token as string);
    assert.equal(info.active, true);
    const details = info.authorization_details as Array<Record<string, any>>;
    assert.equal(details.length, 1);
    const [d] = details;
    assert.equal(d!.type, 'account_information');
    assert.equal(d!.consentId, info.consent_id);
    assert.deepEqual(d!.accounts, [{ resourceId: ALICE.salary.accountId, currency: 'SEK', access: ['accounts', 'balances', 'transactions'] }]);

    const consent = (await server.assent.consents.get(String(info.consent_id)))!;
    assert.equal(consent.status, 'valid');
    assert.deepEqual(consent.grantedAccounts?.map((a) => a.accountId), [ALICE.salary.accountId]);
  } finally {
    await context.close();
  }
});
