/**
 * Full-flow benchmark at the HTTP level. Assent: client_credentials token → create consent (Berlin
 * Group) → start authorisation → select SCA method → authorize → login page + login → approval page +
 * approve → code exchange → introspection. Bare oidc-provider (Assent's own provider configuration,
 * served by node:http) with a trivial interaction that logs in and approves at once: authorize →
 * login → consent → code exchange → introspection. Same store for both: `memory` (embedded adapters) and
 * `redis` (Redis; Assent's consents on MongoDB-wire, FerretDB/PostgreSQL under scripts/test-env.ts).
 * Every flow must end in an active access token (for Assent: bound to its consent, `consent_id`), else
 * it counts as failed. Interleaved rounds (bare, assent, bare, assent) per concurrency 1 / 8 / 32.
 *
 *   npm run bench:flow
 *   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_STORES=memory BENCH_CONCURRENCY=1,8 npm run bench:flow
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { pkce, postForm, type TestClient, type TestServer } from '../test/support/assent.ts';
import { CookieJar, decideWithoutBrowser, exchangeCode, introspect, startFlow } from '../test/support/tpp.ts';
import { FLOW_CLIENT } from './servers/client.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const STORES = (process.env.BENCH_STORES ?? 'memory,redis').split(',') as Array<'memory' | 'redis'>;
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const TARGET = { memory: 0.8, redis: 0.5 } as const;

if (STORES.includes('redis') && !process.env.REDIS_URL) {
  console.error('REDIS_URL is not set: run through `npm run bench:flow` (scripts/test-env.ts starts Redis and FerretDB)');
  process.exit(2);
}

const tpp: TestClient = {
  clientId: FLOW_CLIENT.client_id,
  secret: FLOW_CLIENT.client_secret!,
  redirectUri: FLOW_CLIENT.redirect_uris[0]!,
  privateJwk: {},
  publicJwk: {},
  config: FLOW_CLIENT,
};
const basic = `Basic ${Buffer.from(`${tpp.clientId}:${tpp.secret}`).toString('base64')}`;

interface Target {
  child: ChildProcess;
  origin: string;
  issuer: string;
}

async function start(kind: 'assent' | 'bare', store: 'memory' | 'redis'): Promise<Target> {
  const child = spawn(process.execPath, ['bench/servers/flow-targets.ts', kind, store], { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+) (.+)\n/.exec(out);
      if (m) resolve({ child, origin: m[1]!, issuer: (JSON.parse(m[2]!) as { issuer: string }).issuer });
    });
    child.once('exit', (code) => reject(new Error(`flow target ${kind}/${store} exited with ${code}`)));
  });
}

/** peak RSS of a child so far, in MB (Linux: VmHWM) */
function peakRssMb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

async function stop(target: Target): Promise<void> {
  await new Promise<void>((resolve) => {
    target.child.once('exit', () => resolve());
    target.child.kill('SIGTERM');
  });
}

/** One Assent flow; true when it ended in an active token carrying its consent. */
async function assentFlow(t: Target): Promise<boolean> {
  const server = { url: t.origin, issuer: t.issuer } as TestServer;
  const flow = await startFlow(server, tpp);
  const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code');
  if (!code) return false;
  const tokens = await exchangeCode(server, tpp, code, flow.verifier);
  if (tokens.status !== 200) return false;
  const info = await introspect(server, tpp, tokens.json.access_token as string);
  return info.active === true && info.consent_id === flow.consentId;
}

/** One bare oidc-provider flow (authorization code + PKCE, auto-approving interaction); true when the token is active. */
async function bareFlow(t: Target): Promise<boolean> {
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const jar = new CookieJar();
  const query = new URLSearchParams({
    client_id: tpp.clientId,
    response_type: 'code',
    redirect_uri: tpp.redirectUri,
    scope: 'openid accountinformation',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  let res = await jar.fetch(`${t.issuer}/authorize?${query}`);
  let location: URL | undefined;
  for (let hops = 0; hops < 10; hops++) {
    await res.arrayBuffer();
    if (res.status !== 302 && res.status !== 303) return false;
    location = new URL(res.headers.get('location')!, t.origin);
    if (location.href.startsWith(tpp.redirectUri)) break;
    res = await jar.fetch(location.href);
  }
  const code = location?.searchParams.get('code');
  if (!code || location?.searchParams.get('state') !== state) return false;
  const tokens = await postForm(`${t.issuer}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: tpp.redirectUri }, { authorization: basic });
  if (tokens.status !== 200) return false;
  const info = await postForm(`${t.issuer}/introspect`, { token: tokens.json.access_token as string }, { authorization: basic });
  return info.json.active === true;
}

interface Run {
  flows: number;
  failed: number;
  seconds: number;
  latencies: number[];
}

async function measure(flow: (t: Target) => Promise<boolean>, t: Target, concurrency: number, seconds: number): Promise<Run> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const ok = await flow(t).catch(() => false);
        if (ok) latencies.push(performance.now() - t0);
        else failed++;
      }
    }),
  );
  return { flows: latencies.length, failed, seconds: (performance.now() - started) / 1000, latencies };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(runs: Run[]) {
  const flows = runs.reduce((s, r) => s + r.flows, 0);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const sorted = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return { rate: flows / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), failed: runs.reduce((s, r) => s + r.failed, 0), flows };
}

const load = loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`full-flow benchmark — ${SECONDS}s × ${ROUNDS} interleaved rounds per concurrency, ${new Date().toISOString()}, load average before: ${load}\n`);
console.log('| store | concurrency | target | flows/s | p50 ms | p99 ms | flows | failed | peak RSS MB |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
const ratios: string[] = [];
let anyFailed = false;
let missed = false;
for (const store of STORES) {
  const bare = await start('bare', store);
  const assent = await start('assent', store);
  // warm-up: JIT, connections, first compilations
  await measure(bareFlow, bare, 4, 2);
  await measure(assentFlow, assent, 4, 2);
  for (const concurrency of CONCURRENCY) {
    const runs = { bare: [] as Run[], assent: [] as Run[] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.bare.push(await measure(bareFlow, bare, concurrency, SECONDS));
      runs.assent.push(await measure(assentFlow, assent, concurrency, SECONDS));
    }
    const b = summarise(runs.bare);
    const a = summarise(runs.assent);
    const row = (name: string, s: ReturnType<typeof summarise>, t: Target) =>
      `| ${store} | ${concurrency} | ${name} | ${s.rate.toFixed(1)} | ${Math.round(s.p50)} | ${Math.round(s.p99)} | ${s.flows} | ${s.failed} | ${peakRssMb(t.child.pid)} |`;
    console.log(row('bare oidc-provider', b, bare));
    console.log(row('assent', a, assent));
    const ratio = a.rate / b.rate;
    const perRound = runs.assent.map((r, i) => (r.flows / r.seconds / (runs.bare[i]!.flows / runs.bare[i]!.seconds)).toFixed(2)).join(', ');
    ratios.push(`${store}, concurrency ${concurrency}: assent / bare = ${ratio.toFixed(2)} (per round ${perRound}; target ≥ ${TARGET[store]})`);
    if (ratio < TARGET[store]) missed = true;
    if (a.failed + b.failed > 0) anyFailed = true;
  }
  await stop(bare);
  await stop(assent);
}
console.log('');
for (const line of ratios) console.log(line);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (anyFailed) {
  console.error('some flows failed: the numbers above are not comparable');
  process.exit(1);
}
process.exit(missed ? 3 : 0);
