/**
 * Where the reference AIS API gets account data: a bank replaces this with its core banking system.
 * Amounts are decimal strings (Berlin Group `amount`), dates YYYY-MM-DD.
 */
export interface AccountRecord {
  accountId: string;
  iban: string;
  currency: string;
  name: string;
  product?: string;
}

export interface BalanceRecord {
  balanceType: 'closingBooked' | 'expected' | 'interimAvailable';
  amount: string;
  currency: string;
  referenceDate: string;
}

export interface TransactionRecord {
  transactionId: string;
  bookingDate: string;
  valueDate: string;
  amount: string;
  currency: string;
  /** the other party: creditor for money out, debtor for money in */
  counterpartyName: string;
  description: string;
  status: 'booked' | 'pending';
}

export interface TransactionQuery {
  bookingStatus: 'booked' | 'pending' | 'both';
  dateFrom: string;
  dateTo?: string;
}

export interface AccountDataSource {
  /** the PSU's payment accounts */
  accounts(psuId: string): Promise<AccountRecord[]>;
  balances(psuId: string, accountId: string): Promise<BalanceRecord[]>;
  transactions(psuId: string, accountId: string, query: TransactionQuery): Promise<TransactionRecord[]>;
}
