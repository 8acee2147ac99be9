/**
 * Usage counting: the counter store the domain needs (implemented in storage/redis and storage/memory,
 * one contract suite for both) and the bank's day, which decides when `frequencyPerDay` starts again.
 */

/**
 * Per consent and bucket (a bank day `YYYY-MM-DD`, or `lifetime` for one-off consents), one count per
 * resource path. Increments are atomic across every Assent instance sharing the store.
 */
export interface UsageCounter {
  /** adds one access to `resource` and returns the count after it; the bucket disappears at `expiresAt` */
  increment(consentId: string, bucket: string, resource: string, expiresAt: Date): Promise<number>;
  /** the accesses so far, per resource path */
  usage(consentId: string, bucket: string): Promise<Record<string, number>>;
}

export class UsageUnavailable extends Error {
  override name = 'UsageUnavailable';
}

/** The bank's day at `now` in `timeZone` (an IANA name), and the instant it ends (the next local midnight). */
export function bankDay(now: Date, timeZone: string): { day: string; endsAt: Date } {
  const day = localDate(now, timeZone);
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  // local midnight of the next day: start from UTC midnight and correct by the zone's offset there (twice,
  // for the days a DST change happens near midnight)
  let guess = Date.UTC(y, m - 1, d + 1);
  for (let i = 0; i < 2; i++) guess = Date.UTC(y, m - 1, d + 1) - offsetMs(new Date(guess), timeZone);
  return { day, endsAt: new Date(guess) };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function parts(at: Date, timeZone: string): Record<string, number> {
  return Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  );
}

function localDate(at: Date, timeZone: string): string {
  const p = parts(at, timeZone);
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** the zone's offset from UTC at `at`, in ms (positive east of Greenwich) */
function offsetMs(at: Date, timeZone: string): number {
  const p = parts(at, timeZone);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** Whether `timeZone` is one the runtime knows (for config validation). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
