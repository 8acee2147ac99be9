/**
 * Bench targets for bench/flow.ts, one per process: `assent` (the whole app) or `bare` (the very
 * oidc-provider configuration Assent runs, served by node:http, with a trivial interaction that logs the
 * customer in and approves at once). Store: `memory` (the embedded adapters) or `redis` (Redis, plus
 * MongoDB-wire for Assent's consents when MONGODB_URI is set). Prints `READY <origin> <json>`.
 *
 * An `assent` target also reads commands on stdin: `SEED <count> <deadline epoch ms>` stores that many
 * more consents of other TPPs (./seed-consents.ts) and answers `SEEDED <stored> <ms>` on stdout.
 *
 *   node bench/servers/flow-targets.ts assent|bare memory|redis
 */
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { AssentConfigInput } from '../../config/schema.ts';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startAssent } from '../../src/server.ts';
import { createProvider } from '../../src/oidc/provider.ts';
import { generateCookieKeys, generateEphemeralJwks } from '../../src/oidc/keys.ts';
import { memoryAdapterClass } from '../../src/storage/memory/oidc-adapter.ts';
import { redisAdapterClass } from '../../src/storage/redis/oidc-adapter.ts';
import { freePort } from '../../test/support/services.ts';
import { FLOW_CLIENT } from './client.ts';
import { generateKeyRingConfig } from '../../src/crypto/key-ring.ts';
import { dataProtection } from '../../src/storage/mongo/protection.ts';
import { seedConsents } from './seed-consents.ts';


const [kind, store] = process.argv.slice(2);
if ((kind !== 'assent' && kind !== 'bare') || (store !== 'memory' && store !== 'redis')) {
  console.error('usage: flow-targets.ts assent|bare memory|redis');
  process.exit(2);
}
const port = await freePort();
const prefix = `bench-flow-${kind}-${randomUUID()}:`;
const overrides: AssentConfigInput = {
  port,
  host: '127.0.0.1',
  issuer: `http://127.0.0.1:${port}/connect`,
  clients: [FLOW_CLIENT],
  logLevel: 'warn',
  profile: 'demo',
  // the benchmark is one TPP at full speed: no creation limit, no eviction during a run
  consent: { sweepIntervalSeconds: 0, createRateLimit: { limit: 10_000_000, windowSeconds: 60 } },
  embedded: { maxConsents: 10_000_000 },
  // a key ring of this process's own, so the seeded consents are encrypted with the keys the instance uses
  keys: { dataKeys: JSON.stringify(generateKeyRingConfig('bench')) },
  ...(store === 'redis' ? { redis: { url: process.env.REDIS_URL!, prefix } } : {}),
  ...(store === 'redis' && process.env.MONGODB_URI ? { mongodb: { uri: process.env.MONGODB_URI, database: `bench_flow_${port}` } } : {}),
};
const config = loadConfig({ env: {}, overrides });

if (kind === 'assent') {
  const assent = await startAssent(config, createLogger('warn'));
  process.stdout.write(`READY ${assent.url} ${JSON.stringify({ issuer: config.issuer })}\n`);
  const seedTarget = {
    repository: assent.stores.consents,
    ...(assent.stores.db ? { mongo: { db: assent.stores.db, protector: dataProtection(config).protector } } : {}),
  };
  let commands = '';
  process.stdin.on('data', (chunk: Buffer) => {
    commands += chunk.toString();
    let newline: number;
    while ((newline = commands.indexOf('\n')) >= 0) {
      const [verb, count, deadline] = commands.slice(0, newline).trim().split(' ');
      commands = commands.slice(newline + 1);
      if (verb !== 'SEED') continue;
      const t0 = performance.now();
      void seedConsents(seedTarget, Number(count), Number(deadline)).then(
        (stored) => process.stdout.write(`SEEDED ${stored} ${Math.round(performance.now() - t0)}\n`),
        (err: Error) => process.stdout.write(`SEEDED 0 ${Math.round(performance.now() - t0)} ${err.message.replaceAll('\n', ' ')}\n`),
      );
    }
  });
  process.on('SIGTERM', () => {
    const db = assent.stores.db;
    void (db ? db.dropDatabase().catch(() => undefined) : Promise.resolve()).then(() => assent.close()).then(() => process.exit(0));
  });
} else {
  // served at the root: the issuer has no path, interactions live at /interaction/<uid>
  config.issuer = `http://127.0.0.1:${port}`;
  const redis = store === 'redis' ? new Redis(process.env.REDIS_URL!) : undefined;
  const provider = createProvider({
    config,
    adapter: redis ? redisAdapterClass(redis, { prefix }) : memoryAdapterClass(),
    jwks: generateEphemeralJwks(),
    cookieKeys: generateCookieKeys(),
    log: createLogger('warn'),
  });
  const callback = provider.callback();
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    // the trivial interaction: log in as one customer, then grant what was asked
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId: 'psu-bench' } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    })().catch((err: Error) => {
      res.statusCode = 500;
      res.end(err.message);
    });
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${port} ${JSON.stringify({ issuer: config.issuer })}\n`));
  process.on('SIGTERM', () => server.close(() => void (redis?.quit() ?? Promise.resolve()).then(() => process.exit(0))));
}
