/**
 * ConsentRepository on MongoDB (or a MongoDB-wire server such as FerretDB). One document per consent,
 * authorisations and history embedded; the mapping to documents lives in ./consent-document.ts.
 *
 * Why `apply` takes a claim first: MongoDB runs findOneAndUpdate atomically, but FerretDB 1.x does not (it
 * reads the matching document, then overwrites it by _id; 20 racers on one revision measured up to 20
 * winners). Inserting a unique `{consentId}@{revision}` claim is atomic on both, so exactly one writer may
 * move a consent off a given revision; its conditional findOneAndUpdate then meets no competitor, and
 * A writer that stopped between claim and update leaves the claim behind: after `claimLeaseMs` the next
 * writer on that revision completes the recorded change (never a different one) and clears it, so a crash
 * delays a consent instead of wedging it. No transactions are needed.
 *
 * Round trips: a transition costs TWO (claim insert, conditional update), on top of the read the caller
 * computed the change from (which ConsentService usually answers from a fenced copy, without MongoDB).
 * That is the minimum on FerretDB: its only atomic single-winner step is a unique insert, and the update
 * has to follow it. A successful writer leaves its claim in place
 * instead of deleting it (a third round trip): once the consent has moved past that revision the claim
 * blocks nobody — a stale writer on it loses either way, and after the lease clears it — and
 * `housekeeping` (the sweeper) deletes claims older than `claimRetentionMs` in one command. Only a claim
 * whose update matched nothing (a bogus `expect`) is deleted at once, so it cannot hold a live revision.
 * (On a real MongoDB, findOneAndUpdate alone is atomic and a transition could be one round trip; the
 * claim stays because both servers run the same code and the claim is what makes FerretDB safe.)
 *
 * Concurrent creations, and concurrent claims, reach the server as one multi-document insert each
 * (./insert-batcher.ts): a lone one is sent at once, the ones arriving meanwhile wait and go together.
 */
import { termMonths } from '../../consent/term.ts';
import { MongoServerError, type Collection, type Db, type Filter, type IndexDescription, type Sort } from 'mongodb';
import { ConsentAlreadyExists, ConsentStateConflict, GrantIdInUse } from '../../consent/errors.ts';
import type { ConsentPage, ConsentQuery, ConsentRepository, ConsentSortField, QueryIndex } from '../../consent/repository.ts';
import { AWAITING_STATUSES, OPEN_STATUSES } from '../../consent/regimes/index.ts';
import type { Consent, ConsentChange, ConsentStatus, StatusChange } from '../../consent/types.ts';
import { clearFields, consentMapping, type ConsentDocument, type ConsentMapping, type FieldProtection } from './consent-document.ts';
import { InsertBatcher } from './insert-batcher.ts';
import { applyChange, changeApplies } from '../../consent/change.ts';

export interface MongoConsentRepositoryOptions {
  /** default `consents`; the claims go to `<name>_claims` */
  collectionName?: string;
  /**
   * field encryption for personal data (default: values in clear); `createFieldProtector(ring)` from
   * src/crypto, built from the configuration by ./protection.ts. See ./consent-document.ts for what it covers.
   */
  protector?: FieldProtection;
  /** how long an unfinished claim blocks its revision before another writer completes it. Default 30 s */
  claimLeaseMs?: number;
  /**
   * how long claims are kept before `housekeeping` deletes them (finished ones are harmless, an abandoned
   * one older than this is dropped instead of completed: its writer is long gone). Default 10 minutes
   */
  claimRetentionMs?: number;
  /** clock for claims (tests) */
  now?: () => Date;
}

/** A writer's hold on one revision of one consent, with the change it is applying. */
export interface ClaimDocument {
  /** `${consentId}@${revision}` */
  _id: string;
  consentId: string;
  expect: { status: ConsentStatus; revision: number };
  claimedAt: Date;
  set: Partial<ConsentDocument>;
  history: StatusChange[];
}

/** ConsentQuery filter names → the document fields that hold what they search */
const STORED_FIELD: Partial<Record<QueryIndex['fields'][number][0], string>> = {
  clientIds: 'clientId',
  psuId: 'psuIdIndex',
  document: 'documentIndex',
  documents: 'documentIndex',
  searchKeys: 'searchKeyIndex',
};

export class MongoConsentRepository implements ConsentRepository {
  readonly consents: Collection<ConsentDocument>;
  readonly claims: Collection<ClaimDocument>;
  readonly #mapping: ConsentMapping;
  readonly #leaseMs: number;
  readonly #retentionMs: number;
  readonly #now: () => Date;
  /** concurrent creations and claims go to the server together (./insert-batcher.ts) */
  readonly #consentInserts: InsertBatcher<ConsentDocument>;
  readonly #claimInserts: InsertBatcher<ClaimDocument>;

  constructor(db: Db, options: MongoConsentRepositoryOptions = {}) {
    const name = options.collectionName ?? 'consents';
    this.consents = db.collection<ConsentDocument>(name);
    this.claims = db.collection<ClaimDocument>(`${name}_claims`);
    this.#mapping = consentMapping(options.protector ?? clearFields);
    this.#leaseMs = options.claimLeaseMs ?? 30_000;
    this.#retentionMs = Math.max(options.claimRetentionMs ?? 600_000, this.#leaseMs);
    this.#now = options.now ?? (() => new Date());
    this.#consentInserts = new InsertBatcher(this.consents);
    this.#claimInserts = new InsertBatcher(this.claims);
  }

  /** Idempotent; run at startup. (No TTL or partial indexes: FerretDB has neither; the sweeper expires.) */
  async ensureIndexes(queryIndexes: readonly QueryIndex[] = []): Promise<void> {
    const indexes: IndexDescription[] = [
      { key: { clientId: 1, createdAt: -1 }, name: 'clientId_createdAt' },
      { key: { psuIdIndex: 1 }, name: 'psuIdIndex', sparse: true },
      { key: { status: 1, expiresAt: 1 }, name: 'status_expiresAt' },
      // sparse, not partial: consents without a grant are left out of the index, so they never collide
      { key: { grantId: 1 }, name: 'grantId_unique', unique: true, sparse: true },
      { key: { createdAt: -1 }, name: 'createdAt' },
      { key: { expiresAt: 1 }, name: 'expiresAt' },
      { key: { updatedAt: -1 }, name: 'updatedAt' },
      { key: { accessIbanIndex: 1 }, name: 'accessIbanIndex' },
      { key: { grantedIbanIndex: 1 }, name: 'grantedIbanIndex' },
      { key: { documentIndex: 1 }, name: 'documentIndex' },
    ];
    // the indexes the back-office queries declare (next to each query), in the stored fields' names;
    // one the list above already has (same name) is not declared twice
    for (const index of queryIndexes) {
      if (indexes.some((i) => i.name === index.name)) continue;
      indexes.push({ name: index.name, key: Object.fromEntries(index.fields.map(([field, order]) => [STORED_FIELD[field] ?? field, order])) });
    }
    // one at a time: FerretDB 1.24 drops the connection when a multi-index createIndexes meets
    // indexes that all exist already (the second start)
    for (const index of indexes) await this.consents.createIndexes([index]);
    // housekeeping's deleteMany
    await this.claims.createIndexes([{ key: { claimedAt: 1 }, name: 'claimedAt' }]);
    await this.backfillTermMonths();
  }

  /**
   * Search keys are written under the claim protocol like every other change (`rewriteStored`: claim the
   * revision read, conditional update, revision moved on). A plain `$addToSet` would be a read-modify-write
   * of the whole document on FerretDB 1.x, able to undo a transition that landed in between (measured:
   * the contract suite's race test lost terminations and keys that way).
   */
  async addSearchKeys(id: string, keys: readonly string[], max: number): Promise<'added' | 'not-found' | 'too-many'> {
    const hashes = keys.map((k) => this.#mapping.searchKeyHash(k));
    return this.#changeSearchKeys(id, 'addSearchKeys', (held) => {
      const next = [...new Set([...held, ...hashes])];
      return next.length > max ? 'too-many' : next;
    });
  }

  async removeSearchKeys(id: string, keys: readonly string[]): Promise<boolean> {
    const hashes = new Set(keys.map((k) => this.#mapping.searchKeyHash(k)));
    return (await this.#changeSearchKeys(id, 'removeSearchKeys', (held) => held.filter((h) => !hashes.has(h)))) === 'added';
  }

  /** read, compute the new set, write it conditionally; on a lost race read again (a few times) */
  async #changeSearchKeys(
    id: string,
    intent: string,
    compute: (held: string[]) => string[] | 'too-many',
  ): Promise<'added' | 'not-found' | 'too-many'> {
    for (let attempt = 0; ; attempt++) {
      const doc = await this.consents.findOne({ _id: id }, { projection: { searchKeyIndex: 1, status: 1, revision: 1 } });
      if (!doc) return 'not-found';
      const held = doc.searchKeyIndex ?? [];
      const next = compute(held);
      if (next === 'too-many') return 'too-many';
      if (next.length === held.length && next.every((h, i) => h === held[i])) return 'added'; // nothing to write
      if (await this.rewriteStored(id, { status: doc.status, revision: doc.revision }, { searchKeyIndex: next })) return 'added';
      if (attempt >= 4) throw new ConsentStateConflict(id, doc.status, intent, { lostRace: true, message: `consent ${id} changed concurrently; try again` });
      await new Promise((resolve) => setTimeout(resolve, 15 * (attempt + 1)));
    }
  }

  async heldSearchKeys(id: string, keys: readonly string[]): Promise<boolean[] | null> {
    const doc = await this.consents.findOne({ _id: id }, { projection: { searchKeyIndex: 1 } });
    if (!doc) return null;
    const held = new Set(doc.searchKeyIndex ?? []);
    return keys.map((k) => held.has(this.#mapping.searchKeyHash(k)));
  }

  /**
   * Gives `termMonths` (consent/term.ts) to consents stored before it existed, so the term filter finds
   * them too. Idempotent (only documents without it); run at startup; returns how many it wrote.
   */
  async backfillTermMonths(): Promise<number> {
    // under the claim protocol (rewriteStored), like every write of a consent: on FerretDB a plain update
    // would be a read-modify-write that another instance's transition could land inside, and be undone
    let written = 0;
    for (let pass = 0; pass < 3; pass++) {
      let lost = 0;
      let batch: ConsentDocument[] = [];
      const flush = async () => {
        const done = await Promise.all(
          batch.map((doc) => this.rewriteStored(doc._id, { status: doc.status, revision: doc.revision }, { termMonths: termMonths(doc.createdAt, doc.expiresAt) })),
        );
        for (const applied of done) {
          if (applied) written++;
          else lost++;
        }
        batch = [];
      };
      const legacy = this.consents.find({ termMonths: { $exists: false } }, { projection: { createdAt: 1, expiresAt: 1, status: 1, revision: 1 } });
      for await (const doc of legacy) {
        batch.push(doc);
        if (batch.length >= 32) await flush();
      }
      await flush();
      // a consent that changed meanwhile is read again in the next pass (unless its change stored termMonths)
      if (lost === 0) break;
    }
    return written;
  }

  /**
   * Maintenance (re-encryption): deletes every finished claim — its consent has moved past its revision,
   * so it blocks nobody, but it still holds the change's values as they were stored — and returns how many
   * unfinished ones remain (a writer mid-apply, or one that stopped: the next write completes it).
   */
  async clearFinishedClaims(): Promise<number> {
    let unfinished = 0;
    for await (const claim of this.claims.find({}, { projection: { _id: 1, consentId: 1, expect: 1 } })) {
      const consent = await this.consents.findOne({ _id: claim.consentId }, { projection: { revision: 1 } });
      if (consent && consent.revision === claim.expect.revision) unfinished += 1;
      else await this.claims.deleteOne({ _id: claim._id, consentId: claim.consentId });
    }
    return unfinished;
  }

  /** Deletes the claims older than claimRetentionMs (one command); the sweeper runs it every round. */
  async housekeeping(): Promise<void> {
    await this.claims.deleteMany({ claimedAt: { $lt: new Date(this.#now().getTime() - this.#retentionMs) } });
  }

  async create(consent: Consent): Promise<void> {
    try {
      await this.#consentInserts.insert(this.#mapping.toDocument(consent));
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // FerretDB does not say which index refused the document: look
      if (consent.grantId !== undefined && !(await this.consents.findOne({ _id: consent.id }, { projection: { _id: 1 } }))) {
        throw new GrantIdInUse(consent.grantId);
      }
      throw new ConsentAlreadyExists(consent.id);
    }
  }

  /** Every read throws UnreadableConsentError (a DecryptionError) when a protected value does not decrypt. */
  async findById(id: string): Promise<Consent | null> {
    return this.#read(await this.consents.findOne({ _id: id }));
  }

  async findByGrantId(grantId: string): Promise<Consent | null> {
    return this.#read(await this.consents.findOne({ grantId }));
  }

  async apply(change: ConsentChange, from?: Consent): Promise<Consent | null> {
    const { status, revision } = change.expect;
    // computed from a consent at the expected revision: the result is known, the update need not return it
    const base = from && changeApplies(from, change) ? from : undefined;
    const claim: ClaimDocument = {
      _id: `${change.id}@${revision}`,
      consentId: change.id,
      expect: { status, revision },
      claimedAt: this.#now(),
      set: this.#mapping.setToDocument(change.set),
      history: this.#mapping.historyToDocument(change.history ?? []),
    };
    try {
      if (!base) return this.#read(await this.#applyClaim(claim));
      return (await this.#applyClaim(claim, { readBack: false })) ? applyChange(base, structuredClone(change)) : null;
    } catch (err) {
      if (isDuplicateKey(err) && change.set.grantId !== undefined) throw new GrantIdInUse(change.set.grantId);
      throw err;
    }
  }

  /**
   * Maintenance (re-encryption, migrations): writes fields that are ALREADY in stored form, under the
   * same claim protocol as `apply`, so it never overwrites a concurrent change on FerretDB. Bumps the
   * revision like any stored change (a reader holding the old revision re-reads); leaves `updatedAt`,
   * which is the consent's own. Returns false when the consent is gone or no longer at `expect`.
   */
  async rewriteStored(
    id: string,
    expect: { status: ConsentStatus; revision: number },
    set: Partial<ConsentDocument>,
  ): Promise<boolean> {
    const { _id: _ignored, revision: _revision, ...fields } = set;
    const claim: ClaimDocument = { _id: `${id}@${expect.revision}`, consentId: id, expect, claimedAt: this.#now(), set: fields, history: [] };
    return this.#applyClaim(claim, { readBack: false });
  }

  /**
   * Claims the revision and applies the claim's change as one conditional update: two round trips. The
   * claim of a change that applied stays (see the top of this file); one that did not is released.
   * Answers the stored document after the change (findOneAndUpdate), or — `readBack: false` — just
   * whether it applied (updateOne: on FerretDB about half the server time of findOneAndUpdate, and nothing
   * to decrypt).
   */
  async #applyClaim(claim: ClaimDocument): Promise<ConsentDocument | null>;
  async #applyClaim(claim: ClaimDocument, options: { readBack: false }): Promise<boolean>;
  async #applyClaim(claim: ClaimDocument, { readBack = true }: { readBack?: boolean } = {}): Promise<ConsentDocument | boolean | null> {
    try {
      await this.#claimInserts.insert(claim);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.#completeAbandonedClaim(claim._id);
      return readBack ? null : false;
    }
    let applied: ConsentDocument | boolean | null = null;
    try {
      const { filter, update } = claimUpdate(claim);
      applied = readBack
        ? await this.consents.findOneAndUpdate(filter, update, { returnDocument: 'after' })
        : (await this.consents.updateOne(filter, update)).matchedCount === 1;
      return applied;
    } finally {
      // A claim left behind (this delete failing, or the update failing) is completed or cleared after
      // the lease, and deleted by housekeeping after claimRetentionMs.
      if (!applied) await this.claims.deleteOne({ _id: claim._id }).catch(() => undefined);
    }
  }

  async query(
    filter: ConsentQuery,
    options: { sort: ConsentSortField; direction: 'asc' | 'desc'; skip: number; limit: number },
  ): Promise<ConsentPage> {
    assertPage(options.skip, options.limit);
    const query = this.#mapping.filterToQuery(filter);
    const direction = options.direction === 'asc' ? 1 : -1;
    const sort: Sort = { [options.sort]: direction, _id: direction };
    const [total, docs] = await Promise.all([
      this.consents.countDocuments(query),
      this.consents.find(query).sort(sort).skip(options.skip).limit(options.limit).toArray(),
    ]);
    return { items: docs.map((doc) => this.#mapping.fromDocument(doc)), total };
  }

  async findDue(now: Date, receivedBefore: Date, limit: number): Promise<Consent[]> {
    assertPage(0, limit);
    const query: Filter<ConsentDocument> = {
      $or: [
        { status: { $in: [...OPEN_STATUSES] }, expiresAt: { $lte: now } },
        { status: { $in: [...AWAITING_STATUSES] }, createdAt: { $lt: receivedBefore } },
      ],
    };
    const docs = await this.consents.find(query).sort({ expiresAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map((doc) => this.#mapping.fromDocument(doc));
  }

  /**
   * Housekeeping (the sweeper runs it): claims older than the lease that no writer came back for. One
   * whose consent has moved on (or is gone) is deleted; one still holding its revision is completed as
   * the next writer would. At most `limit` per call; returns how many were cleared.
   */
  async cleanUpClaims(limit = 100): Promise<number> {
    assertPage(0, limit);
    const cutoff = new Date(this.#now().getTime() - this.#leaseMs);
    const stale = await this.claims.find({ claimedAt: { $lt: cutoff } }, { projection: { _id: 1 } }).limit(limit).toArray();
    for (const claim of stale) await this.#completeAbandonedClaim(claim._id);
    return stale.length;
  }

  #read(doc: ConsentDocument | null): Consent | null {
    return doc ? this.#mapping.fromDocument(doc) : null;
  }

  /**
   * The claim's writer stopped before updating (crash, lost connection). Once the lease has passed, apply
   * its recorded change as a full replacement computed from the stored document: racing completers
   * write identical documents, so doing it twice is harmless.
   */
  async #completeAbandonedClaim(claimId: string): Promise<void> {
    const claim = await this.claims.findOne({ _id: claimId });
    if (!claim || this.#now().getTime() - claim.claimedAt.getTime() < this.#leaseMs) return;
    const { filter } = claimUpdate(claim);
    const doc = await this.consents.findOne(filter);
    if (doc) {
      const next: ConsentDocument = {
        ...doc,
        ...claim.set,
        revision: claim.expect.revision + 1,
        history: [...doc.history, ...claim.history],
      };
      try {
        await this.consents.replaceOne(filter, next);
      } catch (err) {
        // the recorded change could never apply (its grant id is taken): drop it like its writer would have
        if (!isDuplicateKey(err)) throw err;
      }
    }
    await this.claims.deleteOne({ _id: claimId });
  }
}

function claimUpdate(claim: ClaimDocument) {
  const filter: Filter<ConsentDocument> = {
    _id: claim.consentId,
    status: claim.expect.status,
    revision: claim.expect.revision,
  };
  const update = {
    $set: { ...claim.set, revision: claim.expect.revision + 1 },
    ...(claim.history.length > 0 ? { $push: { history: { $each: claim.history } } } : {}),
  };
  return { filter, update };
}

function assertPage(skip: number, limit: number): void {
  if (!Number.isInteger(skip) || skip < 0) throw new RangeError(`skip must be an integer >= 0, not ${skip}`);
  // limit 0 would mean "no limit" to MongoDB
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer >= 1, not ${limit}`);
}

/**
 * MongoDB says 11000; FerretDB reports a unique index hit on update as a generic error carrying its
 * backend's message (SQLite: "UNIQUE constraint failed", PostgreSQL: SQLSTATE 23505).
 */
function isDuplicateKey(err: unknown): boolean {
  return (
    err instanceof MongoServerError &&
    (err.code === 11000 || /UNIQUE constraint failed|duplicate key value violates unique constraint/.test(err.message))
  );
}
