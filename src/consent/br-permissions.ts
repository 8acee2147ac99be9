/**
 * The Open Finance Brasil data-sharing permission catalogue (Consents API 3.3.1, info.description): the
 * data groups a TPP may ask for, each requested whole, RESOURCES_READ in every one; the OAuth scopes the
 * permissions imply; which are personal (PF) and which business (PJ); plain-language labels.
 */
import type { Locale } from './permissions.ts';

export const BR_PERMISSIONS = [
  'ACCOUNTS_READ',
  'ACCOUNTS_BALANCES_READ',
  'ACCOUNTS_TRANSACTIONS_READ',
  'ACCOUNTS_OVERDRAFT_LIMITS_READ',
  'CREDIT_CARDS_ACCOUNTS_READ',
  'CREDIT_CARDS_ACCOUNTS_BILLS_READ',
  'CREDIT_CARDS_ACCOUNTS_BILLS_TRANSACTIONS_READ',
  'CREDIT_CARDS_ACCOUNTS_LIMITS_READ',
  'CREDIT_CARDS_ACCOUNTS_TRANSACTIONS_READ',
  'CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ',
  'CUSTOMERS_PERSONAL_ADITTIONALINFO_READ',
  'CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ',
  'CUSTOMERS_BUSINESS_ADITTIONALINFO_READ',
  'FINANCINGS_READ',
  'FINANCINGS_SCHEDULED_INSTALMENTS_READ',
  'FINANCINGS_PAYMENTS_READ',
  'FINANCINGS_WARRANTIES_READ',
  'INVOICE_FINANCINGS_READ',
  'INVOICE_FINANCINGS_SCHEDULED_INSTALMENTS_READ',
  'INVOICE_FINANCINGS_PAYMENTS_READ',
  'INVOICE_FINANCINGS_WARRANTIES_READ',
  'LOANS_READ',
  'LOANS_SCHEDULED_INSTALMENTS_READ',
  'LOANS_PAYMENTS_READ',
  'LOANS_WARRANTIES_READ',
  'UNARRANGED_ACCOUNTS_OVERDRAFT_READ',
  'UNARRANGED_ACCOUNTS_OVERDRAFT_SCHEDULED_INSTALMENTS_READ',
  'UNARRANGED_ACCOUNTS_OVERDRAFT_PAYMENTS_READ',
  'UNARRANGED_ACCOUNTS_OVERDRAFT_WARRANTIES_READ',
  'BANK_FIXED_INCOMES_READ',
  'CREDIT_FIXED_INCOMES_READ',
  'FUNDS_READ',
  'VARIABLE_INCOMES_READ',
  'TREASURE_TITLES_READ',
  'EXCHANGES_READ',
  'RESOURCES_READ',
] as const;
export type BrPermission = (typeof BR_PERMISSIONS)[number];

export interface BrDataGroup {
  id: string;
  /** who the data is about: a person (PF), a company (PJ), or either */
  holder: 'PF' | 'PJ' | 'any';
  permissions: readonly BrPermission[];
  /** the OAuth scopes its resource APIs need */
  scopes: readonly string[];
  title: Record<Locale, string>;
}

const R = 'RESOURCES_READ' as const;

export const BR_DATA_GROUPS: readonly BrDataGroup[] = [
  { id: 'customers-personal-identifications', holder: 'PF', permissions: ['CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ', R], scopes: ['customers', 'resources'],
    title: { en: 'Your registration data (name, CPF, addresses, contacts)', 'pt-BR': 'Seus dados cadastrais (nome, CPF, endereços, contatos)' } },
  { id: 'customers-personal-additional-info', holder: 'PF', permissions: ['CUSTOMERS_PERSONAL_ADITTIONALINFO_READ', R], scopes: ['customers', 'resources'],
    title: { en: 'Your additional information (income, profession, relationships)', 'pt-BR': 'Suas informações complementares (renda, profissão, relacionamentos)' } },
  { id: 'customers-business-identifications', holder: 'PJ', permissions: ['CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', R], scopes: ['customers', 'resources'],
    title: { en: "The company's registration data (name, CNPJ, addresses, partners)", 'pt-BR': 'Dados cadastrais da empresa (razão social, CNPJ, endereços, sócios)' } },
  { id: 'customers-business-additional-info', holder: 'PJ', permissions: ['CUSTOMERS_BUSINESS_ADITTIONALINFO_READ', R], scopes: ['customers', 'resources'],
    title: { en: "The company's additional information (revenue, relationships)", 'pt-BR': 'Informações complementares da empresa (faturamento, relacionamentos)' } },
  { id: 'accounts-balances', holder: 'any', permissions: ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', R], scopes: ['accounts', 'resources'],
    title: { en: 'Account balances', 'pt-BR': 'Saldos das contas' } },
  { id: 'accounts-limits', holder: 'any', permissions: ['ACCOUNTS_READ', 'ACCOUNTS_OVERDRAFT_LIMITS_READ', R], scopes: ['accounts', 'resources'],
    title: { en: 'Account overdraft limits', 'pt-BR': 'Limites das contas' } },
  { id: 'accounts-transactions', holder: 'any', permissions: ['ACCOUNTS_READ', 'ACCOUNTS_TRANSACTIONS_READ', R], scopes: ['accounts', 'resources'],
    title: { en: 'Account statements (transactions)', 'pt-BR': 'Extratos das contas' } },
  { id: 'credit-cards-limits', holder: 'any', permissions: ['CREDIT_CARDS_ACCOUNTS_READ', 'CREDIT_CARDS_ACCOUNTS_LIMITS_READ', R], scopes: ['credit-cards-accounts', 'resources'],
    title: { en: 'Credit card limits', 'pt-BR': 'Limites do cartão de crédito' } },
  { id: 'credit-cards-transactions', holder: 'any', permissions: ['CREDIT_CARDS_ACCOUNTS_READ', 'CREDIT_CARDS_ACCOUNTS_TRANSACTIONS_READ', R], scopes: ['credit-cards-accounts', 'resources'],
    title: { en: 'Credit card transactions', 'pt-BR': 'Transações do cartão de crédito' } },
  { id: 'credit-cards-bills', holder: 'any', permissions: ['CREDIT_CARDS_ACCOUNTS_READ', 'CREDIT_CARDS_ACCOUNTS_BILLS_READ', 'CREDIT_CARDS_ACCOUNTS_BILLS_TRANSACTIONS_READ', R], scopes: ['credit-cards-accounts', 'resources'],
    title: { en: 'Credit card bills', 'pt-BR': 'Faturas do cartão de crédito' } },
  { id: 'credit-operations', holder: 'any',
    permissions: [
      'LOANS_READ', 'LOANS_WARRANTIES_READ', 'LOANS_SCHEDULED_INSTALMENTS_READ', 'LOANS_PAYMENTS_READ',
      'FINANCINGS_READ', 'FINANCINGS_WARRANTIES_READ', 'FINANCINGS_SCHEDULED_INSTALMENTS_READ', 'FINANCINGS_PAYMENTS_READ',
      'UNARRANGED_ACCOUNTS_OVERDRAFT_READ', 'UNARRANGED_ACCOUNTS_OVERDRAFT_WARRANTIES_READ', 'UNARRANGED_ACCOUNTS_OVERDRAFT_SCHEDULED_INSTALMENTS_READ', 'UNARRANGED_ACCOUNTS_OVERDRAFT_PAYMENTS_READ',
      'INVOICE_FINANCINGS_READ', 'INVOICE_FINANCINGS_WARRANTIES_READ', 'INVOICE_FINANCINGS_SCHEDULED_INSTALMENTS_READ', 'INVOICE_FINANCINGS_PAYMENTS_READ',
      R,
    ],
    scopes: ['loans', 'financings', 'unarranged-accounts-overdraft', 'invoice-financings', 'resources'],
    title: { en: 'Credit operations: loans, financings, overdraft, invoice financings (contracts)', 'pt-BR': 'Operações de crédito: empréstimos, financiamentos, cheque especial, antecipação de recebíveis (contratos)' } },
  { id: 'investments', holder: 'any', permissions: ['BANK_FIXED_INCOMES_READ', 'CREDIT_FIXED_INCOMES_READ', 'FUNDS_READ', 'VARIABLE_INCOMES_READ', 'TREASURE_TITLES_READ', R],
    scopes: ['bank-fixed-incomes', 'credit-fixed-incomes', 'variable-incomes', 'treasure-titles', 'funds', 'resources'],
    title: { en: 'Investments (fixed income, funds, variable income, treasury bonds)', 'pt-BR': 'Investimentos (renda fixa, fundos, renda variável, títulos do Tesouro)' } },
  { id: 'exchanges', holder: 'any', permissions: ['EXCHANGES_READ', R], scopes: ['exchanges', 'resources'],
    title: { en: 'Foreign exchange operations', 'pt-BR': 'Operações de câmbio' } },
];

/** The groups wholly contained in `permissions`. */
export function groupsOf(permissions: readonly string[]): BrDataGroup[] {
  const asked = new Set(permissions);
  return BR_DATA_GROUPS.filter((g) => g.permissions.every((p) => asked.has(p)));
}

/** The OAuth scopes the permissions' groups imply (besides openid and consent:{id}). */
export function scopesOf(permissions: readonly string[]): string[] {
  return [...new Set(groupsOf(permissions).flatMap((g) => g.scopes))].sort();
}
