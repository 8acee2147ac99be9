/**
 * Personal data encrypted at rest, end to end, on a real MongoDB-wire server (FerretDB in `npm test`):
 * what the database holds, what the repository returns, search through the blind indexes, tampering,
 * key rotation with the re-encryption walk, unknown keys, and the startup path from configuration.
 * Every test has its own database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import { loadConfig } from '../../config/load.ts';
import { createConsent } from '../../src/consent/state.ts';
import type { Consent } from '../../src/consent/types.ts';
import { DecryptionError } from '../../src/crypto/errors.ts';
import { createFieldProtector, type FieldProtector } from '../../src/crypto/field-protector.ts';
import { createLogger } from '../../src/log.ts';
import { consentMapping, UnreadableConsentError, type ConsentDocument } from '../../src/storage/mongo/consent-document.ts';
import { MongoConsentRepository } from '../../src/storage/mongo/consent-repository.ts';
import { DataKeysError, dataProtection } from '../../src/storage/mongo/protection.ts';
import { reencryptConsents } from '../../src/storage/mongo/reencrypt.ts';
import { openStores } from '../../src/stores.ts';
import { BI, K1, K2, ringA, ringB, ringC, spellings } from '../crypto/fixtures.ts';

const uri = process.env.MONGODB_URI;
if (!uri) throw new Error('MONGODB_URI is not set: run this file through scripts/test-env.ts');

const client = await new MongoClient(uri).connect();
const databases: string[] = [];

after(async () => {
  for (const name of databases) await client.db(name).dropDatabase().catch(() => undefined);
  await client.close();
});

function freshDatabaseName(): string {
  const name = `assent_enc_${randomUUID().replaceAll('-', '')}`;
  databases.push(name);
  return name;
}
const freshDb = (): Db => client.db(freshDatabaseName());

async function repositoryOn(db: Db, protector?: FieldProtector): Promise<MongoConsentRepository> {
  const repo = new MongoConsentRepository(db, protector ? { protector } : {});
  await repo.ensureIndexes();
  return repo;
}

const T0 = new Date('2025-03-01T12:00:00.000Z');

/** Two customers with every kind of personal value the consent model holds. */
const PEOPLE = [
  {
    id: 'c-ana',
    psuId: 'psu-ana.souza',
    ip: '203.0.113.45',
    iban: 'DE89370400440532013000',
    grantedIban: 'GB29NWBK60161331926819',
    bban: '370400440532013000',
    pan: '4111111111111111',
    maskedPan: '411111******1111',
    msisdn: '+4915123456789',
    accountId: 'acct-7730012',
    cpf: '123.456.789-09',
    cnpj: '12.345.678/0001-95',
    name: 'Ana Beatriz Souza',
    company: 'Padaria Souza Ltda',
  },
  {
    id: 'c-bruno',
    psuId: 'psu-bruno.lima',
    ip: '2001:db8:85a3::8a2e:370:7334',
    iban: 'NL91ABNA0417164300',
    grantedIban: 'FR1420041010050500013M02606',
    bban: 'ABNA0417164300',
    pan: '5500005555555559',
    maskedPan: '550000******5559',
    msisdn: '+5511987654321',
    accountId: 'acct-1184420',
    cpf: '987.654.321-00',
    cnpj: '98.765.432/0001-10',
    name: 'Bruno Lima',
    company: 'Oficina Lima ME',
  },
] as const;
type Person = (typeof PEOPLE)[number];

const digitsOf = (s: string) => s.replace(/[^0-9]/g, '');
const paper = (iban: string) => iban.replace(/(.{4})(?=.)/g, '$1 ');

function personalConsent(p: Person, id: string = p.id, now = T0): Consent {
  const consent = createConsent(
    {
      clientId: 'client-a',
      type: 'br-data-sharing',
      access: {
        accounts: [{ iban: p.iban, currency: 'EUR' }],
        balances: [{ bban: p.bban }],
        transactions: [{ pan: p.pan }, { maskedPan: p.maskedPan }, { msisdn: p.msisdn }],
      },
      recurringIndicator: true,
      validUntil: '2025-06-01',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
      psuId: p.psuId,
      psuIpAddress: p.ip,
      details: {
        tppRedirectUri: 'https://tpp.example/callback',
        permissions: ['ACCOUNTS_READ', 'RESOURCES_READ'],
        loggedUser: { document: { identification: p.cpf, rel: 'CPF' } },
        businessEntity: { document: { identification: p.cnpj, rel: 'CNPJ' } },
        creditor: { personType: 'PESSOA_NATURAL', cpfCnpj: digitsOf(p.cpf), name: p.name },
        creditors: [{ name: p.company }],
        amount: 12.5,
      },
    },
    { now, newId: () => id, requestId: `req-${id}` },
  );
  consent.status = 'valid';
  consent.grantId = `grant-${id}`;
  consent.grantedAccounts = [{ accountId: p.accountId, iban: p.grantedIban, currency: 'EUR', access: ['accounts', 'balances'] }];
  consent.history.push({ from: 'received', to: 'valid', actor: 'PSU', at: now, reason: `approved by ${p.name} (CPF ${p.cpf})` });
  return consent;
}

/** Every spelling of every personal value of `p` that must not be found in the database. */
function secretsOf(p: Person): string[] {
  const ibanSpellings = (iban: string) => [iban, iban.toLowerCase(), paper(iban), paper(iban).toLowerCase()];
  return [
    p.psuId,
    p.ip,
    ...ibanSpellings(p.iban),
    ...ibanSpellings(p.grantedIban),
    p.bban,
    p.pan,
    p.maskedPan,
    p.msisdn,
    digitsOf(p.msisdn),
    p.accountId,
    p.cpf,
    digitsOf(p.cpf),
    p.cnpj,
    digitsOf(p.cnpj),
    p.name,
    p.company,
  ];
}

async function rawDocuments(db: Db, collection = 'consents'): Promise<ConsentDocument[]> {
  return (await db.collection<ConsentDocument>(collection).find({}).sort({ _id: 1 }).toArray()) as ConsentDocument[];
}

function assertNoPlaintext(serialized: string, secrets: readonly string[]): void {
  for (const secret of secrets) assert.ok(!serialized.includes(secret), `"${secret}" is stored in clear`);
}

const page = { sort: 'createdAt', direction: 'asc', skip: 0, limit: 50 } as const;
const idsOf = (items: Consent[]) => items.map((c) => c.id).sort();

/** `enc:v1:<kid>:<iv>.<ct>.<tag>` with one character of the ciphertext part changed (still well-formed) */
function flipCiphertext(stored: string): string {
  const head = stored.slice(0, stored.lastIndexOf(':') + 1);
  const [iv, ct, tag] = stored.slice(head.length).split('.') as [string, string, string];
  assert.ok(ct.length >= 4, 'ciphertext long enough to flip a middle character');
  const at = Math.floor(ct.length / 2);
  const flipped = ct.slice(0, at) + (ct[at] === 'A' ? 'B' : 'A') + ct.slice(at + 1);
  return `${head}${iv}.${flipped}.${tag}`;
}

const countOf = (text: string, needle: string) => text.split(needle).length - 1;

describe('personal data at rest', () => {
  it('(a) leaves no personal value in clear anywhere in the stored documents, claims included', async () => {
    const db = freshDb();
    const repo = await repositoryOn(db, createFieldProtector(ringA()));
    for (const p of PEOPLE) await repo.create(personalConsent(p));
    // a change through apply: its set and its history entry pass through a claim document
    const ana = (await repo.findById('c-ana'))!;
    const newIp = '198.51.100.23';
    const changed = await repo.apply({
      id: 'c-ana',
      expect: { status: ana.status, revision: ana.revision },
      set: { updatedAt: new Date(T0.getTime() + 1000), psuIpAddress: newIp },
      history: [{ from: 'valid', to: 'valid', actor: 'ASPSP', at: T0, reason: `address change asked by ${PEOPLE[0].name}` }],
    });
    assert.ok(changed);

    const raw = await rawDocuments(db);
    assert.equal(raw.length, 2);
    const serialized = JSON.stringify(raw);
    assertNoPlaintext(serialized, [...PEOPLE.flatMap(secretsOf), newIp]);
    assertNoPlaintext(JSON.stringify(await rawDocuments(db, 'consents_claims')), PEOPLE.flatMap(secretsOf));

    // every protected position holds an envelope under the current key; what is not personal stays readable
    const doc = raw.find((d) => d._id === 'c-ana')!;
    for (const value of [
      doc.psuId,
      doc.psuIpAddress,
      doc.access.accounts?.[0]?.iban,
      doc.access.balances?.[0]?.bban,
      doc.access.transactions?.[0]?.pan,
      doc.access.transactions?.[1]?.maskedPan,
      doc.access.transactions?.[2]?.msisdn,
      doc.grantedAccounts?.[0]?.iban,
      doc.grantedAccounts?.[0]?.accountId,
      (doc.details as any).loggedUser.document.identification,
      (doc.details as any).loggedUser.document.rel,
      (doc.details as any).businessEntity.document.identification,
      (doc.details as any).creditor.name,
      (doc.details as any).creditors[0].name,
      doc.history[1]?.reason,
      doc.history[2]?.reason,
    ]) {
      assert.match(String(value), /^enc:v1:k1:/);
    }
    assert.equal((doc.details as any).tppRedirectUri, 'https://tpp.example/callback');
    assert.deepEqual((doc.details as any).permissions, ['ACCOUNTS_READ', 'RESOURCES_READ']);
    assert.equal((doc.details as any).amount, 12.5);
    assert.equal(doc.access.accounts?.[0]?.currency, 'EUR');
    assert.equal(doc.clientId, 'client-a');
    assert.equal(doc.status, 'valid');
    // the search keys are 22-character HMACs, not normalised plaintext
    for (const key of [doc.psuIdIndex, ...doc.accessIbanIndex, ...doc.grantedIbanIndex, ...doc.documentIndex]) {
      assert.match(String(key), /^[A-Za-z0-9_-]{22}$/);
    }
    assert.equal(doc.documentIndex.length, 2);
  });

  it('(b) reads back the plaintext through the repository', async () => {
    const db = freshDb();
    const repo = await repositoryOn(db, createFieldProtector(ringA()));
    for (const p of PEOPLE) {
      const consent = personalConsent(p);
      await repo.create(consent);
      assert.deepEqual(await repo.findById(p.id), consent);
      assert.deepEqual(await repo.findByGrantId(`grant-${p.id}`), consent);
    }
    const all = await repo.query({}, page);
    assert.deepEqual(all.items, PEOPLE.map((p) => personalConsent(p)));

    // details of any shape: deep paths longer than a field name may be, dates and numbers kept as they are
    const deep = personalConsent(PEOPLE[0], 'c-deep');
    const longKey = 'aVeryLongKeyNameThatAFutureDialectMightUse'.repeat(2);
    deep.details = { [longKey]: { [longKey]: { holder: PEOPLE[0].name } }, signedAt: T0, count: 3, flags: [true, null], empty: '' };
    await repo.create(deep);
    assert.deepEqual(await repo.findById('c-deep'), deep);
    const raw = (await rawDocuments(db)).find((d) => d._id === 'c-deep')!;
    assert.ok(!JSON.stringify(raw).includes(PEOPLE[0].name));
    assert.ok((raw.details as any).signedAt instanceof Date);
    assert.match((raw.details as any).empty, /^enc:v1:k1:/);
  });

  it('(c) finds consents by psuId, IBAN (any spelling) and CPF/CNPJ through the blind indexes only', async () => {
    const db = freshDb();
    const repo = await repositoryOn(db, createFieldProtector(ringA()));
    const [ana, bruno] = PEOPLE;
    await repo.create(personalConsent(ana));
    await repo.create(personalConsent(ana, 'c-ana-2'));
    await repo.create(personalConsent(bruno));

    const cases: Array<[string, Parameters<MongoConsentRepository['query']>[0], string[]]> = [
      ['psuId', { psuId: ana.psuId }, ['c-ana', 'c-ana-2']],
      ['psuId of another', { psuId: bruno.psuId }, ['c-bruno']],
      ['IBAN in access, as stored', { iban: ana.iban }, ['c-ana', 'c-ana-2']],
      ['IBAN in access, paper format in lower case', { iban: paper(ana.iban).toLowerCase() }, ['c-ana', 'c-ana-2']],
      ['granted IBAN, spaced', { iban: paper(bruno.grantedIban) }, ['c-bruno']],
      ['CPF with punctuation', { document: ana.cpf }, ['c-ana', 'c-ana-2']],
      ['CPF digits only', { document: digitsOf(bruno.cpf) }, ['c-bruno']],
      ['CNPJ', { document: digitsOf(bruno.cnpj) }, ['c-bruno']],
      ['psuId + IBAN + document', { psuId: bruno.psuId, iban: bruno.iban, document: bruno.cpf }, ['c-bruno']],
      ['a CPF nobody has', { document: '111.222.333-44' }, []],
      ['a psuId in another case (ids are exact)', { psuId: ana.psuId.toUpperCase() }, []],
    ];
    for (const [label, filter, expected] of cases) {
      const result = await repo.query(filter, page);
      assert.deepEqual({ ids: idsOf(result.items), total: result.total }, { ids: expected, total: expected.length }, label);
    }

    // the filter names only search keys, never the encrypted fields
    const query = consentMapping(createFieldProtector(ringA())).filterToQuery({ psuId: ana.psuId, iban: ana.iban, document: ana.cpf });
    const text = JSON.stringify(query);
    assert.deepEqual(Object.keys(query).sort(), ['$or', 'documentIndex', 'psuIdIndex']);
    assertNoPlaintext(text, secretsOf(ana));

    // and nothing is decrypted to search: a consent whose values no longer decrypt does not disturb a
    // search that does not match it (only the consents returned are decrypted)
    const poisoned = (await rawDocuments(db)).find((d) => d._id === 'c-bruno')!;
    await db.collection<ConsentDocument>('consents').updateOne({ _id: 'c-bruno' }, { $set: { psuId: flipCiphertext(poisoned.psuId!) } });
    assert.deepEqual(idsOf((await repo.query({ psuId: ana.psuId }, page)).items), ['c-ana', 'c-ana-2']);
    assert.equal((await repo.query({ document: bruno.cpf }, { ...page, limit: 1 }).catch((e: unknown) => e)) instanceof UnreadableConsentError, true);
  });

  describe('(d) tampering', () => {
    it('one character changed in a stored ciphertext: reading fails with a DecryptionError, no data returned', async () => {
      const db = freshDb();
      const repo = await repositoryOn(db, createFieldProtector(ringA()));
      await repo.create(personalConsent(PEOPLE[0]));
      const raw = (await rawDocuments(db))[0]!;
      const tampered = flipCiphertext(raw.psuId!);
      assert.notEqual(tampered, raw.psuId);
      await db.collection<ConsentDocument>('consents').updateOne({ _id: 'c-ana' }, { $set: { psuId: tampered } });

      const expectFailure = (err: unknown) => {
        assert.ok(err instanceof UnreadableConsentError, String(err));
        assert.ok(err instanceof DecryptionError);
        assert.equal(err.code, 'DECRYPT_FAILED');
        assert.equal(err.field, 'psuId');
        assert.equal(err.kid, 'k1');
        assert.equal(err.consentId, 'c-ana');
        assert.match(err.message, /^consent "c-ana": cannot decrypt field "psuId": authentication failed/);
        assert.ok(!err.message.includes(tampered) && !err.message.includes(PEOPLE[0].psuId), 'message names no value');
        return true;
      };
      await assert.rejects(repo.findById('c-ana'), expectFailure);
      await assert.rejects(repo.findByGrantId('grant-c-ana'), expectFailure);
      await assert.rejects(repo.query({ iban: PEOPLE[0].iban }, page), expectFailure);
    });

    it('a ciphertext moved to another field (or another place in details) does not decrypt there', async () => {
      const db = freshDb();
      const repo = await repositoryOn(db, createFieldProtector(ringA()));
      const consents = db.collection<ConsentDocument>('consents');
      for (const id of ['m-1', 'm-2', 'm-3']) await repo.create(personalConsent(PEOPLE[0], id));
      const raw = (await rawDocuments(db))[0]!;
      const details = raw.details as any;

      // psuId's ciphertext pasted into psuIpAddress
      await consents.updateOne({ _id: 'm-1' }, { $set: { psuIpAddress: raw.psuId! } });
      // the CPF's ciphertext pasted over the CNPJ (same document, another path in details)
      const cnpjReplaced = { ...details, businessEntity: { document: { ...details.businessEntity.document, identification: details.loggedUser.document.identification } } };
      await consents.updateOne({ _id: 'm-2' }, { $set: { details: cnpjReplaced } });
      // a history reason pasted into the granted account id
      await consents.updateOne({ _id: 'm-3' }, { $set: { grantedAccounts: [{ ...raw.grantedAccounts![0]!, accountId: raw.history[1]!.reason! }] } });

      for (const [id, field] of [
        ['m-1', 'psuIpAddress'],
        ['m-2', 'details.businessEntity.document.identification'],
        ['m-3', 'accountId'],
      ] as const) {
        await assert.rejects(repo.findById(id), (err: unknown) => {
          assert.ok(err instanceof UnreadableConsentError, String(err));
          assert.equal(err.code, 'DECRYPT_FAILED');
          assert.equal(err.field, field);
          return true;
        });
      }
    });

    it('plaintext written where a ciphertext belongs is refused, not passed through', async () => {
      const db = freshDb();
      const repo = await repositoryOn(db, createFieldProtector(ringA()));
      await repo.create(personalConsent(PEOPLE[0]));
      await db.collection<ConsentDocument>('consents').updateOne({ _id: 'c-ana' }, { $set: { psuId: 'psu-mallory' } });
      await assert.rejects(repo.findById('c-ana'), (err: unknown) => err instanceof UnreadableConsentError && err.code === 'DECRYPT_MALFORMED');
    });
  });

  it('(e) key rotation: old values stay readable, new writes use the new key, re-encryption moves the rest, then the old key can go', async () => {
    const db = freshDb();
    const consents = db.collection<ConsentDocument>('consents');
    // ring A: k1 current
    const repoA = await repositoryOn(db, createFieldProtector(ringA()));
    const written: Consent[] = [];
    for (let i = 0; i < 7; i++) {
      const consent = personalConsent(PEOPLE[i % 2]!, `r-${i}`, new Date(T0.getTime() + i * 60_000));
      await repoA.create(consent);
      written.push(consent);
    }
    const before = JSON.stringify(await rawDocuments(db));
    assert.ok(before.includes('enc:v1:k1:') && !before.includes('enc:v1:k2:'));

    // ring B: k1 and k2, k2 current. Old values read, searches still match (same blind-index key)
    const protectorB = createFieldProtector(ringB());
    const repoB = await repositoryOn(db, protectorB);
    for (const consent of written) assert.deepEqual(await repoB.findById(consent.id), consent);
    assert.deepEqual(idsOf((await repoB.query({ psuId: PEOPLE[0].psuId }, page)).items), ['r-0', 'r-2', 'r-4', 'r-6']);

    // new writes use k2: a new consent, and one field of an old consent (that document is now mixed)
    const fresh = personalConsent(PEOPLE[1], 'r-new', new Date(T0.getTime() + 3_600_000));
    await repoB.create(fresh);
    const freshRaw = JSON.stringify(await consents.findOne({ _id: 'r-new' }));
    assert.ok(freshRaw.includes('enc:v1:k2:') && !freshRaw.includes('enc:v1:k1:'));
    const mixed = await repoB.apply({
      id: 'r-1',
      expect: { status: 'valid', revision: 0 },
      set: { updatedAt: new Date(T0.getTime() + 7_200_000), psuIpAddress: '198.51.100.99' },
    });
    assert.ok(mixed);
    const mixedRaw = (await consents.findOne({ _id: 'r-1' }))!;
    assert.match(mixedRaw.psuIpAddress!, /^enc:v1:k2:/);
    assert.match(mixedRaw.psuId!, /^enc:v1:k1:/);

    // the walk: every k1 value moves to k2, each document once
    const raw = await rawDocuments(db);
    const oldValues = countOf(JSON.stringify(raw), 'enc:v1:k1:');
    const expected = await Promise.all(raw.map(async (d) => (await repoB.findById(d._id))!));
    const batches: number[] = [];
    const counts = await reencryptConsents(db, protectorB, { batchSize: 3, onBatch: (p) => batches.push(p.scanned) });
    assert.deepEqual(batches, [3, 6, 8]);
    assert.deepEqual(
      { ...counts },
      {
        scanned: 8,
        rewritten: 7,
        upToDate: 1,
        valuesReencrypted: oldValues,
        plaintextEncrypted: 0,
        conflicts: 0,
        unreadable: 0,
        conflictIds: [],
        unreadableIds: [],
        pendingClaims: 0,
      },
    );
    const afterWalk = await rawDocuments(db);
    const serialized = JSON.stringify(afterWalk);
    assert.equal(countOf(serialized, 'enc:v1:k1:'), 0);
    assert.equal(countOf(serialized, 'enc:v1:k2:'), countOf(JSON.stringify(raw), 'enc:v1:'));
    assertNoPlaintext(serialized, PEOPLE.flatMap(secretsOf));
    // values already on k2 were left byte for byte; blind indexes untouched
    assert.equal(afterWalk.find((d) => d._id === 'r-1')!.psuIpAddress, mixedRaw.psuIpAddress);
    assert.deepEqual(JSON.stringify(afterWalk.find((d) => d._id === 'r-new')), freshRaw);
    for (const [i, d] of afterWalk.entries()) {
      assert.equal(d.psuIdIndex, raw[i]!.psuIdIndex);
      assert.deepEqual(d.documentIndex, raw[i]!.documentIndex);
    }

    // a second run changes nothing
    const again = await reencryptConsents(db, protectorB);
    assert.equal(again.scanned, 8);
    assert.equal(again.rewritten, 0);
    assert.equal(again.valuesReencrypted, 0);
    assert.equal(again.upToDate, 8);
    assert.equal(JSON.stringify(await rawDocuments(db)), serialized);

    // ring C: k1 removed. Everything reads back as it was (the walk bumped each rewritten revision,
    // like any stored change, and left updatedAt alone); searches still work
    const repoC = await repositoryOn(db, createFieldProtector(ringC()));
    for (const consent of expected) {
      const read = await repoC.findById(consent.id);
      const rewritten = consent.id !== 'r-new';
      assert.deepEqual(read, { ...consent, revision: consent.revision + (rewritten ? 1 : 0) });
    }
    assert.deepEqual(idsOf((await repoC.query({ iban: paper(PEOPLE[1].iban).toLowerCase() }, page)).items), ['r-1', 'r-3', 'r-5', 'r-new']);
    assert.deepEqual(idsOf((await repoC.query({ document: digitsOf(PEOPLE[0].cpf) }, page)).items), ['r-0', 'r-2', 'r-4', 'r-6']);
  });

  it('(e) re-encryption skips a document that is being written, and finishes on a later run', async () => {
    const db = freshDb();
    const repoA = await repositoryOn(db, createFieldProtector(ringA()));
    await repoA.create(personalConsent(PEOPLE[0], 'busy'));
    await repoA.create(personalConsent(PEOPLE[1], 'idle'));
    const protectorB = createFieldProtector(ringB());
    const repoB = await repositoryOn(db, protectorB);

    // a writer holds the claim on busy's current revision (mid-apply)
    await repoB.claims.insertOne({
      _id: 'busy@0',
      consentId: 'busy',
      expect: { status: 'valid', revision: 0 },
      claimedAt: new Date(),
      set: {},
      history: [],
    });
    const first = await reencryptConsents(db, protectorB, { retries: 1 });
    assert.equal(first.rewritten, 1);
    assert.equal(first.conflicts, 1);
    assert.deepEqual(first.conflictIds, ['busy']);
    assert.equal(first.pendingClaims, 1);
    assert.match((await repoB.consents.findOne({ _id: 'busy' }))!.psuId!, /^enc:v1:k1:/);

    // and a stale revision is refused by the guarded update itself
    assert.equal(await repoB.rewriteStored('idle', { status: 'valid', revision: 0 }, { psuId: 'x' }), false);

    await repoB.claims.deleteOne({ _id: 'busy@0' });
    const second = await reencryptConsents(db, protectorB);
    assert.deepEqual([second.rewritten, second.upToDate, second.conflicts, second.pendingClaims], [1, 1, 0, 0]);
    assert.ok(!JSON.stringify(await rawDocuments(db)).includes('enc:v1:k1:'));
  });

  it('(e) re-encryption also encrypts plaintext left by a store that ran without encryption, and rebuilds its search keys', async () => {
    const db = freshDb();
    const clear = await repositoryOn(db);
    for (const p of PEOPLE) await clear.create(personalConsent(p));
    assert.ok(JSON.stringify(await rawDocuments(db)).includes(PEOPLE[0].psuId));

    const protector = createFieldProtector(ringB());
    const dry = await reencryptConsents(db, protector, { write: false });
    assert.equal(dry.rewritten, 2);
    assert.ok(JSON.stringify(await rawDocuments(db)).includes(PEOPLE[0].psuId), 'a dry run writes nothing');

    const counts = await reencryptConsents(db, protector);
    assert.equal(counts.rewritten, 2);
    assert.ok(counts.plaintextEncrypted >= 2 * 16, `${counts.plaintextEncrypted} plaintext values`);
    assertNoPlaintext(JSON.stringify(await rawDocuments(db)), PEOPLE.flatMap(secretsOf));
    const repo = await repositoryOn(db, protector);
    for (const p of PEOPLE) {
      assert.deepEqual(await repo.findById(p.id), { ...personalConsent(p), revision: 1 });
      assert.deepEqual(idsOf((await repo.query({ psuId: p.psuId, iban: p.grantedIban, document: p.cnpj }, page)).items), [p.id]);
    }
  });

  it('(f) a value under a key id the ring does not hold fails clearly, and the walk leaves it alone', async () => {
    const db = freshDb();
    const repoA = await repositoryOn(db, createFieldProtector(ringA()));
    await repoA.create(personalConsent(PEOPLE[0]));
    const ringWithoutK1 = createFieldProtector(ringC());
    const repoC = await repositoryOn(db, ringWithoutK1);
    await assert.rejects(repoC.findById('c-ana'), (err: unknown) => {
      assert.ok(err instanceof UnreadableConsentError, String(err));
      assert.ok(err instanceof DecryptionError);
      assert.equal(err.code, 'DECRYPT_UNKNOWN_KEY');
      assert.equal(err.kid, 'k1');
      assert.match(err.message, /^consent "c-ana": cannot decrypt field "\w+": key "k1" is not in the key ring/);
      return true;
    });
    const before = JSON.stringify(await rawDocuments(db));
    const counts = await reencryptConsents(db, ringWithoutK1);
    assert.deepEqual([counts.unreadable, counts.unreadableIds, counts.rewritten], [1, ['c-ana'], 0]);
    assert.equal(JSON.stringify(await rawDocuments(db)), before);
  });
});

describe('(g) data keys from the configuration', () => {
  const silent = () => createLogger('silent');
  const goodRing = JSON.stringify({ current: 'k2', encryptionKeys: { k1: K1, k2: K2 }, blindIndexKey: BI });

  for (const [label, keys, named] of [
    ['not JSON', '{"current": "k1", ', /not valid JSON/],
    ['current not among the keys', JSON.stringify({ current: 'k9', encryptionKeys: { k1: K1 }, blindIndexKey: BI }), /current: current key "k9" is not one of the encryption keys/],
    ['a short key', JSON.stringify({ current: 'k1', encryptionKeys: { k1: Buffer.alloc(16, 0x11).toString('base64') }, blindIndexKey: BI }), /encryptionKeys\.k1: .*decodes to 16 bytes/],
    ['no blind-index key', JSON.stringify({ current: 'k1', encryptionKeys: { k1: K1 } }), /blindIndexKey/],
  ] as const) {
    it(`loadConfig + openStores with MONGODB_URI and a bad ASSENT_DATA_KEYS (${label}) stops, naming keys.dataKeys`, async () => {
      const database = freshDatabaseName();
      const config = loadConfig({ env: { MONGODB_URI: uri, MONGODB_DATABASE: database, ASSENT_DATA_KEYS: keys } });
      await assert.rejects(openStores(config, silent()), (err: unknown) => {
        assert.ok(err instanceof DataKeysError, String(err));
        assert.match(err.message, /^keys\.dataKeys: /);
        assert.match(err.message, named);
        for (const spelling of [...spellings(0x11), ...spellings(0x99)]) assert.ok(!err.message.includes(spelling), 'no key material');
        return true;
      });
      // refused before connecting: nothing was created
      assert.ok(!(await client.db().admin().listDatabases()).databases.some((d) => d.name === database));
    });
  }

  it('a good ring: the MongoDB store encrypts under its current key', async () => {
    const database = freshDatabaseName();
    const config = loadConfig({ env: { MONGODB_URI: uri, MONGODB_DATABASE: database, ASSENT_DATA_KEYS: goodRing } });
    const stores = await openStores(config, silent());
    try {
      await stores.consents.create(personalConsent(PEOPLE[0]));
      const raw = JSON.stringify(await rawDocuments(client.db(database)));
      assert.ok(raw.includes('enc:v1:k2:'));
      assertNoPlaintext(raw, secretsOf(PEOPLE[0]));
      assert.deepEqual(await stores.consents.findById('c-ana'), personalConsent(PEOPLE[0]));
    } finally {
      await stores.close();
    }
  });

  it('demo mode without keys: an ephemeral ring, a loud warning, and data unreadable after a restart', async () => {
    const database = freshDatabaseName();
    const config = loadConfig({ env: { MONGODB_URI: uri, MONGODB_DATABASE: database } });
    assert.equal(config.mode, 'demo');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const first = await openStores(config, createLogger('warn', sink));
    try {
      await first.consents.create(personalConsent(PEOPLE[0]));
      assert.deepEqual(await first.consents.findById('c-ana'), personalConsent(PEOPLE[0]));
    } finally {
      await first.close();
    }
    const warning = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.msg.includes('EPHEMERAL DATA KEYS'));
    assert.equal(warning?.level, 'warn');
    assert.match(warning!.msg, /data written now cannot be read after a restart/i);
    assert.match(JSON.stringify(await rawDocuments(client.db(database))), /enc:v1:ephemeral-[0-9a-f]{8}:/);

    const restarted = await openStores(config, silent());
    try {
      await assert.rejects(restarted.consents.findById('c-ana'), (err: unknown) => err instanceof DecryptionError && err.code === 'DECRYPT_UNKNOWN_KEY');
    } finally {
      await restarted.close();
    }
  });

  it('production without keys, and dataProtection on its own', () => {
    assert.throws(() => dataProtection({ mode: 'production', keys: {} }), /^DataKeysError: keys\.dataKeys: .*required in production/);
    const demo = dataProtection({ mode: 'demo', keys: {} });
    assert.equal(demo.ephemeral, true);
    const configured = dataProtection({ mode: 'production', keys: { dataKeys: goodRing } });
    assert.equal(configured.ephemeral, false);
    assert.deepEqual(configured.ring.encryptionKeyIds, ['k1', 'k2']);
    assert.match(configured.protector.protect('psuId', 'x'), /^enc:v1:k2:/);
  });
});
