/**
 * Authorising a payment consent on real Redis and FerretDB: PAR with `openid payments consent:{id}`, the
 * approval page (the payment in Portuguese and English, the debtor account to choose), the customer whose
 * CPF the consent names approves, the consumption window, every rejection with the spec's reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, changeStoredConsent } from '../../support/assent.ts';
import { CookieJar, decideWithoutBrowser, exchangeCode, followRedirects, introspect, openConsentPage, submitDecision } from '../../support/tpp.ts';
import {
  ALICE,
  CARLA,
  CARLA_CORRENTE,
  CARLA_CPF,
  CARLA_POUPANCA,
  PAYMENTS_CONFIG,
  consentData,
  createPaymentConsent,
  makePaymentsTpp,
  pay,
  paymentsToken,
  pushPayment,
  type PaymentsTpp,
} from './helpers.ts';

let server: TestServer;
let tpp: PaymentsTpp;
let token: string;

before(async () => {
  tpp = await makePaymentsTpp('pay-auth-tpp');
  server = await startTestServer({ clients: [tpp.config], ...PAYMENTS_CONFIG });
  token = await paymentsToken(server, tpp);
});
after(() => server.stop());

const carla = (extra: Record<string, unknown> = {}, payment: Record<string, unknown> = {}) =>
  consentData({ loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } }, ...extra }, payment);

/** The approval page's HTML for Carla, in `locale`. */
async function approvalPage(consentId: string, locale: string): Promise<string> {
  const flow = await pushPayment(server, tpp, consentId, { ui_locales: locale });
  const jar = new CookieJar();
  let { res } = await followRedirects(server, jar, await jar.fetch(flow.link.href));
  let html = await res.text();
  const loginAction = /action="([^"]+\/login)"/.exec(html)![1]!;
  res = await jar.fetch(new URL(loginAction, server.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...CARLA, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! }).toString(),
  });
  ({ res } = await followRedirects(server, jar, res));
  html = await res.text();
  return html.replace(/\s+/g, ' ');
}

async function read(consentId: string) {
  const res = await pay(server, 'GET', `/consents/${consentId}`, { token });
  assert.equal(res.status, 200);
  return res.body.data;
}

describe('the approval page', () => {
  test('pt-BR: R$ 10,00 (Intl), who is paid, when, from which account; one account to choose, the BRL ones', async () => {
    const html = await approvalPage(await createPaymentConsent(server, tpp, token), 'pt-BR');
    assert.match(html, /R\$ 10,00/); // (the page has a no-break space: Intl's)
    assert.match(html, /Autorizar pagamento/);
    assert.match(html, /Um pagamento Pix de R\$ 10,00 para Padaria Pão Quente Ltda/);
    assert.match(html, /CNPJ 11\.222\.333\/0001-81/);
    assert.match(html, /Chave Pix.*padaria@example\.com/);
    assert.match(html, /Hoje, \d{1,2} de [a-zç]+ de \d{4}/);
    assert.match(html, /De qual conta pagar\?/);
    const radios = [...html.matchAll(/<input[^>]*type="radio"[^>]*name="accounts"[^>]*>/g)].map((m) => m[0]);
    assert.equal(radios.length, 2, 'Carla’s two BRL accounts');
    assert.equal(radios.filter((r) => / checked/.test(r)).length, 1);
    assert.doesNotMatch(html, /type="checkbox"/);
  });

  test('en: R$10.00, the same facts in English', async () => {
    const html = await approvalPage(await createPaymentConsent(server, tpp, token), 'en');
    assert.match(html, /R\$10\.00/);
    assert.match(html, /A Pix payment of R\$10\.00 to Padaria Pão Quente Ltda/);
    assert.match(html, /Today, [A-Z][a-z]+ \d{1,2}, \d{4}/);
    assert.match(html, /Pay from which account\?/);
  });

  test('a debtor account the TPP named: only that one can be chosen, and the page says so', async () => {
    const id = await createPaymentConsent(server, tpp, token, carla({ debtorAccount: CARLA_POUPANCA }));
    const html = await approvalPage(id, 'pt-BR');
    assert.match(html, /agência 0001, conta 9795501/);
    const radios = [...html.matchAll(/<input[^>]*name="accounts"[^>]*>/g)].map((m) => m[0]);
    assert.equal(radios.filter((r) => !/ disabled/.test(r)).length, 1);
    assert.match(radios.find((r) => !/ disabled/.test(r))!, /value="acc-carla-poupanca"/);
  });
});

describe('decisions', () => {
  test('Carla approves with her current account: AUTHORISED, debtorAccount set, 60 minutes to consume, the token carries the consent', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    const flow = await pushPayment(server, tpp, consentId);
    const back = await decideWithoutBrowser(server, flow, 'approve', CARLA);
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    assert.match(String(tokens.json.scope), /payments/);
    const info = await introspect(server, tpp, tokens.json.access_token as string);
    assert.equal(info.active, true);
    assert.equal(info.consent_id, consentId);
    const data = await read(consentId);
    assert.equal(data.status, 'AUTHORISED');
    assert.deepEqual(data.debtorAccount, CARLA_CORRENTE);
    assert.equal(Date.parse(data.expirationDateTime) - Date.parse(data.statusUpdateDateTime), 60 * 60_000);
  });

  test('My consents shows the authorised payment in plain words (pt-BR)', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    await decideWithoutBrowser(server, await pushPayment(server, tpp, consentId), 'approve', CARLA);
    const jar = new CookieJar();
    const base = `${server.url}/my-consents`;
    const pt = { 'accept-language': 'pt-BR' };
    let html = await (await jar.fetch(base, { headers: pt })).text();
    const res = await jar.fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...pt },
      body: new URLSearchParams({ ...CARLA, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! }).toString(),
    });
    assert.equal(res.status, 303);
    html = (await (await jar.fetch(base, { headers: pt })).text()).replace(/\s+/g, ' ');
    assert.match(html, /Um pagamento Pix de R\$ 10,00 para Padaria Pão Quente Ltda/);
  });

  test('she picks the savings account instead: that one is the debtor account', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    const page = await openConsentPage(server, await pushPayment(server, tpp, consentId), CARLA);
    page.form.set('accounts', 'acc-carla-poupanca');
    const { left } = await followRedirects(server, page.jar, await submitDecision(page, 'approve'));
    assert.ok(left && new URL(left).searchParams.get('code'));
    assert.deepEqual((await read(consentId)).debtorAccount, CARLA_POUPANCA);
  });

  test('an account that cannot pay (none chosen, or another customer’s): the page asks again, nothing decided', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    const page = await openConsentPage(server, await pushPayment(server, tpp, consentId), CARLA);
    page.form.set('accounts', 'acc-alice-salary');
    const res = await submitDecision(page, 'approve');
    assert.notEqual(res.status, 303);
    assert.equal((await read(consentId)).status, 'AWAITING_AUTHORISATION');
  });

  test('she denies: REJECTED, REJEITADO_USUARIO', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    const back = await decideWithoutBrowser(server, await pushPayment(server, tpp, consentId), 'deny', CARLA);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    const data = await read(consentId);
    assert.equal(data.status, 'REJECTED');
    assert.equal(data.rejectionReason.code, 'REJEITADO_USUARIO');
  });

  test('another customer (CPF mismatch): access_denied, REJECTED by the bank (NAO_INFORMADO)', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    const back = await decideWithoutBrowser(server, await pushPayment(server, tpp, consentId), 'approve', ALICE);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('code'), null);
    const data = await read(consentId);
    assert.equal(data.status, 'REJECTED');
    assert.equal(data.rejectionReason.code, 'NAO_INFORMADO');
    assert.equal(data.debtorAccount, undefined);
  });

  test('paying the account paid: REJECTED, CONTAS_ORIGEM_DESTINO_IGUAIS', async () => {
    const consentId = await createPaymentConsent(server, tpp, token, carla({}, { details: { localInstrument: 'MANU', creditorAccount: CARLA_CORRENTE } }));
    const back = await decideWithoutBrowser(server, await pushPayment(server, tpp, consentId), 'approve', CARLA);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    const data = await read(consentId);
    assert.equal(data.status, 'REJECTED');
    assert.equal(data.rejectionReason.code, 'CONTAS_ORIGEM_DESTINO_IGUAIS');
  });

  test('AUTHORISED and not consumed within 60 minutes: the sweeper rejects it (TEMPO_EXPIRADO_CONSUMO) and the token dies', async () => {
    const consentId = await createPaymentConsent(server, tpp, token);
    const flow = await pushPayment(server, tpp, consentId);
    const back = await decideWithoutBrowser(server, flow, 'approve', CARLA);
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
    const accessToken = tokens.json.access_token as string;
    await changeStoredConsent(server, consentId, { expiresAt: new Date(Date.now() - 1000) });
    assert.ok((await server.assent.consents.sweep()) >= 1);
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    const data = await read(consentId);
    assert.equal(data.status, 'REJECTED');
    assert.equal(data.rejectionReason.code, 'TEMPO_EXPIRADO_CONSUMO');
  });
});
