/**
 * PIX payments on real Redis and FerretDB: the payment must be exactly its consent's, it consumes the
 * consent once (20 concurrent attempts over two instances → one payment), its token then only replays
 * the payment's answer (same x-idempotency-key) and pays nothing more, the
 * executor's status, reading, cancelling a scheduled payment. Every answer verified, decoded and
 * validated against payments-4.0.0.yml.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { generateKeyRingConfig } from '../../../src/crypto/index.ts';
import { createLogger } from '../../../src/log.ts';
import { startAssent } from '../../../src/server.ts';
import { startTestServer, type TestServer, changeStoredConsent } from '../../support/assent.ts';
import { decideWithoutBrowser, exchangeCode, introspect } from '../../support/tpp.ts';
import {
  CARLA,
  CARLA_CORRENTE,
  CARLA_CPF,
  PAYMENTS_CONFIG,
  assertErrors,
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
} from './helpers.ts';

let server: TestServer;
let tpp: PaymentsTpp;
let other: PaymentsTpp;
let token: string;
let otherToken: string;

before(async () => {
  tpp = await makePaymentsTpp('pix-tpp');
  other = await makePaymentsTpp('pix-other');
  // one data key ring, so that a second instance reads what the first stored (the two-instance race)
  const dataKeys = JSON.stringify(generateKeyRingConfig());
  server = await startTestServer({ clients: [tpp.config, other.config], ...PAYMENTS_CONFIG, keys: { dataKeys } });
  token = await paymentsToken(server, tpp);
  otherToken = await paymentsToken(server, other);
});
after(() => server.stop());

const carlaData = (payment: Record<string, unknown> = {}) => consentData({ loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } } }, payment);

/** A payment consent Carla approved, and the customer's access token for it. */
async function authorised(data = carlaData()): Promise<{ consentId: string; accessToken: string }> {
  const consentId = await createPaymentConsent(server, tpp, token, data);
  const flow = await pushPayment(server, tpp, consentId);
  const back = await decideWithoutBrowser(server, flow, 'approve', CARLA);
  const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { consentId, accessToken: tokens.json.access_token as string };
}

async function payWith(accessToken: string, order: Record<string, unknown> = pixOrder(), s: TestServer = server) {
  return pay(s, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [order]), idempotencyKey: randomUUID() });
}

async function consentStatus(consentId: string) {
  return (await pay(server, 'GET', `/consents/${consentId}`, { token })).body.data.status as string;
}

describe('POST /pix/payments', () => {
  test('the consented payment: 201 signed, settled (ACSC) by the demo executor, the consent CONSUMED, its token good for no other payment', async () => {
    const { consentId, accessToken } = await authorised();
    const order = pixOrder();
    const res = await payWith(accessToken, order);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.signed);
    assert.equal(res.body.aud, tpp.organisationId);
    const [payment] = res.body.data;
    assert.equal(payment.status, 'ACSC');
    assert.equal(payment.consentId, consentId);
    assert.equal(payment.endToEndId, order.endToEndId);
    assert.deepEqual(payment.debtorAccount, CARLA_CORRENTE);
    assert.deepEqual(payment.payment, { amount: '10.00', currency: 'BRL' });
    assert.equal(await consentStatus(consentId), 'CONSUMED');
    // CONSUMED does not revoke the token (it may replay its payment's answer), but it pays nothing more
    assertErrors(await payWith(accessToken), 422, 'CONSENTIMENTO_INVALIDO');
    assert.equal((await server.assent.stores.payments.findByConsent(consentId)).length, 1);

    const read = await pay(server, 'GET', `/pix/payments/${payment.paymentId}`, { token });
    assert.equal(read.status, 200);
    assert.ok(read.signed);
    assert.equal(read.body.data.status, 'ACSC');
    assert.equal(read.body.data.remittanceInformation, 'Pão de queijo');
    assertErrors(await pay(server, 'GET', `/pix/payments/${payment.paymentId}`, { token: otherToken }), 404, 'NAO_ENCONTRADO');
    assertErrors(await pay(server, 'GET', `/pix/payments/${randomUUID()}`, { token }), 404, 'NAO_ENCONTRADO');
  });

  test('a retry with the same x-idempotency-key after the payment succeeded: the first answer again (not 401); one payment', async () => {
    const { consentId, accessToken } = await authorised();
    const order = pixOrder();
    const idempotencyKey = randomUUID();
    const first = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [order]), idempotencyKey });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(await consentStatus(consentId), 'CONSUMED');
    // the TPP lost the answer and sends the same order again, in a new message (new jti), with the same key
    const retry = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [order]), idempotencyKey });
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.ok(retry.signed);
    assert.deepEqual(retry.body.data, first.body.data);
    // the same key with another order: 422 ERRO_IDEMPOTENCIA; a new key: the consent is used up
    const changed = pixOrder({ remittanceInformation: 'Outro' });
    assertErrors(await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [changed]), idempotencyKey }), 422, 'ERRO_IDEMPOTENCIA');
    assertErrors(await payWith(accessToken, order), 422, 'CONSENTIMENTO_INVALIDO');
    assert.equal((await server.assent.stores.payments.findByConsent(consentId)).length, 1);

    // the key belongs to that consent: the token of another consent with the same key makes its own payment
    const next = await authorised();
    const own = await pay(server, 'POST', '/pix/payments', { token: next.accessToken, jwt: await sign(tpp, [order]), idempotencyKey });
    assert.equal(own.status, 201, JSON.stringify(own.body));
    assert.equal(own.body.data[0].consentId, next.consentId);
    assert.notEqual(own.body.data[0].paymentId, first.body.data[0].paymentId);
    // and a consent that ended otherwise (REJECTED) still revokes its token
    const revoked = await authorised();
    const consent = (await server.assent.stores.consents.findById(revoked.consentId))!;
    await server.assent.consents.revokeByPsu(consent, { actor: 'PSU' });
    assert.equal((await introspect(server, tpp, revoked.accessToken)).active, false);
    assertErrors(await payWith(revoked.accessToken), 401, 'NAO_AUTORIZADO');
  });

  test('10 concurrent duplicates (one x-idempotency-key, each its own message): one payment, every answer names it', async () => {
    const { consentId, accessToken } = await authorised();
    const order = pixOrder();
    const idempotencyKey = randomUUID();
    const jwts = await Promise.all(Array.from({ length: 10 }, () => sign(tpp, [order])));
    const answers = await Promise.all(jwts.map((jwt) => pay(server, 'POST', '/pix/payments', { token: accessToken, jwt, idempotencyKey })));
    assert.ok(answers.every((a) => a.status === 201), JSON.stringify(answers.map((a) => [a.status, a.body])));
    const payments = await server.assent.stores.payments.findByConsent(consentId);
    assert.equal(payments.length, 1);
    assert.deepEqual(new Set(answers.map((a) => a.body.data[0].paymentId)), new Set([payments[0]!.paymentId]));
    assert.equal(await consentStatus(consentId), 'CONSUMED');
  });

  const divergent: Array<[string, Record<string, unknown>]> = [
    ['another amount', pixOrder({ payment: { amount: '10.01', currency: 'BRL' } })],
    ['another creditor account', pixOrder({ creditorAccount: { ispb: '12345678', issuer: '0001', number: '1234567891', accountType: 'CACC' } })],
    ['another Pix key', pixOrder({ proxy: 'outra@example.com' })],
    ['another day (endToEndId)', pixOrder({ endToEndId: endToEndId(new Date(Date.now() + 2 * 86_400_000)) })],
  ];
  for (const [name, order] of divergent) {
    test(`422 PAGAMENTO_DIVERGENTE_CONSENTIMENTO (signed): ${name}; the consent stays AUTHORISED, no payment`, async () => {
      const { consentId, accessToken } = await authorised();
      const res = await payWith(accessToken, order);
      assert.ok(res.signed);
      assertErrors(res, 422, 'PAGAMENTO_DIVERGENTE_CONSENTIMENTO');
      assert.equal(await consentStatus(consentId), 'AUTHORISED');
      assert.deepEqual(await server.assent.stores.payments.findByConsent(consentId), []);
    });
  }

  test('refusals that leave the consent AUTHORISED: a bad signature, plain JSON, no idempotency key, a bad order', async () => {
    const { consentId, accessToken } = await authorised();
    const { generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('PS256');
    const badSig = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [pixOrder()], { key: privateKey }), idempotencyKey: randomUUID() });
    assertErrors(badSig, 400, 'BAD_SIGNATURE');
    assertErrors(await pay(server, 'POST', '/pix/payments', { token: accessToken, json: { data: [pixOrder()] }, idempotencyKey: randomUUID() }), 415, 'FORMATO_NAO_SUPORTADO');
    assertErrors(await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [pixOrder()]) }), 400, 'PARAMETRO_NAO_INFORMADO');
    assertErrors(await payWith(accessToken, pixOrder({ endToEndId: 'E123' })), 422, 'PARAMETRO_INVALIDO');
    const { cnpjInitiator: _c, ...noInitiator } = pixOrder();
    assertErrors(await payWith(accessToken, noInitiator), 422, 'PARAMETRO_NAO_INFORMADO');
    assertErrors(await payWith(accessToken, pixOrder({ consentId: 'urn:assent:other' })), 422, 'PAGAMENTO_DIVERGENTE_CONSENTIMENTO');
    assert.equal(await consentStatus(consentId), 'AUTHORISED');
    // a client_credentials token cannot pay
    assertErrors(await pay(server, 'POST', '/pix/payments', { token, jwt: await sign(tpp, [pixOrder()]), idempotencyKey: randomUUID() }), 401, 'NAO_AUTORIZADO');
    // and the consent can still be paid
    assert.equal((await payWith(accessToken)).status, 201);
  });

  test('past its 60-minute window: 422 CONSENTIMENTO_INVALIDO, the consent REJECTED (TEMPO_EXPIRADO_CONSUMO)', async () => {
    const { consentId, accessToken } = await authorised();
    await changeStoredConsent(server, consentId, { expiresAt: new Date(Date.now() - 1000) });
    assertErrors(await payWith(accessToken), 422, 'CONSENTIMENTO_INVALIDO');
    const data = (await pay(server, 'GET', `/consents/${consentId}`, { token })).body.data;
    assert.equal(data.status, 'REJECTED');
    assert.equal(data.rejectionReason.code, 'TEMPO_EXPIRADO_CONSUMO');
  });

  test('20 concurrent payments of one consent over two instances: exactly one payment, the consent CONSUMED', async () => {
    const { consentId, accessToken } = await authorised();
    // a second instance on the same Redis and MongoDB (its own port and ephemeral signing key)
    const twin = await startAssent({ ...server.assent.config, port: 0 }, createLogger('silent'));
    const second: TestServer = { ...server, assent: twin, url: twin.url };
    try {
      const jwts = await Promise.all(Array.from({ length: 20 }, () => sign(tpp, [pixOrder()])));
      const answers = await Promise.all(
        jwts.map(async (jwt, i) => {
          const res = await fetch(`${(i % 2 ? second : server).url}/open-banking/payments/v4/pix/payments`, {
            method: 'POST',
            headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/jwt', 'x-idempotency-key': randomUUID(), 'x-fapi-interaction-id': randomUUID() },
            body: jwt,
          });
          await res.text();
          return res.status;
        }),
      );
      assert.equal(answers.filter((s) => s === 201).length, 1, JSON.stringify(answers));
      assert.ok(answers.every((s) => s === 201 || s === 422 || s === 401), JSON.stringify(answers));
      assert.equal((await server.assent.stores.payments.findByConsent(consentId)).length, 1);
      assert.equal(await consentStatus(consentId), 'CONSUMED');
      const consent = await server.assent.stores.consents.findById(consentId);
      assert.equal(consent?.history.filter((h) => h.to === 'CONSUMED').length, 1);
    } finally {
      await twin.close();
    }
  });
});

describe('a write that fails: never a consumed consent without its payment', () => {
  test('the payment cannot be stored (the first write): 500 ERRO_INTERNO, the consent stays AUTHORISED, nothing stored; the retry pays', async () => {
    const { consentId, accessToken } = await authorised();
    const payments = server.assent.stores.payments;
    const create = payments.create;
    // the real store, made to fail its next insert, in this test only
    payments.create = async () => {
      throw new Error('the payment store is down');
    };
    const order = pixOrder();
    const idempotencyKey = randomUUID();
    let failed;
    try {
      failed = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [order]), idempotencyKey, serverError: true });
    } finally {
      payments.create = create;
    }
    assertErrors(failed, 500, 'ERRO_INTERNO');
    assert.equal(await consentStatus(consentId), 'AUTHORISED');
    assert.deepEqual(await payments.findByConsent(consentId), []);
    // the error was not kept: the same key runs again, and pays
    const retry = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [order]), idempotencyKey });
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(retry.body.data[0].status, 'ACSC');
    assert.equal(await consentStatus(consentId), 'CONSUMED');
  });

  test('the consent cannot be consumed (the second write): 500, the stored payment RJCT and never executed, the consent REJECTED (FALHA_INFRAESTRUTURA), not CONSUMED', async () => {
    const { consentId, accessToken } = await authorised();
    const repo = server.assent.stores.consents;
    const apply = repo.apply;
    let refused = 0;
    // the real consent store, made to fail the consuming update only, in this test only
    repo.apply = async (change) => {
      if (change.set?.status === 'CONSUMED') {
        refused++;
        throw new Error('the consent store is down');
      }
      return apply.call(repo, change);
    };
    let failed;
    try {
      failed = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [pixOrder()]), idempotencyKey: randomUUID(), serverError: true });
    } finally {
      repo.apply = apply;
    }
    assert.equal(refused, 1);
    assertErrors(failed, 500, 'ERRO_INTERNO');
    const [payment, ...more] = await server.assent.stores.payments.findByConsent(consentId);
    assert.equal(more.length, 0);
    // RJCT straight from RCVD (revision 1): the executor, which would have settled it (ACSC), never ran
    assert.equal(payment!.status, 'RJCT');
    assert.equal(payment!.revision, 1);
    assert.equal(payment!.rejectionReason?.code, 'FALHA_INFRAESTRUTURA_DETENTORA');
    const read = await pay(server, 'GET', `/pix/payments/${payment!.paymentId}`, { token });
    assert.equal(read.status, 200);
    assert.equal(read.body.data.status, 'RJCT');
    assert.equal(read.body.data.rejectionReason.code, 'FALHA_INFRAESTRUTURA_DETENTORA');
    const data = (await pay(server, 'GET', `/consents/${consentId}`, { token })).body.data;
    assert.equal(data.status, 'REJECTED');
    assert.equal(data.rejectionReason.code, 'FALHA_INFRAESTRUTURA');
    const consent = await server.assent.stores.consents.findById(consentId);
    assert.equal(consent?.history.some((h) => h.to === 'CONSUMED'), false);
    // the consent ended: its token is revoked, and nothing more is paid
    assertErrors(await payWith(accessToken), 401, 'NAO_AUTORIZADO');
    assert.equal((await server.assent.stores.payments.findByConsent(consentId)).length, 1);
  });
});

describe('cancelling (PATCH)', () => {
  const cancel = (by = CARLA_CPF) => ({ status: 'CANC', cancellation: { cancelledBy: { document: { identification: by, rel: 'CPF' } } } });
  const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

  async function scheduledPayment() {
    const date = inDays(3);
    const base = carlaData();
    const { date: _d, ...rest } = base.payment;
    const data = { ...base, payment: { ...rest, schedule: { single: { date } } } };
    const { consentId, accessToken } = await authorised(data as unknown as ReturnType<typeof carlaData>);
    // a scheduled Pix's endToEndId names its day at 15:00 UTC
    const res = await payWith(accessToken, pixOrder({ endToEndId: endToEndId(new Date(`${date}T15:00:00Z`)) }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.data[0].status, 'SCHD');
    return { consentId, paymentId: res.body.data[0].paymentId as string };
  }

  test('a scheduled payment (SCHD): CANC with the spec’s cancellation; a second time: 422 PAGAMENTO_NAO_PERMITE_CANCELAMENTO', async () => {
    const { paymentId } = await scheduledPayment();
    const res = await pay(server, 'PATCH', `/pix/payments/${paymentId}`, { token, jwt: await sign(tpp, cancel()) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.signed);
    assert.equal(res.body.data.status, 'CANC');
    assert.equal(res.body.data.cancellation.reason, 'CANCELADO_AGENDAMENTO');
    assert.equal(res.body.data.cancellation.cancelledFrom, 'INICIADORA');
    assert.deepEqual(res.body.data.cancellation.cancelledBy, { document: { identification: CARLA_CPF, rel: 'CPF' } });
    assert.equal((await pay(server, 'GET', `/pix/payments/${paymentId}`, { token })).body.data.status, 'CANC');
    assertErrors(await pay(server, 'PATCH', `/pix/payments/${paymentId}`, { token, jwt: await sign(tpp, cancel()) }), 422, 'PAGAMENTO_NAO_PERMITE_CANCELAMENTO');
  });

  test('a settled payment (ACSC) cannot be cancelled; another TPP’s is 404; a bad body is 400', async () => {
    const { accessToken } = await authorised();
    const paymentId = (await payWith(accessToken)).body.data[0].paymentId as string;
    assertErrors(await pay(server, 'PATCH', `/pix/payments/${paymentId}`, { token, jwt: await sign(tpp, cancel()) }), 422, 'PAGAMENTO_NAO_PERMITE_CANCELAMENTO');
    assertErrors(await pay(server, 'PATCH', `/pix/payments/${paymentId}`, { token: otherToken, jwt: await sign(other, cancel()) }), 404, 'NAO_ENCONTRADO');
    assertErrors(await pay(server, 'PATCH', `/pix/payments/${paymentId}`, { token, jwt: await sign(tpp, { ...cancel(), status: 'ACSC' }) }), 400, 'PARAMETRO_INVALIDO');
    assertErrors(await pay(server, 'PATCH', `/pix/payments/${paymentId}`, { token, jwt: await sign(tpp, { status: 'CANC' }) }), 400, 'PARAMETRO_NAO_INFORMADO');
  });

  test('PATCH /pix/payments/consents/{consentId}: the consent’s scheduled payment cancelled; then none left: 422; unknown consent: 404', async () => {
    const { consentId, paymentId } = await scheduledPayment();
    const res = await pay(server, 'PATCH', `/pix/payments/consents/${consentId}`, { token, jwt: await sign(tpp, cancel()), idempotencyKey: randomUUID() });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data.map((p: { paymentId: string }) => p.paymentId), [paymentId]);
    assertErrors(await pay(server, 'PATCH', `/pix/payments/consents/${consentId}`, { token, jwt: await sign(tpp, cancel()), idempotencyKey: randomUUID() }), 422, 'PAGAMENTO_NAO_PERMITE_CANCELAMENTO');
    assertErrors(await pay(server, 'PATCH', `/pix/payments/consents/urn:assent:${randomUUID()}`, { token, jwt: await sign(tpp, cancel()), idempotencyKey: randomUUID() }), 404, 'NAO_ENCONTRADO');
  });
});
