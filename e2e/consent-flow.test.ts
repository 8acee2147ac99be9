/**
 * What a customer does in the browser, end to end in Debian's Chromium against a real Assent on real
 * Redis + MongoDB-wire: the full TPP flow, deny, a second consent in the same browser session, a revoked
 * consent's tokens, CSRF and replay attempts, the Brazilian Portuguese page. Screenshots of the login and
 * consent pages are written to test-results/screenshots/ (`npm run screenshots` refreshes docs/screenshots/).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { launchBrowser, SCREENSHOTS_DIR } from './support/browser.ts';
import { approveFlow as approve, callback, login, newContext as contextFor } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { ALICE, bg, exchangeCode, introspect, refresh, startFlow } from '../test/support/tpp.ts';

const SCREENSHOTS = SCREENSHOTS_DIR;

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makeKeyClient('budget-app', { client_name: 'Budget App' });
  server = await startTestServer({ clients: [tpp.config], profile: 'demo' });
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const newContext = (locale?: string) => contextFor(browser, tpp, locale);
const approveFlow = approve;

describe('the consent flow in the browser', () => {
  test('full TPP flow: approve → code → tokens carrying consent_id; consent valid, SCA finalised', async () => {
    const { context, page, callbacks } = await newContext();
    try {
      const flow = await startFlow(server, tpp);
      await page.goto(flow.link.href);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.match(await page.content(), /Budget App/);
      await page.screenshot({ path: join(SCREENSHOTS, 'login.png'), fullPage: true });
      await login(page);

      await page.getByRole('button', { name: /allow access/i }).waitFor();
      const text = await page.locator('main').innerText();
      assert.match(text, /Budget App/);
      assert.match(text, /5000 0000 0583 9825 7466|SE45/);
      // both accounts named by the consent are pre-selected
      assert.equal(await page.locator('input[name="accounts"]:checked').count(), 2);
      await page.screenshot({ path: join(SCREENSHOTS, 'consent.png'), fullPage: true });
      await page.getByRole('button', { name: /allow access/i }).click();

      const back = await callback(callbacks);
      assert.equal(back.searchParams.get('state'), flow.state);
      assert.equal(back.searchParams.get('iss'), server.issuer);
      const code = back.searchParams.get('code');
      assert.ok(code);

      const tokens = await exchangeCode(server, tpp, code, flow.verifier);
      assert.equal(tokens.status, 200, tokens.text);
      assert.ok(tokens.json.refresh_token);
      const info = await introspect(server, tpp, tokens.json.access_token as string);
      assert.equal(info.active, true);
      assert.equal(info.consent_id, flow.consentId);
      assert.equal(info.sub, 'psu-alice');

      const consent = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}`);
      assert.equal(consent.body.consentStatus, 'valid');
      const sca = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/authorisations/${flow.authorisationId}`);
      assert.equal(sca.body.scaStatus, 'finalised');
      // the code is one-shot
      const again = await exchangeCode(server, tpp, code, flow.verifier);
      assert.equal(again.json.error, 'invalid_grant');
    } finally {
      await context.close();
    }
  });

  test('deny: the TPP gets access_denied and the consent is rejected', async () => {
    const { context, page, callbacks } = await newContext();
    try {
      const flow = await startFlow(server, tpp);
      await page.goto(flow.link.href);
      await login(page);
      await page.getByRole('button', { name: /don.t allow/i }).click();
      const back = await callback(callbacks);
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal(back.searchParams.get('state'), flow.state);
      assert.equal(back.searchParams.get('code'), null);
      const status = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`);
      assert.equal(status.body.consentStatus, 'rejected');
      const sca = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/authorisations/${flow.authorisationId}`);
      assert.equal(sca.body.scaStatus, 'failed');
    } finally {
      await context.close();
    }
  });

  test('a second consent in the same browser session gets its own grant and token; revoking one leaves the other', async () => {
    const { context, page, callbacks } = await newContext();
    try {
      const first = await startFlow(server, tpp);
      const code1 = (await approveFlow(page, callbacks, first)).searchParams.get('code')!;
      const tokens1 = await exchangeCode(server, tpp, code1, first.verifier);

      const second = await startFlow(server, tpp);
      // same browser session: SCA per consent asks for the credentials again (e2e/sca.test.ts), then its own consent page
      const code2 = (await approveFlow(page, callbacks, second)).searchParams.get('code')!;
      const tokens2 = await exchangeCode(server, tpp, code2, second.verifier);

      const info1 = await introspect(server, tpp, tokens1.json.access_token as string);
      const info2 = await introspect(server, tpp, tokens2.json.access_token as string);
      assert.equal(info1.consent_id, first.consentId);
      assert.equal(info2.consent_id, second.consentId);
      const c1 = await server.assent.consents.get(first.consentId);
      const c2 = await server.assent.consents.get(second.consentId);
      assert.ok(c1?.grantId && c2?.grantId);
      assert.notEqual(c1.grantId, c2.grantId);

      // the TPP terminates the first consent: its tokens stop working at once, the second's do not
      const deleted = await bg(server, first.ccToken, 'DELETE', `/consents/${first.consentId}`);
      assert.equal(deleted.status, 204);
      assert.equal((await introspect(server, tpp, tokens1.json.access_token as string)).active, false);
      const refreshed = await refresh(server, tpp, tokens1.json.refresh_token as string);
      assert.equal(refreshed.json.error, 'invalid_grant');
      assert.equal((await introspect(server, tpp, tokens2.json.access_token as string)).active, true);
      const refreshed2 = await refresh(server, tpp, tokens2.json.refresh_token as string);
      assert.equal(refreshed2.status, 200, refreshed2.text);
    } finally {
      await context.close();
    }
  });

  test('CSRF: a decision without the form token is refused and changes nothing; a replayed decision changes nothing', async () => {
    const { context, page, callbacks } = await newContext();
    try {
      const flow = await startFlow(server, tpp);
      await page.goto(flow.link.href);
      await login(page);
      await page.getByRole('button', { name: /allow access/i }).waitFor();
      const action = await page.locator('form:has(button[value="approve"])').getAttribute('action');
      assert.ok(action);
      const csrf = await page.locator('input[name="csrf"]').first().inputValue();

      // forged: right cookies (same context), wrong token
      const forged = await page.request.post(new URL(action, server.url).href, {
        form: { decision: 'approve', accounts: ALICE.salary.accountId, csrf: 'forged' },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 403);
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');

      // someone else's account smuggled into the form
      const smuggled = await page.request.post(new URL(action, server.url).href, {
        form: { decision: 'approve', accounts: 'acc-bruno-main', csrf },
        maxRedirects: 0,
      });
      assert.equal(smuggled.status(), 400);
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');

      await page.getByRole('button', { name: /allow access/i }).click();
      const back = await callback(callbacks);
      assert.ok(back.searchParams.get('code'));
      const approved = await server.assent.consents.get(flow.consentId);
      assert.equal(approved?.status, 'valid');

      // replay the approval with the valid token: no second decision, no second history entry
      const replay = await page.request.post(new URL(action, server.url).href, {
        form: { decision: 'deny', csrf },
        maxRedirects: 0,
      });
      assert.ok(replay.status() >= 300, `replay answered ${replay.status()}`);
      const after = await server.assent.consents.get(flow.consentId);
      assert.equal(after?.status, 'valid');
      assert.equal(after?.history.length, approved?.history.length);
    } finally {
      await context.close();
    }
  });

  test('the page in Brazilian Portuguese (ui_locales / Accept-Language)', async () => {
    const { context, page } = await newContext('pt-BR');
    try {
      const flow = await startFlow(server, tpp);
      flow.link.searchParams.set('ui_locales', 'pt-BR');
      await page.goto(flow.link.href);
      assert.equal(await page.locator('html').getAttribute('lang'), 'pt-BR');
      await login(page);
      await page.getByRole('button', { name: /permitir acesso/i }).waitFor();
      assert.match(await page.locator('main').innerText(), /Não permitir/);
      await page.screenshot({ path: join(SCREENSHOTS, 'consent-pt-BR.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  test('an unknown or expired interaction shows the friendly error page', async () => {
    const { context, page } = await newContext();
    try {
      const res = await page.goto(`${server.url}/interaction/does-not-exist`);
      assert.equal(res?.status(), 400);
      assert.match(await page.locator('main').innerText(), /expired|no longer valid/i);
    } finally {
      await context.close();
    }
  });
});
