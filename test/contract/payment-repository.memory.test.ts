import { MemoryPaymentRepository } from '../../src/storage/memory/payment-repository.ts';
import { paymentRepositoryContract } from './payment-repository.contract.ts';

paymentRepositoryContract('memory', () => new MemoryPaymentRepository());
