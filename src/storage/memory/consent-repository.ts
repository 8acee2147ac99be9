/**
 * ConsentRepository in process memory (demo mode, tests). Copies on the way in and out, so callers never
 * hold stored state; `apply` checks and writes without awaiting in between, which makes it atomic.
 */
import { applyChange, changeApplies } from '../../consent/change.ts';
import { ConsentAlreadyExists, GrantIdInUse } from '../../consent/errors.ts';
import type { ConsentPage, ConsentQuery, ConsentRepository, ConsentSortField } from '../../consent/repository.ts';
import { compareConsents, isDue, matchesQuery } from '../../consent/search.ts';
import type { Consent, ConsentChange } from '../../consent/types.ts';

export class MemoryConsentRepository implements ConsentRepository {
  readonly #consents = new Map<string, Consent>();

  async create(consent: Consent): Promise<void> {
    if (this.#consents.has(consent.id)) throw new ConsentAlreadyExists(consent.id);
    if (consent.grantId !== undefined) this.#assertGrantFree(consent.grantId, consent.id);
    this.#consents.set(consent.id, structuredClone(consent));
  }

  async findById(id: string): Promise<Consent | null> {
    return copy(this.#consents.get(id));
  }

  async findByGrantId(grantId: string): Promise<Consent | null> {
    return copy([...this.#consents.values()].find((c) => c.grantId === grantId));
  }

  async apply(change: ConsentChange): Promise<Consent | null> {
    const stored = this.#consents.get(change.id);
    if (!stored || !changeApplies(stored, change)) return null;
    if (change.set.grantId !== undefined) this.#assertGrantFree(change.set.grantId, change.id);
    const next = applyChange(stored, structuredClone(change));
    this.#consents.set(change.id, next);
    return structuredClone(next);
  }

  async query(
    filter: ConsentQuery,
    options: { sort: ConsentSortField; direction: 'asc' | 'desc'; skip: number; limit: number },
  ): Promise<ConsentPage> {
    assertPage(options.skip, options.limit);
    const matches = [...this.#consents.values()]
      .filter((c) => matchesQuery(c, filter))
      .sort((a, b) => compareConsents(a, b, options.sort, options.direction));
    return {
      items: matches.slice(options.skip, options.skip + options.limit).map((c) => structuredClone(c)),
      total: matches.length,
    };
  }

  async findDue(now: Date, receivedBefore: Date, limit: number): Promise<Consent[]> {
    assertPage(0, limit);
    return [...this.#consents.values()]
      .filter((c) => isDue(c, now, receivedBefore))
      .sort((a, b) => compareConsents(a, b, 'expiresAt', 'asc'))
      .slice(0, limit)
      .map((c) => structuredClone(c));
  }

  /** the MongoDB repository has a unique index on grantId; this keeps the two alike */
  #assertGrantFree(grantId: string, consentId: string): void {
    for (const c of this.#consents.values()) {
      if (c.grantId === grantId && c.id !== consentId) throw new GrantIdInUse(grantId);
    }
  }
}

function copy(consent: Consent | undefined): Consent | null {
  return consent ? structuredClone(consent) : null;
}

function assertPage(skip: number, limit: number): void {
  if (!Number.isInteger(skip) || skip < 0) throw new RangeError(`skip must be an integer >= 0, not ${skip}`);
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer >= 1, not ${limit}`);
}
