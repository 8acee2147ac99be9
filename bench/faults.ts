/**
 * Fault script (bounded in time): full consent flows (create → authorise → login → approve or deny →
 * code exchange) run through a round-robin load balancer in front of two Assent processes sharing one
 * Redis (AOF on, as in production) and one MongoDB-wire server (FerretDB on PostgreSQL), while
 *
 *   t≈20%  instance A is killed (SIGKILL) and started again 3 s later
 *   t≈45%  Redis is restarted (SIGTERM, then started again on the same port and data)
 *   t≈70%  FerretDB is restarted (the MongoDB-wire server; its data lives in PostgreSQL)
 *
 * Then, with everything back, it checks every consent a TPP was told was created (201):
 *   consents lost        not found in the database any more                         (must be 0)
 *   disagreeing          stored `valid` while the TPP holds no live token for it,
 *                        or the TPP holds a live token while it is not `valid`       (must be 0)
 * and reports requests failed (network errors and 5xx) with the flows by outcome. A code exchange that
 * answers 5xx or no answer is retried for up to 10 s, as a TPP does after 503 temporarily_unavailable. Exit code 1 when
 * a consent was lost or disagrees.
 *
 *   npm run bench:faults                 (BENCH_SECONDS=40 BENCH_FLOWS_IN_PARALLEL=3 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { generateCookieKeys, generateEphemeralJwks } from '../src/oidc/keys.ts';
import { generateKeyRingConfig } from '../src/crypto/key-ring.ts';
import { freePort, startFerretDb, startPostgres, waitForPort, type RunningService } from '../test/support/services.ts';
import { makeKeyClient, type TestServer } from '../test/support/assent.ts';
import { decideWithoutBrowser, exchangeCode, introspect, startFlow } from '../test/support/tpp.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 40);
const PARALLEL = Number(process.env.BENCH_FLOWS_IN_PARALLEL ?? 3);
const scratch = mkdtempSync(join(tmpdir(), 'assent-faults-'));
const started: Array<{ stop(): Promise<void> }> = [];
const log = (msg: string) => process.stderr.write(`[faults +${((Date.now() - t0) / 1000).toFixed(1)}s of load] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** when the load starts (after the stores and instances are up) */
let t0 = Date.now();

// ---- Redis with an append-only file, restartable on the same port and data ----
const redisPort = await freePort();
const redisDir = join(scratch, 'redis');
mkdirSync(redisDir, { recursive: true });
let redisProcess: ChildProcess | undefined;
async function startRedisAof(): Promise<void> {
  redisProcess = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', redisDir, '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  await waitForPort(redisPort);
}
async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
await startRedisAof();
started.push({ stop: () => stopProcess(redisProcess, 'SIGTERM') });

// ---- FerretDB on PostgreSQL ----
const postgres = await startPostgres();
started.push(postgres);
const ferretPort = await freePort();
let ferret: RunningService = await startFerretDb({ dir: join(scratch, 'ferret'), port: ferretPort, postgresqlUrl: postgres.url });
started.push({ stop: () => ferret.stop() });
const mongoUri = `mongodb://127.0.0.1:${ferretPort}/`;

// ---- two Assent processes, one configuration, one issuer (the load balancer) ----
const lbPort = await freePort();
const issuer = `http://127.0.0.1:${lbPort}/connect`;
const tpp = await makeKeyClient('faults-tpp');
const shared = {
  mode: 'demo',
  host: '127.0.0.1',
  issuer,
  logLevel: 'warn',
  mongodb: { uri: mongoUri, database: 'assent_faults' },
  redis: { url: `redis://127.0.0.1:${redisPort}`, prefix: 'faults:' },
  keys: { jwks: generateEphemeralJwks(), cookieKeys: generateCookieKeys(), dataKeys: JSON.stringify(generateKeyRingConfig('k1')) },
  clients: [tpp.config],
};
const instances = await Promise.all(
  ['A', 'B'].map(async (name) => {
    const port = await freePort();
    const file = join(scratch, `assent-${name}.json`);
    writeFileSync(file, JSON.stringify({ ...shared, port }));
    return { name, port, file, child: undefined as ChildProcess | undefined, up: false };
  }),
);
async function startInstance(instance: (typeof instances)[number]): Promise<void> {
  instance.child = spawn(process.execPath, ['src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ASSENT_CONFIG: instance.file },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(instance.port, 30_000);
  instance.up = true;
}
await Promise.all(instances.map(startInstance));
started.push({ stop: async () => void (await Promise.all(instances.map((i) => stopProcess(i.child, 'SIGTERM')))) });

// ---- the load balancer: round robin over the instances it believes are up ----
let next = 0;
const lb = createServer((req, res) => {
  const up = instances.filter((i) => i.up);
  const target = up[next++ % Math.max(1, up.length)];
  if (!target) {
    res.writeHead(503).end();
    return;
  }
  const upstream = request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
await new Promise<void>((resolve) => lb.listen(lbPort, '127.0.0.1', resolve));
started.push({ stop: () => new Promise<void>((resolve) => lb.close(() => resolve())) });
lb.unref();

// ---- counting what the TPP and the browser see ----
let counting = true;
let requests = 0;
let failedRequests = 0;
const created = new Set<string>();
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  if (!counting) return realFetch(input, init);
  requests++;
  try {
    const res = await realFetch(input, init);
    if (res.status >= 500) failedRequests++;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (res.status === 201 && (init?.method ?? 'GET') === 'POST' && /\/consents$/.test(new URL(url).pathname)) {
      const body = (await res.clone().json()) as { consentId?: string };
      if (body.consentId) created.add(body.consentId);
    }
    return res;
  } catch (err) {
    failedRequests++;
    throw err;
  }
};

const server = { url: `http://127.0.0.1:${lbPort}`, issuer } as TestServer;
const tokens = new Map<string, string>();
/** what the flow of each consent ended with, as the TPP saw it */
const outcomeOf = new Map<string, string>();
/** the error a failed flow ended with, by consent */
const whyFailed = new Map<string, string>();
const outcomes: Record<string, number> = {};
let exchangeRetries = 0;
const count = (what: string) => (outcomes[what] = (outcomes[what] ?? 0) + 1);

async function oneFlow(): Promise<void> {
  let stage = 'create';
  let consentId: string | undefined;
  const done = (what: string) => {
    count(what);
    if (consentId) outcomeOf.set(consentId, what);
  };
  try {
    const flow = await startFlow(server, tpp);
    consentId = flow.consentId;
    stage = 'decide';
    const decision = Math.random() < 0.8 ? 'approve' : 'deny';
    const back = await decideWithoutBrowser(server, flow, decision);
    if (back.searchParams.get('error')) return done(`TPP told ${back.searchParams.get('error')}`);
    stage = 'exchange';
    // a 503 (temporarily_unavailable) invites a retry, as a TPP does: for up to 10 s
    const retryUntil = Date.now() + 10_000;
    let exchanged = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier).catch(() => undefined);
    while ((exchanged === undefined || exchanged.status >= 500) && Date.now() < retryUntil) {
      exchangeRetries++;
      await sleep(500);
      exchanged = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier).catch(() => undefined);
    }
    if (!exchanged) throw new Error('the token endpoint did not answer');
    if (exchanged.status !== 200) return done(`exchange answered ${exchanged.status} ${String(exchanged.json.error ?? '')}`);
    tokens.set(flow.consentId, exchanged.json.access_token as string);
    done('tokens issued');
  } catch (err) {
    done(`failed at ${stage}`);
    if (consentId) whyFailed.set(consentId, String((err as Error).message).replace(/\s+/g, ' ').slice(0, 200));
  }
}

// ---- load with faults ----
t0 = Date.now();
const end = t0 + SECONDS * 1000;
const workers = Array.from({ length: PARALLEL }, async () => {
  while (Date.now() < end) await oneFlow();
});
const faults = (async () => {
  const at = (fraction: number) => sleep(Math.max(0, t0 + fraction * SECONDS * 1000 - Date.now()));
  await at(0.2);
  const a = instances[0]!;
  log('killing instance A (SIGKILL)');
  a.up = false;
  await stopProcess(a.child, 'SIGKILL');
  await sleep(3_000);
  // on a loaded machine A may take long to listen again: the load goes on through B meanwhile
  await startInstance(a).then(
    () => log('instance A is back'),
    () => {
      log('instance A did not listen again within 30 s; the load goes on through B until it does');
      void waitForPort(a.port, 120_000).then(() => ((a.up = true), log('instance A is back')), () => undefined);
    },
  );
  await at(0.45);
  log('restarting Redis');
  await stopProcess(redisProcess, 'SIGTERM');
  await sleep(1_000);
  await startRedisAof();
  log('Redis is back');
  await at(0.7);
  log('restarting FerretDB');
  await ferret.stop();
  await sleep(1_000);
  ferret = await startFerretDb({ dir: join(scratch, 'ferret2'), port: ferretPort, postgresqlUrl: postgres.url });
  log('FerretDB is back');
})();
await Promise.all([...workers, faults]);
counting = false;
log('load done; checking every consent');
await sleep(2_000);

// ---- the checks ----
const mongo = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 10_000 });
let lost = 0;
const disagreeing: Array<{ consentId: string; status: string; liveToken: boolean; flow: string; error?: string }> = [];
try {
  const consents = mongo.db('assent_faults').collection<{ _id: string; status: string }>('consents');
  for (const consentId of created) {
    const stored = await consents.findOne({ _id: consentId });
    if (!stored) {
      lost++;
      continue;
    }
    const token = tokens.get(consentId);
    const liveToken = token ? (await introspect(server, tpp, token)).active === true : false;
    if ((stored.status === 'valid') !== liveToken) {
      disagreeing.push({ consentId, status: stored.status, liveToken, flow: outcomeOf.get(consentId) ?? 'failed while being created', ...(whyFailed.has(consentId) ? { error: whyFailed.get(consentId) } : {}) });
    }
  }
} finally {
  await mongo.close();
}

const report = {
  seconds: SECONDS,
  flowsInParallel: PARALLEL,
  flows: Object.values(outcomes).reduce((a, b) => a + b, 0),
  outcomes,
  exchangeRetries,
  requests,
  requestsFailed: failedRequests,
  consentsCreated: created.size,
  consentsLost: lost,
  consentsDisagreeing: disagreeing.length,
  disagreeing: disagreeing.slice(0, 10),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

for (const service of started.reverse()) await service.stop().catch(() => undefined);
rmSync(scratch, { recursive: true, force: true });
process.exit(lost > 0 || disagreeing.length > 0 ? 1 : 0);
