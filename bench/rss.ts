/**
 * Memory of the process `npm start` runs (`node src/main.ts`) on the embedded stores: RSS after startup
 * at rest, then while full Berlin Group flows run (client_credentials → create → authorise → login →
 * approve → code exchange → introspection), sampled every BENCH_SAMPLE_FLOWS flows, for BENCH_FLOWS flows
 * or BENCH_SECONDS seconds, whichever ends first. BENCH_SHORT_TTL=1 runs it with every OAuth TTL at 60 s,
 * ended consents kept 60 s and at most 1,000 consents, so eviction (the memory adapter's sweep every 60 s,
 * the consent store's cap and retention) happens within the run.
 *
 *   node bench/rss.ts
 *   BENCH_FLOWS=3000 BENCH_SHORT_TTL=1 node bench/rss.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestClient, TestServer } from '../test/support/assent.ts';
import { decideWithoutBrowser, exchangeCode, introspect, startFlow } from '../test/support/tpp.ts';
import { freePort } from '../test/support/services.ts';
import { FLOW_CLIENT } from './servers/client.ts';

const FLOWS = Number(process.env.BENCH_FLOWS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 240);
const SAMPLE = Number(process.env.BENCH_SAMPLE_FLOWS ?? 250);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const SHORT_TTL = process.env.BENCH_SHORT_TTL === '1';

const dir = mkdtempSync(join(tmpdir(), 'assent-rss-'));
writeFileSync(join(dir, 'clients.json'), JSON.stringify([FLOW_CLIENT]));
const config: Record<string, unknown> = { consent: { createRateLimit: { limit: 10_000_000, windowSeconds: 60 } } };
if (SHORT_TTL) {
  config.ttl = { accessToken: 60, clientCredentials: 60, authorizationCode: 60, refreshToken: 60, interaction: 60, session: 60, grant: 60 };
  config.embedded = { endedConsentRetentionSeconds: 60, maxConsents: 1_000 };
}
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
const port = await freePort();
const env: Record<string, string> = { PATH: process.env.PATH!, PORT: String(port), HOST: '127.0.0.1', ISSUER: `http://127.0.0.1:${port}/connect`, ASSENT_CLIENTS_FILE: join(dir, 'clients.json'), ASSENT_CONFIG: join(dir, 'config.json'), LOG_LEVEL: 'warn' };
// what `npm start` runs: the sources with Node's compile cache in node_modules/.cache (package.json)
env.NODE_COMPILE_CACHE = process.env.NODE_COMPILE_CACHE ?? 'node_modules/.cache/node-compile';
const child = spawn(process.execPath, ['src/main.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const rss = () => Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024);

const server = { url: `http://127.0.0.1:${port}`, issuer: `http://127.0.0.1:${port}/connect` } as TestServer;
for (let i = 0; ; i++) {
  if (await fetch(`${server.issuer}/.well-known/openid-configuration`).then((r) => r.ok, () => false)) break;
  if (i > 300) throw new Error('npm start did not come up');
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
console.log(`embedded stores, ${SHORT_TTL ? 'OAuth TTLs 60 s, ended consents kept 60 s, at most 1,000 consents' : 'default configuration'}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`idle RSS ${IDLE_SECONDS} s after startup (one discovery request): ${rss()} MB`);

const tpp: TestClient = { clientId: FLOW_CLIENT.client_id, secret: FLOW_CLIENT.client_secret!, redirectUri: FLOW_CLIENT.redirect_uris[0]!, privateJwk: {}, publicJwk: {}, config: FLOW_CLIENT };
let done = 0;
let failed = 0;
let nextSample = SAMPLE;
const started = performance.now();
const until = started + SECONDS * 1000;
console.log('| flows | seconds | RSS MB |');
console.log('|---:|---:|---:|');
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (done + failed < FLOWS && performance.now() < until) {
      const ok = await (async () => {
        const flow = await startFlow(server, tpp);
        const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code')!;
        const tokens = await exchangeCode(server, tpp, code, flow.verifier);
        const info = await introspect(server, tpp, tokens.json.access_token as string);
        return info.active === true && info.consent_id === flow.consentId;
      })().catch(() => false);
      if (ok) done++;
      else failed++;
      if (done >= nextSample) {
        nextSample += SAMPLE;
        console.log(`| ${done} | ${Math.round((performance.now() - started) / 1000)} | ${rss()} |`);
      }
    }
  }),
);
console.log(`${done} flows, ${failed} failed, in ${Math.round((performance.now() - started) / 1000)} s; RSS at the end ${rss()} MB; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
child.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
process.exit(failed > 0 ? 1 : 0);
