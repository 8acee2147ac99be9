/**
 * Back-office query benchmark: a filtered, sorted, paginated consent search through
 * MongoConsentRepository.query, with field encryption on, on a collection of BENCH_CONSENTS consents
 * (default 100,000) of varied clients, PSUs, statuses, types and dates.
 *
 *   npm run bench:query                      (starts FerretDB itself through scripts/test-env.ts)
 *   BENCH_CONSENTS=20000 BENCH_REPEAT=3 npm run bench:query
 *   MONGODB_URI=mongodb://… npm run bench:query   (a real MongoDB instead)
 *
 * Seeds with insertMany of documents already mapped (and encrypted) by the repository's own mapping, so
 * the stored shape is exactly what the application writes; then times the first and the last page of
 * the query, the count alone, and a blind-index lookup, BENCH_REPEAT times each (median reported).
 * Records the result in docs/benchmarks.md, between markers under its own heading (for 100,000 consents;
 * BENCH_RECORD=0 skips, =1 records other sizes too), leaving the analysis text around the markers and the
 * other sections of that file as they are.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { ConsentQuery } from '../src/consent/repository.ts';
import { CONSENT_TYPES, type Consent, type ConsentStatus } from '../src/consent/types.ts';
import { createFieldProtector } from '../src/crypto/field-protector.ts';
import { generateKeyRing } from '../src/crypto/key-ring.ts';
import { consentMapping } from '../src/storage/mongo/consent-document.ts';
import { MongoConsentRepository } from '../src/storage/mongo/consent-repository.ts';

const COUNT = Number(process.env.BENCH_CONSENTS ?? 100_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const PAGE_SIZE = 50;
const BATCH = 2_000;
const CLIENTS = 20;
const PSUS = 5_000;
/** where the result is recorded (BENCH_DOC: another file, e.g. to try the recording out) */
const DOC_FILE = process.env.BENCH_DOC ?? new URL('../docs/benchmarks.md', import.meta.url);
/** the part of the section this script owns; text around it in the same section is kept */
const BEGIN = '<!-- bench/backoffice-query.ts: generated from here -->';
const END_MARK = '<!-- bench/backoffice-query.ts: generated up to here -->';

const uri = process.env.MONGODB_URI;
if (!uri) {
  console.error('MONGODB_URI is not set: run through `npm run bench:query` (scripts/test-env.ts starts FerretDB)');
  process.exit(2);
}
if (!Number.isInteger(COUNT) || COUNT < PAGE_SIZE) {
  console.error(`BENCH_CONSENTS must be a whole number >= ${PAGE_SIZE}`);
  process.exit(2);
}

/** deterministic pseudo-random numbers (mulberry32), so every run seeds the same data */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20260501);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');

const DAY = 86_400_000;
const END = Date.UTC(2026, 4, 1);
const START = END - 365 * DAY;
/** weighted statuses: most consents end up valid or expired */
const STATUS_WEIGHTS: Array<[ConsentStatus, number]> = [
  ['valid', 40],
  ['expired', 20],
  ['received', 5],
  ['rejected', 10],
  ['revokedByPsu', 15],
  ['terminatedByTpp', 10],
];
function status(): ConsentStatus {
  let r = random() * 100;
  for (const [s, w] of STATUS_WEIGHTS) if ((r -= w) < 0) return s;
  return 'valid';
}

function consentNumber(i: number): Consent {
  const createdAt = new Date(START + Math.floor(random() * 365 * DAY));
  const expiresAt = new Date(createdAt.getTime() + (30 + Math.floor(random() * 150)) * DAY);
  const psu = Math.floor(random() * PSUS);
  const type = pick(CONSENT_TYPES);
  const iban = `DE${digits(20)}`;
  const s = status();
  const consent: Consent = {
    id: `bench-${String(i).padStart(7, '0')}-${randomUUID().slice(0, 8)}`,
    clientId: `client-${String(Math.floor(random() * CLIENTS)).padStart(2, '0')}`,
    type,
    access: { accounts: [{ iban, currency: 'EUR' }], balances: [{ iban, currency: 'EUR' }] },
    recurringIndicator: true,
    validUntil: expiresAt.toISOString().slice(0, 10),
    expiresAt,
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    psuId: `psu-${psu}`,
    psuIpAddress: `10.${psu % 256}.${Math.floor(psu / 256)}.${Math.floor(random() * 256)}`,
    status: s,
    lastActionDate: createdAt.toISOString().slice(0, 10),
    createdAt,
    updatedAt: createdAt,
    history: [{ from: null, to: 'received', actor: 'TPP', at: createdAt }],
    authorisations: [],
    revision: s === 'received' ? 0 : 1,
  };
  if (s !== 'received') consent.history.push({ from: 'received', to: s, actor: 'PSU', at: createdAt });
  if (s === 'valid' || s === 'expired' || s === 'revokedByPsu' || s === 'terminatedByTpp') {
    consent.grantId = `grant-${consent.id}`;
    consent.grantedAccounts = [{ accountId: `acct-${psu}`, iban, currency: 'EUR', access: ['accounts', 'balances'] }];
  }
  if (type.startsWith('br-')) {
    consent.details = {
      loggedUser: { document: { identification: digits(11), rel: 'CPF' } },
      permissions: ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ'],
    };
  }
  return consent;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<{ ms: number[]; result: T }> {
  await run(); // warm-up
  const ms: number[] = [];
  let result!: T;
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    result = await run();
    ms.push(performance.now() - t0);
  }
  console.error(`  ${label}: ${ms.map((m) => m.toFixed(0)).join(', ')} ms`);
  return { ms, result };
}

const client = await new MongoClient(uri).connect();
const database = `bench_query_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const db = client.db(database);
const protector = createFieldProtector(generateKeyRing('bench'));
const repo = new MongoConsentRepository(db, { protector });
const mapping = consentMapping(protector);

try {
  const server = (await db.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string };
  const serverName = server.ferretdbVersion ? `FerretDB ${server.ferretdbVersion} (${process.env.ASSENT_FERRETDB_BACKEND ?? 'unknown'} backend), wire version ${server.version}` : `MongoDB ${server.version}`;
  await repo.ensureIndexes();

  // seed
  const seedStart = performance.now();
  let encryptMs = 0;
  for (let done = 0; done < COUNT; done += BATCH) {
    const t0 = performance.now();
    const docs = Array.from({ length: Math.min(BATCH, COUNT - done) }, (_, j) => mapping.toDocument(consentNumber(done + j)));
    encryptMs += performance.now() - t0;
    await repo.consents.insertMany(docs, { ordered: false });
    if ((done / BATCH) % 10 === 9) console.error(`  seeded ${done + docs.length} (${((performance.now() - seedStart) / 1000).toFixed(0)} s)`);
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  console.error(`seeded ${COUNT} consents in ${seedSeconds.toFixed(1)} s (mapping + encryption ${(encryptMs / 1000).toFixed(1)} s)`);

  // the query: valid consents of one client created in the last ~9 months, newest first
  const filter: ConsentQuery = { status: ['valid'], clientId: 'client-07', createdFrom: new Date(END - 270 * DAY) };
  const options = { sort: 'createdAt', direction: 'desc', limit: PAGE_SIZE } as const;
  const first = await timed('first page', () => repo.query(filter, { ...options, skip: 0 }));
  const total = first.result.total;
  const lastSkip = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
  const last = await timed('last page', () => repo.query(filter, { ...options, skip: lastSkip }));
  const count = await timed('count', () => repo.consents.countDocuments(mapping.filterToQuery(filter)));
  const psuId = 'psu-1234';
  const byPsu = await timed('psuId', () => repo.query({ psuId }, { ...options, skip: 0 }));
  if (first.result.items.length !== Math.min(PAGE_SIZE, total) || count.result !== total) {
    throw new Error(`inconsistent results: first page ${first.result.items.length} items, count ${count.result}, total ${total}`);
  }

  const rows: Array<[string, string, number[]]> = [
    ['first page (skip 0, limit 50) + total', `${first.result.items.length} items`, first.ms],
    [`last page (skip ${lastSkip}, limit 50) + total`, `${last.result.items.length} items`, last.ms],
    ['count alone (countDocuments)', `${count.result} matches`, count.ms],
    [`psuId = ${psuId} via blind index, first page`, `${byPsu.result.total} matches`, byPsu.ms],
  ];
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const table = [
    '| query | result | median ms | min ms | max ms |',
    '|---|---|---:|---:|---:|',
    ...rows.map(([label, result, ms]) => `| ${label} | ${result} | ${fmt(median(ms))} | ${fmt(Math.min(...ms))} | ${fmt(Math.max(...ms))} |`),
  ].join('\n');
  const ratio = median(last.ms) / median(first.ms);
  const countShare = median(count.ms) / median(first.ms);
  const summary = [
    `- last page / first page = **${ratio.toFixed(2)}**`,
    `- count alone / first page = ${countShare.toFixed(2)}`,
    `- seeding: ${COUNT.toLocaleString('en-US')} consents in ${seedSeconds.toFixed(0)} s with \`insertMany\` of ${BATCH} mapped documents (mapping and encryption: ${(encryptMs / 1000).toFixed(1)} s of it)`,
  ].join('\n');

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
  console.log(`\nBack-office query on ${COUNT.toLocaleString('en-US')} consents — ${serverName}, ${machine}, ${REPEAT} runs each after a warm-up, ${new Date().toISOString()}`);
  console.log(`filter: status valid + clientId client-07 + createdFrom (270 days), sort createdAt desc, page size ${PAGE_SIZE}; ${total} matches\n`);
  console.log(table);
  console.log(`\n${summary}`);

  // the document's section is about the default size; other sizes are recorded only when asked
  if (process.env.BENCH_RECORD === '1' || (process.env.BENCH_RECORD !== '0' && COUNT === 100_000)) {
    record(`Back-office query on ${COUNT.toLocaleString('en-US')} consents`, [
      '`npm run bench:query` (`bench/backoffice-query.ts`): seeds consents of 20 clients, 5,000 PSUs, every status',
      'and type, created over a year, encrypted as the application stores them (a real key ring: PSU id, IP,',
      'IBANs, CPFs encrypted, blind indexes beside them). Then times `MongoConsentRepository.query` — which',
      'runs `countDocuments` and `find().sort().skip().limit()` in parallel — for the first and the last page',
      `of one filtered listing, the count alone, and a search by PSU id through its blind index; ${REPEAT} runs each`,
      'after a warm-up, median reported.',
      '',
      `Run of ${new Date().toISOString().slice(0, 10)}: ${serverName}; ${machine}.`,
      `Filter: \`status: [valid]\`, \`clientId: client-07\`, \`createdFrom\` 270 days back; sort \`createdAt\` desc; ${PAGE_SIZE} per page; ${total} matches.`,
      '',
      table,
      '',
      summary,
    ]);
    console.error(`recorded in ${DOC_FILE instanceof URL ? DOC_FILE.pathname : DOC_FILE}`);
  }
} finally {
  await db.dropDatabase().catch(() => undefined);
  await client.close();
}

/**
 * Writes `body` into docs/benchmarks.md between the generated-block markers of the `## heading` section
 * (creating the file, the section or the markers as needed). Text of that section outside the markers
 * (the analysis) and every other section stay as they are.
 */
function record(heading: string, body: string[]): void {
  const title = `## ${heading}`;
  const block = [BEGIN, ...body, END_MARK].join('\n');
  const text = existsSync(DOC_FILE) ? readFileSync(DOC_FILE, 'utf8') : '# Benchmarks\n';
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === title);
  let next: string;
  if (start === -1) {
    next = `${text.replace(/\n*$/, '\n')}\n${title}\n\n${block}\n`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end === -1) end = lines.length;
    const section = lines.slice(start, end).join('\n');
    const from = section.indexOf(BEGIN);
    const to = section.indexOf(END_MARK);
    const replaced =
      from !== -1 && to > from
        ? section.slice(0, from) + block + section.slice(to + END_MARK.length)
        : `${title}\n\n${block}\n${section.slice(title.length).replace(/^\n+/, '\n')}`;
    next = [...lines.slice(0, start), replaced, ...lines.slice(end)].join('\n');
  }
  writeFileSync(DOC_FILE, next.replace(/\n*$/, '\n'));
}
