import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryDecisionClaims } from '../../src/storage/memory/decision-claims.ts';
import { RedisDecisionClaims } from '../../src/storage/redis/decision-claims.ts';
import { requireEnv } from '../support/assent.ts';
import { decisionClaimsContract } from './decision-claims.contract.ts';

const client = new Redis(requireEnv('REDIS_URL'));
const prefix = `test:decision-claims:${randomUUID()}:`;
after(async () => {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length) await client.del(...keys);
  await client.quit();
});

decisionClaimsContract('memory', () => new MemoryDecisionClaims());
decisionClaimsContract('redis', () => new RedisDecisionClaims(client, `${prefix}${randomUUID()}:`));
