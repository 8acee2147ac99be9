/**
 * Bench baseline: a bare oidc-provider with the same token settings as Assent (client_credentials,
 * opaque tokens for the same resource, the same Redis adapter), no Koa app around it.
 */
import { createServer } from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import { Redis } from 'ioredis';
import { redisAdapterClass } from '../../src/storage/redis/oidc-adapter.ts';
import { BENCH_CLIENT } from './client.ts';

const port = Number(process.env.BENCH_PORT);
const issuer = `http://127.0.0.1:${port}`;
const redis = new Redis(process.env.REDIS_URL!);
const resource = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  adapter: redisAdapterClass(redis, { prefix: `bench-bare-${port}:` }),
  clients: [BENCH_CLIENT],
  scopes: ['accountinformation'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      getResourceServerInfo: () => ({ scope: 'accountinformation', audience: resource, accessTokenTTL: 600, accessTokenFormat: 'opaque' }),
    },
  },
  ttl: { ClientCredentials: 600 },
} as unknown as Configuration);
const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY ${issuer}/token\n`));
process.on('SIGTERM', () => server.close(() => void redis.quit().then(() => process.exit(0))));
