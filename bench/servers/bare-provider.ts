/**
 * Bench baseline: the same oidc-provider configuration Assent runs (createProvider: same features,
 * profile, clients, TTLs and Redis adapter), served bare by node:http — no Koa app around it, no request
 * context, logging, health or routers. The ratio Assent / this is what Assent's app layer costs.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../src/log.ts';
import { createProvider } from '../../src/oidc/provider.ts';
import { generateCookieKeys, generateEphemeralJwks } from '../../src/oidc/keys.ts';
import { redisAdapterClass } from '../../src/storage/redis/oidc-adapter.ts';
import { BENCH_CLIENT } from './client.ts';

const port = Number(process.env.BENCH_PORT);
const config = loadConfig({
  env: {},
  overrides: { port, issuer: `http://127.0.0.1:${port}/connect`, clients: [BENCH_CLIENT], logLevel: 'warn' },
});
// served at the root: the issuer has no path here
config.issuer = `http://127.0.0.1:${port}`;
const redis = new Redis(process.env.REDIS_URL!);
const provider = createProvider({
  config,
  adapter: redisAdapterClass(redis, { prefix: `bench-bare-${port}:` }),
  jwks: generateEphemeralJwks(),
  cookieKeys: generateCookieKeys(),
  log: createLogger('warn'),
});
const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY ${config.issuer}/token\n`));
process.on('SIGTERM', () => server.close(() => void redis.quit().then(() => process.exit(0))));
