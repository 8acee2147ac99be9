/**
 * Consent validation benchmark: POST /api/fs/consent/validate (token lookup, consent read, grant check,
 * usage counter INCR, signed JWS) against bare token introspection (POST /connect/introspect) on the same
 * Assent server, in interleaved rounds of one run. Target: validation ≥ 0.7 × introspection.
 *
 *   npm run bench:validate      (starts Redis and FerretDB through scripts/test-env.ts)
 *   BENCH_SECONDS=20 BENCH_ROUNDS=3 npm run bench:validate
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGET_RATIO = 0.7;

if (!process.env.REDIS_URL) {
  console.error('REDIS_URL is not set: run through `npm run bench:validate` (scripts/test-env.ts starts Redis)');
  process.exit(2);
}

// the server picks its own free port and says where it listens
const child = spawn(process.execPath, ['bench/servers/validate.ts'], { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
const { origin, info } = await new Promise<{ origin: string; info: Record<string, string> }>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /READY (\S+) (.+)\n/.exec(out);
    if (m) resolve({ origin: m[1]!, info: JSON.parse(m[2]!) });
  });
  child.once('exit', (code) => reject(new Error(`bench/servers/validate.ts exited with ${code}`)));
});

const targets = {
  introspection: {
    url: `${info.issuer}/introspect`,
    headers: { authorization: info.tppAuth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: info.accessToken! }).toString(),
  },
  validation: {
    url: `${origin}/api/fs/consent/validate`,
    headers: { authorization: info.internalAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ accessToken: info.accessToken, method: 'GET', resourcePath: '/psd2/accountinformation/v1/accounts/acc-alice-salary/balances' }),
  },
};

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function run(name: keyof typeof targets, duration: number): Promise<Run> {
  const t = targets[name];
  const r = await autocannon({ url: t.url, method: 'POST', headers: t.headers, body: t.body, connections: CONNECTIONS, duration });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

// sanity: the validation answers valid (a refusal would be cheaper and flatter the numbers)
const probe = await fetch(targets.validation.url, { method: 'POST', headers: targets.validation.headers, body: targets.validation.body });
const answer = (await probe.json()) as { isValid?: boolean };
if (answer.isValid !== true) throw new Error(`the validation does not answer valid: ${JSON.stringify(answer)}`);

await run('introspection', 2);
await run('validation', 2);
const runs: Record<keyof typeof targets, Run[]> = { introspection: [], validation: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.introspection.push(await run('introspection', SECONDS));
  runs.validation.push(await run('validation', SECONDS));
}
// and still valid at the end (a limit reached mid-run would have turned the rest into cheaper refusals)
const last = (await (await fetch(targets.validation.url, { method: 'POST', headers: targets.validation.headers, body: targets.validation.body })).json()) as { isValid?: boolean };
if (last.isValid !== true) throw new Error(`the validation no longer answers valid: ${JSON.stringify(last)}`);
await new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGTERM');
});

const mean = (list: Run[], f: (r: Run) => number) => Math.round(list.reduce((s, r) => s + f(r), 0) / list.length);
console.log(`\nconsent validation vs introspection — ${SECONDS}s × ${ROUNDS} interleaved rounds, ${CONNECTIONS} connections, ${new Date().toISOString()}\n`);
console.log('| target | req/s | p50 ms | p99 ms | errors | non-2xx |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const name of ['introspection', 'validation'] as const) {
  const l = runs[name];
  console.log(`| ${name} | ${mean(l, (r) => r.rps)} | ${mean(l, (r) => r.p50)} | ${mean(l, (r) => r.p99)} | ${l.reduce((s, r) => s + r.errors, 0)} | ${l.reduce((s, r) => s + r.non2xx, 0)} |`);
}
const ratio = mean(runs.validation, (r) => r.rps) / mean(runs.introspection, (r) => r.rps);
console.log(`\nvalidation / introspection = ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO})`);
console.log(`per round: ${runs.validation.map((v, i) => (v.rps / runs.introspection[i]!.rps).toFixed(2)).join(', ')}`);
if ([...runs.introspection, ...runs.validation].some((r) => r.non2xx > 0)) {
  console.error('some requests failed: the numbers above are not comparable');
  process.exit(1);
}
process.exit(ratio >= TARGET_RATIO ? 0 : 3);
