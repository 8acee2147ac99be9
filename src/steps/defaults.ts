/**
 * The default steps. Retrieval: the PSU's accounts (pre-selecting those the consent names), the
 * permissions in plain words, the basic consent data. Persist: check the selected accounts belong to the
 * PSU and to the consent's access, then store the decision (consent `valid` + SCA `finalised` with a new
 * grant, or `rejected` + `failed`). Custom steps slot in around them by priority.
 */
import type { AccountAccess, AccountReference, Consent, GrantedAccount } from '../consent/types.ts';
import { describeConsent } from '../consent/describe.ts';
import { ConsentError, PsuMismatch } from '../consent/errors.ts';
import type { Psu, PsuAccount } from '../psu/directory.ts';
import { StepError, type PersistContext, type PersistStep, type RetrievalStep } from './contracts.ts';
import { brPaymentAccountStep, brPaymentSummaryStep } from './br-payment.ts';

/** The priorities of the default steps; custom steps pick others (e.g. 150 runs between the first two). */
export const DEFAULT_PRIORITIES = {
  psuMatch: 50,
  brDocumentMatch: 60,
  accounts: 100,
  permissions: 200,
  basicData: 300,
  validateAccounts: 100,
  storeDecision: 1000,
} as const;

const compactIban = (iban: string | undefined) => iban?.replace(/\s+/g, '').toUpperCase();

type AccessKind = GrantedAccount['access'][number];

/** Which parts of the access cover this account; empty: the consent does not cover it. */
export function accessFor(access: AccountAccess, account: PsuAccount): AccessKind[] {
  if (access.allPsd2) return ['accounts', 'balances', 'transactions'];
  if (access.availableAccountsWithBalance) return ['accounts', 'balances'];
  if (access.availableAccounts) return ['accounts'];
  const iban = compactIban(account.iban);
  const has = (refs: AccountReference[] | undefined) =>
    (refs ?? []).some((r) => compactIban(r.iban) === iban && (!r.currency || r.currency === account.currency));
  const kinds: AccessKind[] = [];
  // an empty list: the TPP asks for the accounts the PSU picks here (bank-offered consent)
  if (isBankOffered(access)) {
    const chosen = (refs: AccountReference[] | undefined) => refs !== undefined && refs.length === 0;
    kinds.push('accounts');
    if (chosen(access.balances)) kinds.push('balances');
    if (chosen(access.transactions)) kinds.push('transactions');
    return kinds;
  }
  // Berlin Group: an account listed for balances or transactions is also granted account access.
  if (has(access.accounts) || has(access.balances) || has(access.transactions)) kinds.push('accounts');
  if (has(access.balances)) kinds.push('balances');
  if (has(access.transactions)) kinds.push('transactions');
  return kinds;
}

/** True when the TPP sent empty account lists: the PSU picks the accounts on the consent page. */
export function isBankOffered(access: AccountAccess): boolean {
  const lists = [access.accounts, access.balances, access.transactions].filter((l) => l !== undefined);
  return lists.length > 0 && lists.every((l) => l.length === 0);
}

/** True when the consent lets the PSU pick from all their accounts (no explicit account list). */
export function isGlobalAccess(access: AccountAccess): boolean {
  return Boolean(access.allPsd2 || access.availableAccounts || access.availableAccountsWithBalance);
}

/** the consent types whose accounts are chosen by access (a payment consent picks its debtor account: ./br-payment.ts) */
const ACCESS_TYPES = ['accounts', 'payments', 'br-data-sharing'] as const;

export const accountsStep = {
  id: 'assent.accounts',
  priority: DEFAULT_PRIORITIES.accounts,
  consentTypes: ACCESS_TYPES,
  async run(ctx) {
    const accounts = await ctx.psuAccounts();
    // nothing pre-selected when the PSU is the one to choose (global access other than allPsd2, bank-offered)
    const global = isGlobalAccess(ctx.consent.access) || isBankOffered(ctx.consent.access);
    ctx.data.allowMultipleAccounts = true;
    ctx.data.accounts = accounts.map((a) => {
      const covered = accessFor(ctx.consent.access, a).length > 0;
      return {
        accountId: a.accountId,
        displayName: a.name,
        iban: a.iban,
        currency: a.currency,
        selected: covered && (!global || Boolean(ctx.consent.access.allPsd2)),
        selectable: covered,
      };
    });
    if (!ctx.data.accounts.some((a) => a.selectable)) {
      ctx.data.notices.push({
        level: 'warning',
        text:
          ctx.locale === 'pt-BR'
            ? 'Este pedido é para contas que não são suas. Não é possível permitir o acesso.'
            : 'This request is for accounts that are not yours. Access cannot be allowed.',
      });
    }
  },
} satisfies RetrievalStep;

/** WSO2-style permission names for the retrieve API's `displayValues`. */
const PERMISSION_NAMES: Record<string, string> = {
  accountList: 'ReadAccountsBasic',
  accounts: 'ReadAccountsDetail',
  ownerName: 'ReadOwnerName',
  balances: 'ReadBalances',
  transactions: 'ReadTransactionsDetail',
};

export const permissionsStep = {
  id: 'assent.permissions',
  priority: DEFAULT_PRIORITIES.permissions,
  run(ctx) {
    ctx.data.permissions = describeConsent(ctx.consent, ctx.locale).map((p) => ({
      uid: `${ctx.consent.id}:${p.code}`,
      code: p.code,
      title: p.title,
      ...(p.detail ? { detail: p.detail } : {}),
      displayValues: [PERMISSION_NAMES[p.code] ?? p.code],
    }));
  },
} satisfies RetrievalStep;

export const basicDataStep = {
  id: 'assent.basic-data',
  priority: DEFAULT_PRIORITIES.basicData,
  run(ctx) {
    const c = ctx.consent;
    ctx.data.basicConsentData['Expiration Date Time'] = [c.validUntil];
    ctx.data.basicConsentData['Frequency Per Day'] = [String(c.frequencyPerDay)];
    ctx.data.basicConsentData['Recurring'] = [String(c.recurringIndicator)];
  },
} satisfies RetrievalStep;

/**
 * Whether a consent the TPP requested for a named PSU (Berlin Group PSU-ID, kept in
 * details.psuIdentification: the login name in the bank's online interface) is addressed to this
 * customer. A consent that names nobody is addressed to whoever logs in.
 */
export function isAddressedTo(consent: Pick<Consent, 'details'>, psu: Pick<Psu, 'id' | 'username'>): boolean {
  const claimed = consent.details?.psuIdentification;
  if (typeof claimed !== 'string') return true;
  const known = [psu.id, psu.username].filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
  return known.includes(claimed.trim().toLowerCase());
}

/**
 * A consent addressed to another customer can only be decided by that customer. Approvals checks this
 * before any step runs (the consent is left unchanged, the TPP gets access_denied); this step is the
 * backstop should a consent's PSU-ID ever reach the persist steps unchecked.
 */
export const psuMatchStep = {
  id: 'assent.psu-match',
  priority: DEFAULT_PRIORITIES.psuMatch,
  run(ctx) {
    if (!isAddressedTo(ctx.consent, ctx.psu)) throw new StepError('access_denied', 'This request is for another customer.');
  },
} satisfies PersistStep;

/**
 * An Open Finance Brasil consent names its customer by CPF (loggedUser) and, for a company, by CNPJ
 * (businessEntity): only that customer, acting for that company, may approve it. Anyone else gets
 * access_denied and the consent is REJECTED by the bank (ASPSP, INTERNAL_SECURITY_REASON; for a payment
 * consent NAO_INFORMADO, the payment rejection catalogue having no such code).
 */
export const brDocumentMatchStep = {
  id: 'assent.br-document-match',
  priority: DEFAULT_PRIORITIES.brDocumentMatch,
  consentTypes: ['br-data-sharing', 'br-payment'],
  run(ctx) {
    const details = ctx.consent.details as { loggedUser?: { document?: { identification?: unknown } }; businessEntity?: { document?: { identification?: unknown } } } | undefined;
    const cpf = details?.loggedUser?.document?.identification;
    const cnpj = details?.businessEntity?.document?.identification;
    const reject = (additionalInformation: string) =>
      new StepError('access_denied', 'This request is for another customer.', {
        rejection: { rejectedBy: 'ASPSP', reason: { code: ctx.consent.type === 'br-payment' ? 'NAO_INFORMADO' : 'INTERNAL_SECURITY_REASON', additionalInformation } },
      });
    if (typeof cpf !== 'string' || ctx.psu.document !== cpf) throw reject('O CPF do cliente não corresponde ao consentimento');
    if (typeof cnpj === 'string' && !(ctx.psu.companies ?? []).includes(cnpj)) throw reject('O cliente não representa a empresa do consentimento');
  },
} satisfies PersistStep;

export const validateAccountsStep = {
  id: 'assent.validate-accounts',
  priority: DEFAULT_PRIORITIES.validateAccounts,
  consentTypes: ACCESS_TYPES,
  async run(ctx) {
    if (!ctx.decision.approved) return;
    const accounts = await ctx.psuAccounts();
    const byId = new Map(accounts.map((a) => [a.accountId, a]));
    const selected = [...new Set(ctx.decision.selectedAccountIds)];
    if (selected.length === 0) throw new StepError('invalid_request', 'Choose at least one account.');
    const granted: GrantedAccount[] = [];
    for (const id of selected) {
      const account = byId.get(id);
      // An id that is not one of the PSU's accounts is never granted, whatever the form said.
      if (!account) throw new StepError('invalid_request', 'One of the selected accounts is not available.');
      const access = accessFor(ctx.consent.access, account);
      if (access.length === 0) throw new StepError('invalid_request', 'One of the selected accounts is not covered by this request.');
      granted.push({ accountId: account.accountId, iban: account.iban, currency: account.currency, access });
    }
    ctx.grantedAccounts = granted;
  },
} satisfies PersistStep;

/** What the store step needs from the consent service. */
export interface ConsentDecisions {
  approve(
    consent: Consent,
    input: { psuId: string; authorisationId?: string; grantedAccounts: GrantedAccount[]; grantId: string; details?: Record<string, unknown> },
  ): Promise<Consent>;
  deny(consent: Consent, input: { psuId: string; authorisationId?: string; reason?: string }): Promise<Consent>;
}

export function storeDecisionStep(decisions: ConsentDecisions): PersistStep {
  return {
    id: 'assent.store-decision',
    priority: DEFAULT_PRIORITIES.storeDecision,
    async run(ctx: PersistContext) {
      const authorisationId = ctx.interaction.authorisationId;
      const base = { psuId: ctx.psu.id, ...(authorisationId ? { authorisationId } : {}) };
      try {
        if (ctx.decision.approved) {
          const grantId = await ctx.issueGrant();
          ctx.stored = await decisions.approve(ctx.consent, { ...base, grantedAccounts: ctx.grantedAccounts, grantId, ...(ctx.detailsPatch ? { details: ctx.detailsPatch } : {}) });
        } else {
          ctx.stored = await decisions.deny(ctx.consent, { ...base, reason: 'denied by the customer' });
        }
      } catch (err) {
        // The consent was requested for another customer: this one may not decide on it.
        if (err instanceof PsuMismatch) throw new StepError('access_denied', 'This request is for another customer.');
        // Changed meanwhile (another decision won, expired, deleted by the TPP): one decision only.
        if (err instanceof ConsentError) throw new StepError('consent_conflict', 'The request changed meanwhile and can no longer be decided.');
        throw err;
      }
    },
  };
}

export const defaultRetrievalSteps: readonly RetrievalStep[] = [accountsStep, permissionsStep, basicDataStep, brPaymentSummaryStep];

export function defaultPersistSteps(decisions: ConsentDecisions): PersistStep[] {
  return [psuMatchStep, brDocumentMatchStep, validateAccountsStep, brPaymentAccountStep, storeDecisionStep(decisions)];
}
