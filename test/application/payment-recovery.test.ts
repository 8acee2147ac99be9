/**
 * Pix payments left RCVD, settled by the sweeper (application/pix-settlement.ts), on real Redis and
 * FerretDB through the running app: the cases an instance that dies mid-request (or a failing executor)
 * leaves behind, each ending with the payment and its consent agreeing, as the TPP reads them:
 * - the executor failed after the consent was consumed: executed again → ACSC, the consent CONSUMED;
 * - stored, then the instance died before consuming: the payment RJCT (never executed), the consent
 *   REJECTED by the bank and its token dead;
 * - consumed, then the instance died before executing: executed → ACSC;
 * - a payment still inside the grace period (its request may be running) is left alone.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/assent.ts';
import { introspect } from '../support/tpp.ts';
import type { PaymentExecutor, PixPaymentInstruction } from '../../src/consent/payment-executor.ts';
import { samplePayment } from '../contract/payment-repository.contract.ts';
import { authorisedPaymentConsent, CARLA_CORRENTE, PAYMENTS_CONFIG, makePaymentsTpp, pay, paymentsToken, pixOrder, sign, type PaymentsTpp } from '../dialects/br-payments/helpers.ts';

/** The bank's payment system: fails while told to, records every call. */
const executed: PixPaymentInstruction[] = [];
let failing = false;
const executor: PaymentExecutor = {
  async execute(instruction) {
    executed.push(instruction);
    if (failing) throw new Error('the payment system is down');
    return { status: 'ACSC' };
  },
};

let server: TestServer;
let tpp: PaymentsTpp;
let ccToken: string;

before(async () => {
  tpp = await makePaymentsTpp('recovery-tpp');
  // a sweeper that exists but never ticks by itself: the tests run it
  server = await startTestServer({ clients: [tpp.config], ...PAYMENTS_CONFIG, consent: { sweepIntervalSeconds: 3600 } }, { start: { paymentExecutor: executor } });
  ccToken = await paymentsToken(server, tpp);
});
after(() => server.stop());
beforeEach(() => {
  executed.length = 0;
  failing = false;
});

const authorised = () => authorisedPaymentConsent(server, tpp, ccToken);

/** Moves a payment's creation time back past the recovery's grace period (as if it was left long ago). */
async function age(paymentId: string): Promise<void> {
  const db = server.assent.stores.db!;
  await db.collection('pix_payments').updateOne({ _id: paymentId as never }, { $set: { createdAt: new Date(Date.now() - 10 * 60_000) } });
}

async function sweep() {
  const run = await server.assent.sweeper!.run();
  assert.equal(run.leader, true);
  return run.tasks['payment-recovery'];
}

/** What the TPP reads (client_credentials): the payment's and the consent's status. */
async function seen(paymentId: string, consentId: string) {
  const payment = await pay(server, 'GET', `/pix/payments/${paymentId}`, { token: ccToken });
  const consent = await pay(server, 'GET', `/consents/${consentId}`, { token: ccToken });
  return { payment: payment.body.data, consent: consent.body.data };
}

describe('payments left RCVD', () => {
  test('the executor failed after the consent was consumed: the sweep hands it over again → ACSC; the consent stays CONSUMED', async () => {
    const { consentId, accessToken } = await authorised();
    failing = true;
    const res = await pay(server, 'POST', '/pix/payments', { token: accessToken, jwt: await sign(tpp, [pixOrder()]), idempotencyKey: randomUUID() });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const paymentId = res.body.data[0].paymentId as string;
    assert.equal(res.body.data[0].status, 'RCVD');
    failing = false;
    assert.equal(await sweep(), 0, 'inside the grace period: left alone');
    assert.equal((await seen(paymentId, consentId)).payment.status, 'RCVD');
    await age(paymentId);
    assert.equal(await sweep(), 1);
    const after = await seen(paymentId, consentId);
    assert.equal(after.payment.status, 'ACSC');
    assert.equal(after.consent.status, 'CONSUMED');
    assert.deepEqual(executed.map((e) => e.paymentId), [paymentId, paymentId], 'the same payment, handed over a second time');
    assert.equal(await sweep(), 0, 'nothing left');
  });

  test('stored, then the instance died before consuming: RJCT and never executed; the consent REJECTED by the bank, its token dead', async () => {
    const { consentId, accessToken } = await authorised();
    const left = samplePayment({ consentId, clientId: tpp.clientId, debtorAccount: { ...CARLA_CORRENTE, accountType: 'CACC' }, createdAt: new Date(Date.now() - 10 * 60_000) });
    await server.assent.stores.payments.create(left);
    assert.equal(await sweep(), 1);
    const after = await seen(left.paymentId, consentId);
    assert.equal(after.payment.status, 'RJCT');
    assert.equal(after.payment.rejectionReason.code, 'FALHA_INFRAESTRUTURA_DETENTORA');
    assert.equal(after.consent.status, 'REJECTED');
    assert.equal(after.consent.rejectionReason.code, 'FALHA_INFRAESTRUTURA');
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    assert.deepEqual(executed, [], 'never executed');
  });

  test('consumed, then the instance died before executing: the sweep executes it → ACSC', async () => {
    const { consentId } = await authorised();
    const left = samplePayment({ consentId, clientId: tpp.clientId, debtorAccount: { ...CARLA_CORRENTE, accountType: 'CACC' }, createdAt: new Date(Date.now() - 10 * 60_000) });
    await server.assent.stores.payments.create(left);
    const consent = (await server.assent.consents.get(consentId))!;
    await server.assent.consents.consume(consent, tpp.clientId, { paymentId: left.paymentId });
    assert.equal(await sweep(), 1);
    const after = await seen(left.paymentId, consentId);
    assert.equal(after.payment.status, 'ACSC');
    assert.equal(after.consent.status, 'CONSUMED');
    assert.deepEqual(executed.map((e) => e.endToEndId), [left.endToEndId]);
  });

  test('an executor still failing leaves it RCVD for the next sweep, and says so in the log', async () => {
    const { consentId } = await authorised();
    const left = samplePayment({ consentId, clientId: tpp.clientId, debtorAccount: { ...CARLA_CORRENTE, accountType: 'CACC' }, createdAt: new Date(Date.now() - 10 * 60_000) });
    await server.assent.stores.payments.create(left);
    await server.assent.consents.consume((await server.assent.consents.get(consentId))!, tpp.clientId, { paymentId: left.paymentId });
    failing = true;
    assert.equal(await sweep(), 0);
    assert.equal((await seen(left.paymentId, consentId)).payment.status, 'RCVD');
    assert.ok(server.logs.some((l) => l.includes('payment executor failed') && l.includes(left.paymentId)));
    failing = false;
    assert.equal(await sweep(), 1);
    assert.equal((await seen(left.paymentId, consentId)).payment.status, 'ACSC');
  });
});
