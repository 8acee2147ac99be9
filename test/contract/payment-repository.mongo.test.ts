/**
 * The PaymentRepository contract on a real MongoDB-wire server (FerretDB in `npm test`), in clear and
 * encrypted; with encryption, no account number, Pix key or CPF is in the stored document.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { createFieldProtector, generateKeyRing } from '../../src/crypto/index.ts';
import { MongoPaymentRepository } from '../../src/storage/mongo/payment-repository.ts';
import { paymentRepositoryContract, samplePayment } from './payment-repository.contract.ts';

const uri = process.env.MONGODB_URI;
if (!uri) throw new Error('MONGODB_URI is not set: run this file through scripts/test-env.ts');
const client = await new MongoClient(uri).connect();
const db = client.db(`assent_test_${randomUUID().replaceAll('-', '')}`);
let n = 0;
after(async () => {
  await db.dropDatabase();
  await client.close();
});

const protector = createFieldProtector(generateKeyRing());
async function make(encrypted: boolean) {
  const repo = new MongoPaymentRepository(db, { collectionName: `pix_payments_${++n}`, ...(encrypted ? { protector } : {}) });
  await repo.ensureIndexes();
  return repo;
}

paymentRepositoryContract('mongo', () => make(false));
paymentRepositoryContract('mongo, encrypted', () => make(true));

it('encrypted: the stored document holds no account number, Pix key or remittance text', async () => {
  const repo = await make(true);
  const payment = samplePayment();
  await repo.create(payment);
  const raw = JSON.stringify(await db.collection(`pix_payments_${n}`).findOne({ _id: payment.paymentId as never }));
  for (const secret of ['1234567890', '9795493', 'padaria@example.com', 'pão']) assert.ok(!raw.includes(secret), secret);
  assert.ok(raw.includes('"10.00"'));
});
