/**
 * The permission catalogue: what a consent's `access` lets the TPP see, in words a customer understands,
 * in English and Brazilian Portuguese. The consent page and "my consents" show these items.
 */
import { accountsInScope } from './account-reference.ts';
import { formatIban } from './iban.ts';
import type { AccountAccess, AccountReference } from './types.ts';

export const LOCALES = ['en', 'pt-BR'] as const;
export type Locale = (typeof LOCALES)[number];

export const PERMISSION_CODES = ['accountList', 'accounts', 'ownerName', 'balances', 'transactions'] as const;
export type PermissionCode = (typeof PERMISSION_CODES)[number];

/**
 * Which accounts an item covers: the ones the TPP named (`accounts` lists them), every payment account
 * of the PSU, or the ones the PSU picks on the consent page (bank-offered consent).
 */
export type PermissionScope = 'listed' | 'all' | 'chosen';

export interface PermissionItem {
  code: PermissionCode;
  title: string;
  detail: string;
  scope: PermissionScope;
  /** the named accounts when scope is `listed`, otherwise empty */
  accounts: AccountReference[];
}

interface Entry {
  title: string;
  detail: Record<PermissionScope, string>;
}

const CATALOGUE: Record<Locale, Record<PermissionCode, Entry>> = {
  en: {
    accountList: {
      title: 'See which accounts you have',
      detail: {
        listed: 'The list of the accounts below, without balances or transactions.',
        all: 'The list of all your payment accounts (name, IBAN and currency), without balances or transactions.',
        chosen: 'The list of the accounts you choose, without balances or transactions.',
      },
    },
    accounts: {
      title: 'See your account details',
      detail: {
        listed: 'Name, IBAN and currency of the accounts below.',
        all: 'Name, IBAN and currency of all your payment accounts.',
        chosen: 'Name, IBAN and currency of the accounts you choose.',
      },
    },
    ownerName: {
      title: "See the account holder's name",
      detail: {
        listed: 'The name of the owner of each account below.',
        all: 'The name of the owner of each of your payment accounts.',
        chosen: 'The name of the owner of each account you choose.',
      },
    },
    balances: {
      title: 'See your balances',
      detail: {
        listed: 'The booked and available balance of the accounts below.',
        all: 'The booked and available balance of all your payment accounts.',
        chosen: 'The booked and available balance of the accounts you choose.',
      },
    },
    transactions: {
      title: 'See your transactions',
      detail: {
        listed: 'Money in and out of the accounts below: dates, amounts, the other party and the description.',
        all: 'Money in and out of all your payment accounts: dates, amounts, the other party and the description.',
        chosen: 'Money in and out of the accounts you choose: dates, amounts, the other party and the description.',
      },
    },
  },
  'pt-BR': {
    accountList: {
      title: 'Ver quais contas você tem',
      detail: {
        listed: 'A lista das contas abaixo, sem saldos nem transações.',
        all: 'A lista de todas as suas contas de pagamento (nome, IBAN e moeda), sem saldos nem transações.',
        chosen: 'A lista das contas que você escolher, sem saldos nem transações.',
      },
    },
    accounts: {
      title: 'Ver os dados das suas contas',
      detail: {
        listed: 'Nome, IBAN e moeda das contas abaixo.',
        all: 'Nome, IBAN e moeda de todas as suas contas de pagamento.',
        chosen: 'Nome, IBAN e moeda das contas que você escolher.',
      },
    },
    ownerName: {
      title: 'Ver o nome do titular',
      detail: {
        listed: 'O nome do titular de cada conta abaixo.',
        all: 'O nome do titular de cada uma das suas contas de pagamento.',
        chosen: 'O nome do titular de cada conta que você escolher.',
      },
    },
    balances: {
      title: 'Ver seus saldos',
      detail: {
        listed: 'O saldo contábil e o saldo disponível das contas abaixo.',
        all: 'O saldo contábil e o saldo disponível de todas as suas contas de pagamento.',
        chosen: 'O saldo contábil e o saldo disponível das contas que você escolher.',
      },
    },
    transactions: {
      title: 'Ver suas transações',
      detail: {
        listed: 'Entradas e saídas das contas abaixo: datas, valores, a outra parte e a descrição.',
        all: 'Entradas e saídas de todas as suas contas de pagamento: datas, valores, a outra parte e a descrição.',
        chosen: 'Entradas e saídas das contas que você escolher: datas, valores, a outra parte e a descrição.',
      },
    },
  },
};

/** The items a consent's access grants, in catalogue order, each at most once. */
export function describeAccess(access: AccountAccess, locale: Locale): PermissionItem[] {
  const wanted = new Map<PermissionCode, { scope: PermissionScope; accounts: AccountReference[] }>();
  const add = (code: PermissionCode, scope: PermissionScope, accounts: AccountReference[] = []) => {
    // the widest grant wins when two parts of the access overlap
    const before = wanted.get(code);
    if (!before || (before.scope !== 'all' && scope === 'all')) wanted.set(code, { scope, accounts });
  };

  if (access.allPsd2) {
    for (const code of ['accounts', 'balances', 'transactions'] as const) add(code, 'all');
    if (access.allPsd2 === 'allAccountsWithOwnerName') add('ownerName', 'all');
  }
  for (const global of [access.availableAccounts, access.availableAccountsWithBalance]) {
    if (!global) continue;
    add('accountList', 'all');
    if (global === 'allAccountsWithOwnerName') add('ownerName', 'all');
  }
  if (access.availableAccountsWithBalance) add('balances', 'all');

  // Berlin Group: accounts under balances or transactions get account access too
  const inScope = accountsInScope(access);
  const anyList = access.accounts !== undefined || access.balances !== undefined || access.transactions !== undefined;
  if (anyList) add('accounts', inScope.length > 0 ? 'listed' : 'chosen', inScope);
  for (const code of ['balances', 'transactions'] as const) {
    const list = access[code];
    if (list !== undefined) add(code, list.length > 0 ? 'listed' : 'chosen', [...list]);
  }

  const texts = CATALOGUE[locale];
  return PERMISSION_CODES.filter((code) => wanted.has(code)).map((code) => {
    const { scope, accounts } = wanted.get(code)!;
    return { code, title: texts[code].title, detail: texts[code].detail[scope], scope, accounts };
  });
}

/** How to show an account reference to a person: IBAN in groups of four, a card number masked. */
export function accountLabel(ref: AccountReference): string {
  const id =
    ref.iban !== undefined
      ? formatIban(ref.iban)
      : ref.pan !== undefined
        ? `•••• ${ref.pan.slice(-4)}`
        : (ref.bban ?? ref.maskedPan ?? ref.msisdn ?? '');
  return ref.currency ? `${id} (${ref.currency})` : id;
}
