/**
 * The PSU (customer) directory: authentication and the accounts a customer holds. Banks plug in their own
 * implementation (core banking, IdP); demo mode uses the customers from config/demo/customers.json.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { CustomerConfig } from '../../config/schema.ts';

export interface Psu {
  id: string;
  /** the login name in the bank's online interface (what a TPP may send as PSU-ID) */
  username?: string;
  name: string;
  /** Brazil: CPF/CNPJ */
  document?: string;
  /** Brazil: CNPJs of the companies the customer acts for */
  companies?: string[];
}

export interface PsuAccount {
  /** the bank's internal account id */
  accountId: string;
  iban: string;
  currency: string;
  /** what the customer calls it */
  name: string;
  product?: string;
}

export interface PsuDirectory {
  /** the PSU for these credentials, or null; must take the same time whether or not the user exists */
  authenticate(username: string, password: string): Promise<Psu | null>;
  findPsu(psuId: string): Promise<Psu | null>;
  listAccounts(psuId: string): Promise<PsuAccount[]>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Demo directory from configuration. Passwords are compared as digests in constant time. */
export class ConfigPsuDirectory implements PsuDirectory {
  readonly #byUsername = new Map<string, CustomerConfig>();
  readonly #byId = new Map<string, CustomerConfig>();
  readonly #dummy = digest('no-such-user');

  constructor(customers: CustomerConfig[]) {
    for (const c of customers) {
      this.#byUsername.set(c.username.toLowerCase(), c);
      this.#byId.set(c.id, c);
    }
  }

  async authenticate(username: string, password: string): Promise<Psu | null> {
    const customer = this.#byUsername.get(username.trim().toLowerCase());
    const expected = customer ? digest(customer.password) : this.#dummy;
    const ok = timingSafeEqual(expected, digest(password)) && customer !== undefined;
    return ok ? toPsu(customer) : null;
  }

  async findPsu(psuId: string): Promise<Psu | null> {
    const customer = this.#byId.get(psuId);
    return customer ? toPsu(customer) : null;
  }

  async listAccounts(psuId: string): Promise<PsuAccount[]> {
    return (this.#byId.get(psuId)?.accounts ?? []).map((a) => ({ ...a }));
  }
}

function toPsu(c: CustomerConfig): Psu {
  return {
    id: c.id,
    username: c.username,
    name: c.name,
    ...(c.document ? { document: c.document } : {}),
    ...(c.companies ? { companies: [...c.companies] } : {}),
  };
}
