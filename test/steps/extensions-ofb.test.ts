/**
 * pre_process_consent_creation for the Open Finance Brasil regimes, against a real extension server
 * (node:http on a loopback port): the bank's extension is asked about data-sharing and payment consents
 * too, with the regime's own request in `details`; its refusal answers the TPP in the dialect's format
 * (Consents 422 ERRO_NAO_MAPEADO, Payments 422 NAO_INFORMADO) and an extension that cannot answer fails the
 * request (Consents 504, Payments 500) — nothing stored either way, every answer valid against its spec,
 * and no CPF in the log.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeSecretClient, startTestServer, type TestServer } from '../support/assent.ts';
import { requestEnvelope } from '../../src/steps/extensions/schemas.ts';
import { BALANCES, CPF, assertErrors as assertBrErrors, br, consentBody, consentsToken } from '../dialects/brazil/helpers.ts';
import { PAYMENTS_CONFIG, assertErrors as assertPayErrors, consentData, makePaymentsTpp, pay, paymentsToken, sign, type PaymentsTpp } from '../dialects/br-payments/helpers.ts';

const HOOK = 'pre_process_consent_creation';
type Behaviour = 'success' | 'error' | 'timeout';

let behaviour: Behaviour = 'success';
const calls: any[] = [];
let extension: Server;
let server: TestServer;
let payer: PaymentsTpp;
let brToken: string;
let payToken: string;

before(async () => {
  extension = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      calls.push(body);
      const answer = (status: string, extra: object = {}) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ responseId: body.requestId, status, ...extra }));
      };
      if (behaviour === 'timeout') setTimeout(() => answer('SUCCESS', { data: {} }), 1_000);
      else if (behaviour === 'error') answer('ERROR', { errorMessage: 'Refused by the bank rules.' });
      else answer('SUCCESS', { data: {} });
    });
  });
  await new Promise<void>((resolve) => extension.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(extension.address() as AddressInfo).port}/${HOOK}`;
  const tpp = makeSecretClient('ofb-ext-tpp', { scope: 'openid offline_access consents' });
  payer = await makePaymentsTpp('ofb-ext-payer');
  server = await startTestServer({
    clients: [tpp.config, payer.config],
    ...PAYMENTS_CONFIG,
    extensions: { [HOOK]: { url, auth: { type: 'basic', username: 'assent', password: 'extension-secret' }, timeoutMs: 300, retries: 1 } },
  });
  brToken = await consentsToken(server, tpp);
  payToken = await paymentsToken(server, payer);
});
after(async () => {
  await server.stop();
  extension.closeAllConnections();
  await new Promise((resolve) => extension.close(resolve));
});
beforeEach(() => {
  behaviour = 'success';
  calls.length = 0;
});

async function stored(clientId: string): Promise<number> {
  return (await server.assent.stores.consents.query({ clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
}

const createPayment = async (options: { serverError?: boolean } = {}) =>
  pay(server, 'POST', '/consents', { token: payToken, jwt: await sign(payer, consentData()), idempotencyKey: randomUUID(), ...options });

describe('pre_process_consent_creation on Open Finance Brasil consents', () => {
  test('data-sharing: SUCCESS creates it; the bank is told the type, the permissions and the customer', async () => {
    const res = await br(server, 'POST', '/consents', { token: brToken, json: consentBody() });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(calls.length, 1);
    assert.ok(requestEnvelope(HOOK).safeParse(calls[0]).success, 'the request is what the served schema says');
    const data = calls[0].data;
    assert.equal(data.clientId, 'ofb-ext-tpp');
    assert.equal(data.type, 'br-data-sharing');
    assert.deepEqual(data.details.permissions, BALANCES);
    assert.equal(data.details.loggedUser.document.identification, CPF);
  });

  test('data-sharing: ERROR answers 422 ERRO_NAO_MAPEADO with the bank’s words; nothing stored', async () => {
    behaviour = 'error';
    const before = await stored('ofb-ext-tpp');
    const res = await br(server, 'POST', '/consents', { token: brToken, json: consentBody() });
    assertBrErrors(res, 422, 'ERRO_NAO_MAPEADO');
    assert.equal(res.body.errors[0].detail, 'Refused by the bank rules.');
    assert.equal(await stored('ofb-ext-tpp'), before);
  });

  test('data-sharing: an extension that does not answer in time fails closed, 504 after a retry; nothing stored', async () => {
    behaviour = 'timeout';
    const before = await stored('ofb-ext-tpp');
    const res = await br(server, 'POST', '/consents', { token: brToken, json: consentBody() });
    assertBrErrors(res, 504, 'TEMPO_ESGOTADO');
    assert.equal(calls.length, 2, 'one retry');
    assert.equal(await stored('ofb-ext-tpp'), before);
  });

  test('payment: SUCCESS creates it; the bank is told the payment', async () => {
    const res = await createPayment();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const data = calls[0].data;
    assert.equal(data.type, 'br-payment');
    assert.equal(data.details.payment.amount, '10.00');
    assert.equal(data.details.creditor.cpfCnpj, '11222333000181');
  });

  test('payment: ERROR answers 422 NAO_INFORMADO with the bank’s words; nothing stored', async () => {
    behaviour = 'error';
    const before = await stored('ofb-ext-payer');
    const res = await createPayment();
    assertPayErrors(res, 422, 'NAO_INFORMADO');
    assert.equal(res.body.errors[0].detail, 'Refused by the bank rules.');
    assert.equal(await stored('ofb-ext-payer'), before);
  });

  test('payment: an extension that does not answer fails closed (500, the spec has no 503/504 here); nothing stored', async () => {
    behaviour = 'timeout';
    const before = await stored('ofb-ext-payer');
    const res = await createPayment({ serverError: true });
    assertPayErrors(res, 500, 'ERRO_INTERNO');
    assert.match(res.body.errors[0].detail, /did not answer/);
    assert.equal(await stored('ofb-ext-payer'), before);
  });

  test('the extension calls are logged without the customer’s CPF', () => {
    const lines = server.logs.filter((l) => l.includes(HOOK));
    assert.ok(lines.length > 0);
    for (const line of lines) assert.ok(!line.includes(CPF), line);
  });
});
