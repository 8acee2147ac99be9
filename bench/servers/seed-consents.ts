/**
 * Stored consents for bench/flow.ts's "consents already stored" mode: Berlin Group consents of 20 other
 * TPPs and 5,000 customers, most of them valid or ended with a grant, written straight into the running
 * target's consent store — on MongoDB-wire with `insertMany` of documents mapped (and encrypted) by the
 * repository's own mapping with the instance's key ring, so the stored shape is what the application
 * writes; on the embedded store through `ConsentRepository.create`. Bounded in time: stops at the
 * deadline and says how far it got.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { ConsentRepository } from '../../src/consent/repository.ts';
import type { Consent, ConsentStatus } from '../../src/consent/types.ts';
import type { FieldProtection } from '../../src/storage/mongo/consent-document.ts';
import { consentMapping } from '../../src/storage/mongo/consent-document.ts';

const DAY = 86_400_000;
const BATCH = 1_000;
const STATUSES: ConsentStatus[] = ['valid', 'valid', 'valid', 'valid', 'expired', 'expired', 'received', 'rejected', 'revokedByPsu', 'terminatedByTpp'];

let serial = 0;
function seededConsent(): Consent {
  const n = serial++;
  const createdAt = new Date(Date.now() - (n % 300) * DAY);
  const expiresAt = new Date(createdAt.getTime() + 90 * DAY);
  const psu = n % 5_000;
  const iban = `DE${String(89_370_400_440_532_013_000n + BigInt(n)).padStart(20, '0')}`;
  const status = STATUSES[n % STATUSES.length]!;
  const consent: Consent = {
    id: `seed-${String(n).padStart(7, '0')}-${randomUUID().slice(0, 8)}`,
    clientId: `seed-tpp-${String(n % 20).padStart(2, '0')}`,
    type: 'accounts',
    access: { accounts: [{ iban, currency: 'EUR' }], balances: [{ iban, currency: 'EUR' }], transactions: [{ iban, currency: 'EUR' }] },
    recurringIndicator: true,
    validUntil: expiresAt.toISOString().slice(0, 10),
    expiresAt,
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    psuId: `seed-psu-${psu}`,
    psuIpAddress: `10.${psu % 256}.${Math.floor(psu / 256)}.7`,
    status,
    lastActionDate: createdAt.toISOString().slice(0, 10),
    createdAt,
    updatedAt: createdAt,
    history: [{ from: null, to: 'received', actor: 'TPP', at: createdAt }],
    authorisations: [],
    revision: status === 'received' ? 0 : 1,
  };
  if (status !== 'received') consent.history.push({ from: 'received', to: status, actor: 'PSU', at: createdAt });
  if (status !== 'received' && status !== 'rejected') {
    consent.grantId = `seed-grant-${consent.id}`;
    consent.grantedAccounts = [{ accountId: `seed-acct-${psu}`, iban, currency: 'EUR', access: ['accounts', 'balances', 'transactions'] }];
  }
  return consent;
}

export interface SeedTarget {
  /** MongoDB-wire: the database and the key ring's protector the instance uses */
  mongo?: { db: Db; protector: FieldProtection };
  /** the embedded store */
  repository: ConsentRepository;
}

/** Adds up to `count` consents before `deadline` (epoch ms); returns how many were stored. */
export async function seedConsents(target: SeedTarget, count: number, deadline: number): Promise<number> {
  let stored = 0;
  if (target.mongo) {
    const mapping = consentMapping(target.mongo.protector);
    const collection = target.mongo.db.collection('consents');
    while (stored < count && Date.now() < deadline) {
      const batch = Array.from({ length: Math.min(BATCH, count - stored) }, () => mapping.toDocument(seededConsent()));
      await collection.insertMany(batch as never[], { ordered: false });
      stored += batch.length;
    }
    return stored;
  }
  while (stored < count && Date.now() < deadline) {
    const n = Math.min(BATCH, count - stored);
    for (let i = 0; i < n; i++) await target.repository.create(seededConsent());
    stored += n;
  }
  return stored;
}
