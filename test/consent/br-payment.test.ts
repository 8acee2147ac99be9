/**
 * Open Finance Brasil payment consents, the pure part: request validation (shape → issues, business rules
 * → the spec's 422 codes), the regime's graph and rejection reasons, the timeouts, payment/consent
 * divergence, R$ formatting, and the demo executor.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  authorisationDeadline,
  brasiliaDate,
  consumptionDeadline,
  formatBrl,
  paymentDivergence,
  validateBrPaymentConsentRequest,
  type BrPaymentConsentRequest,
} from '../../src/consent/br-payment.ts';
import { settlingExecutor } from '../../src/consent/payment-executor.ts';
import { brazilPayment } from '../../src/consent/regimes/brazil-payment.ts';
import { CONSENT_STATUSES, isActive, isAwaiting, isEnded, regimeOf, tokensOutlive } from '../../src/consent/regimes/index.ts';
import { approve, createConsent, deny, expire, rejectStale, terminateByTpp, transition } from '../../src/consent/state.ts';
import type { Consent } from '../../src/consent/types.ts';

// 2026-03-01 23:30 in Brasília is already 03-02 in UTC: the payment day is Brasília's
const NOW = new Date('2026-03-02T02:30:00.000Z');
const TODAY = '2026-03-01';

function body(payment: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return {
    data: {
      loggedUser: { document: { identification: '11144477735', rel: 'CPF' } },
      creditor: { personType: 'PESSOA_JURIDICA', cpfCnpj: '11222333000181', name: 'Padaria Pão Quente Ltda' },
      payment: {
        type: 'PIX',
        date: TODAY,
        currency: 'BRL',
        amount: '10.00',
        details: {
          localInstrument: 'DICT',
          proxy: 'padaria@example.com',
          creditorAccount: { ispb: '12345678', issuer: '1774', number: '1234567890', accountType: 'CACC' },
        },
        ...payment,
      },
      ...data,
    },
  };
}

const validate = (b: unknown) => validateBrPaymentConsentRequest(b, { now: NOW });
function ruleOf(b: unknown): string | undefined {
  const r = validate(b);
  return !r.ok && 'rule' in r ? r.rule.code : undefined;
}
function issuesOf(b: unknown): string[] {
  const r = validate(b);
  return !r.ok && 'issues' in r ? r.issues.map((i) => `${i.path}:${i.code}`) : [];
}

describe('payment consent request', () => {
  test('a good request: normalised, with the Brasília day', () => {
    const r = validate(body());
    assert.ok(r.ok);
    assert.equal(r.value.payment.date, TODAY);
    assert.equal(r.value.payment.scheduled, false);
    assert.equal(r.value.payment.amount, '10.00');
    assert.equal(brasiliaDate(NOW), TODAY);
    const scheduled = validate(body({ date: undefined, schedule: { single: { date: '2026-03-02' } } }));
    assert.ok(scheduled.ok);
    assert.deepEqual([scheduled.value.payment.date, scheduled.value.payment.scheduled], ['2026-03-02', true]);
    const withDebtor = validate(body({}, { debtorAccount: { ispb: '99999999', issuer: '0001', number: '55', accountType: 'SVGS' } }));
    assert.ok(withDebtor.ok && withDebtor.value.debtorAccount?.number === '55');
  });

  test('shape errors: required and invalid fields, with their paths', () => {
    assert.deepEqual(issuesOf({ data: { ...body().data, creditor: undefined } }), ['data.creditor:required']);
    assert.deepEqual(issuesOf(body({ amount: '10' })), ['data.payment.amount:invalid_value']);
    assert.deepEqual(issuesOf(body({ amount: 10 })), ['data.payment.amount:invalid_value']);
    assert.deepEqual(issuesOf(body({ amount: '10.001' })), ['data.payment.amount:invalid_value']);
    assert.deepEqual(issuesOf(body({ date: '2026-02-30' })), ['data.payment.date:invalid_value']);
    assert.deepEqual(issuesOf(body({ extra: 1 })), ['data.payment.extra:unknown_field']);
    assert.deepEqual(issuesOf(body({}, { loggedUser: { document: { identification: '11144477736', rel: 'CPF' } } })), [
      'data.loggedUser.document.identification:invalid_value',
    ]);
    assert.deepEqual(issuesOf(body({}, { creditor: { personType: 'PESSOA_NATURAL', cpfCnpj: '11222333000181', name: 'X' } })), [
      'data.creditor.cpfCnpj:invalid_value',
    ]);
    assert.deepEqual(issuesOf(body({}, { creditor: { personType: 'PESSOA_NATURAL', cpfCnpj: '11144477735', name: 'Zé; DROP' } })), [
      'data.creditor.name:invalid_value',
    ]);
  });

  test("business rules: the spec's 422 codes", () => {
    assert.equal(ruleOf(body({ type: 'TED' })), 'FORMA_PAGAMENTO_INVALIDA');
    assert.equal(ruleOf(body({ currency: 'USD' })), 'PARAMETRO_INVALIDO');
    assert.equal(ruleOf(body({ amount: '0.00' })), 'DETALHE_PAGAMENTO_INVALIDO');
    assert.equal(ruleOf(body({ date: undefined })), 'PARAMETRO_INVALIDO', 'neither date nor schedule');
    assert.equal(ruleOf(body({ schedule: { single: { date: '2026-03-05' } } })), 'PARAMETRO_INVALIDO', 'both');
    assert.equal(ruleOf(body({ date: '2026-03-02' })), 'DATA_PAGAMENTO_INVALIDA', 'an immediate payment is for today (Brasília)');
    assert.equal(ruleOf(body({ date: undefined, schedule: { single: { date: TODAY } } })), 'DATA_PAGAMENTO_INVALIDA', 'schedule: D+1 at least');
    assert.equal(ruleOf(body({ date: undefined, schedule: { single: { date: '2028-03-01' } } })), 'DATA_PAGAMENTO_INVALIDA', 'D+731');
    assert.equal(validate(body({ date: undefined, schedule: { single: { date: '2028-02-29' } } })).ok, true, 'D+730');
    const details = body().data.payment.details;
    assert.equal(ruleOf(body({ details: { ...details, proxy: undefined } })), 'DETALHE_PAGAMENTO_INVALIDO', 'DICT needs a proxy');
    assert.equal(ruleOf(body({ details: { ...details, localInstrument: 'MANU' } })), 'DETALHE_PAGAMENTO_INVALIDO', 'MANU has none');
    assert.equal(validate(body({ details: { ...details, localInstrument: 'MANU', proxy: undefined } })).ok, true);
    assert.equal(ruleOf(body({ details: { ...details, localInstrument: 'QRES' } })), 'DETALHE_PAGAMENTO_INVALIDO', 'QRES needs a qrCode');
    assert.equal(
      ruleOf(body({ details: { ...details, creditorAccount: { ispb: '12345678', number: '1', accountType: 'CACC' } } })),
      'DETALHE_PAGAMENTO_INVALIDO',
      'CACC needs an issuer',
    );
  });
});

function paymentConsent(status: Consent['status'] = 'AWAITING_AUTHORISATION'): Consent {
  const created = createConsent(
    {
      clientId: 'tpp-br',
      type: 'br-payment',
      access: {},
      recurringIndicator: false,
      validUntil: TODAY,
      expiresAt: authorisationDeadline(NOW),
      frequencyPerDay: 1,
      combinedServiceIndicator: false,
    },
    { now: NOW, newId: () => 'urn:assent:p1' },
  );
  return { ...created, status, authorisations: [{ id: 'a-1', scaStatus: 'scaMethodSelected', createdAt: NOW, updatedAt: NOW, history: [] }] };
}

describe('payment consent regime', () => {
  test('the graph: AWAITING_AUTHORISATION → AUTHORISED → CONSUMED, → REJECTED', () => {
    assert.equal(regimeOf('br-payment'), brazilPayment);
    assert.deepEqual(brazilPayment.transitions, {
      AWAITING_AUTHORISATION: ['AUTHORISED', 'REJECTED'],
      AUTHORISED: ['REJECTED', 'CONSUMED'],
      CONSUMED: [],
      REJECTED: [],
    });
    assert.ok(isAwaiting('AWAITING_AUTHORISATION') && isActive('AUTHORISED') && isEnded('CONSUMED') && isEnded('REJECTED'));
    assert.equal(CONSENT_STATUSES.filter((s) => s === 'AUTHORISED').length, 1, 'shared statuses listed once');
    // CONSUMED leaves the payment's token to expire (idempotent replay); every other end revokes tokens
    assert.deepEqual(CONSENT_STATUSES.filter((s) => tokensOutlive(s)), ['CONSUMED']);
  });

  test('every transition, with its rejection reason', () => {
    const later = new Date(NOW.getTime() + 60_000);
    const approval = { authorisationId: 'a-1', psuId: 'psu-1', grantedAccounts: [], grantId: 'g-1' };
    assert.equal(approve(paymentConsent(), approval, { now: later }).set.status, 'AUTHORISED');
    const reason = (c: ReturnType<typeof deny> | null) => [c?.set.status, c?.set.rejection?.rejectedBy, c?.set.rejection?.reason.code];
    assert.deepEqual(reason(deny(paymentConsent(), { authorisationId: 'a-1' }, { now: later })), ['REJECTED', 'USER', 'REJEITADO_USUARIO']);
    assert.deepEqual(reason(rejectStale(paymentConsent(), { now: later })), ['REJECTED', 'ASPSP', 'TEMPO_EXPIRADO_AUTORIZACAO']);
    assert.deepEqual(reason(terminateByTpp(paymentConsent(), { now: later })), ['REJECTED', 'TPP', 'NAO_INFORMADO']);
    // the clock: 5 minutes awaiting, 60 minutes authorised
    const awaitingPast = new Date(authorisationDeadline(NOW).getTime() + 1);
    assert.deepEqual(reason(expire(paymentConsent(), { now: awaitingPast })), ['REJECTED', 'ASPSP', 'TEMPO_EXPIRADO_AUTORIZACAO']);
    const authorised = { ...paymentConsent('AUTHORISED'), expiresAt: consumptionDeadline(NOW) };
    assert.deepEqual(reason(expire(authorised, { now: new Date(consumptionDeadline(NOW).getTime() + 1) })), [
      'REJECTED',
      'ASPSP',
      'TEMPO_EXPIRADO_CONSUMO',
    ]);
    const consumed = transition(authorised, 'consume', { now: later }, { actor: 'TPP' });
    assert.equal(consumed.set.status, 'CONSUMED');
    assert.deepEqual(consumed.history?.[0] && [consumed.history[0].from, consumed.history[0].to], ['AUTHORISED', 'CONSUMED']);
    assert.throws(() => transition({ ...authorised, status: 'CONSUMED' }, 'consume', { now: later }, { actor: 'TPP' }), /CONSUMED|state/i);
    assert.throws(() => transition(paymentConsent(), 'consume', { now: later }, { actor: 'TPP' }), /AWAITING|state/i);
    assert.equal(authorisationDeadline(NOW).getTime() - NOW.getTime(), 5 * 60_000);
    assert.equal(consumptionDeadline(NOW).getTime() - NOW.getTime(), 60 * 60_000);
  });
});

describe('a payment against its consent', () => {
  const r = validate(body());
  assert.ok(r.ok);
  const consent: BrPaymentConsentRequest = r.value;
  const order = {
    date: TODAY,
    payment: { amount: '10.00', currency: 'BRL' },
    localInstrument: 'DICT',
    proxy: 'padaria@example.com',
    creditorAccount: { ispb: '12345678', issuer: '1774', number: '1234567890', accountType: 'CACC' as const },
  };
  test('the same payment: no divergence; any difference is named', () => {
    assert.deepEqual(paymentDivergence(consent, order), []);
    assert.deepEqual(paymentDivergence(consent, { ...order, payment: { amount: '10.01', currency: 'BRL' } }), ['payment.amount']);
    assert.deepEqual(paymentDivergence(consent, { ...order, date: '2026-03-02' }), ['date']);
    assert.deepEqual(paymentDivergence(consent, { ...order, proxy: 'other@example.com' }), ['proxy']);
    assert.deepEqual(paymentDivergence(consent, { ...order, creditorAccount: { ...order.creditorAccount, number: '1' } }), ['creditorAccount']);
  });

  test('R$ formatting and the demo executor', async () => {
    assert.equal(formatBrl('10.00'), 'R$ 10,00');
    assert.equal(formatBrl('1234567.89'), 'R$ 1.234.567,89');
    assert.equal(formatBrl('0.05'), 'R$ 0,05');
    const base = { paymentId: 'p', consentId: 'c', endToEndId: 'E', amount: '10.00', currency: 'BRL' as const, date: TODAY, creditorAccount: order.creditorAccount, debtorAccount: order.creditorAccount };
    assert.deepEqual(await settlingExecutor.execute({ ...base, scheduled: false }), { status: 'ACSC' });
    assert.deepEqual(await settlingExecutor.execute({ ...base, scheduled: true }), { status: 'SCHD' });
  });
});
