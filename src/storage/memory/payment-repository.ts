/** The in-process PaymentRepository (demo mode, tests). */
import { PaymentExists, type PaymentRepository } from '../../consent/payment-repository.ts';
import type { PixPayment } from '../../consent/pix-payment.ts';

export class MemoryPaymentRepository implements PaymentRepository {
  readonly #payments = new Map<string, PixPayment>();

  async create(payment: PixPayment): Promise<void> {
    if (this.#payments.has(payment.paymentId) || [...this.#payments.values()].some((p) => p.consentId === payment.consentId)) {
      throw new PaymentExists(`a payment exists for consent ${payment.consentId}`);
    }
    this.#payments.set(payment.paymentId, structuredClone({ ...payment, revision: 0 }));
  }

  async findById(paymentId: string): Promise<PixPayment | null> {
    const found = this.#payments.get(paymentId);
    return found ? structuredClone(found) : null;
  }

  async findByConsent(consentId: string): Promise<PixPayment[]> {
    return [...this.#payments.values()].filter((p) => p.consentId === consentId).map((p) => structuredClone(p));
  }

  async findReceivedBefore(receivedBefore: Date, limit: number): Promise<PixPayment[]> {
    return [...this.#payments.values()]
      .filter((p) => p.status === 'RCVD' && p.createdAt.getTime() < receivedBefore.getTime())
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit)
      .map((p) => structuredClone(p));
  }

  async update(paymentId: string, expect: { revision: number }, set: Partial<PixPayment>): Promise<PixPayment | null> {
    const current = this.#payments.get(paymentId);
    if (!current || current.revision !== expect.revision) return null;
    const next = { ...current, ...structuredClone(set), paymentId, revision: current.revision + 1 } as PixPayment;
    this.#payments.set(paymentId, next);
    return structuredClone(next);
  }
}
