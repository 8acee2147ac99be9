/**
 * The stores that live in Redis (src/stores.ts builds them when `redis.url` is set). A module of its own,
 * imported only then, so that the embedded stores never load the ioredis driver.
 */
import { Redis } from 'ioredis';
import type { AssentConfig } from '../../../config/schema.ts';
import type { Logger } from '../../log.ts';
import type { FieldProtector } from '../../crypto/index.ts';
import { failFastAdapterClass } from '../unavailable.ts';
import { withTimeout } from '../with-timeout.ts';
import { RedisUsageCounter } from './usage-counter.ts';
import { RedisConsentFence } from './consent-fence.ts';
import { RedisDecisionClaims } from './decision-claims.ts';
import { RedisRateLimiter } from './rate-limiter.ts';
import { RedisLoginAttempts } from './login-attempts.ts';
import { RedisReplayStore } from './replay-store.ts';
import { RedisIdempotencyStore } from './idempotency-store.ts';
import { redisAdapterClass } from './oidc-adapter.ts';
import { redisProtection } from './protection.ts';

/**
 * Connects (failing with `connectError` when Redis cannot be reached) and builds every Redis store.
 * `idempotencyProtector` is asked for only once connected: it is the one shared with MongoDB's data.
 */
export async function openRedisStores(config: AssentConfig, log: Logger, idempotencyProtector: () => FieldProtector, connectError: (err: Error) => Error) {
  const redis = new Redis(config.redis.url!, {
    // fail fast while Redis is away instead of queueing requests forever
    maxRetriesPerRequest: 2,
    connectTimeout: 2_000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // a hung Redis (alive but not answering) must not hold a request: each command fails after this
    commandTimeout: config.redis.commandTimeoutMs,
  });
  redis.on('error', (err) => log.warn({ store: 'redis', error: err.message }, 'redis error'));
  try {
    await redis.connect().catch((err: Error) => {
      throw connectError(err);
    });
    const prefix = config.redis.prefix;
    // token values and personal data never in clear at rest: keys hashed, payloads sealed
    const { protector } = redisProtection(config);
    return {
      redis,
      oidcAdapter: failFastAdapterClass(redisAdapterClass(redis, { prefix, protector })),
      usage: new RedisUsageCounter(redis, { prefix }),
      fence: new RedisConsentFence(redis, { prefix }),
      decisionClaims: new RedisDecisionClaims(redis, prefix),
      rateLimiter: new RedisRateLimiter(redis, { prefix: `${prefix}rate:` }),
      replay: new RedisReplayStore(redis, { prefix: `${prefix}replay:` }),
      idempotency: new RedisIdempotencyStore(redis, { prefix: `${prefix}idem:`, protector: idempotencyProtector() }),
      loginAttempts: new RedisLoginAttempts(redis, { prefix: `${prefix}login:` }),
    };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

/**
 * QUIT when Redis answers, then always disconnect: a client whose Redis is away would otherwise keep
 * reconnecting (and keep the process alive) after close.
 */
export async function closeRedis(redis: Redis | undefined, timeoutMs: number): Promise<void> {
  if (!redis) return;
  if (redis.status === 'ready') await withTimeout(redis.quit(), timeoutMs).catch(() => undefined);
  redis.disconnect(false);
}
