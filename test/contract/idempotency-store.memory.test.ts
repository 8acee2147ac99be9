import { MemoryIdempotencyStore } from '../../src/storage/memory/idempotency-store.ts';
import { idempotencyStoreContract } from './idempotency-store.contract.ts';

idempotencyStoreContract('memory', () => new MemoryIdempotencyStore());
