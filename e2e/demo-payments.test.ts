/**
 * The demo payment initiator (demo mode): "Pagar R$ 10,00" → the bank's page in pt-BR → Carla authorises
 * → back at the bakery with the Pix settled and the consent CONSUMED. Also the refusal path.
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
  server = await startTestServer({ mode: 'demo' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('Pagar R$ 10,00: Carla authorises at the bank, the bakery is paid, the consent CONSUMED', async () => {
  const context = await browser.newContext({ locale: 'pt-BR' });
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/demo-tpp`);
    await page.getByRole('link', { name: 'Pagar R$ 10,00' }).click();
    await page.getByRole('button', { name: 'Pagar R$ 10,00' }).click();
    await login(page, 'carla', 'carla-demo');
    assert.equal((await page.getByTestId('payment-amount').innerText()).replace(/\u00a0/g, ' '), 'R$ 10,00');
    await page.getByRole('button', { name: 'Autorizar pagamento' }).click();
    await page.locator('#result-heading').waitFor();
    assert.equal(await page.locator('#result-heading').innerText(), 'Paid', await page.locator('main').innerText());
    assert.equal(await page.locator('#payment-status').innerText(), 'ACSC');
    assert.equal(await page.locator('#consent-status').innerText(), 'CONSUMED');
    const consentId = await page.locator('#consent-id').innerText();
    assert.equal((await server.assent.stores.consents.findById(consentId))?.status, 'CONSUMED');
    assert.equal((await server.assent.stores.payments.findByConsent(consentId)).length, 1);
  } finally {
    await context.close();
  }
});

test('Não pagar: back at the bakery, not paid, the consent REJECTED (REJEITADO_USUARIO)', async () => {
  const context = await browser.newContext({ locale: 'pt-BR' });
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/demo-tpp/pay`);
    await page.getByRole('button', { name: 'Pagar R$ 10,00' }).click();
    await login(page, 'carla', 'carla-demo');
    await page.getByRole('button', { name: 'Não pagar' }).click();
    await page.locator('#result-heading').waitFor();
    assert.equal(await page.locator('#oauth-error').innerText(), 'access_denied');
    assert.equal(await page.locator('#consent-status').innerText(), 'REJECTED');
  } finally {
    await context.close();
  }
});
