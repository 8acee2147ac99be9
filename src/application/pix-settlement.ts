/**
 * What becomes of a stored Pix payment, written once for the request that stored it
 * (dialects/br-payments/routes.ts) and for the payments a crash or a failing executor left `RCVD`
 * (PaymentRecovery, run by the sweeper after the consent batches).
 *
 * The invariant: a payment is executed only when its consent was consumed by it (CONSUMED with its
 * paymentId), and a payment whose consent was not consumed by it is rejected (`RJCT`, never executed),
 * with a consent still AUTHORISED rejected by the bank (its one payment slot is taken). So what the TPP
 * reads for the payment and for the consent agree, whatever broke in between:
 *
 *   stored RCVD ──consume ok──► execute ──► the executor's status (ACSC, SCHD, PDNG, RJCT, …)
 *        │                         └─ failed / instance gone: stays RCVD → recovery executes it again
 *        └─ consume failed / instance gone before it: RJCT (consent AUTHORISED → REJECTED first)
 *
 * The recovery takes payments `RCVD` for longer than `graceSeconds` (a request stores and consumes
 * within milliseconds; the grace keeps it off payments whose request is still running). Rejecting
 * moves the consent first: if the request consumed it meanwhile, the rejection finds it CONSUMED by the
 * payment and the payment is executed instead, never rejected.
 */
import type { ConsentService } from './consents.ts';
import { ConsentError } from '../consent/errors.ts';
import type { PaymentExecutor } from '../consent/payment-executor.ts';
import type { PaymentRepository } from '../consent/payment-repository.ts';
import { withExecution, type PixPayment } from '../consent/pix-payment.ts';
import { effectiveStatus } from '../consent/state.ts';
import type { Consent } from '../consent/types.ts';
import type { Logger } from '../log.ts';

export interface SettlementDeps {
  consents: ConsentService;
  payments: PaymentRepository;
  executor: PaymentExecutor;
  log: Logger;
  now: () => Date;
}

/**
 * Hands a payment whose consent it consumed to the executor and records the answer. An executor that
 * fails leaves it RCVD (logged; the recovery calls the executor again later). Returns the payment as stored.
 */
export async function executePayment(deps: SettlementDeps, payment: PixPayment): Promise<PixPayment> {
  try {
    const executed = await deps.executor.execute({
      paymentId: payment.paymentId,
      consentId: payment.consentId,
      endToEndId: payment.endToEndId,
      amount: payment.payment.amount,
      currency: 'BRL',
      date: payment.date,
      scheduled: payment.scheduled,
      creditorAccount: payment.creditorAccount,
      debtorAccount: payment.debtorAccount,
      ...(payment.proxy !== undefined ? { proxy: payment.proxy } : {}),
    });
    return (await deps.payments.update(payment.paymentId, { revision: payment.revision }, withExecution(payment, executed, deps.now()))) ?? payment;
  } catch (err) {
    // the payment was received; the bank's system answers later (GET shows its status)
    deps.log.error({ paymentId: payment.paymentId, error: (err as Error).name }, 'payment executor failed; the payment stays RCVD');
    return payment;
  }
}

const consumedBy = (consent: Consent | null, payment: PixPayment) => consent?.status === 'CONSUMED' && consent.details?.paymentId === payment.paymentId;

/**
 * The consent was not consumed for `payment` (`lostRace`: it had stopped being AUTHORISED; else a
 * failure): a consent still AUTHORISED is rejected by the bank, then the payment is rejected. If the
 * consent turns out consumed by this very payment, it is executed instead. Returns the payment's outcome.
 */
export async function refuseUnconsumed(deps: SettlementDeps, payment: PixPayment, lostRace: boolean): Promise<'rejected' | 'executed' | 'unchanged'> {
  let consent = await deps.consents.get(payment.consentId).catch(() => null);
  if (consent && !consumedBy(consent, payment) && effectiveStatus(consent, deps.now()) === 'AUTHORISED') {
    consent = await deps.consents
      .revokeByPsu(consent, {
        actor: 'ASPSP',
        reason: 'its payment could not be recorded',
        rejection: { rejectedBy: 'ASPSP', reason: { code: 'FALHA_INFRAESTRUTURA', additionalInformation: 'Falha de infraestrutura ao registrar o pagamento.' } },
      })
      .catch(() => null);
    // (a failed write: the payment stays RCVD and the recovery tries again)
    if (!consent) return 'unchanged';
  }
  if (consumedBy(consent, payment)) {
    await executePayment(deps, payment);
    return 'executed';
  }
  const rejectionReason = lostRace
    ? { code: 'PAGAMENTO_RECUSADO_DETENTORA', detail: 'O consentimento deixou de estar AUTHORISED antes do pagamento.' }
    : { code: 'FALHA_INFRAESTRUTURA_DETENTORA', detail: 'Falha ao registrar o consumo do consentimento.' };
  const rejected = await deps.payments.update(payment.paymentId, { revision: payment.revision }, { status: 'RJCT', rejectionReason, updatedAt: deps.now() }).catch(() => null);
  return rejected ? 'rejected' : 'unchanged';
}

/** Settles the payments left RCVD (see the header); run by the sweeper, under its lease. */
export class PaymentRecovery {
  readonly #deps: SettlementDeps;
  readonly #graceMs: number;

  constructor(deps: SettlementDeps, options: { graceSeconds?: number } = {}) {
    this.#deps = deps;
    this.#graceMs = (options.graceSeconds ?? 120) * 1000;
  }

  /** At most `limit` payments, oldest first; how many it moved (executed or rejected). */
  async run(limit: number): Promise<number> {
    const stale = await this.#deps.payments.findReceivedBefore(new Date(this.#deps.now().getTime() - this.#graceMs), limit);
    let moved = 0;
    for (const payment of stale) {
      const consent = await this.#deps.consents.get(payment.consentId).catch((err: unknown) => {
        if (err instanceof ConsentError) return null;
        throw err;
      });
      if (consumedBy(consent, payment)) {
        const after = await executePayment(this.#deps, payment);
        if (after.status !== 'RCVD') moved++;
        this.#deps.log.warn({ paymentId: payment.paymentId, consentId: payment.consentId, status: after.status }, 'a payment left RCVD after its consent was consumed was handed to the executor again');
        continue;
      }
      const outcome = await refuseUnconsumed(this.#deps, payment, false);
      if (outcome !== 'unchanged') moved++;
      this.#deps.log.warn({ paymentId: payment.paymentId, consentId: payment.consentId, outcome }, 'a payment left RCVD without its consent consumed was settled');
    }
    return moved;
  }
}
