import { MemoryLoginAttempts } from '../../src/storage/memory/login-attempts.ts';
import { loginAttemptsContract } from './login-attempts.contract.ts';

loginAttemptsContract('memory', () => new MemoryLoginAttempts());
