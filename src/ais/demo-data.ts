/**
 * Demo account data: the customers' accounts from the PSU directory, with balances and 60 days of
 * transactions derived deterministically from the account id (the same numbers on every start).
 */
import { createHash } from 'node:crypto';
import type { PsuDirectory } from '../psu/directory.ts';
import type { AccountDataSource, AccountRecord, BalanceRecord, TransactionQuery, TransactionRecord } from './data-source.ts';

const PARTIES = ['Coffee Corner', 'City Groceries', 'Northern Rail', 'Electric Company', 'Book House', 'Pharmacy', 'Streaming Service'];
const DAY = 86_400_000;

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** a deterministic stream of numbers in [0, 1) from a seed */
function numbers(seed: string): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 2 ** 32;
}

export class DemoAccountData implements AccountDataSource {
  readonly #directory: PsuDirectory;
  readonly #now: () => Date;

  constructor(directory: PsuDirectory, now: () => Date = () => new Date()) {
    this.#directory = directory;
    this.#now = now;
  }

  async accounts(psuId: string): Promise<AccountRecord[]> {
    return this.#directory.listAccounts(psuId);
  }

  async #account(psuId: string, accountId: string): Promise<AccountRecord | undefined> {
    return (await this.accounts(psuId)).find((a) => a.accountId === accountId);
  }

  #history(account: AccountRecord): TransactionRecord[] {
    const next = numbers(account.accountId);
    const today = Date.UTC(this.#now().getUTCFullYear(), this.#now().getUTCMonth(), this.#now().getUTCDate());
    const out: TransactionRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const at = today - Math.floor(i / 2) * DAY;
      const salary = i % 29 === 7;
      const cents = salary ? 2_500_000 + Math.floor(next() * 100_000) : -Math.floor(500 + next() * 60_000);
      out.push({
        transactionId: `${account.accountId}-t${i}`,
        bookingDate: day(at),
        valueDate: day(at),
        amount: (cents / 100).toFixed(2),
        currency: account.currency,
        counterpartyName: salary ? 'Employer AB' : PARTIES[Math.floor(next() * PARTIES.length)]!,
        description: salary ? 'Salary' : 'Card purchase',
        status: i < 2 ? 'pending' : 'booked',
      });
    }
    return out;
  }

  async balances(psuId: string, accountId: string): Promise<BalanceRecord[]> {
    const account = await this.#account(psuId, accountId);
    if (!account) return [];
    const history = this.#history(account);
    const start = 1_000_000 + Math.floor(numbers(`${accountId}:balance`)() * 5_000_000);
    const cents = (list: TransactionRecord[]) => list.reduce((sum, t) => sum + Math.round(Number(t.amount) * 100), start);
    const booked = cents(history.filter((t) => t.status === 'booked'));
    const expected = cents(history);
    const referenceDate = day(this.#now().getTime());
    return [
      { balanceType: 'closingBooked', amount: (booked / 100).toFixed(2), currency: account.currency, referenceDate },
      { balanceType: 'expected', amount: (expected / 100).toFixed(2), currency: account.currency, referenceDate },
    ];
  }

  async transactions(psuId: string, accountId: string, query: TransactionQuery): Promise<TransactionRecord[]> {
    const account = await this.#account(psuId, accountId);
    if (!account) return [];
    return this.#history(account).filter(
      (t) =>
        (query.bookingStatus === 'both' || t.status === query.bookingStatus) &&
        t.bookingDate >= query.dateFrom &&
        (query.dateTo === undefined || t.bookingDate <= query.dateTo),
    );
  }
}
