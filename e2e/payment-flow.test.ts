/**
 * An Open Finance Brasil payment in Debian's Chromium against a real Assent on real Redis + MongoDB-wire:
 * the TPP creates a signed payment consent, Carla approves it on the Brazilian Portuguese page (the
 * amount as R$ 10,00, the account she pays from), the TPP makes the payment with the token it got, and
 * the consent is CONSUMED, and the bank's back-office (the Opus paths) shows the consumed consent and its
 * payment. Screenshot: test-results/screenshots/payment-consent-pt-BR.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { launchBrowser, SCREENSHOTS_DIR } from './support/browser.ts';
import { callback, login, newContext } from './support/flow.ts';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { validateResponse } from '../test/support/openapi.ts';
import { exchangeCode } from '../test/support/tpp.ts';
import { OPUS_SPEC, internalClientConfig, tokenFor } from '../test/dialects/backoffice/helpers.ts';
import {
  CARLA,
  CARLA_CPF,
  CARLA_POUPANCA,
  PAYMENTS_CONFIG,
  assertErrors,
  consentData,
  createPaymentConsent,
  makePaymentsTpp,
  pay,
  paymentsToken,
  pixOrder,
  pushPayment,
  sign,
  type PaymentsTpp,
} from '../test/dialects/br-payments/helpers.ts';

let server: TestServer;
let tpp: PaymentsTpp;
let backoffice: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makePaymentsTpp('padaria-app', { client_name: 'Padaria App' });
  backoffice = makeSecretClient('padaria-backoffice', internalClientConfig('backoffice:read'));
  server = await startTestServer({ clients: [tpp.config, backoffice.config], profile: 'demo', ...PAYMENTS_CONFIG });
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A back-office read at the Opus paths, validated against en-oasOOFDados.yml. */
async function opus(path: string, bearer: string): Promise<any> {
  const res = await fetch(`${server.url}/open-banking/oob-consents${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  const body: any = await res.json();
  validateResponse(OPUS_SPEC, `/open-banking/oob-consents${path.split('?')[0]}`, 'GET', res.status, body);
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

test('pt-BR: Carla authorises R$ 10,00 from her savings account, the payment is made, the consent CONSUMED, the back-office shows both', async () => {
  const token = await paymentsToken(server, tpp);
  const consentId = await createPaymentConsent(server, tpp, token, consentData({ loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } } }));
  const flow = await pushPayment(server, tpp, consentId);
  const { context, page, callbacks } = await newContext(browser, tpp, 'pt-BR');
  try {
    await page.goto(flow.link.href);
    await login(page, CARLA.username, CARLA.password);
    const approve = page.getByRole('button', { name: 'Autorizar pagamento' });
    await approve.waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Padaria App quer fazer um pagamento da sua conta');
    const main = await page.locator('main').innerText();
    assert.equal((await page.getByTestId('payment-amount').innerText()).replace(/\u00a0/g, ' '), 'R$ 10,00');
    assert.match(main, /Padaria Pão Quente Ltda \(CNPJ 11\.222\.333\/0001-81\)/);
    assert.match(main, /Hoje, \d{1,2} de /);
    // one account to pay from: a radio group of her two BRL accounts, the first chosen; she takes the savings
    assert.equal(await page.getByRole('radio').count(), 2);
    await page.getByRole('radio', { name: /Poupança/ }).check();
    await page.screenshot({ path: join(SCREENSHOTS_DIR, 'payment-consent-pt-BR.png'), fullPage: true });
    await approve.click();

    const back = await callback(callbacks);
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const accessToken = tokens.json.access_token as string;
    const authorised = await pay(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(authorised.body.data.status, 'AUTHORISED');
    assert.deepEqual(authorised.body.data.debtorAccount, CARLA_POUPANCA);

    const { randomUUID } = await import('node:crypto');
    const paid = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [pixOrder()]), idempotencyKey: randomUUID() });
    assert.equal(paid.status, 201, JSON.stringify(paid.body));
    assert.equal(paid.body.data[0].status, 'ACSC');
    assert.deepEqual(paid.body.data[0].debtorAccount, CARLA_POUPANCA);
    const consumed = await pay(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(consumed.body.data.status, 'CONSUMED');
    // the token pays nothing more
    assertErrors(await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [pixOrder()]), idempotencyKey: randomUUID() }), 422, 'CONSENTIMENTO_INVALIDO');

    // the bank's back-office: the consent CONSUMED with its payment, and that payment settled
    const staff = await tokenFor(server, backoffice, 'backoffice:read');
    const uuid = consentId.slice(-36);
    const detail = (await opus(`/v1/consents/${uuid}`, staff)).data;
    assert.equal(detail.status, 'CONSUMED');
    assert.equal(detail.type, 'PAYMENT');
    assert.deepEqual(detail.paymentIds, [{ externalId: paid.body.data[0].paymentId }]);
    assert.deepEqual(detail.paymentData.debtorAccount, CARLA_POUPANCA);
    const listed = (await opus(`/v1/consents?paymentType=PIX&cpf=${CARLA_CPF}`, staff)).data;
    assert.deepEqual(listed.map((c: { id: string; status: string }) => [c.id, c.status]), [[uuid, 'CONSUMED']]);
    const payments = (await opus(`/consents/v1/consents/${uuid}/payments`, staff)).data;
    assert.deepEqual(payments.map((p: { paymentId: string; status: string }) => [p.paymentId, p.status]), [[paid.body.data[0].paymentId, 'ACSC']]);
  } finally {
    await context.close();
  }
});
