/**
 * Key rotation, second half: after a new key became `current` (new writes already use it), move every
 * stored value still encrypted under an older key onto the current one, so the old key can leave the ring.
 *
 * Walks the consents collection in `_id` order, one batch at a time (no long-lived cursor). Per document:
 * every personal value (the positions ./consent-document.ts defines) whose key id is not current is
 * decrypted and encrypted again; values already current are left byte for byte. The changed fields are
 * written with ONE conditional update guarded by the document's revision, through the repository's claim
 * protocol (`rewriteStored`), so a concurrent change is never overwritten — a document that changed
 * meanwhile is skipped and retried after the walk. Idempotent (a second run rewrites nothing) and
 * resumable (stop it anywhere and run it again; `after` skips the ids already walked).
 *
 * Plaintext found where a protected value belongs (a store written before encryption was switched on)
 * is encrypted too, and that document's blind indexes, which held normalised plaintext, are recomputed.
 * Blind indexes are not touched otherwise: they do not depend on the encryption keys.
 */
import type { Db } from 'mongodb';
import { DecryptionError } from '../../crypto/errors.ts';
import type { FieldProtector } from '../../crypto/field-protector.ts';
import type { Consent } from '../../consent/types.ts';
import { PERSONAL_FIELDS, consentMapping, mapPersonalValues, type ConsentDocument, type ValueTransform } from './consent-document.ts';
import { MongoConsentRepository } from './consent-repository.ts';

export interface ReencryptOptions {
  /** default `consents` (its claims: `<name>_claims`) */
  collectionName?: string;
  /** documents read per batch, default 500 */
  batchSize?: number;
  /** resume: only documents whose _id sorts after this one */
  after?: string;
  /** how many times documents that changed during the walk are retried, default 5 */
  retries?: number;
  /** false: count what would change, write nothing */
  write?: boolean;
  /** progress after every batch */
  onBatch?: (progress: ReencryptCounts & { lastId: string }) => void;
}

export interface ReencryptCounts {
  /** documents read */
  scanned: number;
  /** documents rewritten (or, with write: false, that would be) */
  rewritten: number;
  /** documents that needed nothing */
  upToDate: number;
  /** values moved from an older key onto the current one */
  valuesReencrypted: number;
  /** plaintext values found in protected positions and encrypted */
  plaintextEncrypted: number;
  /** documents still changing after every retry: run again */
  conflicts: number;
  /** documents with a value that does not decrypt (unknown key, tampered): left as they are */
  unreadable: number;
  /** the ids behind `conflicts` and `unreadable` (at most 100 each), for a follow-up */
  conflictIds: string[];
  unreadableIds: string[];
  /**
   * unfinished write claims present at the end (finished ones are deleted: they hold values under the old
   * key): a writer that crashed left a change (encrypted under the key current then) that the next write
   * completes; if any remain, run again after the claim lease
   */
  pendingClaims: number;
}

const MAX_IDS = 100;

/** Re-encrypts every consent of `db` onto `protector`'s current key; see the module comment. */
export async function reencryptConsents(db: Db, protector: FieldProtector, options: ReencryptOptions = {}): Promise<ReencryptCounts> {
  if (!protector.encrypts) throw new Error('reencryptConsents needs an encrypting protector (a key ring), not the identity protector');
  const batchSize = options.batchSize ?? 500;
  const write = options.write ?? true;
  const repository = new MongoConsentRepository(db, { protector, ...(options.collectionName ? { collectionName: options.collectionName } : {}) });
  // reads plaintext in protected positions as it is (legacy documents), everything else strictly
  const lenient = consentMapping({
    protect: (field, value) => protector.protect(field, value),
    index: (field, value) => protector.index(field, value),
    reveal: (field, stored) => (protector.isProtected(stored) ? protector.reveal(field, stored) : stored),
  });
  const strict = consentMapping(protector);

  const counts: ReencryptCounts = {
    scanned: 0,
    rewritten: 0,
    upToDate: 0,
    valuesReencrypted: 0,
    plaintextEncrypted: 0,
    conflicts: 0,
    unreadable: 0,
    conflictIds: [],
    unreadableIds: [],
    pendingClaims: 0,
  };

  /** 'conflict': the document changed since it was read (or is being written right now) */
  async function rewriteOne(doc: ConsentDocument): Promise<'done' | 'conflict'> {
    let rotated = 0;
    let plaintext = 0;
    const rotate: ValueTransform = (field, stored) => {
      if (!protector.isProtected(stored)) {
        plaintext++;
        return stored; // handled below, with the indexes
      }
      if (!protector.needsRotation(stored)) return stored;
      rotated++;
      return protector.reprotect(field, stored);
    };
    let set: Partial<ConsentDocument> = {};
    try {
      for (const key of PERSONAL_FIELDS) {
        if (doc[key] === undefined || doc[key] === null) continue;
        const before = rotated;
        const next = mapPersonalValues(key, doc[key], rotate);
        if (rotated > before) (set as Record<string, unknown>)[key] = next;
      }
      if (plaintext > 0) {
        // a legacy document: encrypt everything, and rebuild the indexes from the plaintext
        const consent = lenient.fromDocument(doc);
        const personal: Partial<Consent> = {};
        for (const key of PERSONAL_FIELDS) if (consent[key] !== undefined) (personal as Record<string, unknown>)[key] = consent[key];
        set = strict.setToDocument(personal);
      }
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
      counts.unreadable++;
      if (counts.unreadableIds.length < MAX_IDS) counts.unreadableIds.push(doc._id);
      return 'done';
    }
    if (rotated === 0 && plaintext === 0) {
      counts.upToDate++;
      return 'done';
    }
    if (write && !(await repository.rewriteStored(doc._id, { status: doc.status, revision: doc.revision }, set))) return 'conflict';
    counts.rewritten++;
    counts.valuesReencrypted += rotated;
    counts.plaintextEncrypted += plaintext;
    return 'done';
  }

  let lastId = options.after;
  let conflicted: string[] = [];
  for (;;) {
    const docs = await repository.consents
      .find(lastId === undefined ? {} : { _id: { $gt: lastId } })
      .sort({ _id: 1 })
      .limit(batchSize)
      .toArray();
    if (docs.length === 0) break;
    for (const doc of docs) {
      counts.scanned++;
      if ((await rewriteOne(doc)) === 'conflict') conflicted.push(doc._id);
    }
    lastId = docs[docs.length - 1]!._id;
    options.onBatch?.({ ...counts, lastId });
  }

  // documents that changed under us: read again and retry, a few rounds
  for (let round = 0; round < (options.retries ?? 5) && conflicted.length > 0; round++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
    const ids = conflicted;
    conflicted = [];
    for (const id of ids) {
      const doc = await repository.consents.findOne({ _id: id });
      if (doc && (await rewriteOne(doc)) === 'conflict') conflicted.push(id);
    }
  }
  counts.conflicts = conflicted.length;
  counts.conflictIds = conflicted.slice(0, MAX_IDS);
  counts.pendingClaims = await repository.clearFinishedClaims();
  return counts;
}
