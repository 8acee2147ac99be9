/**
 * Builds the stores the configuration asks for: MongoDB (consents) and Redis (oidc-provider adapter), or,
 * when a URL is absent, the embedded in-memory implementations of the same interfaces (demo mode only;
 * production refuses earlier, in config/load.ts). The Redis and MongoDB stores are imported only when
 * configured (storage/redis/stores.ts, storage/mongo/stores.ts): the embedded stores never load the
 * drivers (~175 modules, ~10 MB of resident memory).
 */
import { QUERY_INDEXES } from './dialects/backoffice/query-core.ts';
import type { Db, MongoClient } from 'mongodb';
import type { Redis } from 'ioredis';
import type { AssentConfig } from '../config/schema.ts';
import type { ConsentRepository } from './consent/repository.ts';
import type { Logger } from './log.ts';
import type { OidcAdapterClass } from './storage/oidc-adapter.ts';
import type { UsageCounter } from './consent/usage.ts';
import { MemoryUsageCounter } from './storage/memory/usage-counter.ts';
import type { ConsentFence } from './storage/consent-fence.ts';
import { MemoryConsentFence } from './storage/memory/consent-fence.ts';
import type { DecisionClaims } from './storage/decision-claims.ts';
import { MemoryDecisionClaims } from './storage/memory/decision-claims.ts';
import type { RateLimiter } from './storage/rate-limiter.ts';
import { MemoryRateLimiter } from './storage/memory/rate-limiter.ts';
import type { ReplayStore } from './storage/replay-store.ts';
import type { LoginAttempts } from './storage/login-attempts.ts';
import { MemoryLoginAttempts } from './storage/memory/login-attempts.ts';
import { MemoryReplayStore } from './storage/memory/replay-store.ts';
import { memoryAdapterClass } from './storage/memory/oidc-adapter.ts';
import { MemoryConsentRepository } from './storage/memory/consent-repository.ts';
import { EPHEMERAL_KEYS_WARNING, dataProtection, type DataProtection } from './storage/mongo/protection.ts';
import type { IdempotencyStore } from './storage/idempotency-store.ts';
import { MemoryIdempotencyStore } from './storage/memory/idempotency-store.ts';
import { withTimeout } from './storage/with-timeout.ts';
import type { PaymentRepository } from './consent/payment-repository.ts';
import { MemoryPaymentRepository } from './storage/memory/payment-repository.ts';

/** Where a store lives, without credentials or options: `redis://host:port`, `mongodb://h1:p1,h2:p2`. */
export function storeLocation(url: string): string {
  const match = /^([a-z+]+:\/\/)(?:[^@/?#]*@)?([^/?#]*)/i.exec(url);
  return match ? `${match[1]}${match[2]}` : '(unparsable URL)';
}

/** A store that could not be reached at startup: says which and where (never the credentials). */
export class StoreStartupError extends Error {
  override name = 'StoreStartupError';
  constructor(store: 'Redis' | 'MongoDB', url: string, cause: Error) {
    super(`${store} at ${storeLocation(url)} is unreachable: ${cause.message}`, { cause });
  }
}

export type StoreState = 'up' | 'down' | 'embedded';

export interface Stores {
  oidcAdapter: OidcAdapterClass;
  /** one decision per interaction, shared by every instance */
  decisionClaims: DecisionClaims;
  consents: ConsentRepository;
  /** consent usage counters (frequencyPerDay), shared by every instance on the same Redis */
  usage: UsageCounter;
  /** request rate limits (consent creation), shared by every instance on the same Redis */
  rateLimiter: RateLimiter;
  /** single-use ids (DPoP proof and client assertion jti), shared by every instance on the same Redis */
  replay: ReplayStore;
  /** `x-idempotency-key` decisions (Open Finance Brasil), shared by every instance on the same Redis */
  idempotency: IdempotencyStore;
  /** failed logins per account and address (login throttling), shared by every instance on the same Redis */
  loginAttempts: LoginAttempts;
  /** which revision of each consent is current (for the consents validation keeps in memory), shared like the counters */
  fence: ConsentFence;
  /** PIX payments (Open Finance Brasil), beside the consents */
  payments: PaymentRepository;
  /** the MongoDB database, when one is configured */
  db?: Db;
  redis?: Redis;
  /** the sweeper's clean-up of leftover write claims, when the consents are in MongoDB */
  cleanUpClaims?: () => Promise<number>;
  /** reachability of each store, answered within `timeoutMs` */
  health(timeoutMs?: number): Promise<{ redis: StoreState; mongodb: StoreState }>;
  close(): Promise<void>;
}


export async function openStores(config: AssentConfig, log: Logger): Promise<Stores> {
  const embedded: string[] = [];
  let redis: Redis | undefined;
  let mongo: MongoClient | undefined;
  let db: Db | undefined;
  let consents: ConsentRepository;
  let oidcAdapter: OidcAdapterClass;
  let usage: UsageCounter;
  let fence: ConsentFence;
  let decisionClaims: DecisionClaims;
  let rateLimiter: RateLimiter;
  let replay: ReplayStore;
  let idempotency: IdempotencyStore;
  let payments: PaymentRepository;
  // built once, for whichever store keeps personal data (idempotent responses in Redis, consents in MongoDB)
  let protection: DataProtection | undefined;
  const protect = (): DataProtection => {
    if (!protection) {
      protection = dataProtection(config);
      if (protection.ephemeral) log.warn({ store: 'mongodb' }, EPHEMERAL_KEYS_WARNING);
    }
    return protection;
  };
  let loginAttempts: LoginAttempts;

  let closeRedis: ((redis: Redis | undefined, timeoutMs: number) => Promise<void>) | undefined;
  let cleanUpClaims: (() => Promise<number>) | undefined;

  try {
    if (config.redis.url) {
      const redisStores = await import('./storage/redis/stores.ts');
      closeRedis = redisStores.closeRedis;
      ({ redis, oidcAdapter, usage, fence, decisionClaims, rateLimiter, replay, idempotency, loginAttempts } = await redisStores.openRedisStores(
        config,
        log,
        () => protect().protector,
        (err) => new StoreStartupError('Redis', config.redis.url!, err),
      ));
    } else {
      embedded.push('Redis (sessions, interactions, codes, tokens, usage counters, rate limits, replay protection, login throttling)');
      oidcAdapter = memoryAdapterClass();
      const memoryUsage = new MemoryUsageCounter();
      usage = memoryUsage;
      fence = new MemoryConsentFence(memoryUsage);
      decisionClaims = new MemoryDecisionClaims();
      rateLimiter = new MemoryRateLimiter();
      replay = new MemoryReplayStore();
      idempotency = new MemoryIdempotencyStore();
      loginAttempts = new MemoryLoginAttempts();
    }

    if (config.mongodb.uri) {
      // before connecting: a bad key ring stops startup with a message naming keys.dataKeys
      const { protector } = protect();
      const { openMongoStores } = await import('./storage/mongo/stores.ts');
      const mongoStores = await openMongoStores(config, protector, QUERY_INDEXES, (err) => new StoreStartupError('MongoDB', config.mongodb.uri!, err));
      ({ mongo, db, consents, payments } = mongoStores);
      cleanUpClaims = () => mongoStores.consents.cleanUpClaims();
    } else {
      embedded.push('MongoDB (consents and their history)');
      consents = new MemoryConsentRepository({
        endedRetentionMs: config.embedded.endedConsentRetentionSeconds * 1000,
        maxConsents: config.embedded.maxConsents,
        onCapReached: ({ maxConsents, dropped }) =>
          log.warn(
            { store: 'memory', maxConsents, dropped },
            'embedded consent store is full (embedded.maxConsents): the oldest consents are being dropped',
          ),
      });
      payments = new MemoryPaymentRepository();
    }
  } catch (err) {
    redis?.disconnect();
    await mongo?.close();
    throw err;
  }

  if (embedded.length > 0) {
    log.warn(
      { embedded },
      `EMBEDDED IN-MEMORY STORES in use for ${embedded.join(' and ')}: everything is lost on restart. ` +
        'Set MONGODB_URI and REDIS_URL for real storage (production refuses to start without them).',
    );
  }

  return {
    oidcAdapter,
    decisionClaims,
    consents,
    usage,
    rateLimiter,
    replay,
    idempotency,
    loginAttempts,
    fence,
    payments,
    ...(db ? { db } : {}),
    ...(redis ? { redis } : {}),
    ...(cleanUpClaims ? { cleanUpClaims } : {}),
    async health(timeoutMs = 1_500) {
      const redisState = async (): Promise<StoreState> => {
        if (!redis) return 'embedded';
        if (redis.status !== 'ready') return 'down';
        return withTimeout(redis.ping(), timeoutMs).then(
          () => 'up' as const,
          () => 'down' as const,
        );
      };
      const mongoState = async (): Promise<StoreState> => {
        if (!db) return 'embedded';
        return withTimeout(db.command({ ping: 1 }), timeoutMs).then(
          () => 'up' as const,
          () => 'down' as const,
        );
      };
      const [r, m] = await Promise.all([redisState(), mongoState()]);
      return { redis: r, mongodb: m };
    },
    async close() {
      await Promise.allSettled([closeRedis?.(redis, config.redis.commandTimeoutMs), mongo?.close()]);
    },
  };
}
