/**
 * Token issuance benchmark, one run, three targets measured back to back on this machine:
 *   1. Assent: client_credentials token issuance through the whole app, on Redis
 *   2. bare oidc-provider with the same settings and the same Redis adapter (the peer baseline)
 *   3. a Koa hello-world (the machine's ceiling)
 * Each target runs in its own process; autocannon drives it from this one. Reports requests/s, p50/p99
 * latency, the ratios to both baselines, and each server's peak RSS (VmHWM).
 *
 *   npm run bench            (starts Redis itself through scripts/test-env.ts)
 *   BENCH_SECONDS=20 npm run bench
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { freePort } from '../test/support/services.ts';
import { BENCH_CLIENT } from './servers/client.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TARGET_RATIO = 0.85;

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  peakRssMb: number;
}

async function startTarget(script: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [script], { env: { ...process.env, BENCH_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, url };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function measure(name: string, script: string): Promise<Result> {
  const { child, url } = await startTarget(script);
  const body = 'grant_type=client_credentials&scope=accountinformation';
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${BENCH_CLIENT.client_id}:${BENCH_CLIENT.client_secret}`).toString('base64')}`,
  };
  // warm-up, then the measured run
  await autocannon({ url, method: 'POST', body, headers, connections: CONNECTIONS, duration: 2 });
  const r = await autocannon({ url, method: 'POST', body, headers, connections: CONNECTIONS, duration: SECONDS });
  const result: Result = {
    name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    peakRssMb: peakRssMb(child.pid!),
  };
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return result;
}

if (!process.env.REDIS_URL) {
  console.error('REDIS_URL is not set: run through `npm run bench` (scripts/test-env.ts starts Redis)');
  process.exit(2);
}

// Interleaved rounds (baseline, assent, baseline, assent, …): drift on a shared 2-core machine hits both.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
function combine(runs: Result[]): Result {
  const mean = (f: (r: Result) => number) => Math.round(runs.reduce((sum, r) => sum + f(r), 0) / runs.length);
  return {
    name: runs[0]!.name,
    rps: mean((r) => r.rps),
    p50: mean((r) => r.p50),
    p99: mean((r) => r.p99),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
}
const hello = await measure('koa hello-world (ceiling)', 'bench/servers/hello.ts');
const bareRuns: Result[] = [];
const assentRuns: Result[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bareRuns.push(await measure('bare oidc-provider (baseline)', 'bench/servers/bare-provider.ts'));
  assentRuns.push(await measure('assent', 'bench/servers/assent.ts'));
}
const bare = combine(bareRuns);
const assent = combine(assentRuns);

const rows = [hello, bare, assent];
console.log(`\nclient_credentials token issuance — ${SECONDS}s × ${ROUNDS} interleaved rounds, ${CONNECTIONS} connections, ${new Date().toISOString()}\n`);
console.log('| target | req/s | p50 ms | p99 ms | errors | non-2xx | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.peakRssMb} |`);
const vsBare = assent.rps / bare.rps;
const vsHello = assent.rps / hello.rps;
console.log(`\nassent / bare oidc-provider = ${vsBare.toFixed(2)} (target ≥ ${TARGET_RATIO})`);
console.log(`assent / koa hello-world    = ${vsHello.toFixed(2)}`);
console.log(`bare oidc-provider / hello  = ${(bare.rps / hello.rps).toFixed(2)}`);
console.log(`per round, assent / bare: ${assentRuns.map((a, i) => (a.rps / bareRuns[i]!.rps).toFixed(2)).join(', ')}`);
if (assent.non2xx > 0 || bare.non2xx > 0) {
  console.error('some token requests failed: the numbers above are not comparable');
  process.exit(1);
}
process.exit(vsBare >= TARGET_RATIO ? 0 : 3);
