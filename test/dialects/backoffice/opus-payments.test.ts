/**
 * Payment consents in the Opus back-office, on real Redis and FerretDB: a PIX consent created, approved
 * by Carla and paid through the Payments API, then found by the list's type / paymentType / modalityType
 * filters, read
 * as ConsentDetail (paymentData, modality, the payment's id) and its payment listed by
 * GET …/consents/v1/consents/{consentId}/payments. Every answer validated against en-oasOOFDados.yml.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeSecretClient, startTestServer, type TestServer } from '../../support/assent.ts';
import { validateResponse } from '../../support/openapi.ts';
import { decideWithoutBrowser, exchangeCode } from '../../support/tpp.ts';
import {
  CARLA,
  CARLA_CORRENTE,
  CARLA_CPF,
  CREDITOR_ACCOUNT,
  PAYMENTS_CONFIG,
  consentData,
  createPaymentConsent,
  endToEndId,
  makePaymentsTpp,
  pay,
  paymentsToken,
  pixOrder,
  pushPayment,
  sign,
  type PaymentsTpp,
} from '../br-payments/helpers.ts';
import { OPUS_SPEC, assertError, internalClientConfig, tokenFor, type CallResult } from './helpers.ts';

const P = '/open-banking/oob-consents';

let server: TestServer;
let tpp: PaymentsTpp;
let reader: string;
let tppToken: string;
let paid: { consentId: string; paymentId: string };
let scheduled: string;
let awaiting: string;

async function opus(path: string, token = reader): Promise<CallResult> {
  const res = await fetch(`${server.url}${P}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  assert.notEqual(res.status, 500, text);
  const body = JSON.parse(text);
  validateResponse(OPUS_SPEC, new URL(`${server.url}${P}${path}`).pathname, 'GET', res.status, body);
  return { status: res.status, headers: res.headers, body, text };
}

const carla = (payment: Record<string, unknown> = {}) => consentData({ loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } } }, payment);
const uuid = (id: string) => id.slice(-36);
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

async function approvedAndPaid(data: ReturnType<typeof carla>, order: Record<string, unknown>) {
  const consentId = await createPaymentConsent(server, tpp, tppToken, data);
  const flow = await pushPayment(server, tpp, consentId);
  const back = await decideWithoutBrowser(server, flow, 'approve', CARLA);
  const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  const res = await pay(server, 'POST', '/pix/payments', { token: tokens.json.access_token as string, jwt: await sign(tpp, [order]), idempotencyKey: randomUUID() });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { consentId, paymentId: res.body.data[0].paymentId as string };
}

before(async () => {
  tpp = await makePaymentsTpp('opus-pay-tpp', { client_name: 'Padaria Digital' });
  const r = makeSecretClient('opus-pay-reader', internalClientConfig('backoffice:read'));
  server = await startTestServer({ clients: [tpp.config, r.config], ...PAYMENTS_CONFIG });
  reader = await tokenFor(server, r, 'backoffice:read');
  tppToken = await paymentsToken(server, tpp);
  paid = await approvedAndPaid(carla(), pixOrder());
  const date = inDays(3);
  const { date: _d, ...rest } = carla().payment;
  const later = { ...carla(), payment: { ...rest, schedule: { single: { date } } } } as unknown as ReturnType<typeof carla>;
  scheduled = (await approvedAndPaid(later, pixOrder({ endToEndId: endToEndId(new Date(`${date}T15:00:00Z`)) }))).consentId;
  awaiting = await createPaymentConsent(server, tpp, tppToken, carla({ amount: '25.50' }));
  // a data sharing consent beside them, which the payment filters leave out
  await server.assent.consents.create(
    { clientId: 'opus-pay-tpp', type: 'br-data-sharing', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: inDays(100), expiresAt: new Date(Date.now() + 100 * 86_400_000), frequencyPerDay: 1, combinedServiceIndicator: false, details: { permissions: ['ACCOUNTS_READ', 'RESOURCES_READ'], loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } } } },
    { idPrefix: 'urn:assent:' },
  );
});
after(() => server.stop());

describe('payment consents in the Opus consent list', () => {
  test('type=PAYMENT and paymentType=PIX: the three payment consents, newest first, with paymentType, modality and creditor', async () => {
    const all = await opus('/v1/consents');
    assert.equal(all.body.meta.totalRecords, 4);
    for (const query of ['type=PAYMENT', 'paymentType=PIX', 'typeList=PAYMENT,ENROLLMENT', 'type=PAYMENT&paymentType=PIX']) {
      const res = await opus(`/v1/consents?${query}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        res.body.data.map((c: { id: string }) => c.id),
        [awaiting, scheduled, paid.consentId].map(uuid),
        query,
      );
    }
    const byId = new Map((await opus('/v1/consents?type=PAYMENT')).body.data.map((c: Record<string, unknown>) => [c.id, c]));
    assert.deepEqual(byId.get(uuid(paid.consentId)), {
      ...(byId.get(uuid(paid.consentId)) as object),
      type: 'PAYMENT',
      paymentType: 'PIX',
      modalityPayment: 'IMMEDIATE',
      creditorName: 'Padaria Pão Quente Ltda',
      status: 'CONSUMED',
      tppName: 'Padaria Digital',
    });
    assert.equal((byId.get(uuid(scheduled)) as Record<string, unknown>).modalityPayment, 'SCHEDULED');
    assert.equal((byId.get(uuid(awaiting)) as Record<string, unknown>).status, 'AWAITING_AUTHORISATION');
    // combined with the status and the customer
    const consumed = await opus(`/v1/consents?paymentType=PIX&statusList=CONSUMED&cpf=${CARLA_CPF}`);
    assert.deepEqual(consumed.body.data.map((c: { id: string }) => c.id), [scheduled, paid.consentId].map(uuid));
    assert.deepEqual((await opus('/v1/consents?type=DATA_SHARING&paymentType=PIX')).body.data, []);
    // the modality: today's payments, the scheduled one, both, and SWEEPING (none here)
    const modality = async (query: string) => (await opus(`/v1/consents?${query}`)).body.data.map((c: { id: string }) => c.id);
    assert.deepEqual(await modality('modalityType=IMMEDIATE'), [awaiting, paid.consentId].map(uuid));
    assert.deepEqual(await modality('modalityType=SCHEDULED'), [scheduled].map(uuid));
    assert.deepEqual(await modality('modalityTypeList=IMMEDIATE,SCHEDULED'), [awaiting, scheduled, paid.consentId].map(uuid));
    assert.deepEqual(await modality('modalityTypeList=SCHEDULED,SWEEPING&statusList=CONSUMED'), [scheduled].map(uuid));
    assert.deepEqual(await modality('modalityType=SWEEPING'), []);
    assert.deepEqual(await modality('modalityType=IMMEDIATE&type=DATA_SHARING'), []);
    assert.equal((await opus('/v1/consents?modalityType=IMMEDIATE')).body.meta.totalRecords, 2);
    assertError(await opus('/v1/consents?paymentType=TED'), 400, 'INVALID_PARAMETER');
  });
});

describe('a payment consent in the Opus detail', () => {
  test('ConsentDetail: paymentData (creditor, payment, the debtor account Carla chose), modality, the id of its payment, the history to CONSUMED', async () => {
    const res = await opus(`/v1/consents/${uuid(paid.consentId)}`);
    assert.equal(res.status, 200, res.text);
    const d = res.body.data;
    assert.equal(d.externalId, paid.consentId);
    assert.equal(d.type, 'PAYMENT');
    assert.equal(d.status, 'CONSUMED');
    assert.equal(d.personDocumentNumber, CARLA_CPF);
    assert.deepEqual(d.paymentData.creditor, { personType: 'PESSOA_JURIDICA', cpfCnpj: '11222333000181', name: 'Padaria Pão Quente Ltda' });
    assert.equal(d.paymentData.payment.amount, '10.00');
    assert.equal(d.paymentData.payment.type, 'PIX');
    assert.deepEqual(d.paymentData.payment.details.creditorAccount, CREDITOR_ACCOUNT);
    assert.deepEqual(d.paymentData.debtorAccount, CARLA_CORRENTE);
    assert.equal(d.modalityPayment, 'IMMEDIATE');
    assert.deepEqual(d.paymentIds, [{ externalId: paid.paymentId }]);
    assert.deepEqual(d.consentHistoryStatus.map((h: { consentStatus: string }) => h.consentStatus), ['AWAITING_AUTHORISATION', 'AUTHORISED', 'CONSUMED']);
    const later = (await opus(`/v1/consents/${uuid(scheduled)}`)).body.data;
    assert.equal(later.modalityPayment, 'SCHEDULED');
    assert.equal(later.paymentData.payment.schedule.single.date, inDays(3));
    assert.equal(later.paymentData.payment.date, undefined);
    const open = (await opus(`/v1/consents/${uuid(awaiting)}`)).body.data;
    assert.equal(open.paymentIds, undefined, 'no payment yet');
    assert.equal(open.paymentData.debtorAccount, undefined, 'no account chosen yet');
  });
});

describe('GET /open-banking/oob-consents/consents/v1/consents/{consentId}/payments', () => {
  test('the consent’s payment, as the Payments API stored it; by UUID or URN', async () => {
    const res = await opus(`/consents/v1/consents/${uuid(paid.consentId)}/payments`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.length, 1);
    const [p] = res.body.data;
    assert.equal(p.paymentId, paid.paymentId);
    assert.equal(p.consentId, paid.consentId);
    assert.equal(p.status, 'ACSC');
    assert.deepEqual(p.payment, { amount: '10.00', currency: 'BRL' });
    assert.deepEqual(p.debtorAccount, CARLA_CORRENTE);
    assert.deepEqual(p.creditorAccount, CREDITOR_ACCOUNT);
    assert.equal(p.remittanceInformation, 'Pão de queijo');
    assert.match(p.endToEndId, /^E00360305/);
    assert.equal(res.body.meta.totalRecords, 1);
    assert.equal(res.body.meta.totalPages, 1);
    assert.match(res.body.links.self, /\/consents\/v1\/consents\/.+\/payments\?page=1&page-size=25$/);
    const byUrn = await opus(`/consents/v1/consents/${encodeURIComponent(paid.consentId)}/payments`);
    assert.deepEqual(byUrn.body.data, res.body.data);
    assert.equal((await opus(`/consents/v1/consents/${uuid(scheduled)}/payments`)).body.data[0].status, 'SCHD');
  });

  test('a consent without a payment: an empty page; unknown 404; a bad page 400; a TPP token 403', async () => {
    const none = await opus(`/consents/v1/consents/${uuid(awaiting)}/payments`);
    assert.deepEqual(none.body.data, []);
    assert.equal(none.body.meta.totalRecords, 0);
    assert.deepEqual((await opus(`/consents/v1/consents/${uuid(paid.consentId)}/payments?page=2`)).body.data, []);
    assertError(await opus(`/consents/v1/consents/${randomUUID()}/payments`), 404, 'CONSENT_NOT_FOUND');
    assertError(await opus(`/consents/v1/consents/${uuid(paid.consentId)}/payments?page=0`), 400, 'INVALID_PARAMETER');
    assertError(await opus(`/consents/v1/consents/${uuid(paid.consentId)}/payments?other=1`), 400, 'UNKNOWN_PARAMETER');
    assert.equal((await opus(`/consents/v1/consents/${uuid(paid.consentId)}/payments`, tppToken)).status, 403);
  });
});
