/**
 * The approval page of an Open Finance Brasil payment consent, and what its approval stores.
 *
 * Retrieval (`assent.br-payment-summary`): the payment in plain words (amount formatted by Intl as the
 * customer reads it, who is paid, when, from which account) in `data.extra.payment`, and the customer's
 * accounts, one to choose: only a BRL account with a Brazilian IBAN can pay a PIX; when the TPP named the
 * debtor account, only that one (if it is the customer's).
 * Persist (`assent.br-payment-account`): exactly one such account; it becomes the consent's
 * `debtorAccount`. The creditor's own account is refused: the consent is REJECTED by the bank with
 * CONTAS_ORIGEM_DESTINO_IGUAIS.
 */
import { brAccountFromIban, formatPaymentAmount, sameBrAccount, type BrPaymentAccount, type BrPaymentConsentRequest } from '../consent/br-payment.ts';
import { BR_PAYMENT_REJECTION_DETAILS } from '../consent/regimes/brazil-payment.ts';
import type { PsuAccount } from '../psu/directory.ts';
import { StepError, type Locale, type PersistStep, type RetrievalStep } from './contracts.ts';

const INTL_LOCALE: Record<Locale, string> = { en: 'en-US', 'pt-BR': 'pt-BR' };

export { formatPaymentAmount };

/** 2 de dezembro de 2026 / December 2, 2026: a Brasília calendar day. */
export function formatPaymentDate(date: string, locale: Locale): string {
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${date}T12:00:00Z`));
}

function formatDocument(doc: string): string {
  return doc.length === 11
    ? doc.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4')
    : doc.replace(/^(\d{2})(\d{3})(\d{3})(\d{4})(\d{2})$/, '$1.$2.$3/$4-$5');
}

const TEXT = {
  en: {
    heading: 'The payment',
    amount: 'Amount',
    to: 'To',
    when: 'When',
    today: (d: string) => `Today, ${d}`,
    scheduled: (d: string) => `Scheduled for ${d}`,
    pixKey: 'Pix key',
    toAccount: 'Account paid',
    account: (a: BrPaymentAccount) => `Bank ${a.ispb}, branch ${a.issuer ?? '-'}, account ${a.number}`,
    from: 'From',
    chooseBelow: 'The account you choose below',
    title: (amount: string, name: string) => `A Pix payment of ${amount} to ${name}`,
    once: 'Once: this consent pays exactly this amount, one time.',
    notYours: 'None of your accounts can make this payment (a Pix is paid from a real account in Brazil).',
  },
  'pt-BR': {
    heading: 'O pagamento',
    amount: 'Valor',
    to: 'Para',
    when: 'Quando',
    today: (d: string) => `Hoje, ${d}`,
    scheduled: (d: string) => `Agendado para ${d}`,
    pixKey: 'Chave Pix',
    toAccount: 'Conta de destino',
    account: (a: BrPaymentAccount) => `Banco ${a.ispb}, agência ${a.issuer ?? '-'}, conta ${a.number}`,
    from: 'De',
    chooseBelow: 'A conta que você escolher abaixo',
    title: (amount: string, name: string) => `Um pagamento Pix de ${amount} para ${name}`,
    once: 'Uma vez: este consentimento paga exatamente este valor, uma única vez.',
    notYours: 'Nenhuma das suas contas pode fazer este pagamento (um Pix é pago de uma conta em real no Brasil).',
  },
} as const;

/** The customer's accounts that may pay this consent's payment. */
function payingAccounts(request: BrPaymentConsentRequest, accounts: PsuAccount[]): Map<string, BrPaymentAccount> {
  const out = new Map<string, BrPaymentAccount>();
  for (const account of accounts) {
    const br = account.currency === 'BRL' ? brAccountFromIban(account.iban) : undefined;
    if (!br) continue;
    if (request.debtorAccount && !sameBrAccount(request.debtorAccount, br)) continue;
    out.set(account.accountId, br);
  }
  return out;
}

export const brPaymentSummaryStep = {
  id: 'assent.br-payment-summary',
  priority: 350,
  consentTypes: ['br-payment'],
  async run(ctx) {
    const request = ctx.consent.details as unknown as BrPaymentConsentRequest;
    const text = TEXT[ctx.locale];
    const amount = formatPaymentAmount(request.payment.amount, ctx.locale);
    const date = formatPaymentDate(request.payment.date, ctx.locale);
    const accounts = await ctx.psuAccounts();
    const paying = payingAccounts(request, accounts);
    const first = accounts.find((a) => paying.has(a.accountId));
    ctx.data.allowMultipleAccounts = false;
    ctx.data.accounts = accounts.map((a) => ({
      accountId: a.accountId,
      displayName: a.name,
      iban: a.iban,
      currency: a.currency,
      selected: a.accountId === first?.accountId,
      selectable: paying.has(a.accountId),
    }));
    if (!first) ctx.data.notices.push({ level: 'warning', text: text.notYours });
    ctx.data.permissions = [{ uid: `${ctx.consent.id}:payment`, code: 'payment', title: text.title(amount, request.creditor.name), detail: text.once, displayValues: ['PIX'] }];
    const { details } = request.payment;
    const facts: Array<{ label: string; value: string }> = [
      { label: text.amount, value: amount },
      { label: text.to, value: `${request.creditor.name} (${request.creditor.personType === 'PESSOA_NATURAL' ? 'CPF' : 'CNPJ'} ${formatDocument(request.creditor.cpfCnpj)})` },
      ...(details.proxy ? [{ label: text.pixKey, value: details.proxy }] : []),
      { label: text.toAccount, value: text.account(details.creditorAccount) },
      { label: text.when, value: request.payment.scheduled ? text.scheduled(date) : text.today(date) },
      { label: text.from, value: request.debtorAccount ? text.account(request.debtorAccount) : text.chooseBelow },
    ];
    ctx.data.extra.payment = { heading: text.heading, amount, facts };
    // the data-sharing facts (validity, frequency) say nothing about a payment
    ctx.data.basicConsentData = {
      Amount: [`${request.payment.amount} BRL`],
      Creditor: [request.creditor.name],
      'Payment Date': [request.payment.date],
    };
  },
} satisfies RetrievalStep;

export const brPaymentAccountStep = {
  id: 'assent.br-payment-account',
  priority: 110,
  consentTypes: ['br-payment'],
  async run(ctx) {
    if (!ctx.decision.approved) return;
    const request = ctx.consent.details as unknown as BrPaymentConsentRequest;
    const selected = [...new Set(ctx.decision.selectedAccountIds)];
    if (selected.length !== 1) throw new StepError('invalid_request', ctx.locale === 'pt-BR' ? 'Escolha uma conta.' : 'Choose one account.');
    const accounts = await ctx.psuAccounts();
    const account = accounts.find((a) => a.accountId === selected[0]);
    const debtor = account ? payingAccounts(request, [account]).get(account.accountId) : undefined;
    if (!account || !debtor) throw new StepError('invalid_request', ctx.locale === 'pt-BR' ? 'Esta conta não pode fazer este pagamento.' : 'This account cannot make this payment.');
    if (sameBrAccount(debtor, request.payment.details.creditorAccount)) {
      throw new StepError('access_denied', 'The account chosen is the account paid.', {
        rejection: { rejectedBy: 'ASPSP', reason: { code: 'CONTAS_ORIGEM_DESTINO_IGUAIS', additionalInformation: BR_PAYMENT_REJECTION_DETAILS.CONTAS_ORIGEM_DESTINO_IGUAIS } },
      });
    }
    ctx.grantedAccounts = [{ accountId: account.accountId, iban: account.iban, currency: account.currency, access: [] }];
    ctx.detailsPatch = { debtorAccount: debtor };
  },
} satisfies PersistStep;
