/**
 * Open Finance Brasil payment consents (Payments API 4.0.0): the rules of a consent request
 * (POST /consents), the timeouts of its life, and whether a payment (POST /pix/payments) is exactly
 * the one its consent authorised. No I/O; dates are reasoned about in Brasília time (UTC−3, no DST since 2019).
 *
 * The shape (zod, unknown fields refused, CPF/CNPJ check digits) gives ValidationIssues, which the dialect
 * answers 422 PARAMETRO_NAO_INFORMADO / PARAMETRO_INVALIDO; the business rules give one
 * BrPaymentRuleViolation each (422 FORMA_PAGAMENTO_INVALIDA, DATA_PAGAMENTO_INVALIDA,
 * DETALHE_PAGAMENTO_INVALIDO).
 */
import { z } from 'zod';
import { isValidCnpj, isValidCpf } from './br-documents.ts';
import { brCnpjDocument, brCpfDocument, issuesOf, type BrDocument } from './br-validation.ts';
import type { ValidationIssue } from './errors.ts';

/** AWAITING_AUTHORISATION lasts 5 minutes from creation (expirationDateTime = creationDateTime + 5 min). */
export const PAYMENT_AUTHORISATION_SECONDS = 5 * 60;
/** AUTHORISED lasts 60 minutes from the status change: the consumption window. */
export const PAYMENT_CONSUMPTION_SECONDS = 60 * 60;
/** A scheduled single payment: at least D+1, at most D+730 (Brasília days after the consent's creation). */
export const SCHEDULE_MIN_DAYS = 1;
export const SCHEDULE_MAX_DAYS = 730;

const BRASILIA_OFFSET_MS = -3 * 3600 * 1000;

/** The calendar day (YYYY-MM-DD) it is in Brasília at `at`. */
export function brasiliaDate(at: Date): string {
  return new Date(at.getTime() + BRASILIA_OFFSET_MS).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

const DATE = /^(\d{4})-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9])$/;
const realDate = z
  .string()
  .max(10)
  .regex(DATE, 'must be a date such as 2026-01-01')
  .refine((s) => {
    const [y, m, d] = s.split('-').map(Number);
    const parsed = new Date(Date.UTC(y!, m! - 1, d!));
    return parsed.getUTCFullYear() === y && parsed.getUTCMonth() === m! - 1 && parsed.getUTCDate() === d;
  }, 'is not a real date');

const account = z.strictObject({
  ispb: z.string().regex(/^[0-9]{8}$/, 'must be 8 digits'),
  issuer: z.string().regex(/^[0-9]{1,4}$/, 'must be 1 to 4 digits').optional(),
  number: z.string().regex(/^[0-9]{1,20}$/, 'must be 1 to 20 digits'),
  accountType: z.enum(['CACC', 'SVGS', 'TRAN']),
});

const creditor = z
  .strictObject({
    personType: z.enum(['PESSOA_NATURAL', 'PESSOA_JURIDICA']),
    cpfCnpj: z.string().regex(/^\d{11}$|^\d{14}$/, 'must be 11 (CPF) or 14 (CNPJ) digits'),
    name: z
      .string()
      .max(120)
      .regex(/^([A-Za-zÀ-ÖØ-öø-ÿ,.@:&*+_<>()!?/\\$%\d' -]+)$/, 'has characters the spec does not allow'),
  })
  .superRefine((c, ctx) => {
    const natural = c.personType === 'PESSOA_NATURAL';
    const valid = natural ? c.cpfCnpj.length === 11 && isValidCpf(c.cpfCnpj) : c.cpfCnpj.length === 14 && isValidCnpj(c.cpfCnpj);
    if (!valid) ctx.addIssue({ code: 'custom', path: ['cpfCnpj'], message: natural ? 'is not a valid CPF' : 'is not a valid CNPJ' });
  });

export const brPaymentConsentSchema = z.strictObject({
  data: z.strictObject({
    loggedUser: brCpfDocument,
    businessEntity: brCnpjDocument.optional(),
    creditor,
    payment: z.strictObject({
      type: z.string(),
      date: realDate.optional(),
      schedule: z.strictObject({ single: z.strictObject({ date: realDate }) }).optional(),
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be a currency code such as BRL'),
      amount: z.string().max(19).regex(/^\d{1,16}\.\d{2}$/, 'must be a decimal with two places, such as 10.00'),
      ibgeTownCode: z.string().regex(/^\d{7}$/, 'must be 7 digits').optional(),
      details: z.strictObject({
        localInstrument: z.enum(['MANU', 'DICT', 'QRDN', 'QRES', 'INIC']),
        qrCode: z.string().max(512).optional(),
        proxy: z.string().max(77).optional(),
        creditorAccount: account,
      }),
    }),
    debtorAccount: account.optional(),
  }),
});

export type BrPaymentAccount = z.infer<typeof account>;

/** A payment consent request, as stored in the consent's details. */
export interface BrPaymentConsentRequest {
  loggedUser: { document: BrDocument };
  businessEntity?: { document: BrDocument };
  creditor: { personType: 'PESSOA_NATURAL' | 'PESSOA_JURIDICA'; cpfCnpj: string; name: string };
  payment: {
    type: 'PIX';
    /** the Brasília day of the payment: `date`, or `schedule.single.date` */
    date: string;
    scheduled: boolean;
    currency: 'BRL';
    amount: string;
    ibgeTownCode?: string;
    details: { localInstrument: 'MANU' | 'DICT' | 'QRDN' | 'QRES' | 'INIC'; qrCode?: string; proxy?: string; creditorAccount: BrPaymentAccount };
  };
  debtorAccount?: BrPaymentAccount;
}

export type BrPaymentRuleCode = 'FORMA_PAGAMENTO_INVALIDA' | 'DATA_PAGAMENTO_INVALIDA' | 'DETALHE_PAGAMENTO_INVALIDO' | 'PARAMETRO_INVALIDO';

export interface BrPaymentRuleViolation {
  code: BrPaymentRuleCode;
  message: string;
}

export type BrPaymentValidation =
  | { ok: true; value: BrPaymentConsentRequest }
  | { ok: false; issues: ValidationIssue[] }
  | { ok: false; rule: BrPaymentRuleViolation };

export function validateBrPaymentConsentRequest(body: unknown, options: { now: Date }): BrPaymentValidation {
  const parsed = brPaymentConsentSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error, body) };
  const { data } = parsed.data;
  const { payment } = data;
  const rule = (code: BrPaymentRuleCode, message: string) => ({ ok: false as const, rule: { code, message } });

  if (payment.type !== 'PIX') return rule('FORMA_PAGAMENTO_INVALIDA', `Forma de pagamento ${payment.type} não suportada.`);
  if (payment.currency !== 'BRL') return rule('PARAMETRO_INVALIDO', 'Parâmetro currency não obedece as regras de formatação esperadas.');
  if (Number(payment.amount) <= 0) return rule('DETALHE_PAGAMENTO_INVALIDO', 'Parâmetro amount não obedece às regras de negócio.');
  if ((payment.date === undefined) === (payment.schedule === undefined)) {
    return rule('PARAMETRO_INVALIDO', 'Parâmetro date ou schedule: exatamente um deve ser informado.');
  }

  const today = brasiliaDate(options.now);
  const date = payment.date ?? payment.schedule!.single.date;
  if (payment.date !== undefined && date !== today) {
    return rule('DATA_PAGAMENTO_INVALIDA', 'Data de pagamento inválida para a forma de pagamento selecionada.');
  }
  if (payment.schedule) {
    const days = daysBetween(today, date);
    if (days < SCHEDULE_MIN_DAYS || days > SCHEDULE_MAX_DAYS) {
      return rule('DATA_PAGAMENTO_INVALIDA', 'Data de pagamento inválida para a forma de pagamento selecionada.');
    }
  }

  const { details } = payment;
  const needsProxy = details.localInstrument !== 'MANU';
  if (needsProxy && !details.proxy) return rule('DETALHE_PAGAMENTO_INVALIDO', 'Parâmetro proxy não obedece às regras de negócio.');
  if (!needsProxy && details.proxy) return rule('DETALHE_PAGAMENTO_INVALIDO', 'Parâmetro proxy não obedece às regras de negócio.');
  const needsQr = details.localInstrument === 'QRDN' || details.localInstrument === 'QRES';
  if (needsQr !== (details.qrCode !== undefined)) return rule('DETALHE_PAGAMENTO_INVALIDO', 'Parâmetro qrCode não obedece às regras de negócio.');
  for (const [name, acc] of [['creditorAccount', details.creditorAccount], ['debtorAccount', data.debtorAccount]] as const) {
    if (acc && acc.accountType !== 'TRAN' && !acc.issuer) {
      return rule('DETALHE_PAGAMENTO_INVALIDO', `Parâmetro ${name}.issuer não obedece às regras de negócio.`);
    }
  }

  const { date: _d, schedule: _s, ...rest } = payment;
  return {
    ok: true,
    value: {
      loggedUser: data.loggedUser,
      ...(data.businessEntity ? { businessEntity: data.businessEntity } : {}),
      creditor: data.creditor,
      payment: { ...rest, type: 'PIX', currency: 'BRL', date, scheduled: payment.schedule !== undefined },
      ...(data.debtorAccount ? { debtorAccount: data.debtorAccount } : {}),
    },
  };
}

/** When an awaiting payment consent is rejected (TEMPO_EXPIRADO_AUTORIZACAO): creation + 5 minutes. */
export function authorisationDeadline(createdAt: Date): Date {
  return new Date(createdAt.getTime() + PAYMENT_AUTHORISATION_SECONDS * 1000);
}

/** When an authorised, unconsumed payment consent is rejected (TEMPO_EXPIRADO_CONSUMO): authorisation + 60 minutes. */
export function consumptionDeadline(authorisedAt: Date): Date {
  return new Date(authorisedAt.getTime() + PAYMENT_CONSUMPTION_SECONDS * 1000);
}

/** What a POST /pix/payments says it pays (the fields that must equal the consent's). */
export interface PixPaymentOrder {
  /** the day of the payment: the date of its endToEndId (ddMMyyyy…), as YYYY-MM-DD */
  date: string;
  payment: { amount: string; currency: string };
  localInstrument: string;
  proxy?: string;
  qrCode?: string;
  creditorAccount: BrPaymentAccount;
  /** the creditor's CPF/CNPJ, when the order carries it */
  cnpjInitiator?: string;
}

/**
 * The fields of `order` that differ from what `consent` authorised (empty: the payment is the one the
 * customer approved). Any difference is 422 PAGAMENTO_DIVERGENTE_CONSENTIMENTO.
 */
export function paymentDivergence(consent: BrPaymentConsentRequest, order: PixPaymentOrder): string[] {
  const differs: string[] = [];
  const p = consent.payment;
  if (order.payment.amount !== p.amount) differs.push('payment.amount');
  if (order.payment.currency !== p.currency) differs.push('payment.currency');
  if (order.date !== p.date) differs.push('date');
  if (order.localInstrument !== p.details.localInstrument) differs.push('localInstrument');
  if ((order.proxy ?? null) !== (p.details.proxy ?? null)) differs.push('proxy');
  if ((order.qrCode ?? null) !== (p.details.qrCode ?? null)) differs.push('qrCode');
  const a = order.creditorAccount;
  const b = p.details.creditorAccount;
  if (a.ispb !== b.ispb || a.number !== b.number || a.accountType !== b.accountType || (a.issuer ?? null) !== (b.issuer ?? null)) {
    differs.push('creditorAccount');
  }
  return differs;
}

/**
 * R$ 10,00 (pt-BR) or R$10.00 (en): a two-decimal amount string as Intl formats BRL for the customer's
 * language (exactly: Intl formats decimal strings without going through a float).
 */
export function formatPaymentAmount(amount: string, locale: 'en' | 'pt-BR'): string {
  return new Intl.NumberFormat(locale === 'pt-BR' ? 'pt-BR' : 'en-US', { style: 'currency', currency: 'BRL' }).format(amount as unknown as number);
}

/** R$ 1.234,56 — the amount as a Brazilian customer reads it (plain spaces: logs, back-office text). */
export function formatBrl(amount: string): string {
  const [units = '0', cents = '00'] = amount.split('.');
  return `R$ ${units.replace(/\B(?=(\d{3})+(?!\d))/g, '.')},${cents}`;
}

/**
 * A Brazilian IBAN (BR kk, ISPB 8, branch 5, account 10, type 1, owner 1) as the account of a payment
 * (ispb, issuer = the branch's last 4 digits, number without leading zeros, type C → CACC, P → SVGS).
 * Undefined for any other IBAN: that account cannot pay a PIX.
 */
export function brAccountFromIban(iban: string): BrPaymentAccount | undefined {
  const m = /^BR\d{2}(\d{8})(\d{5})(\d{10})([A-Z])[A-Z0-9]$/.exec(iban.replace(/\s+/g, '').toUpperCase());
  if (!m) return undefined;
  const accountType = m[4] === 'C' ? 'CACC' : m[4] === 'P' ? 'SVGS' : undefined;
  if (!accountType || Number(m[2]) > 9999) return undefined;
  return { ispb: m[1]!, issuer: m[2]!.slice(1), number: m[3]!.replace(/^0+(?=\d)/, ''), accountType };
}

/** Whether two payment accounts are the same account. */
export function sameBrAccount(a: BrPaymentAccount, b: BrPaymentAccount): boolean {
  const issuer = (x: BrPaymentAccount) => (x.issuer === undefined ? null : x.issuer.padStart(4, '0'));
  return a.ispb === b.ispb && a.number.replace(/^0+/, '') === b.number.replace(/^0+/, '') && a.accountType === b.accountType && issuer(a) === issuer(b);
}
