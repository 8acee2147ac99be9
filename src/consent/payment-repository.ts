/**
 * Storage of PIX payments. Implementations: storage/memory/payment-repository.ts and
 * storage/mongo/payment-repository.ts; both pass test/contract/payment-repository.contract.ts.
 * A consent has at most one payment: `create` refuses a second (PaymentExists), whatever its id.
 */
import type { PixPayment } from './pix-payment.ts';

export class PaymentExists extends Error {
  override name = 'PaymentExists';
}

export interface PaymentRepository {
  /** stores a new payment (revision 0); PaymentExists when its id or its consent already has one */
  create(payment: PixPayment): Promise<void>;
  findById(paymentId: string): Promise<PixPayment | null>;
  findByConsent(consentId: string): Promise<PixPayment[]>;
  /**
   * Payments still `RCVD` that were stored before `receivedBefore`, oldest first, at most `limit`: the
   * ones a crash or a failed executor call left behind (application/payment-recovery.ts). Indexed.
   */
  findReceivedBefore(receivedBefore: Date, limit: number): Promise<PixPayment[]>;
  /**
   * One conditional update: applies `set` only while the stored payment still has `expect.revision`;
   * the payment after it (revision + 1), or null when another writer got there first.
   */
  update(paymentId: string, expect: { revision: number }, set: Partial<Omit<PixPayment, 'paymentId' | 'consentId' | 'clientId' | 'revision' | 'createdAt'>>): Promise<PixPayment | null>;
}
