/** Chromium opens the discovery document and the health page of a running Assent. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { startTestServer, type TestServer } from '../test/support/assent.ts';

let server: TestServer;
let browser: Browser;

before(async () => {
  server = await startTestServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the discovery document and the health page open in Chromium', async () => {
  const page = await browser.newPage();
  const discovery = await page.goto(`${server.issuer}/.well-known/openid-configuration`);
  assert.equal(discovery?.status(), 200);
  const doc = JSON.parse(await page.locator('body').innerText()) as { issuer: string; pushed_authorization_request_endpoint: string };
  assert.equal(doc.issuer, server.issuer);
  assert.equal(doc.pushed_authorization_request_endpoint, `${server.issuer}/par`);

  const health = await page.goto(`${server.url}/healthz`);
  assert.equal(health?.status(), 200);
  assert.deepEqual(JSON.parse(await page.locator('body').innerText()), { status: 'ok' });
  await page.close();
});
