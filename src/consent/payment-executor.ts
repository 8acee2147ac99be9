/**
 * The plugin contract a bank implements to move money: Assent decides that a payment is authorised
 * (its consent consumed, exactly once) and hands it over; the executor answers with the payment's
 * status in the spec's vocabulary (EnumPaymentStatusType). The demo executor settles at once.
 */
import type { BrPaymentAccount } from './br-payment.ts';

export type PixPaymentStatus = 'RCVD' | 'CANC' | 'ACCP' | 'ACPD' | 'RJCT' | 'ACSC' | 'PDNG' | 'SCHD';

export interface PixPaymentInstruction {
  paymentId: string;
  consentId: string;
  endToEndId: string;
  amount: string;
  currency: 'BRL';
  /** the Brasília day to settle on */
  date: string;
  scheduled: boolean;
  creditorAccount: BrPaymentAccount;
  debtorAccount: BrPaymentAccount;
  proxy?: string;
}

export interface PaymentExecutorResult {
  status: PixPaymentStatus;
  /** with RJCT: the spec's rejection code (EnumRejectionReasonType) and its detail */
  rejectionReason?: { code: string; detail: string };
}

export interface PaymentExecutor {
  /**
   * Called after the payment's consent was consumed by it. Must not throw for a refused payment: RJCT.
   * Called again for the same payment (same paymentId and endToEndId) when an earlier call threw or its
   * instance died before recording the answer (the sweeper's recovery, application/pix-settlement.ts):
   * execute each payment at most once, keyed by paymentId or endToEndId (the Pix network itself refuses
   * a repeated endToEndId), and answer its current status.
   */
  execute(instruction: PixPaymentInstruction): Promise<PaymentExecutorResult>;
}

/** Settles at once (ACSC), or schedules (SCHD) a payment for a later day. Demo mode only. */
export const settlingExecutor: PaymentExecutor = {
  async execute(instruction) {
    return { status: instruction.scheduled ? 'SCHD' : 'ACSC' };
  },
};
