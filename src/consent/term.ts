/**
 * A consent's term in whole calendar months, from its creation to its expiry (UTC), as the Opus
 * back-office searches it (`consentTermPeriod`); -1 for a consent without an end (Open Finance Brasil's
 * indefinite consents, stored as expiring at BR_NO_EXPIRY). Computed here only, wherever the domain sets
 * `expiresAt` (creation, a payment consent's approval window, an extension), and stored with the consent
 * so that a query can filter on it by index.
 *
 *   created 2026-01-15T10:00Z, expires 2026-07-15T10:00Z → 6
 *   created 2026-01-15T10:00Z, expires 2026-07-15T09:59Z → 5   (the sixth month is not complete)
 *   created 2026-01-31, expires 2026-02-28 → 0                 (no whole month)
 */
import { BR_NO_EXPIRY } from './br-validation.ts';

/** expiries at or after this are "no end" (BR_NO_EXPIRY, with a day's slack for time zones) */
const INDEFINITE_FROM = BR_NO_EXPIRY.getTime() - 86_400_000;

export function termMonths(createdAt: Date, expiresAt: Date): number {
  if (expiresAt.getTime() >= INDEFINITE_FROM) return -1;
  if (expiresAt.getTime() <= createdAt.getTime()) return 0;
  let months = (expiresAt.getUTCFullYear() - createdAt.getUTCFullYear()) * 12 + (expiresAt.getUTCMonth() - createdAt.getUTCMonth());
  // the last month counts only once its day and time of day are reached
  const restOf = (d: Date) => d.getTime() - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  if (restOf(expiresAt) < restOf(createdAt)) months--;
  return Math.max(0, months);
}
