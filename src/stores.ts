/**
 * Builds the stores the configuration asks for: MongoDB (consents) and Redis (oidc-provider adapter), or,
 * when a URL is absent, the embedded in-memory implementations of the same interfaces (demo mode only;
 * production refuses earlier, in config/load.ts).
 */
import { QUERY_INDEXES } from './dialects/backoffice/query-core.ts';
import { MongoClient, type Db } from 'mongodb';
import { Redis } from 'ioredis';
import type { AssentConfig } from '../config/schema.ts';
import type { ConsentRepository } from './consent/repository.ts';
import type { Logger } from './log.ts';
import type { OidcAdapterClass } from './storage/oidc-adapter.ts';
import type { UsageCounter } from './consent/usage.ts';
import { MemoryUsageCounter } from './storage/memory/usage-counter.ts';
import { RedisUsageCounter } from './storage/redis/usage-counter.ts';
import type { ConsentFence } from './storage/consent-fence.ts';
import { MemoryConsentFence } from './storage/memory/consent-fence.ts';
import { RedisConsentFence } from './storage/redis/consent-fence.ts';
import type { DecisionClaims } from './storage/decision-claims.ts';
import { MemoryDecisionClaims } from './storage/memory/decision-claims.ts';
import { RedisDecisionClaims } from './storage/redis/decision-claims.ts';
import type { RateLimiter } from './storage/rate-limiter.ts';
import { MemoryRateLimiter } from './storage/memory/rate-limiter.ts';
import { RedisRateLimiter } from './storage/redis/rate-limiter.ts';
import type { ReplayStore } from './storage/replay-store.ts';
import type { LoginAttempts } from './storage/login-attempts.ts';
import { MemoryLoginAttempts } from './storage/memory/login-attempts.ts';
import { RedisLoginAttempts } from './storage/redis/login-attempts.ts';
import { MemoryReplayStore } from './storage/memory/replay-store.ts';
import { RedisReplayStore } from './storage/redis/replay-store.ts';
import { memoryAdapterClass } from './storage/memory/oidc-adapter.ts';
import { redisAdapterClass } from './storage/redis/oidc-adapter.ts';
import { failFastAdapterClass } from './storage/unavailable.ts';
import { redisProtection } from './storage/redis/protection.ts';
import { MemoryConsentRepository } from './storage/memory/consent-repository.ts';
import { MongoConsentRepository } from './storage/mongo/consent-repository.ts';
import { EPHEMERAL_KEYS_WARNING, dataProtection, type DataProtection } from './storage/mongo/protection.ts';
import type { IdempotencyStore } from './storage/idempotency-store.ts';
import { MemoryIdempotencyStore } from './storage/memory/idempotency-store.ts';
import { RedisIdempotencyStore } from './storage/redis/idempotency-store.ts';
import { withTimeout } from './storage/with-timeout.ts';
import type { PaymentRepository } from './consent/payment-repository.ts';
import { MemoryPaymentRepository } from './storage/memory/payment-repository.ts';
import { MongoPaymentRepository } from './storage/mongo/payment-repository.ts';

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
  /** reachability of each store, answered within `timeoutMs` */
  health(timeoutMs?: number): Promise<{ redis: StoreState; mongodb: StoreState }>;
  close(): Promise<void>;
}


/**
 * QUIT when Redis answers, then always disconnect: a client whose Redis is away would otherwise keep
 * reconnecting (and keep the process alive) after close.
 */
async function closeRedis(redis: Redis | undefined, timeoutMs: number): Promise<void> {
  if (!redis) return;
  if (redis.status === 'ready') await withTimeout(redis.quit(), timeoutMs).catch(() => undefined);
  redis.disconnect(false);
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

  try {
    if (config.redis.url) {
      redis = new Redis(config.redis.url, {
        // fail fast while Redis is away instead of queueing requests forever
        maxRetriesPerRequest: 2,
        connectTimeout: 2_000,
        lazyConnect: true,
        retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
        // a hung Redis (alive but not answering) must not hold a request: each command fails after this
        commandTimeout: config.redis.commandTimeoutMs,
      });
      redis.on('error', (err) => log.warn({ store: 'redis', error: err.message }, 'redis error'));
      await redis.connect().catch((err: Error) => {
        throw new StoreStartupError('Redis', config.redis.url!, err);
      });
      // token values and personal data never in clear at rest: keys hashed, payloads sealed
      const { protector } = redisProtection(config);
      oidcAdapter = failFastAdapterClass(redisAdapterClass(redis, { prefix: config.redis.prefix, protector }));
      usage = new RedisUsageCounter(redis, { prefix: config.redis.prefix });
      fence = new RedisConsentFence(redis, { prefix: config.redis.prefix });
      decisionClaims = new RedisDecisionClaims(redis, config.redis.prefix);
      rateLimiter = new RedisRateLimiter(redis, { prefix: `${config.redis.prefix}rate:` });
      replay = new RedisReplayStore(redis, { prefix: `${config.redis.prefix}replay:` });
      idempotency = new RedisIdempotencyStore(redis, { prefix: `${config.redis.prefix}idem:`, protector: protect().protector });
      loginAttempts = new RedisLoginAttempts(redis, { prefix: `${config.redis.prefix}login:` });
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
      mongo = new MongoClient(config.mongodb.uri, { serverSelectionTimeoutMS: 2_000, appName: 'assent' });
      await mongo.connect().catch((err: Error) => {
        throw new StoreStartupError('MongoDB', config.mongodb.uri!, err);
      });
      db = mongo.db(config.mongodb.database);
      const repository = new MongoConsentRepository(db, { protector });
      await repository.ensureIndexes(QUERY_INDEXES);
      consents = repository;
      const paymentRepository = new MongoPaymentRepository(db, { protector });
      await paymentRepository.ensureIndexes();
      payments = paymentRepository;
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
      await Promise.allSettled([closeRedis(redis, config.redis.commandTimeoutMs), mongo?.close()]);
    },
  };
}
