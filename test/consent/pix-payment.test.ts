/**
 * The PIX payment domain: the Brasília day of an endToEndId, the cancellation window, Brazilian IBANs as
 * payment accounts, and the amount as Intl formats it on the approval page.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brAccountFromIban, sameBrAccount } from '../../src/consent/br-payment.ts';
import { cancellationOf, endToEndDate, validatePixPaymentRequest } from '../../src/consent/pix-payment.ts';
import { formatPaymentAmount, formatPaymentDate } from '../../src/steps/br-payment.ts';
import { samplePayment } from '../contract/payment-repository.contract.ts';

const by = { document: { identification: '39053344705', rel: 'CPF' } };

describe('endToEndId', () => {
  test('its yyyyMMddHHmm is UTC; the day is Brasília’s (UTC−3)', () => {
    assert.equal(endToEndDate('E12345678202612021500AbCdEfGhIjK'), '2026-12-02');
    assert.equal(endToEndDate('E12345678202612030259AbCdEfGhIjK'), '2026-12-02');
    assert.equal(endToEndDate('E12345678202612030300AbCdEfGhIjK'), '2026-12-03');
  });

  test('the order schema refuses a malformed one and unknown fields', () => {
    const order = { endToEndId: 'E12345678202612021500AbCdEfGhIjK', localInstrument: 'MANU', payment: { amount: '1.00', currency: 'BRL' }, creditorAccount: { ispb: '12345678', issuer: '1', number: '1', accountType: 'CACC' }, cnpjInitiator: '11222333000181' };
    assert.equal(validatePixPaymentRequest({ data: [order] }).ok, true);
    assert.equal(validatePixPaymentRequest({ data: [{ ...order, endToEndId: 'E1234567820261302150012345678901' }] }).ok, false);
    assert.equal(validatePixPaymentRequest({ data: [{ ...order, extra: 1 }] }).ok, false);
    assert.equal(validatePixPaymentRequest({ data: [] }).ok, false);
  });
});

describe('cancellation', () => {
  const at = (iso: string) => new Date(iso);
  test('SCHD: until 23:59 in Brasília of the day before its date', () => {
    const scheduled = samplePayment({ status: 'SCHD', scheduled: true, date: '2026-12-10' });
    assert.equal(cancellationOf(scheduled, by, at('2026-12-10T02:59:00Z'))?.reason, 'CANCELADO_AGENDAMENTO'); // 23:59 on the 9th in Brasília
    assert.equal(cancellationOf(scheduled, by, at('2026-12-10T03:00:00Z')), undefined); // 00:00 on the 10th
  });
  test('PDNG any time; ACSC, RJCT, CANC, RCVD never', () => {
    assert.equal(cancellationOf(samplePayment({ status: 'PDNG' }), by, new Date())?.reason, 'CANCELADO_PENDENCIA');
    for (const status of ['ACSC', 'RJCT', 'CANC', 'RCVD'] as const) assert.equal(cancellationOf(samplePayment({ status }), by, new Date()), undefined, status);
  });
});

describe('Brazilian IBANs as payment accounts', () => {
  test('ISPB, branch, account number, type', () => {
    assert.deepEqual(brAccountFromIban('BR18 0036 0305 0000 1000 9795 493C 1'), { ispb: '00360305', issuer: '0001', number: '9795493', accountType: 'CACC' });
    assert.deepEqual(brAccountFromIban('BR1900360305000010009795501P1'), { ispb: '00360305', issuer: '0001', number: '9795501', accountType: 'SVGS' });
    assert.equal(brAccountFromIban('DE89370400440532013000'), undefined);
    assert.equal(brAccountFromIban('BR1800360305000010009795493X1'), undefined);
  });
  test('the same account whatever the zero padding', () => {
    assert.ok(sameBrAccount({ ispb: '00360305', issuer: '1', number: '009795493', accountType: 'CACC' }, { ispb: '00360305', issuer: '0001', number: '9795493', accountType: 'CACC' }));
    assert.ok(!sameBrAccount({ ispb: '00360305', issuer: '0001', number: '9795493', accountType: 'SVGS' }, { ispb: '00360305', issuer: '0001', number: '9795493', accountType: 'CACC' }));
  });
});

describe('the approval page’s amount and day (Intl)', () => {
  test('R$ 1.234,56 in pt-BR, R$1,234.56 in English, exact for any two-decimal string', () => {
    assert.equal(formatPaymentAmount('1234.56', 'pt-BR'), 'R$\u00a01.234,56');
    assert.equal(formatPaymentAmount('10.00', 'en'), 'R$10.00');
    assert.equal(formatPaymentAmount('9999999999999999.99', 'pt-BR'), 'R$\u00a09.999.999.999.999.999,99');
  });
  test('the day, whatever the server’s time zone', () => {
    assert.equal(formatPaymentDate('2026-12-02', 'pt-BR'), '2 de dezembro de 2026');
    assert.equal(formatPaymentDate('2026-12-02', 'en'), 'December 2, 2026');
  });
});
