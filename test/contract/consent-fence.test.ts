import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryConsentFence } from '../../src/storage/memory/consent-fence.ts';
import { MemoryUsageCounter } from '../../src/storage/memory/usage-counter.ts';
import { RedisConsentFence } from '../../src/storage/redis/consent-fence.ts';
import { RedisUsageCounter } from '../../src/storage/redis/usage-counter.ts';
import { requireEnv } from '../support/assent.ts';
import { consentFenceContract } from './consent-fence.contract.ts';

const client = new Redis(requireEnv('REDIS_URL'));
const prefix = `test:consent-fence:${randomUUID()}:`;
after(async () => {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length) await client.del(...keys);
  await client.quit();
});

consentFenceContract('memory', async () => {
  const usage = new MemoryUsageCounter();
  return { fence: new MemoryConsentFence(usage), usage, close: async () => undefined };
});
consentFenceContract('redis', async () => {
  const p = `${prefix}${randomUUID()}:`;
  return { fence: new RedisConsentFence(client, { prefix: p }), usage: new RedisUsageCounter(client, { prefix: p }), close: async () => undefined };
});
