/**
 * How many consents a TPP may create per window, for every dialect's create endpoint (Berlin Group
 * POST /consents, Open Finance Brasil POST /consents): config `consent.createRateLimit`, or the client's own
 * `urn:assent:consent_create_limit`. The counting itself is a RateLimiter (Redis: shared by every instance).
 */
import type { AssentConfig } from '../../config/schema.ts';

export interface WindowLimit {
  /** requests allowed per client per window */
  limit: number;
  windowMs: number;
}

/** `override`: one limit for every TPP (tests, benchmarks) */
export function consentCreateLimits(config: AssentConfig, override?: WindowLimit): (clientId: string | undefined) => WindowLimit {
  const deployment = override ?? { limit: config.consent.createRateLimit.limit, windowMs: config.consent.createRateLimit.windowSeconds * 1000 };
  if (override) return () => deployment;
  const own = new Map<string, WindowLimit>();
  for (const client of config.clients) {
    const limit = client['urn:assent:consent_create_limit'];
    if (limit !== undefined) own.set(client.client_id, { ...deployment, limit });
  }
  return (clientId) => (clientId !== undefined ? own.get(clientId) : undefined) ?? deployment;
}
