import { MemoryConsentRepository } from '../../src/storage/memory/consent-repository.ts';
import { consentRepositoryContract } from './consent-repository.contract.ts';

consentRepositoryContract('memory', async () => ({ repo: new MemoryConsentRepository(), cleanup: async () => {} }));
