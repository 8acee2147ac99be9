/**
 * Idempotency keys (Open Finance Brasil `x-idempotency-key`): the first request with a key decides its
 * response; a retry with the same key and the same content gets that response again, one with other
 * content is refused (422 ERRO_IDEMPOTENCIA, the dialect's call). Implementations:
 * storage/redis/idempotency-store.ts (shared by every instance) and storage/memory/idempotency-store.ts
 * (one process: demo mode and tests); both pass test/contract/idempotency-store.contract.ts.
 *
 * A key moves  (absent) ──begin──► pending ──complete──► done      (kept for `ttlSeconds`)
 *                                     └──────abandon────► (absent)  (the request failed: a retry runs again)
 * `begin` is atomic: of concurrent requests with one key exactly one gets `started`; the others see
 * `pending` (and may wait for it: see awaitIdempotent in this module) or `mismatch`. A pending claim
 * lapses after `pendingSeconds`, so a crashed instance does not block a key for the whole window.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** The response to replay: status, the body exactly as sent, and its content type. */
export interface StoredResponse {
  status: number;
  body: string;
  contentType: string;
}

export type IdempotencyBegin =
  | { outcome: 'started' }
  | { outcome: 'pending' }
  | { outcome: 'mismatch' }
  | { outcome: 'replay'; response: StoredResponse };

export interface IdempotencyStore {
  /**
   * Claims `key` for a request whose content hashes to `fingerprint`. `key` should already be scoped by
   * the caller (client id, operation), so that two TPPs never share a key.
   */
  begin(key: string, fingerprint: string, options: { pendingSeconds: number }): Promise<IdempotencyBegin>;
  /** Stores the response of the request that `started`, kept for `ttlSeconds`. */
  complete(key: string, fingerprint: string, response: StoredResponse, ttlSeconds: number): Promise<void>;
  /** Releases a pending claim (only the caller's: same fingerprint) so a retry runs the request again. */
  abandon(key: string, fingerprint: string): Promise<void>;
}

/**
 * `begin`, waiting (polling, up to `waitMs`) while another request holds the key: what the key says once
 * it settles, or `pending` if it did not settle in time.
 */
export async function beginIdempotent(
  store: IdempotencyStore,
  key: string,
  fingerprint: string,
  options: { pendingSeconds: number; waitMs: number; pollMs?: number },
): Promise<IdempotencyBegin> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const result = await store.begin(key, fingerprint, options);
    if (result.outcome !== 'pending' || Date.now() >= deadline) return result;
    await sleep(options.pollMs ?? 25);
  }
}

/** Open Finance Brasil keeps idempotency keys for 24 hours. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600;

/**
 * The fingerprint of a request's content: sha256 of its canonical JSON (object keys sorted), so the
 * same content in another key order, or in a message with another `jti`/`iat`, is the same request.
 * For a signed message, pass its `data` claim.
 */
export function fingerprintOf(content: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(content)) ?? 'undefined').digest('base64url');
}
