/**
 * A store that did not answer (timed out, refused, dropped the connection) is StoreUnavailable: a 503
 * that says so, never a 500 and never a hang. It is shaped like an exposed oidc-provider error
 * (`statusCode`, `expose`, the OAuth code as its message), so oidc-provider's own endpoints answer
 * `503 {"error":"temporarily_unavailable"}`, and the customer pages render their "try again" page.
 * A Redis *reply* error (a bug, a wrong command) is not an outage and stays what it is; it is told by its
 * name (ioredis's ReplyError and its subclasses are all named so), not `instanceof`, so that the embedded
 * stores do not load ioredis (test/storage/driver-errors.test.ts).
 */
import type { AdapterPayload, OidcAdapter, OidcAdapterClass } from './oidc-adapter.ts';

export type StoreName = 'redis' | 'mongodb';

export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = true;
  readonly store: StoreName;
  readonly error_description: string;

  constructor(store: StoreName, cause?: unknown) {
    super('temporarily_unavailable', { cause });
    this.store = store;
    this.error_description = 'a store did not answer in time; try again shortly';
  }
}

/** Whether `err` means the Redis client could not get an answer (as opposed to Redis answering an error). */
export function isRedisOutage(err: unknown): boolean {
  if (!(err instanceof Error) || err.name === 'ReplyError') return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (/^Command timed out|Connection is closed|Stream isn't writeable|enableOfflineQueue/i.test(err.message)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE';
}

async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw isRedisOutage(err) ? new StoreUnavailable('redis', err) : err;
  }
}

/** `Inner` with every Redis outage turned into StoreUnavailable (the contract is otherwise unchanged). */
export function failFastAdapterClass(Inner: OidcAdapterClass): OidcAdapterClass {
  return class FailFastAdapter implements OidcAdapter {
    readonly #inner: OidcAdapter;

    constructor(modelName: string) {
      this.#inner = new Inner(modelName);
    }

    upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      return guard(this.#inner.upsert(id, payload, expiresIn));
    }
    find(id: string) {
      return guard(this.#inner.find(id));
    }
    findByUid(uid: string) {
      return guard(this.#inner.findByUid(uid));
    }
    findByUserCode(userCode: string) {
      return guard(this.#inner.findByUserCode(userCode));
    }
    consume(id: string) {
      return guard(this.#inner.consume(id));
    }
    destroy(id: string) {
      return guard(this.#inner.destroy(id));
    }
    revokeByGrantId(grantId: string) {
      return guard(this.#inner.revokeByGrantId(grantId));
    }
  };
}
