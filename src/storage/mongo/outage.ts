/**
 * Whether `err` is the MongoDB driver saying it could not reach the server (as opposed to the server
 * answering an error): MongoNetworkError (and its MongoNetworkTimeoutError), MongoServerSelectionError,
 * MongoTopologyClosedError. Told by the error's name, not `instanceof`, so that asking does not load the
 * driver: it is imported only when MongoDB is configured (storage/mongo/stores.ts).
 * test/storage/driver-errors.test.ts keeps the names equal to the driver's classes and their subclasses.
 */
export const MONGO_OUTAGE_ERRORS: ReadonlySet<string> = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoTopologyClosedError']);

export function isMongoOutage(err: unknown): boolean {
  return err instanceof Error && MONGO_OUTAGE_ERRORS.has(err.name);
}
