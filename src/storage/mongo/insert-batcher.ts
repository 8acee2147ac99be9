/**
 * Group commit for inserts into one collection. An insert that finds fewer than `maxInFlight` commands
 * in flight is sent at once (one `insert` of one document: no added latency); inserts that arrive while
 * all are busy wait for the first to return and then go together as ONE `insertMany({ ordered: false })`
 * of up to `maxBatch` documents.
 * Each caller is answered for its own document: a per-document write error (a duplicate key) rejects
 * only that caller, as the `MongoServerError` a lone insertOne would have thrown; an error of the whole
 * command (the server unreachable) rejects every caller of that batch, each of which then knows exactly
 * as much as after a failed insertOne (the document may or may not be stored).
 *
 * Why: with 8 inserts of a stored consent document kept in flight, FerretDB 1.x on PostgreSQL stored
 * 1,120–1,450 per second through a batcher with two commands in flight, 740–900 as single inserts (one
 * in flight: 930–1,080; three or four: 760–1,400; docs/benchmarks.md, "Consent creation"); a MongoDB
 * replica set also commits a batch for about the price of one document. Ordering between concurrent inserts was
 * never promised, and every document stays atomic on its own, so batching changes no guarantee.
 */
import { MongoBulkWriteError, MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';

interface Waiting<T> {
  doc: OptionalUnlessRequiredId<T>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class InsertBatcher<T extends Document> {
  readonly #collection: Collection<T>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #waiting: Array<Waiting<T>> = [];
  #inFlight = 0;

  constructor(collection: Collection<T>, { maxBatch = 100, maxInFlight = 2 }: { maxBatch?: number; maxInFlight?: number } = {}) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    this.#collection = collection;
    this.#maxBatch = maxBatch;
    this.#maxInFlight = maxInFlight;
  }

  /** Inserts one document; resolves once it is stored, rejects as insertOne would for this document. */
  insert(doc: OptionalUnlessRequiredId<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ doc, resolve, reject });
      if (this.#inFlight < this.#maxInFlight) void this.#send();
    });
  }

  /** one sender: sends what is waiting, batch after batch, until nothing is */
  async #send(): Promise<void> {
    this.#inFlight++;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#maxBatch);
        await this.#insert(batch);
      }
    } finally {
      this.#inFlight--;
    }
  }

  async #insert(batch: Array<Waiting<T>>): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting<T>];
      try {
        await this.#collection.insertOne(only.doc);
        only.resolve();
      } catch (err) {
        only.reject(err);
      }
      return;
    }
    try {
      await this.#collection.insertMany(
        batch.map((w) => w.doc),
        { ordered: false },
      );
      for (const w of batch) w.resolve();
    } catch (err) {
      const perDocument = err instanceof MongoBulkWriteError && !err.writeConcernError ? writeErrorsByIndex(err) : undefined;
      if (!perDocument) {
        for (const w of batch) w.reject(err);
        return;
      }
      batch.forEach((w, index) => {
        const failed = perDocument.get(index);
        if (failed) w.reject(failed);
        else w.resolve();
      });
    }
  }
}

/** the batch's per-document errors as the MongoServerError each document's own insert would have thrown; undefined when the error names none */
function writeErrorsByIndex(err: MongoBulkWriteError): Map<number, MongoServerError> | undefined {
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  if (errors.length === 0) return undefined;
  const byIndex = new Map<number, MongoServerError>();
  for (const e of errors) byIndex.set(e.index, new MongoServerError({ message: e.errmsg ?? 'write error', errmsg: e.errmsg, code: e.code }));
  return byIndex;
}
