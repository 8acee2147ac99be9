/**
 * PaymentRepository on MongoDB: collection `pix_payments`, `_id` the payment id, a unique index on
 * `consentId` (the database, not a code path, keeps a consent to one payment). Personal data — both
 * accounts, the Pix key, the QR code, the remittance text, who cancelled — is stored as ONE protected
 * field (`personal`, encrypted by the data key ring); ids, statuses, amounts and dates stay in clear.
 * Updates are conditional on `revision`, through a claim: FerretDB 1.x does not run findOneAndUpdate
 * atomically (see ./consent-repository.ts), so a writer first inserts the unique `{paymentId}@{revision}`
 * into `pix_payments_claims` (atomic on both servers): exactly one writer moves a payment off a revision.
 * The claim is removed after the update; a writer that crashed in between leaves the payment at that
 * revision until the claim is removed by hand (payments change a few times in their life).
 */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { identityProtector, type FieldProtector } from '../../crypto/index.ts';
import { PaymentExists, type PaymentRepository } from '../../consent/payment-repository.ts';
import type { PixPayment } from '../../consent/pix-payment.ts';

const PERSONAL = 'pixPayment.personal';
const PERSONAL_FIELDS = ['creditorAccount', 'debtorAccount', 'proxy', 'qrCode', 'remittanceInformation'] as const;

type PaymentDocument = Omit<PixPayment, 'paymentId' | (typeof PERSONAL_FIELDS)[number] | 'cancellation'> & {
  _id: string;
  personal: string;
  cancellation?: Omit<NonNullable<PixPayment['cancellation']>, 'cancelledBy'>;
};

export class MongoPaymentRepository implements PaymentRepository {
  readonly #payments: Collection<PaymentDocument>;
  readonly #claims: Collection<{ _id: string; at: Date }>;
  readonly #protector: FieldProtector;

  constructor(db: Db, options: { protector?: FieldProtector; collectionName?: string } = {}) {
    this.#payments = db.collection<PaymentDocument>(options.collectionName ?? 'pix_payments');
    this.#claims = db.collection(`${options.collectionName ?? 'pix_payments'}_claims`);
    this.#protector = options.protector ?? identityProtector;
  }

  async ensureIndexes(): Promise<void> {
    await this.#payments.createIndexes([{ key: { consentId: 1 }, name: 'consentId', unique: true }]);
    // findReceivedBefore (payment recovery); one at a time (FerretDB 1.24 and multi-index createIndexes)
    await this.#payments.createIndexes([{ key: { status: 1, createdAt: 1 }, name: 'status_createdAt' }]);
  }

  #toDocument(payment: PixPayment): PaymentDocument {
    const { paymentId, creditorAccount, debtorAccount, proxy, qrCode, remittanceInformation, cancellation, ...rest } = payment;
    const personal = { creditorAccount, debtorAccount, proxy, qrCode, remittanceInformation, cancelledBy: cancellation?.cancelledBy };
    const doc: PaymentDocument = { _id: paymentId, ...rest, personal: this.#protector.protect(PERSONAL, JSON.stringify(personal)) };
    if (cancellation) {
      const { cancelledBy: _c, ...open } = cancellation;
      doc.cancellation = open;
    }
    return doc;
  }

  #fromDocument(doc: PaymentDocument): PixPayment {
    const { _id, personal, cancellation, ...rest } = doc;
    const p = JSON.parse(this.#protector.reveal(PERSONAL, personal)) as Pick<PixPayment, (typeof PERSONAL_FIELDS)[number]> & {
      cancelledBy?: NonNullable<PixPayment['cancellation']>['cancelledBy'];
    };
    const payment: PixPayment = { paymentId: _id, ...rest, creditorAccount: p.creditorAccount, debtorAccount: p.debtorAccount };
    for (const field of ['proxy', 'qrCode', 'remittanceInformation'] as const) if (p[field] !== undefined) payment[field] = p[field];
    if (cancellation && p.cancelledBy) payment.cancellation = { ...cancellation, cancelledBy: p.cancelledBy };
    return payment;
  }

  async create(payment: PixPayment): Promise<void> {
    try {
      await this.#payments.insertOne(this.#toDocument({ ...payment, revision: 0 }));
    } catch (err) {
      if (isDuplicateKey(err)) throw new PaymentExists(`a payment exists for consent ${payment.consentId}`);
      throw err;
    }
  }

  async findById(paymentId: string): Promise<PixPayment | null> {
    const doc = await this.#payments.findOne({ _id: paymentId });
    return doc ? this.#fromDocument(doc) : null;
  }

  async findByConsent(consentId: string): Promise<PixPayment[]> {
    return (await this.#payments.find({ consentId }).toArray()).map((d) => this.#fromDocument(d));
  }

  async findReceivedBefore(receivedBefore: Date, limit: number): Promise<PixPayment[]> {
    const docs = await this.#payments.find({ status: 'RCVD', createdAt: { $lt: receivedBefore } }).sort({ createdAt: 1 }).limit(limit).toArray();
    return docs.map((d) => this.#fromDocument(d));
  }

  async update(paymentId: string, expect: { revision: number }, set: Partial<PixPayment>): Promise<PixPayment | null> {
    const current = await this.findById(paymentId);
    if (!current || current.revision !== expect.revision) return null;
    const next = this.#toDocument({ ...current, ...set, paymentId, revision: expect.revision + 1 });
    const { _id, ...fields } = next;
    const claim = `${paymentId}@${expect.revision}`;
    try {
      await this.#claims.insertOne({ _id: claim, at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) return null;
      throw err;
    }
    try {
      const result = await this.#payments.findOneAndUpdate({ _id: paymentId, revision: expect.revision }, { $set: fields }, { returnDocument: 'after' });
      return result ? this.#fromDocument(result) : null;
    } finally {
      await this.#claims.deleteOne({ _id: claim }).catch(() => undefined);
    }
  }
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && (err.code === 11000 || /UNIQUE constraint failed|duplicate key value violates unique constraint/.test(err.message));
}
