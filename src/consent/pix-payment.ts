/**
 * A PIX payment made under a payment consent (Payments API 4.0.0 POST /pix/payments), its status and
 * its cancellation. No I/O: the dialect validates the order and calls these; storage keeps PixPayment
 * behind PaymentRepository (./payment-repository.ts).
 *
 *   RCVD ──executor──► ACSC | SCHD | PDNG | ACCP | ACPD | RJCT  (whatever the bank's PaymentExecutor answers)
 *   SCHD | PDNG ──cancel (the TPP, for the customer)──► CANC
 *     (a scheduled payment until 23:59 in Brasília of the day before its date)
 */
import { z } from 'zod';
import { brasiliaDate, type BrPaymentAccount, type PixPaymentOrder } from './br-payment.ts';
import { issuesOf } from './br-validation.ts';
import type { ValidationIssue } from './errors.ts';
import type { PaymentExecutorResult, PixPaymentStatus } from './payment-executor.ts';

export interface PixCancellation {
  reason: 'CANCELADO_PENDENCIA' | 'CANCELADO_AGENDAMENTO';
  cancelledFrom: 'INICIADORA';
  cancelledAt: Date;
  cancelledBy: { document: { identification: string; rel: string } };
}

export interface PixPayment {
  paymentId: string;
  consentId: string;
  /** the TPP that made it */
  clientId: string;
  endToEndId: string;
  localInstrument: string;
  payment: { amount: string; currency: string };
  creditorAccount: BrPaymentAccount;
  debtorAccount: BrPaymentAccount;
  cnpjInitiator: string;
  proxy?: string;
  qrCode?: string;
  remittanceInformation?: string;
  transactionIdentification?: string;
  ibgeTownCode?: string;
  authorisationFlow?: string;
  /** the Brasília day it settles on */
  date: string;
  scheduled: boolean;
  status: PixPaymentStatus;
  rejectionReason?: { code: string; detail: string };
  cancellation?: PixCancellation;
  createdAt: Date;
  updatedAt: Date;
  /** increases with every stored change: the optimistic-concurrency guard */
  revision: number;
}

const E2E = /^E(\d{8})(\d{4})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(2[0-3]|[01]\d)([0-5]\d)[a-zA-Z0-9]{11}$/;
const account = z.strictObject({
  ispb: z.string().regex(/^[0-9]{8}$/, 'must be 8 digits'),
  issuer: z.string().regex(/^[0-9]{1,4}$/, 'must be 1 to 4 digits').optional(),
  number: z.string().regex(/^[0-9]{1,20}$/, 'must be 1 to 20 digits'),
  accountType: z.enum(['CACC', 'SVGS', 'TRAN']),
});

const order = z.strictObject({
  endToEndId: z.string().regex(E2E, 'must be an endToEndId (E, ISPB, yyyyMMddHHmm UTC, 11 characters)'),
  localInstrument: z.enum(['MANU', 'DICT', 'QRDN', 'QRES', 'INIC']),
  payment: z.strictObject({
    amount: z.string().max(19).regex(/^\d{1,16}\.\d{2}$/, 'must be a decimal with two places, such as 10.00'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be a currency code such as BRL'),
  }),
  creditorAccount: account,
  remittanceInformation: z.string().max(140).optional(),
  qrCode: z.string().max(512).optional(),
  proxy: z.string().max(77).optional(),
  cnpjInitiator: z.string().regex(/^\d{14}$/, 'must be 14 digits'),
  transactionIdentification: z.string().regex(/^[a-zA-Z0-9]{1,35}$/, 'must be 1 to 35 letters or digits').optional(),
  ibgeTownCode: z.string().regex(/^\d{7}$/, 'must be 7 digits').optional(),
  authorisationFlow: z.enum(['HYBRID_FLOW', 'CIBA_FLOW', 'FIDO_FLOW']).optional(),
  consentId: z.string().max(256).optional(),
});

export const pixPaymentRequestSchema = z.strictObject({ data: z.array(order).min(1) });
export type PixOrderInput = z.infer<typeof order>;

export type PixOrderValidation = { ok: true; value: PixOrderInput[] } | { ok: false; issues: ValidationIssue[] };

export function validatePixPaymentRequest(body: unknown): PixOrderValidation {
  const parsed = pixPaymentRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error, body) };
  return { ok: true, value: parsed.data.data };
}

/** The Brasília day an endToEndId names (its yyyyMMddHHmm is UTC). */
export function endToEndDate(endToEndId: string): string {
  const m = E2E.exec(endToEndId)!;
  return brasiliaDate(new Date(Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]))));
}

/** What paymentDivergence compares, from a validated order. */
export function orderOf(input: PixOrderInput): PixPaymentOrder {
  return {
    date: endToEndDate(input.endToEndId),
    payment: input.payment,
    localInstrument: input.localInstrument,
    ...(input.proxy !== undefined ? { proxy: input.proxy } : {}),
    ...(input.qrCode !== undefined ? { qrCode: input.qrCode } : {}),
    creditorAccount: input.creditorAccount,
  };
}

/** The payment after the executor answered. */
export function withExecution(payment: PixPayment, result: PaymentExecutorResult, now: Date): Partial<PixPayment> {
  return {
    status: result.status,
    ...(result.rejectionReason ? { rejectionReason: result.rejectionReason } : {}),
    updatedAt: now,
  };
}

/**
 * Whether the TPP may cancel `payment` at `now`: PDNG any time, SCHD until 23:59 in Brasília of the day
 * before its date; anything else is final or on its way (PAGAMENTO_NAO_PERMITE_CANCELAMENTO).
 */
export function cancellationOf(payment: PixPayment, cancelledBy: PixCancellation['cancelledBy'], now: Date): PixCancellation | undefined {
  if (payment.status === 'PDNG') return { reason: 'CANCELADO_PENDENCIA', cancelledFrom: 'INICIADORA', cancelledAt: now, cancelledBy };
  if (payment.status === 'SCHD' && brasiliaDate(now) < payment.date) {
    return { reason: 'CANCELADO_AGENDAMENTO', cancelledFrom: 'INICIADORA', cancelledAt: now, cancelledBy };
  }
  return undefined;
}

export const pixCancellationSchema = z.strictObject({
  data: z.strictObject({
    status: z.literal('CANC'),
    cancellation: z.strictObject({
      cancelledBy: z.strictObject({
        document: z.strictObject({ identification: z.string().regex(/^\d{11}$/, 'must be 11 digits (CPF)'), rel: z.literal('CPF') }),
      }),
    }),
  }),
});
