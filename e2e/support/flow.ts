/** Browser-side steps of the consent flow, shared by the e2e tests. */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright';
import type { TestClient } from '../../test/support/assent.ts';
import { ALICE, type StartedFlow } from '../../test/support/tpp.ts';

/** A browser context whose requests to the TPP's redirect URI are answered locally and recorded. */
export async function newContext(
  browser: Browser,
  tpp: TestClient,
  locale = 'en-GB',
): Promise<{ context: BrowserContext; page: Page; callbacks: URL[] }> {
  const context = await browser.newContext({ locale, viewport: { width: 1000, height: 900 } });
  const callbacks: URL[] = [];
  await context.route(`${new URL(tpp.redirectUri).origin}/**`, async (route) => {
    callbacks.push(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Back at the TPP</h1>' });
  });
  return { context, page: await context.newPage(), callbacks };
}

export async function login(page: Page, username = ALICE.username, password = ALICE.password): Promise<void> {
  await page.getByLabel(/username|usuário/i).fill(username);
  await page.getByLabel(/password|senha/i).fill(password);
  await page.getByRole('button', { name: /log in|entrar/i }).click();
}

/** The next URL the browser was sent to at the TPP. */
export async function callback(callbacks: URL[]): Promise<URL> {
  for (let i = 0; i < 100 && callbacks.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const url = callbacks.shift();
  assert.ok(url, 'the browser did not come back to the TPP');
  return url;
}

/** Opens the scaOAuth link, logs in (unless the bank reuses logins: `loggedIn`), approves with the pre-selected accounts. */
export async function approveFlow(page: Page, callbacks: URL[], flow: StartedFlow, opts: { loggedIn?: boolean } = {}): Promise<URL> {
  await page.goto(flow.link.href);
  if (!opts.loggedIn) await login(page);
  await page.getByRole('button', { name: /allow access/i }).click();
  const url = await callback(callbacks);
  // let the navigation to the TPP finish, so the next page.goto is not interrupted by it
  await page.waitForURL((u) => u.origin === url.origin);
  return url;
}
