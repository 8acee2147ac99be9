/** Calendar dates (YYYY-MM-DD, UTC) as the consent uses them: `validUntil`, `lastActionDate`. */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** YYYY-MM-DD of the instant, in UTC. */
export function isoDate(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Whether `value` is YYYY-MM-DD and names a real day (no 2023-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 02-30 over to 03-02; a real date survives the round trip
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** The first instant after the day `date` (YYYY-MM-DD, UTC): when a consent valid until that day ends. */
export function endOfDate(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00.000Z`) + DAY_MS);
}

/** `date` plus `days` whole days, as YYYY-MM-DD. */
export function addDays(instant: Date, days: number): string {
  return isoDate(new Date(instant.getTime() + days * DAY_MS));
}
