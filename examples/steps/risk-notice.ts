/**
 * A worked example of step plugins (see docs/plugins.md).
 *
 * - `example.high-frequency-notice` (retrieval): warns the customer on the approval page when a TPP asks
 *   to read the accounts more often than the bank thinks is usual.
 * - `example.euro-accounts-only` (retrieval): a bank rule that hides what a product may not share — here,
 *   accounts in currencies other than EUR and SEK cannot be selected.
 * - `example.no-savings-transactions` (persist): refuses approvals that would share transactions of an
 *   account named "Savings…" (a made-up policy) with a typed StepError that the customer sees.
 *
 * Enable with config `steps: { retrieval: ["./examples/steps/risk-notice.ts"], persist: ["./examples/steps/risk-notice.ts"] }`:
 * the loader takes the steps of each kind from the module's `retrievalSteps` / `persistSteps` exports.
 */
import { StepError, type PersistStep, type RetrievalStep } from 'assent/steps';

export const FREQUENCY_THRESHOLD = 10;

export const highFrequencyNotice = {
  id: 'example.high-frequency-notice',
  // after the default permissions step (200), before basic data (300)
  priority: 250,
  consentTypes: ['accounts'],
  run(ctx) {
    if (ctx.consent.frequencyPerDay <= FREQUENCY_THRESHOLD) return;
    ctx.data.notices.push({
      level: 'warning',
      text:
        ctx.locale === 'pt-BR'
          ? `${ctx.client.name} quer consultar suas contas até ${ctx.consent.frequencyPerDay} vezes por dia, mais do que o habitual.`
          : `${ctx.client.name} wants to read your accounts up to ${ctx.consent.frequencyPerDay} times a day, more often than usual.`,
    });
    ctx.data.extra['example.riskLevel'] = 'elevated';
  },
} satisfies RetrievalStep;

export const euroAccountsOnly = {
  id: 'example.euro-accounts-only',
  // after the default accounts step (100) has listed the accounts
  priority: 150,
  run(ctx) {
    for (const account of ctx.data.accounts) {
      if (!['EUR', 'SEK'].includes(account.currency)) {
        account.selectable = false;
        account.selected = false;
      }
    }
  },
} satisfies RetrievalStep;

export const noSavingsTransactions = {
  id: 'example.no-savings-transactions',
  // after the default validation (100) filled grantedAccounts, before the decision is stored (1000)
  priority: 500,
  async run(ctx) {
    if (!ctx.decision.approved) return;
    const accounts = new Map((await ctx.psuAccounts()).map((a) => [a.accountId, a]));
    const offending = ctx.grantedAccounts.find((g) => g.access.includes('transactions') && accounts.get(g.accountId)?.name.startsWith('Savings'));
    if (offending) throw new StepError('invalid_request', 'Transactions of savings accounts cannot be shared. Choose other accounts.');
  },
} satisfies PersistStep;

export const retrievalSteps = [highFrequencyNotice, euroAccountsOnly];
export const persistSteps = [noSavingsTransactions];
