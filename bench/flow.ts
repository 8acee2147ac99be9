/**
 * Full-flow benchmark at the HTTP level. Assent: create consent (Berlin Group) → start authorisation →
 * select SCA method → authorize → login page + login → approval page + approve → code exchange →
 * introspection. The TPP's client_credentials token is shared by its workers and renewed a minute before
 * it expires, as a TPP with many customers does (not one token per consent). Bare oidc-provider (Assent's own provider configuration,
 * served by node:http) with a trivial interaction that logs in and approves at once: authorize →
 * login → consent → code exchange → introspection. Same store for both: `memory` (embedded adapters) and
 * `redis` (Redis; Assent's consents on MongoDB-wire, FerretDB/PostgreSQL under scripts/test-env.ts).
 * Every flow must end in an active access token (for Assent: bound to its consent, `consent_id`), else
 * it counts as failed. Interleaved rounds (bare, assent, bare, assent) per concurrency 1 / 8 / 32.
 *
 *   npm run bench:flow
 *   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_STORES=memory BENCH_CONCURRENCY=1,8 npm run bench:flow
 *   BENCH_STORED=0,1000,10000,100000 BENCH_SEED_SECONDS=300 BENCH_CONCURRENCY=8 npm run bench:flow
 *
 * Prints flows/s, p50/p99 per flow and per step, the targets' RSS (now and peak), and the ratios.
 * BENCH_STORED: before each size's runs the Assent target gets consents of other TPPs stored up to that
 * size (bulk insertMany on MongoDB-wire, the repository on memory; see servers/seed-consents.ts), each
 * size's seeding bounded by BENCH_SEED_SECONDS (default 300; how far it got is printed). The targets are
 * checked at 0 and ≤ 1,000 stored consents only (the issue's targets); larger sizes are measured, not judged.
 */
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { clientCredentialsToken, pkce, postForm, type TestClient, type TestServer } from '../test/support/assent.ts';
import { ALICE, CookieJar, accountsBody, bg, exchangeCode, followRedirects, introspect } from '../test/support/tpp.ts';
import { FLOW_CLIENT } from './servers/client.ts';
import { rssMb, startTarget as start, stopTarget as stop, type Target } from './servers/spawn-target.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const STORES = (process.env.BENCH_STORES ?? 'memory,redis').split(',') as Array<'memory' | 'redis'>;
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
/** consents stored before the flows run (cumulative sizes: 0, then seeded up to each) */
const STORED = (process.env.BENCH_STORED ?? '0').split(',').map(Number);
/** the most time seeding may take per size; the run goes on with what was stored by then */
const SEED_SECONDS = Number(process.env.BENCH_SEED_SECONDS ?? 300);
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

/** Milliseconds per named step of one flow. */
type Steps = Record<string, number>;
const ASSENT_STEPS = ['create', 'start auth', 'select method', 'authorize → login page', 'login → approval page', 'approve → TPP', 'code exchange', 'introspect'] as const;
const BARE_STEPS = ['authorize → interaction → TPP', 'code exchange', 'introspect'] as const;

async function timed<T>(steps: Steps, name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await run();
  steps[name] = performance.now() - t0;
  return result;
}

/** the TPP's client_credentials token per target, shared by its workers, renewed a minute before it expires */
const tppTokens = new Map<Target, { token: Promise<string>; renewAt: number }>();
function tppToken(t: Target): Promise<string> {
  const held = tppTokens.get(t);
  if (held && performance.now() < held.renewAt) return held.token;
  const token = clientCredentialsToken({ url: t.origin, issuer: t.issuer } as TestServer, tpp).then((res) => {
    if (res.status !== 200) {
      tppTokens.delete(t);
      throw new Error(`client_credentials: ${res.status}`);
    }
    tppTokens.set(t, { token, renewAt: performance.now() + (Number(res.json.expires_in) - 60) * 1000 });
    return res.json.access_token as string;
  });
  tppTokens.set(t, { token, renewAt: Infinity });
  return token;
}

/** One Assent flow, step by step (the requests of startFlow / decideWithoutBrowser); true when it ended in an active token carrying its consent. */
async function assentFlow(t: Target, steps: Steps): Promise<boolean> {
  const server = { url: t.origin, issuer: t.issuer } as TestServer;
  const cc = await tppToken(t);
  const created = await timed(steps, 'create', () => bg(server, cc, 'POST', '/consents', accountsBody([ALICE.salary, ALICE.savings])));
  if (created.status !== 201) return false;
  const consentId = created.body.consentId as string;
  const started = await timed(steps, 'start auth', () => bg(server, cc, 'POST', `/consents/${consentId}/authorisations`));
  if (started.status !== 201) return false;
  const authorisationId = started.body.authorisationId as string;
  const methodId = (started.body.scaMethods as Array<{ authenticationMethodId: string }>)[0]!.authenticationMethodId;
  const selected = await timed(steps, 'select method', () => bg(server, cc, 'PUT', `/consents/${consentId}/authorisations/${authorisationId}`, { authenticationMethodId: methodId }));
  if (selected.status !== 200) return false;
  const link = new URL((selected.body._links as Record<string, { href: string }>).scaOAuth!.href);
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  link.searchParams.set('redirect_uri', tpp.redirectUri);
  link.searchParams.set('state', state);
  link.searchParams.set('code_challenge', challenge);
  link.searchParams.set('code_challenge_method', 'S256');

  const jar = new CookieJar();
  const loginPage = await timed(steps, 'authorize → login page', async () => (await followRedirects(server, jar, await jar.fetch(link.href))).res.text());
  const loginAction = /action="([^"]+\/login)"/.exec(loginPage)?.[1];
  if (!loginAction) return false;
  const approvalPage = await timed(steps, 'login → approval page', async () => {
    const res = await jar.fetch(new URL(loginAction, server.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrf: /name="csrf" value="([^"]+)"/.exec(loginPage)![1]! }).toString(),
    });
    return (await followRedirects(server, jar, res)).res.text();
  });
  const action = /action="([^"]+\/decision)"/.exec(approvalPage)?.[1];
  if (!action) return false;
  const form = new URLSearchParams({ csrf: /name="csrf" value="([^"]+)"/.exec(approvalPage)![1]! });
  for (const m of approvalPage.matchAll(/<input[^>]*name="accounts"[^>]*>/g)) {
    if (/\schecked/.test(m[0])) form.append('accounts', /value="([^"]+)"/.exec(m[0])![1]!);
  }
  form.set('decision', 'approve');
  const left = await timed(steps, 'approve → TPP', async () => {
    const res = await jar.fetch(new URL(action, server.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const followed = await followRedirects(server, jar, res);
    await followed.res.arrayBuffer();
    return followed.left;
  });
  if (!left) return false;
  const back = new URL(left);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) return false;
  const tokens = await timed(steps, 'code exchange', () => exchangeCode(server, tpp, code, verifier));
  if (tokens.status !== 200) return false;
  const info = await timed(steps, 'introspect', () => introspect(server, tpp, tokens.json.access_token as string));
  return info.active === true && info.consent_id === consentId;
}

/** One bare oidc-provider flow (authorization code + PKCE, auto-approving interaction); true when the token is active. */
async function bareFlow(t: Target, steps: Steps): Promise<boolean> {
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
  const location = await timed(steps, 'authorize → interaction → TPP', async () => {
    let res = await jar.fetch(`${t.issuer}/authorize?${query}`);
    for (let hops = 0; hops < 10; hops++) {
      await res.arrayBuffer();
      if (res.status !== 302 && res.status !== 303) return undefined;
      const next = new URL(res.headers.get('location')!, t.origin);
      if (next.href.startsWith(tpp.redirectUri)) return next;
      res = await jar.fetch(next.href);
    }
    return undefined;
  });
  const code = location?.searchParams.get('code');
  if (!code || location?.searchParams.get('state') !== state) return false;
  const tokens = await timed(steps, 'code exchange', () =>
    postForm(`${t.issuer}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: tpp.redirectUri }, { authorization: basic }),
  );
  if (tokens.status !== 200) return false;
  const info = await timed(steps, 'introspect', () => postForm(`${t.issuer}/introspect`, { token: tokens.json.access_token as string }, { authorization: basic }));
  return info.json.active === true;
}

interface Run {
  flows: number;
  failed: number;
  seconds: number;
  latencies: number[];
  /** step name → the step's latency in every successful flow */
  steps: Map<string, number[]>;
}

async function measure(flow: (t: Target, steps: Steps) => Promise<boolean>, t: Target, concurrency: number, seconds: number): Promise<Run> {
  const latencies: number[] = [];
  const steps = new Map<string, number[]>();
  let failed = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const flowSteps: Steps = {};
        const ok = await flow(t, flowSteps).catch(() => false);
        t.flowsStarted++;
        if (!ok) {
          failed++;
          continue;
        }
        latencies.push(performance.now() - t0);
        for (const [name, ms] of Object.entries(flowSteps)) {
          if (!steps.has(name)) steps.set(name, []);
          steps.get(name)!.push(ms);
        }
      }
    }),
  );
  return { flows: latencies.length, failed, seconds: (performance.now() - started) / 1000, latencies, steps };
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

/** "p50 / p99" of one step over the runs */
function stepCell(runs: Run[], name: string): string {
  const sorted = runs.flatMap((r) => r.steps.get(name) ?? []).sort((a, b) => a - b);
  const ms = (v: number) => (v < 10 ? v.toFixed(1) : String(Math.round(v)));
  return sorted.length ? `${ms(percentile(sorted, 50))} / ${ms(percentile(sorted, 99))}` : '–';
}

/**
 * The HTTP exchanges of one flow: requests sent (redirects followed count one each) and bytes received
 * (bodies). Counted on one flow with the global fetch wrapped, outside the timed rounds.
 */
async function exchanges(flow: (t: Target, steps: Steps) => Promise<boolean>, t: Target): Promise<{ requests: number; kB: number } | undefined> {
  if (flow === assentFlow) await tppToken(t); // held before the flow, as in the timed rounds
  const original = globalThis.fetch;
  let requests = 0;
  let bytes = 0;
  globalThis.fetch = async (input, init) => {
    const res = await original(input, init);
    requests++;
    bytes += (await res.clone().arrayBuffer()).byteLength;
    return res;
  };
  try {
    const ok = await flow(t, {});
    t.flowsStarted++;
    return ok ? { requests, kB: Math.round(bytes / 102.4) / 10 } : undefined;
  } finally {
    globalThis.fetch = original;
  }
}

/** Seeds `count` more consents in the Assent target, within BENCH_SEED_SECONDS; returns how many it stored and how long it took. */
async function seed(t: Target, count: number): Promise<{ stored: number; ms: number; error?: string }> {
  const deadline = Date.now() + SEED_SECONDS * 1000;
  const answer = new Promise<string>((resolve) => t.lines.push(resolve));
  t.child.stdin!.write(`SEED ${count} ${deadline}\n`);
  const [, stored, ms, ...error] = (await answer).split(' ');
  return { stored: Number(stored), ms: Number(ms), ...(error.length ? { error: error.join(' ') } : {}) };
}

const load = loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(
  `full-flow benchmark — ${SECONDS}s × ${ROUNDS} interleaved rounds per concurrency, stored consents ${STORED.join(' / ')}, ${new Date().toISOString()}, load average before: ${load}` +
    (STORES.includes('redis') ? `, MongoDB-wire: ${process.env.ASSENT_FERRETDB_BACKEND ? `FerretDB/${process.env.ASSENT_FERRETDB_BACKEND}` : 'as given by MONGODB_URI'}` : '') +
    '\n',
);
console.log('| store | stored consents | concurrency | target | flows/s | p50 ms | p99 ms | flows | failed | RSS MB | peak RSS MB | load avg |');
console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const ratios: string[] = [];
const stepRows = { assent: [] as string[], bare: [] as string[] };
const seedLines: string[] = [];
const exchangeLines: string[] = [];
let anyFailed = false;
let missed = false;
for (const store of STORES) {
  const bare = await start('bare', store);
  const assent = await start('assent', store);
  // warm-up: JIT, connections, first compilations
  await measure(bareFlow, bare, 4, 2);
  await measure(assentFlow, assent, 4, 2);
  const perFlow = { bare: await exchanges(bareFlow, bare), assent: await exchanges(assentFlow, assent) };
  const said = (x: { requests: number; kB: number } | undefined) => (x ? `${x.requests} HTTP requests, ${x.kB} kB of bodies received` : 'the counted flow failed');
  exchangeLines.push(`${store}: one flow is ${said(perFlow.assent)} through Assent, ${said(perFlow.bare)} through bare oidc-provider`);
  let seeded = 0;
  for (const size of STORED) {
    if (size > seeded) {
      const result = await seed(assent, size - seeded);
      seeded += result.stored;
      const rate = result.stored / (result.ms / 1000);
      seedLines.push(
        `${store}: +${result.stored} consents in ${(result.ms / 1000).toFixed(1)} s (${Math.round(rate)}/s), ${seeded} seeded in all` +
          (seeded < size ? ` — stopped at the ${SEED_SECONDS} s bound (BENCH_SEED_SECONDS), short of ${size}` : '') +
          (result.error ? ` — error: ${result.error}` : ''),
      );
      console.error(seedLines.at(-1));
    }
    // the consents of earlier flows are stored too
    const stored = seeded + assent.flowsStarted;
    for (const concurrency of CONCURRENCY) {
      const runs = { bare: [] as Run[], assent: [] as Run[] };
      for (let round = 0; round < ROUNDS; round++) {
        runs.bare.push(await measure(bareFlow, bare, concurrency, SECONDS));
        runs.assent.push(await measure(assentFlow, assent, concurrency, SECONDS));
      }
      const b = summarise(runs.bare);
      const a = summarise(runs.assent);
      const now = loadavg()[0]!.toFixed(1);
      const row = (name: string, s: ReturnType<typeof summarise>, t: Target, count: number | string) =>
        `| ${store} | ${count} | ${concurrency} | ${name} | ${s.rate.toFixed(1)} | ${Math.round(s.p50)} | ${Math.round(s.p99)} | ${s.flows} | ${s.failed} | ${rssMb(t.child.pid, 'VmRSS')} | ${rssMb(t.child.pid, 'VmHWM')} | ${now} |`;
      console.log(row('bare oidc-provider', b, bare, '–'));
      console.log(row('assent', a, assent, stored));
      stepRows.bare.push(`| ${store} | ${stored} | ${concurrency} | ${BARE_STEPS.map((n) => stepCell(runs.bare, n)).join(' | ')} |`);
      stepRows.assent.push(`| ${store} | ${stored} | ${concurrency} | ${ASSENT_STEPS.map((n) => stepCell(runs.assent, n)).join(' | ')} |`);
      const ratio = a.rate / b.rate;
      const perRound = runs.assent.map((r, i) => (r.flows / r.seconds / (runs.bare[i]!.flows / runs.bare[i]!.seconds)).toFixed(2)).join(', ');
      ratios.push(`${store}, ${stored} consents stored, concurrency ${concurrency}: assent / bare = ${ratio.toFixed(2)} (per round ${perRound}; target ≥ ${TARGET[store]})`);
      if (ratio < TARGET[store] && (store === 'memory' || stored <= 1_000)) missed = true;
      if (a.failed + b.failed > 0) anyFailed = true;
    }
  }
  await stop(bare);
  await stop(assent);
}
console.log('\nAssent, per step (p50 / p99 ms):\n');
console.log(`| store | stored consents | concurrency | ${ASSENT_STEPS.join(' | ')} |`);
console.log(`|---|---:|---:|${ASSENT_STEPS.map(() => '---:').join('|')}|`);
for (const line of stepRows.assent) console.log(line);
console.log('\nbare oidc-provider, per step (p50 / p99 ms):\n');
console.log(`| store | beside Assent with stored consents | concurrency | ${BARE_STEPS.join(' | ')} |`);
console.log(`|---|---:|---:|${BARE_STEPS.map(() => '---:').join('|')}|`);
for (const line of stepRows.bare) console.log(line);
console.log('');
for (const line of exchangeLines) console.log(line);
for (const line of seedLines) console.log(line);
for (const line of ratios) console.log(line);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (anyFailed) {
  console.error('some flows failed: the numbers above are not comparable');
  process.exit(1);
}
process.exit(missed ? 3 : 0);
