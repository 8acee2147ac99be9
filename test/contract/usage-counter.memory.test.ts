import { describe } from 'node:test';
import { MemoryUsageCounter } from '../../src/storage/memory/usage-counter.ts';
import { usageCounterContract } from './usage-counter.contract.ts';

describe('MemoryUsageCounter', () => usageCounterContract(async () => ({ counter: new MemoryUsageCounter(), close: async () => undefined })));
