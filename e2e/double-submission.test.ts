/**
 * The same approval open in two tabs of one browser, decided in both at once (allow in one, deny in the
 * other): the TPP is told one result, it agrees with the stored consent status, and neither tab shows
 * JSON or a server error — the slower one lands at the TPP too or on the "already decided" page.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { bg, exchangeCode, startFlow } from '../test/support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makeKeyClient('two-tabs-app', { client_name: 'Two Tabs App' });
  server = await startTestServer({ clients: [tpp.config], profile: 'demo' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** where a tab ended up: the TPP, or a page of ours (never JSON, never a 5xx) */
async function settle(page: Page, consentPageUrl: string, tppOrigin: string): Promise<'tpp' | 'page'> {
  // the form's navigation (its redirects are followed within it) has ended somewhere else
  await page.waitForURL((url) => url.href !== consentPageUrl, { waitUntil: 'load', timeout: 15_000 });
  // (at the TPP: answered by the test's route, or an error page when Chromium went out to the made-up host)
  if (page.url().startsWith(tppOrigin) || page.url().startsWith('chrome-error://')) return 'tpp';
  const contentType = await page.evaluate('document.contentType');
  assert.equal(contentType, 'text/html', `${page.url()}: ${await page.content()}`);
  const text = await page.locator('body').innerText();
  assert.doesNotMatch(text, /^\s*\{/, 'not a JSON body');
  assert.doesNotMatch(text, /internal server error|server_error/i);
  return 'page';
}

test('two tabs, allow and deny at once: one result, agreeing with the stored consent', async () => {
  for (let trial = 0; trial < 4; trial += 1) {
    const { context, page: first } = await newContext(browser, tpp);
    // every navigation to the TPP's redirect URI, seen as the browser sends it
    const callbacks: URL[] = [];
    const tppOrigin = new URL(tpp.redirectUri).origin;
    context.on('request', (request) => {
      if (request.url().startsWith(tppOrigin)) callbacks.push(new URL(request.url()));
    });
    try {
      const flow = await startFlow(server, tpp);
      await first.goto(flow.link.href);
      await login(first);
      await first.getByRole('button', { name: /allow access/i }).waitFor();
      const second = await context.newPage();
      const consentPageUrl = first.url();
      await second.goto(consentPageUrl);
      await second.getByRole('button', { name: /deny|refuse|don.t allow/i }).waitFor();

      await Promise.all([
        first.getByRole('button', { name: /allow access/i }).click(),
        second.getByRole('button', { name: /deny|refuse|don.t allow/i }).click(),
      ]);
      const ends = await Promise.all([settle(first, consentPageUrl, tppOrigin), settle(second, consentPageUrl, tppOrigin)]);
      assert.ok(ends.includes('tpp'), `trial ${trial}: one tab got back to the TPP (${ends.join(',')})`);
      for (let i = 0; i < 20 && callbacks.length < ends.filter((e) => e === 'tpp').length; i++) await first.waitForTimeout(50);

      const results = new Set(callbacks.map((u) => u.searchParams.get('error') ?? 'code'));
      assert.equal(results.size, 1, `trial ${trial}: ${[...results].join(',')}`);
      const status = (await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`)).body.consentStatus;
      if (results.has('code')) {
        assert.equal(status, 'valid', `trial ${trial}`);
        const token = await exchangeCode(server, tpp, callbacks[0]!.searchParams.get('code')!, flow.verifier);
        assert.equal(token.status, 200, token.text);
      } else {
        assert.deepEqual([...results], ['access_denied'], `trial ${trial}`);
        assert.equal(status, 'rejected', `trial ${trial}`);
      }
    } finally {
      await context.close();
    }
  }
});
