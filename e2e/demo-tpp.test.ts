/**
 * The built-in demo TPP (demo mode): a newcomer clicks through the whole flow — create consent, start
 * authorisation, redirect, login, approve — and lands back at the TPP with the code exchanged and the
 * consent shown as valid. Also the deny path.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { login } from './support/flow.ts';
import { startTestServer, type TestServer } from '../test/support/assent.ts';

let server: TestServer;
let browser: Browser;

before(async () => {
  // demo mode, demo clients and customers from config/demo/
  server = await startTestServer({ mode: 'demo' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the demo TPP: connect → login → approve → back with the consent valid and the token bound to it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/demo-tpp`);
    await page.getByRole('button', { name: /connect my bank/i }).click();
    await login(page);
    await page.getByRole('button', { name: /allow access/i }).click();
    await page.locator('#result-heading').waitFor();
    assert.equal(await page.locator('#result-heading').innerText(), 'Connected');
    assert.equal(await page.locator('#consent-status').innerText(), 'valid');
    const consentId = await page.locator('#consent-id').innerText();
    const introspection = JSON.parse(await page.locator('#introspection').innerText()) as { active: boolean; consent_id: string };
    assert.equal(introspection.active, true);
    assert.equal(introspection.consent_id, consentId);
    // the app read the granted accounts through the AIS API: balances and recent transactions shown
    assert.ok((await page.locator('section.account').count()) > 0);
    assert.ok((await page.locator('.balances li').count()) > 0);
    assert.ok((await page.locator('table.transactions tbody tr').count()) > 0);
    // the background refresh: four reads allowed, the fifth of the day refused
    const refresh = await page.locator('#refresh li').evaluateAll((items) => items.map((li) => li.getAttribute('data-status')));
    assert.deepEqual(refresh, ['200', '200', '200', '200', '429']);
    assert.match(await page.locator('#refresh li').last().innerText(), /ACCESS_EXCEEDED/);
  } finally {
    await context.close();
  }
});

test('the demo TPP: deny → back with access_denied and the consent rejected', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/demo-tpp`);
    await page.getByRole('button', { name: /connect my bank/i }).click();
    await login(page, 'bruno', 'bruno-demo');
    await page.getByRole('button', { name: /don.t allow/i }).click();
    await page.locator('#result-heading').waitFor();
    assert.equal(await page.locator('#oauth-error').innerText(), 'access_denied');
    assert.equal(await page.locator('#consent-status').innerText(), 'rejected');
  } finally {
    await context.close();
  }
});

test('the demo TPP, Open Finance Brasil: a consent for Alice\'s CPF, PAR, approval in Portuguese, back AUTHORISED with the token bound', async () => {
  const context = await browser.newContext({ locale: 'en-GB' });
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/demo-tpp`);
    await page.getByRole('button', { name: /open finance brasil/i }).click();
    // ui_locales=pt-BR: the bank's pages are in Portuguese whatever the browser says
    await page.getByRole('button', { name: 'Entrar' }).waitFor();
    await login(page);
    await page.getByRole('button', { name: 'Permitir acesso' }).click();
    await page.locator('#result-heading').waitFor();
    assert.equal(await page.locator('#result-heading').innerText(), 'Connected');
    assert.equal(await page.locator('#consent-status').innerText(), 'AUTHORISED');
    const consentId = await page.locator('#consent-id').innerText();
    assert.match(consentId, /^urn:assent:/);
    const introspection = JSON.parse(await page.locator('#introspection').innerText()) as { active: boolean; consent_id: string };
    assert.equal(introspection.active, true);
    assert.equal(introspection.consent_id, consentId);
  } finally {
    await context.close();
  }
});

test('the demo TPP, Open Finance Brasil: Bruno logs in for Alice\'s CPF → access_denied, the consent REJECTED', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/demo-tpp`);
    await page.getByRole('button', { name: /open finance brasil/i }).click();
    await login(page, 'bruno', 'bruno-demo');
    // the CPF is checked at approval
    await page.getByRole('button', { name: 'Permitir acesso' }).click();
    await page.locator('#result-heading').waitFor();
    assert.equal(await page.locator('#oauth-error').innerText(), 'access_denied');
    assert.equal(await page.locator('#consent-status').innerText(), 'REJECTED');
  } finally {
    await context.close();
  }
});
