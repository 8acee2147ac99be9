import { describe } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisUsageCounter } from '../../src/storage/redis/usage-counter.ts';
import { requireEnv } from '../support/assent.ts';
import { usageCounterContract } from './usage-counter.contract.ts';

describe('RedisUsageCounter', () =>
  usageCounterContract(async () => {
    const redis = new Redis(requireEnv('REDIS_URL'));
    return {
      counter: new RedisUsageCounter(redis, { prefix: `assent-test:${randomUUID()}:` }),
      close: async () => void redis.disconnect(),
    };
  }));
