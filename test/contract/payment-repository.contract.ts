/**
 * The PaymentRepository contract: every implementation (memory, MongoDB) must pass it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { PaymentExists, type PaymentRepository } from '../../src/consent/payment-repository.ts';
import type { PixPayment } from '../../src/consent/pix-payment.ts';

export function samplePayment(overrides: Partial<PixPayment> = {}): PixPayment {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    paymentId: randomUUID(),
    consentId: `urn:assent:${randomUUID()}`,
    clientId: 'tpp-1',
    endToEndId: 'E00360305202612021500AbCdEfGhIjK',
    localInstrument: 'DICT',
    payment: { amount: '10.00', currency: 'BRL' },
    creditorAccount: { ispb: '12345678', issuer: '0001', number: '1234567890', accountType: 'CACC' },
    debtorAccount: { ispb: '00360305', issuer: '0001', number: '9795493', accountType: 'CACC' },
    cnpjInitiator: '11222333000181',
    proxy: 'padaria@example.com',
    remittanceInformation: 'pão',
    date: '2026-12-02',
    scheduled: false,
    status: 'RCVD',
    createdAt: now,
    updatedAt: now,
    revision: 0,
    ...overrides,
  };
}

export function paymentRepositoryContract(name: string, make: () => Promise<PaymentRepository> | PaymentRepository): void {
  describe(`PaymentRepository contract (${name})`, () => {
    it('stores and finds a payment by id and by consent, as it was given', async () => {
      const repo = await make();
      const payment = samplePayment();
      await repo.create(payment);
      assert.deepEqual(await repo.findById(payment.paymentId), payment);
      assert.deepEqual(await repo.findByConsent(payment.consentId), [payment]);
      assert.equal(await repo.findById(randomUUID()), null);
      assert.deepEqual(await repo.findByConsent('urn:assent:none'), []);
    });

    it('one payment per consent: a second (another id) is PaymentExists, also when 20 arrive at once', async () => {
      const repo = await make();
      const first = samplePayment();
      await repo.create(first);
      await assert.rejects(repo.create(samplePayment({ consentId: first.consentId })), PaymentExists);
      const consentId = `urn:assent:${randomUUID()}`;
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => repo.create(samplePayment({ consentId }))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof PaymentExists));
      assert.equal((await repo.findByConsent(consentId)).length, 1);
    });

    it('findReceivedBefore: only RCVD payments stored before the cut-off, oldest first, at most the limit', async () => {
      const repo = await make();
      const at = (seconds: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, seconds));
      const clientId = `tpp-${randomUUID()}`;
      const old1 = samplePayment({ clientId, createdAt: at(1), updatedAt: at(1) });
      const old2 = samplePayment({ clientId, createdAt: at(2), updatedAt: at(2) });
      const settled = samplePayment({ clientId, createdAt: at(0), updatedAt: at(0), status: 'ACSC' });
      const fresh = samplePayment({ clientId, createdAt: at(30), updatedAt: at(30) });
      for (const p of [old2, settled, fresh, old1]) await repo.create(p);
      const mine = (list: PixPayment[]) => list.filter((p) => p.clientId === clientId).map((p) => p.paymentId);
      assert.deepEqual(mine(await repo.findReceivedBefore(at(10), 100)), [old1.paymentId, old2.paymentId]);
      assert.deepEqual(await repo.findReceivedBefore(at(10), 100).then((l) => l.find((p) => p.paymentId === old1.paymentId)), old1);
      assert.equal((await repo.findReceivedBefore(at(10), 1)).length, 1);
      await repo.update(old1.paymentId, { revision: 0 }, { status: 'ACSC', updatedAt: at(40) });
      assert.deepEqual(mine(await repo.findReceivedBefore(at(60), 100)), [old2.paymentId, fresh.paymentId]);
    });

    it('update is conditional on the revision: one of two writers wins; the cancellation round-trips', async () => {
      const repo = await make();
      const payment = samplePayment({ status: 'SCHD', scheduled: true });
      await repo.create(payment);
      const cancelledAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      const cancellation = { reason: 'CANCELADO_AGENDAMENTO' as const, cancelledFrom: 'INICIADORA' as const, cancelledAt, cancelledBy: { document: { identification: '39053344705', rel: 'CPF' } } };
      const [a, b] = await Promise.all([
        repo.update(payment.paymentId, { revision: 0 }, { status: 'CANC', cancellation, updatedAt: cancelledAt }),
        repo.update(payment.paymentId, { revision: 0 }, { status: 'ACSC', updatedAt: cancelledAt }),
      ]);
      assert.equal([a, b].filter(Boolean).length, 1);
      const stored = (await repo.findById(payment.paymentId))!;
      assert.equal(stored.revision, 1);
      if (stored.status === 'CANC') assert.deepEqual(stored.cancellation, cancellation);
      assert.equal(await repo.update(payment.paymentId, { revision: 0 }, { status: 'RJCT' }), null);
    });
  });
}
