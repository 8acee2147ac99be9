/**
 * Payments API 4.0.0 payment consents on real Redis and FerretDB: create and read with signed messages,
 * every kind of signature failure (nothing stored), jti replay, idempotency (same body, other body,
 * concurrent duplicates), the spec's errors, the 5-minute authorisation window by the sweeper. Every
 * answer is verified, decoded and validated against payments-4.0.0.yml (helpers.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { startTestServer, type TestServer, changeStoredConsent } from '../../support/assent.ts';
import {
  API_URL,
  PAYMENTS_CONFIG,
  assertErrors,
  consentData,
  makePaymentsTpp,
  pay,
  paymentsToken,
  sign,
  type PaymentsTpp,
} from './helpers.ts';

let server: TestServer;
let tpp: PaymentsTpp;
let other: PaymentsTpp;
let token: string;
let otherToken: string;

before(async () => {
  tpp = await makePaymentsTpp('pay-tpp');
  other = await makePaymentsTpp('pay-other');
  server = await startTestServer({ clients: [tpp.config, other.config], ...PAYMENTS_CONFIG });
  token = await paymentsToken(server, tpp);
  otherToken = await paymentsToken(server, other);
});
after(() => server.stop());

async function stored(clientId = 'pay-tpp'): Promise<number> {
  const page = await server.assent.stores.consents.query({ clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
  return page.total;
}

async function create(data = consentData(), key = randomUUID()) {
  return pay(server, 'POST', '/consents', { token, jwt: await sign(tpp, data), idempotencyKey: key });
}

describe('POST /consents', () => {
  test('201 application/jwt signed by Assent for the TPP: AWAITING_AUTHORISATION, expiry = creation + 5 min, the payment as asked', async () => {
    const res = await create();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.signed);
    assert.equal(res.body.aud, tpp.organisationId);
    const { data, links } = res.body;
    assert.match(data.consentId, /^urn:assent:[0-9a-f-]{36}$/);
    assert.equal(data.status, 'AWAITING_AUTHORISATION');
    assert.equal(Date.parse(data.expirationDateTime) - Date.parse(data.creationDateTime), 5 * 60_000);
    assert.equal(data.statusUpdateDateTime, data.creationDateTime);
    const asked = consentData();
    assert.deepEqual(data.payment, asked.payment);
    assert.deepEqual(data.creditor, asked.creditor);
    assert.deepEqual(data.loggedUser, asked.loggedUser);
    assert.equal(data.debtorAccount, undefined);
    assert.equal(links.self, `${API_URL}/consents/${data.consentId}`);
    const consent = await server.assent.stores.consents.findById(data.consentId);
    assert.equal(consent?.type, 'br-payment');
    assert.equal(consent?.status, 'AWAITING_AUTHORISATION');
    assert.equal(consent?.clientId, 'pay-tpp');
  });

  test('a scheduled payment (schedule.single.date) and a named debtor account come back as sent', async () => {
    const date = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const debtorAccount = { ispb: '87654321', issuer: '0002', number: '555666', accountType: 'CACC' };
    const base = consentData({ debtorAccount });
    const { date: _d, ...rest } = base.payment;
    const res = await create({ ...base, payment: { ...rest, schedule: { single: { date } } } } as unknown as ReturnType<typeof consentData>);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.data.payment.schedule, { single: { date } });
    assert.equal(res.body.data.payment.date, undefined);
    assert.deepEqual(res.body.data.debtorAccount, debtorAccount);
  });

  const rules: Array<[string, ReturnType<typeof consentData> | Record<string, unknown>, string]> = [
    ['a payment type other than PIX', consentData({}, { type: 'TED' }), 'FORMA_PAGAMENTO_INVALIDA'],
    ['a date other than today', consentData({}, { date: '2020-01-01' }), 'DATA_PAGAMENTO_INVALIDA'],
    ['DICT without a proxy', consentData({}, { details: { localInstrument: 'DICT', creditorAccount: { ispb: '12345678', issuer: '0001', number: '1', accountType: 'CACC' } } }), 'DETALHE_PAGAMENTO_INVALIDO'],
    ['an amount with one decimal', consentData({}, { amount: '10.0' }), 'PARAMETRO_INVALIDO'],
    ['an invalid creditor CNPJ', consentData({ creditor: { personType: 'PESSOA_JURIDICA', cpfCnpj: '11222333000182', name: 'X' } }), 'PARAMETRO_INVALIDO'],
    ['no creditor', (() => { const { creditor: _c, ...rest } = consentData(); return rest; })(), 'PARAMETRO_NAO_INFORMADO'],
  ];
  for (const [name, data, code] of rules) {
    test(`422 ${code} (signed): ${name}; nothing stored`, async () => {
      const before = await stored();
      const res = await create(data as ReturnType<typeof consentData>);
      assert.ok(res.signed, 'a 422 is application/jwt');
      assertErrors(res, 422, code);
      assert.equal(await stored(), before);
    });
  }
});

describe('signed messages: every refusal, nothing stored', () => {
  const cases: Array<[string, () => Promise<{ jwt?: string; json?: unknown; raw?: string; contentType?: string }>, number, string]> = [
    ['plain JSON', async () => ({ json: { data: consentData() } }), 415, 'FORMATO_NAO_SUPORTADO'],
    ['JSON text sent as application/jwt', async () => ({ raw: JSON.stringify({ data: consentData() }), contentType: 'application/jwt' }), 400, 'BAD_SIGNATURE'],
    ['signed RS256', async () => {
      const { privateKey } = await jose.generateKeyPair('RS256');
      return { jwt: await sign(tpp, consentData(), { alg: 'RS256', key: privateKey }) };
    }, 400, 'BAD_SIGNATURE'],
    ['a kid the TPP did not register', async () => ({ jwt: await sign(tpp, consentData(), { header: { kid: 'unknown-kid' } }) }), 400, 'BAD_SIGNATURE'],
    ['another key under the TPP’s kid', async () => {
      const { privateKey } = await jose.generateKeyPair('PS256');
      return { jwt: await sign(tpp, consentData(), { key: privateKey }) };
    }, 400, 'BAD_SIGNATURE'],
    ['signed with the other TPP’s key', async () => ({ jwt: await sign(other, consentData()) }), 400, 'BAD_SIGNATURE'],
    ['aud another API', async () => ({ jwt: await sign(tpp, consentData(), { claims: { aud: 'https://other.example/open-banking/payments/v4' } }) }), 403, 'INVALID_CLIENT'],
    ['iss another organisation', async () => ({ jwt: await sign(tpp, consentData(), { claims: { iss: other.organisationId } }) }), 403, 'INVALID_CLIENT'],
    ['iat ten minutes old', async () => ({ jwt: await sign(tpp, consentData(), { claims: { iat: Math.floor(Date.now() / 1000) - 600 } }) }), 403, 'INVALID_CLIENT'],
    ['iat ten minutes ahead', async () => ({ jwt: await sign(tpp, consentData(), { claims: { iat: Math.floor(Date.now() / 1000) + 600 } }) }), 403, 'INVALID_CLIENT'],
    ['no jti', async () => ({ jwt: await sign(tpp, consentData(), { omit: ['jti'] }) }), 403, 'INVALID_CLIENT'],
  ];
  for (const [name, body, status, code] of cases) {
    test(`${status} ${code}: ${name}`, async () => {
      const before = await stored();
      const res = await pay(server, 'POST', '/consents', { token, idempotencyKey: randomUUID(), ...(await body()) });
      assert.equal(res.signed, false);
      assertErrors(res, status, code);
      assert.equal(await stored(), before);
    });
  }

  test('a replayed jti: 403 INVALID_CLIENT, even with another idempotency key; one consent', async () => {
    const jwt = await sign(tpp, consentData());
    const first = await pay(server, 'POST', '/consents', { token, jwt, idempotencyKey: randomUUID() });
    assert.equal(first.status, 201);
    const before = await stored();
    assertErrors(await pay(server, 'POST', '/consents', { token, jwt, idempotencyKey: randomUUID() }), 403, 'INVALID_CLIENT');
    assert.equal(await stored(), before);
  });

  test('a TPP with no organisation id cannot sign: 403 INVALID_CLIENT', async () => {
    const bare = await makePaymentsTpp('pay-bare');
    delete (bare.config as Record<string, unknown>)['urn:assent:organisation_id'];
    const s2 = await startTestServer({ clients: [bare.config], ...PAYMENTS_CONFIG });
    try {
      const t = await paymentsToken(s2, bare);
      const res = await pay(s2, 'POST', '/consents', { token: t, jwt: await sign(bare, consentData()), idempotencyKey: randomUUID() });
      assertErrors(res, 403, 'INVALID_CLIENT');
    } finally {
      await s2.stop();
    }
  });
});

describe('idempotency (x-idempotency-key)', () => {
  test('required: 400 PARAMETRO_NAO_INFORMADO; malformed: 400 PARAMETRO_INVALIDO; nothing stored', async () => {
    const before = await stored();
    assertErrors(await pay(server, 'POST', '/consents', { token, jwt: await sign(tpp, consentData()) }), 400, 'PARAMETRO_NAO_INFORMADO');
    assertErrors(await pay(server, 'POST', '/consents', { token, jwt: await sign(tpp, consentData()), idempotencyKey: 'x'.repeat(41) }), 400, 'PARAMETRO_INVALIDO');
    assert.equal(await stored(), before);
  });

  test('the same key and data (a new message): the first answer again; other data: 422 ERRO_IDEMPOTENCIA', async () => {
    const key = randomUUID();
    const first = await create(consentData(), key);
    assert.equal(first.status, 201);
    const before = await stored();
    const again = await create(consentData(), key);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body.data, first.body.data);
    assert.equal(await stored(), before);
    const changed = await create(consentData({}, { amount: '11.00' }), key);
    assert.ok(changed.signed);
    assertErrors(changed, 422, 'ERRO_IDEMPOTENCIA');
    assert.equal(await stored(), before);
  });

  test('another TPP using the same key gets its own consent', async () => {
    const key = randomUUID();
    const mine = await create(consentData(), key);
    const theirs = await pay(server, 'POST', '/consents', { token: otherToken, jwt: await sign(other, consentData()), idempotencyKey: key });
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.data.consentId, mine.body.data.consentId);
  });

  test('an answer that failed is not kept: a retry with the same key runs again', async () => {
    const key = randomUUID();
    assertErrors(await create(consentData({}, { amount: '10.0' }), key), 422, 'PARAMETRO_INVALIDO');
    const retry = await create(consentData(), key);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
  });

  test('12 concurrent duplicates: one consent, every answer names it', async () => {
    const key = randomUUID();
    const before = await stored();
    const answers = await Promise.all(Array.from({ length: 12 }, async () => create(consentData(), key)));
    assert.deepEqual(answers.map((a) => a.status), Array(12).fill(201));
    assert.equal(new Set(answers.map((a) => a.body.data.consentId)).size, 1);
    assert.equal(await stored(), before + 1);
  });
});

describe('GET /consents/{consentId}', () => {
  test('200 signed; another TPP’s or an unknown consent: 404', async () => {
    const created = await create();
    const id = created.body.data.consentId;
    const read = await pay(server, 'GET', `/consents/${id}`, { token });
    assert.equal(read.status, 200);
    assert.ok(read.signed);
    assert.deepEqual(read.body.data, created.body.data);
    assertErrors(await pay(server, 'GET', `/consents/${id}`, { token: otherToken }), 404, 'NAO_ENCONTRADO');
    assertErrors(await pay(server, 'GET', '/consents/urn:assent:nope', { token }), 404, 'NAO_ENCONTRADO');
  });

  test('the authorisation window: 5 minutes later the consent reads REJECTED (TEMPO_EXPIRADO_AUTORIZACAO), and the sweeper records it', async () => {
    const id = (await create()).body.data.consentId as string;
    const consent = (await server.assent.stores.consents.findById(id))!;
    const back = (d: Date) => new Date(d.getTime() - 6 * 60_000);
    await changeStoredConsent(server, id, { createdAt: back(consent.createdAt), expiresAt: back(consent.expiresAt) });
    assert.ok((await server.assent.consents.sweep()) >= 1);
    const after = (await server.assent.stores.consents.findById(id))!;
    assert.equal(after.status, 'REJECTED');
    assert.equal(after.history.at(-1)?.actor, 'system');
    const read = await pay(server, 'GET', `/consents/${id}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.equal(read.body.data.rejectionReason.code, 'TEMPO_EXPIRADO_AUTORIZACAO');
  });
});

describe('tokens, methods, the description', () => {
  test('401 without a token; 403 with a token lacking scope payments', async () => {
    const none = await pay(server, 'POST', '/consents', { jwt: await sign(tpp, consentData()), idempotencyKey: randomUUID() });
    assertErrors(none, 401, 'NAO_AUTORIZADO');
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`pay-tpp:${tpp.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=openid',
    });
    const openidOnly = ((await res.json()) as { access_token: string }).access_token;
    assertErrors(await pay(server, 'GET', '/consents/urn:assent:x', { token: openidOnly }), 403, 'PROIBIDO');
  });

  test('405 for another method; 406 for a client that accepts only JSON', async () => {
    assertErrors(await pay(server, 'DELETE', '/consents/urn:assent:x', { token }), 405, 'METODO_NAO_PERMITIDO');
    assertErrors(await pay(server, 'GET', '/consents/urn:assent:x', { token, headers: { accept: 'application/json' } }), 406, 'NAO_ACEITAVEL');
  });

  test('GET /openapi.json serves Payments API 4.0.0 with this server', async () => {
    const res = await fetch(`${server.url}/open-banking/payments/v4/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { info: { version: string }; servers: Array<{ url: string }> };
    assert.equal(doc.info.version, '4.0.0');
    assert.equal(doc.servers[0]?.url, `${new URL(server.issuer).origin}/open-banking/payments/v4`);
  });
});
