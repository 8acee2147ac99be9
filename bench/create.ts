/**
 * Consent creation throughput: Berlin Group `POST /psd2/consent/v1/consents` through the whole app, on
 * the embedded stores and on the real ones (Redis for the token and the per-TPP creation limit, MongoDB-
 * wire for the consents: FerretDB/PostgreSQL under scripts/test-env.ts, or the server MONGODB_URI names),
 * each target in its own process (bench/servers/flow-targets.ts), driven by autocannon from this one in
 * interleaved rounds (embedded, real, embedded, real, …). Consents/s counts 201 answers (a 201 is sent
 * only after the insert); any other answer makes the run fail. Target: real ≥ 0.5 × embedded (issue 8).
 *
 * Two more baselines in the same rounds say what the store itself allows: the official driver inserting
 * copies of a consent document Assent stored (new `_id` each) into a scratch collection with the same
 * indexes, with as many inserts in flight as autocannon has connections — one `insertOne` each, and
 * through the InsertBatcher Assent's repository uses (src/storage/mongo/insert-batcher.ts). real / driver
 * is how close Assent's creation comes to the store's own insert rate on this machine.
 *
 *   npm run bench:create
 *   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=16 npm run bench:create
 */
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { clientCredentialsToken, type TestClient, type TestServer } from '../test/support/assent.ts';
import { ALICE, accountsBody } from '../test/support/tpp.ts';
import { FLOW_CLIENT } from './servers/client.ts';
import { InsertBatcher } from '../src/storage/mongo/insert-batcher.ts';
import { rssMb, startTarget, stopTarget, type Target } from './servers/spawn-target.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const TARGET = 0.5;

if (!process.env.REDIS_URL || !process.env.MONGODB_URI) {
  console.error('REDIS_URL / MONGODB_URI are not set: run through `npm run bench:create` (scripts/test-env.ts starts Redis and FerretDB)');
  process.exit(2);
}

const tpp: TestClient = { clientId: FLOW_CLIENT.client_id, secret: FLOW_CLIENT.client_secret!, redirectUri: FLOW_CLIENT.redirect_uris[0]!, privateJwk: {}, publicJwk: {}, config: FLOW_CLIENT };
const body = JSON.stringify(accountsBody([ALICE.salary, ALICE.savings]));

interface Round {
  rps: number;
  p50: number;
  p99: number;
  created: number;
  other: number;
  errors: number;
}

async function round(target: Target, token: string, seconds: number): Promise<Round> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'psu-ip-address': '192.0.2.10', 'x-bicfi': 'ASSEBANKXXX' };
  const r = await autocannon({
    url: target.origin,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/psd2/consent/v1/consents',
        body,
        // every request its own X-Request-ID, as a TPP sends it
        setupRequest: (req) => ({ ...req, headers: { ...headers, 'x-request-id': randomUUID() } }),
      },
    ],
  });
  const created = r['2xx'];
  return { rps: created / seconds, p50: r.latency.p50, p99: r.latency.p99, created, other: r.non2xx, errors: r.errors + r.timeouts };
}

/** The scratch collection of the driver baseline: Assent's indexes, one of its stored documents as the template. */
async function driverBaseline(mongo: MongoClient): Promise<{ collection: Collection; template: Document; drop: () => Promise<unknown> }> {
  const { databases } = await mongo.db('admin').admin().listDatabases();
  for (const { name } of databases.filter((d) => d.name.startsWith('bench_flow_'))) {
    const consents = mongo.db(name).collection('consents');
    const template = await consents.findOne({});
    if (!template) continue;
    const scratch = mongo.db(`bench_create_${randomUUID().slice(0, 8)}`);
    const collection = scratch.collection('consents');
    // one at a time, as Assent does (FerretDB 1.24 and multi-index createIndexes)
    for (const { key, name: indexName, unique, sparse } of await consents.indexes()) {
      if (indexName !== '_id_') await collection.createIndexes([{ key, name: indexName!, ...(unique ? { unique } : {}), ...(sparse ? { sparse } : {}) }]);
    }
    return { collection, template, drop: () => scratch.dropDatabase() };
  }
  throw new Error('the real target stored no consent to copy');
}

async function driverRound(collection: Collection, template: Document, seconds: number, batcher?: InsertBatcher<Document>): Promise<Round> {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          const doc = { ...template, _id: `${template._id}-${randomUUID()}` } as Document;
          await (batcher ? batcher.insert(doc) : collection.insertOne(doc));
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN);
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), created: latencies.length, other: 0, errors };
}

async function token(target: Target): Promise<string> {
  const res = await clientCredentialsToken({ url: target.origin, issuer: target.issuer } as TestServer, tpp);
  if (res.status !== 200) throw new Error(`client_credentials: ${res.status}`);
  return res.json.access_token as string;
}

console.log(`consent-creation benchmark — ${SECONDS}s × ${ROUNDS} interleaved rounds, ${CONNECTIONS} connections, ${new Date().toISOString()}, load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}, MongoDB-wire: ${process.env.ASSENT_FERRETDB_BACKEND ? `FerretDB/${process.env.ASSENT_FERRETDB_BACKEND}` : 'as given by MONGODB_URI'}\n`);
const targets = { embedded: await startTarget('assent', 'memory'), real: await startTarget('assent', 'redis') };
const tokens = { embedded: await token(targets.embedded), real: await token(targets.real) };
// warm-up: JIT, connections, the collection's first pages
await round(targets.embedded, tokens.embedded, 2);
await round(targets.real, tokens.real, 2);
const mongo = await new MongoClient(process.env.MONGODB_URI).connect();
const baseline = await driverBaseline(mongo);
const batcher = new InsertBatcher<Document>(baseline.collection);
await driverRound(baseline.collection, baseline.template, 2);
const rounds = { embedded: [] as Round[], real: [] as Round[], driver: [] as Round[], batched: [] as Round[] };
for (let i = 0; i < ROUNDS; i++) {
  rounds.embedded.push(await round(targets.embedded, tokens.embedded, SECONDS));
  rounds.real.push(await round(targets.real, tokens.real, SECONDS));
  rounds.driver.push(await driverRound(baseline.collection, baseline.template, SECONDS));
  rounds.batched.push(await driverRound(baseline.collection, baseline.template, SECONDS, batcher));
}
await baseline.drop();
await mongo.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('| target | consents/s | p50 ms | p99 ms | created | non-201 | errors | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
const LABEL = {
  embedded: 'Assent, embedded (memory)',
  real: 'Assent, Redis + MongoDB-wire',
  driver: 'driver insertOne, same indexes (baseline)',
  batched: 'driver through InsertBatcher, same indexes (baseline)',
} as const;
for (const name of ['embedded', 'real', 'driver', 'batched'] as const) {
  const rs = rounds[name];
  const seconds = SECONDS * rs.length;
  const created = rs.reduce((s, r) => s + r.created, 0);
  const rss = name === 'driver' || name === 'batched' ? '–' : rssMb(targets[name].child.pid, 'VmHWM');
  console.log(
    `| ${LABEL[name]} | ${(created / seconds).toFixed(0)} | ${median(rs.map((r) => r.p50))} | ${median(rs.map((r) => r.p99))} | ${created} | ${rs.reduce((s, r) => s + r.other, 0)} | ${rs.reduce((s, r) => s + r.errors, 0)} | ${rss} |`,
  );
}
const sum = (rs: Round[]) => rs.reduce((s, r) => s + r.created, 0);
const ratio = sum(rounds.real) / sum(rounds.embedded);
const perRound = rounds.real.map((r, i) => (r.created / rounds.embedded[i]!.created).toFixed(2)).join(', ');
const perDriver = rounds.real.map((r, i) => (r.created / rounds.driver[i]!.created).toFixed(2)).join(', ');
console.log(`\nreal / embedded = ${ratio.toFixed(2)} (per round ${perRound}; target ≥ ${TARGET})`);
console.log(`real / driver baseline = ${(sum(rounds.real) / sum(rounds.driver)).toFixed(2)} (per round ${perDriver}): Assent's share of the store's own insert rate`);
const perBatched = rounds.batched.map((r, i) => (r.created / rounds.driver[i]!.created).toFixed(2)).join(', ');
console.log(`batched / insertOne baseline = ${(sum(rounds.batched) / sum(rounds.driver)).toFixed(2)} (per round ${perBatched}): what batching concurrent inserts gives the store`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await stopTarget(targets.embedded);
await stopTarget(targets.real);
const failed = [...rounds.embedded, ...rounds.real, ...rounds.driver, ...rounds.batched].some((r) => r.other + r.errors > 0);
if (failed) {
  console.error('some requests did not answer 201: the numbers above are not comparable');
  process.exit(1);
}
process.exit(ratio < TARGET ? 3 : 0);
