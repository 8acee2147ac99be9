/**
 * The stores that live in MongoDB (src/stores.ts builds them when `mongodb.uri` is set). A module of its
 * own, imported only then, so that the embedded stores never load the MongoDB driver.
 */
import { MongoClient } from 'mongodb';
import type { AssentConfig } from '../../../config/schema.ts';
import type { FieldProtector } from '../../crypto/index.ts';
import type { QueryIndex } from '../../consent/repository.ts';
import { MongoConsentRepository } from './consent-repository.ts';
import { MongoPaymentRepository } from './payment-repository.ts';

/** Connects (failing with `connectError` when MongoDB cannot be reached), builds the repositories, ensures their indexes. */
export async function openMongoStores(config: AssentConfig, protector: FieldProtector, queryIndexes: QueryIndex[], connectError: (err: Error) => Error) {
  const mongo = new MongoClient(config.mongodb.uri!, { serverSelectionTimeoutMS: 2_000, appName: 'assent' });
  try {
    await mongo.connect().catch((err: Error) => {
      throw connectError(err);
    });
    const db = mongo.db(config.mongodb.database);
    const consents = new MongoConsentRepository(db, { protector });
    await consents.ensureIndexes(queryIndexes);
    const payments = new MongoPaymentRepository(db, { protector });
    await payments.ensureIndexes();
    return { mongo, db, consents, payments };
  } catch (err) {
    await mongo.close();
    throw err;
  }
}
