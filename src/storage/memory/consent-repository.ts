/**
 * ConsentRepository in process memory (demo mode, tests).
 *
 * - Stored consents are deep-frozen: a write copies what the caller handed over once and freezes it, and
 *   reads hand out that frozen value itself, so callers can never change stored state and no read copies.
 *   (A Date inside stays mutable through its setters; nothing in Assent calls them.)
 * - Lookups by id and by grant id are map lookups; the grant index is kept on every write (create,
 *   apply, eviction), so the grant-uniqueness check is one lookup too.
 * - Retention is bounded: a consent that ended (a final status) is dropped `endedRetentionMs` after it
 *   ended (by this store's clock), and at `maxConsents` a new consent first pushes out the oldest ended
 *   one, else the oldest one of all, with a warning.
 * - `apply` checks and writes without awaiting in between, which makes it atomic.
 */
import { deepFreeze } from '../../consent/freeze.ts';
import { applyChange, changeApplies } from '../../consent/change.ts';
import { ConsentAlreadyExists, GrantIdInUse } from '../../consent/errors.ts';
import { isEnded } from '../../consent/regimes/index.ts';
import type { ConsentPage, ConsentQuery, ConsentRepository, ConsentSortField } from '../../consent/repository.ts';
import { compareConsents, isDue, matchesQuery } from '../../consent/search.ts';
import type { Consent, ConsentChange } from '../../consent/types.ts';

export interface MemoryConsentRepositoryOptions {
  /**
   * how long a consent that ended (revoked, rejected, expired, …) stays readable, in milliseconds
   * @default 86_400_000 (one day)
   */
  endedRetentionMs?: number;
  /**
   * the most consents kept; at the cap, storing a new one drops the oldest ended consent, else the
   * oldest consent of all
   * @default 10_000
   */
  maxConsents?: number;
  /** told when the cap made the store drop a consent (at most once a minute, with the count since) */
  onCapReached?: (info: { maxConsents: number; dropped: number }) => void;
  /** the store's clock (epoch ms); tests move it */
  now?: () => number;
}

const CAP_WARNING_INTERVAL_MS = 60_000;

export class MemoryConsentRepository implements ConsentRepository {
  /** id → frozen consent, in creation order (the head is the oldest) */
  readonly #consents = new Map<string, Consent>();
  /** consent id → its search keys (ConsentRepository.addSearchKeys) */
  readonly #searchKeys = new Map<string, Set<string>>();
  /** grantId → consent id */
  readonly #byGrant = new Map<string, string>();
  /** id → when it ended (store clock), in the order they ended (the head ended first) */
  readonly #ended = new Map<string, number>();
  readonly #endedRetentionMs: number;
  readonly #maxConsents: number;
  readonly #onCapReached: MemoryConsentRepositoryOptions['onCapReached'];
  readonly #now: () => number;
  #capDropped = 0;
  #capWarnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryConsentRepositoryOptions = {}) {
    this.#endedRetentionMs = options.endedRetentionMs ?? 86_400_000;
    this.#maxConsents = options.maxConsents ?? 10_000;
    if (!(this.#endedRetentionMs >= 0)) throw new RangeError('endedRetentionMs must be >= 0');
    if (!Number.isInteger(this.#maxConsents) || this.#maxConsents < 1) throw new RangeError('maxConsents must be an integer >= 1');
    this.#onCapReached = options.onCapReached;
    this.#now = options.now ?? Date.now;
  }

  /** number of consents held */
  get size(): number {
    return this.#consents.size;
  }

  async create(consent: Consent): Promise<void> {
    const now = this.#now();
    this.#evictEnded(now);
    if (this.#consents.has(consent.id)) throw new ConsentAlreadyExists(consent.id);
    if (consent.grantId !== undefined) this.#assertGrantFree(consent.grantId, consent.id);
    if (this.#consents.size >= this.#maxConsents) this.#makeRoom(now);
    const stored = deepFreeze(structuredClone(consent));
    this.#consents.set(stored.id, stored);
    if (stored.grantId !== undefined) this.#byGrant.set(stored.grantId, stored.id);
    if (isEnded(stored.status)) this.#ended.set(stored.id, now);
  }

  async findById(id: string): Promise<Consent | null> {
    return this.#consents.get(id) ?? null;
  }

  async findByGrantId(grantId: string): Promise<Consent | null> {
    const id = this.#byGrant.get(grantId);
    return id === undefined ? null : (this.#consents.get(id) ?? null);
  }

  async apply(change: ConsentChange): Promise<Consent | null> {
    const now = this.#now();
    this.#evictEnded(now);
    const stored = this.#consents.get(change.id);
    if (!stored || !changeApplies(stored, change)) return null;
    const grantId = change.set.grantId;
    if (grantId !== undefined) this.#assertGrantFree(grantId, change.id);
    // the change's values belong to the caller: copied once, then frozen with the rest
    const next = deepFreeze(applyChange(stored, structuredClone(change)));
    this.#consents.set(next.id, next);
    if (stored.grantId !== next.grantId) {
      if (stored.grantId !== undefined && this.#byGrant.get(stored.grantId) === next.id) this.#byGrant.delete(stored.grantId);
      if (next.grantId !== undefined) this.#byGrant.set(next.grantId, next.id);
    }
    if (isEnded(next.status) && !this.#ended.has(next.id)) this.#ended.set(next.id, now);
    return next;
  }

  async query(
    filter: ConsentQuery,
    options: { sort: ConsentSortField; direction: 'asc' | 'desc'; skip: number; limit: number },
  ): Promise<ConsentPage> {
    assertPage(options.skip, options.limit);
    this.#evictEnded(this.#now());
    const keyed = filter.searchKeys ? (c: Consent) => filter.searchKeys!.some((k) => this.#searchKeys.get(c.id)?.has(k)) : () => true;
    const matches = [...this.#consents.values()]
      .filter((c) => keyed(c) && matchesQuery(c, filter))
      .sort((a, b) => compareConsents(a, b, options.sort, options.direction));
    return { items: matches.slice(options.skip, options.skip + options.limit), total: matches.length };
  }

  async findDue(now: Date, receivedBefore: Date, limit: number): Promise<Consent[]> {
    assertPage(0, limit);
    // the sweeper calls this every sweepIntervalSeconds, which also evicts without any write
    this.#evictEnded(this.#now());
    return [...this.#consents.values()]
      .filter((c) => isDue(c, now, receivedBefore))
      .sort((a, b) => compareConsents(a, b, 'expiresAt', 'asc'))
      .slice(0, limit);
  }

  /** evicts the ended consents past their retention (writes and findDue do it too) */
  async housekeeping(): Promise<void> {
    this.#evictEnded(this.#now());
  }

  async addSearchKeys(id: string, keys: readonly string[], max: number): Promise<'added' | 'not-found' | 'too-many'> {
    if (!this.#consents.has(id)) return 'not-found';
    const held = new Set(this.#searchKeys.get(id));
    for (const key of keys) held.add(key);
    if (held.size > max) return 'too-many';
    this.#searchKeys.set(id, held);
    return 'added';
  }

  async removeSearchKeys(id: string, keys: readonly string[]): Promise<boolean> {
    if (!this.#consents.has(id)) return false;
    const held = this.#searchKeys.get(id);
    for (const key of keys) held?.delete(key);
    if (held?.size === 0) this.#searchKeys.delete(id);
    return true;
  }

  async heldSearchKeys(id: string, keys: readonly string[]): Promise<boolean[] | null> {
    if (!this.#consents.has(id)) return null;
    return keys.map((k) => this.#searchKeys.get(id)?.has(k) === true);
  }

  /** the MongoDB repository has a unique index on grantId; this keeps the two alike */
  #assertGrantFree(grantId: string, consentId: string): void {
    const owner = this.#byGrant.get(grantId);
    if (owner !== undefined && owner !== consentId) throw new GrantIdInUse(grantId);
  }

  /** drops the consents that ended more than endedRetentionMs ago (the queue is in end order) */
  #evictEnded(now: number): void {
    for (const [id, endedAt] of this.#ended) {
      if (endedAt + this.#endedRetentionMs > now) break;
      this.#drop(id);
    }
  }

  /** at the cap: the oldest ended consent goes first, else the oldest consent */
  #makeRoom(now: number): void {
    const victim = this.#ended.keys().next().value ?? this.#consents.keys().next().value;
    if (victim === undefined) return;
    this.#drop(victim);
    this.#capDropped += 1;
    if (now - this.#capWarnedAt >= CAP_WARNING_INTERVAL_MS) {
      this.#onCapReached?.({ maxConsents: this.#maxConsents, dropped: this.#capDropped });
      this.#capWarnedAt = now;
      this.#capDropped = 0;
    }
  }

  #drop(id: string): void {
    const consent = this.#consents.get(id);
    this.#consents.delete(id);
    this.#searchKeys.delete(id);
    this.#ended.delete(id);
    if (consent?.grantId !== undefined && this.#byGrant.get(consent.grantId) === id) this.#byGrant.delete(consent.grantId);
  }
}

function assertPage(skip: number, limit: number): void {
  if (!Number.isInteger(skip) || skip < 0) throw new RangeError(`skip must be an integer >= 0, not ${skip}`);
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer >= 1, not ${limit}`);
}
