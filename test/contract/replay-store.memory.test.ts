import { MemoryReplayStore } from '../../src/storage/memory/replay-store.ts';
import { replayStoreContract } from './replay-store.contract.ts';

replayStoreContract('memory', () => new MemoryReplayStore());
