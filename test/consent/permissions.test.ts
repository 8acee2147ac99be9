import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LOCALES,
  PERMISSION_CODES,
  accountLabel,
  describeAccess,
  type PermissionItem,
} from '../../src/consent/permissions.ts';
import type { AccountAccess } from '../../src/consent/types.ts';

const DE = { iban: 'DE89370400440532013000', currency: 'EUR' };
const GB = { iban: 'GB29NWBK60161331926819', currency: 'GBP' };

const summary = (items: PermissionItem[]) => items.map((i) => `${i.code}:${i.scope}`);

describe('describeAccess', () => {
  const cases: Array<[string, AccountAccess, string[]]> = [
    ['named accounts, balances and transactions', { accounts: [DE, GB], balances: [DE], transactions: [DE] }, ['accounts:listed', 'balances:listed', 'transactions:listed']],
    ['account details only', { accounts: [DE] }, ['accounts:listed']],
    ['transactions only: account details are implied', { transactions: [GB] }, ['accounts:listed', 'transactions:listed']],
    ['balances only', { balances: [DE] }, ['accounts:listed', 'balances:listed']],
    ['the list of accounts', { availableAccounts: 'allAccounts' }, ['accountList:all']],
    ['the list of accounts with owner names', { availableAccounts: 'allAccountsWithOwnerName' }, ['accountList:all', 'ownerName:all']],
    ['the list of accounts with balances', { availableAccountsWithBalance: 'allAccounts' }, ['accountList:all', 'balances:all']],
    ['all PSD2 data', { allPsd2: 'allAccounts' }, ['accounts:all', 'balances:all', 'transactions:all']],
    ['all PSD2 data with owner names', { allPsd2: 'allAccountsWithOwnerName' }, ['accounts:all', 'ownerName:all', 'balances:all', 'transactions:all']],
    ['bank-offered: the PSU chooses', { accounts: [], balances: [], transactions: [] }, ['accounts:chosen', 'balances:chosen', 'transactions:chosen']],
    ['bank-offered account details only', { accounts: [] }, ['accounts:chosen']],
    ['nothing', {}, []],
  ];
  for (const [label, access, expected] of cases) {
    it(label, () => {
      for (const locale of LOCALES) assert.deepEqual(summary(describeAccess(access, locale)), expected);
    });
  }

  it('lists the accounts each item covers, implied ones included and without repeats', () => {
    const items = describeAccess({ accounts: [DE], balances: [DE], transactions: [GB] }, 'en');
    assert.deepEqual(items.find((i) => i.code === 'accounts')?.accounts, [DE, GB]);
    assert.deepEqual(items.find((i) => i.code === 'balances')?.accounts, [DE]);
    assert.deepEqual(items.find((i) => i.code === 'transactions')?.accounts, [GB]);
    for (const item of describeAccess({ allPsd2: 'allAccounts' }, 'en')) assert.deepEqual(item.accounts, []);
  });

  it('speaks plain English', () => {
    const [accounts, balances, transactions] = describeAccess({ accounts: [DE], balances: [DE], transactions: [DE] }, 'en');
    assert.deepEqual(accounts, {
      code: 'accounts',
      title: 'See your account details',
      detail: 'Name, IBAN and currency of the accounts below.',
      scope: 'listed',
      accounts: [DE],
    });
    assert.equal(balances?.title, 'See your balances');
    assert.equal(transactions?.title, 'See your transactions');
    assert.match(describeAccess({ allPsd2: 'allAccounts' }, 'en')[0]!.detail, /all your payment accounts/);
    assert.match(describeAccess({ accounts: [] }, 'en')[0]!.detail, /the accounts you choose/);
  });

  it('speaks Brazilian Portuguese', () => {
    const items = describeAccess({ accounts: [DE], balances: [DE], transactions: [DE] }, 'pt-BR');
    assert.deepEqual(items.map((i) => i.title), ['Ver os dados das suas contas', 'Ver seus saldos', 'Ver suas transações']);
    assert.equal(items[0]?.detail, 'Nome, IBAN e moeda das contas abaixo.');
  });

  it('has a title and a detail for every code, scope and locale, and the locales differ', () => {
    const everything: AccountAccess[] = [
      { allPsd2: 'allAccountsWithOwnerName', availableAccounts: 'allAccountsWithOwnerName' },
      { accounts: [DE], balances: [DE], transactions: [DE] },
      { accounts: [], balances: [], transactions: [] },
    ];
    const seen = new Set<string>();
    for (const access of everything) {
      const en = describeAccess(access, 'en');
      const pt = describeAccess(access, 'pt-BR');
      en.forEach((item, index) => {
        const other = pt[index]!;
        for (const text of [item.title, item.detail, other.title, other.detail]) {
          assert.ok(text.length > 10 && !/[{}]|undefined/.test(text), text);
        }
        assert.notEqual(item.title, other.title);
        assert.notEqual(item.detail, other.detail);
        seen.add(item.code);
      });
    }
    assert.deepEqual([...seen].sort(), [...PERMISSION_CODES].sort());
  });
});

describe('accountLabel', () => {
  it('shows an IBAN in groups of four with its currency', () => {
    assert.equal(accountLabel(DE), 'DE89 3704 0044 0532 0130 00 (EUR)');
    assert.equal(accountLabel({ iban: 'NL91ABNA0417164300' }), 'NL91 ABNA 0417 1643 00');
  });
  it('never shows a full card number', () => {
    assert.equal(accountLabel({ pan: '5409050000001234' }), '•••• 1234');
    assert.equal(accountLabel({ maskedPan: '123456xxxxxx1234', currency: 'EUR' }), '123456xxxxxx1234 (EUR)');
  });
  it('shows other identifiers as given', () => {
    assert.equal(accountLabel({ bban: 'BARC12345612345678' }), 'BARC12345612345678');
    assert.equal(accountLabel({ msisdn: '+49 170 1234567' }), '+49 170 1234567');
  });
});
