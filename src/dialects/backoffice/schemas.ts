/**
 * What the back-office API accepts at its edge — query parameters, the consent id, the revocation body —
 * as zod schemas. Every failure comes out as ParameterIssues naming the parameter (errors.ts renders them
 * as 400s). The conventions, also in docs/openapi/backoffice.yaml:
 *
 * - every query parameter at most once; an unknown one is an error (a typo must not silently widen a search)
 * - lists (`type`, `status`) are comma-separated; each word is Assent's (`valid`) or the spec's (`AUTHORISED`)
 * - dates: `YYYY-MM-DD` or an RFC 3339 date-time with a zone (`Z` or `±hh:mm`; a `+` that arrived as a
 *   space, as unencoded query strings turn it, is read as `+`). Ranges are inclusive at both ends; a
 *   date-only upper bound covers its whole day (UTC), a date-only lower bound starts at 00:00 UTC
 * - `sort`: `createdAt | expiresAt | updatedAt`, descending with a leading `-`; default `-createdAt`
 * - `page` (1-based, default 1) and `page-size` (default 25, 1–1000), as in Open Finance Brasil
 */
import { z } from 'zod';
import { endOfDate, isCalendarDate } from '../../consent/dates.ts';
import { ibanProblem, normaliseIban } from '../../consent/iban.ts';
import type { ConsentSortField } from '../../consent/repository.ts';
import { normaliseDocument } from '../../consent/search.ts';
import type { ConsentStatus, ConsentType } from '../../consent/types.ts';
import { ParameterError, type ParameterIssue } from './errors.ts';
import { STATUS_WORDS, TYPE_WORDS } from './vocabulary.ts';
import { valueAt } from '../../consent/validation.ts';

export const PAGE_SIZE_DEFAULT = 25;
export const PAGE_SIZE_MAX = 1000;
/** keeps skip = (page - 1) × page-size a sane number */
export const PAGE_MAX = 1_000_000;
/** longer query values are refused before any parsing */
const VALUE_MAX = 512;
const PARAMS_MAX = 32;

// ── single values ──────────────────────────────────────────────────────────────────────────────────────

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** A query parameter read by `parse`: the parser's message becomes the issue. */
export function param<T>(parse: (value: string) => Parsed<T>) {
  return z.string().transform((value, ctx): T => {
    const result = parse(value);
    if (!result.ok) {
      ctx.issues.push({ code: 'custom', message: result.message, input: value });
      return z.NEVER;
    }
    return result.value;
  });
}

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = (message: string): Parsed<never> => ({ ok: false, message });

const CONTROL = /[\u0000-\u001f\u007f]/;

function text(max: number) {
  return (value: string): Parsed<string> => {
    if (value === '') return fail('must not be empty');
    if (value.length > max) return fail(`must be at most ${max} characters`);
    if (CONTROL.test(value)) return fail('must not contain control characters');
    return ok(value);
  };
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+\- ])(\d{2}):(\d{2}))$/i;
const DATE_MESSAGE = 'must be a date (YYYY-MM-DD) or a date-time with a time zone (YYYY-MM-DDThh:mm:ssZ or ±hh:mm)';

/**
 * A date or date-time as an inclusive bound: a date alone is its first instant (`from`) or its last
 * millisecond (`to`).
 */
export function parseInstant(value: string, bound: 'from' | 'to'): Parsed<Date> {
  if (isCalendarDate(value)) {
    return ok(bound === 'from' ? new Date(`${value}T00:00:00.000Z`) : new Date(endOfDate(value).getTime() - 1));
  }
  const m = DATE_TIME.exec(value);
  if (!m) return fail(DATE_MESSAGE);
  const [, date, hh, mm, ss = '00', fraction = '', zone, sign, oh, om] = m as unknown as string[];
  if (!isCalendarDate(date!) || Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return fail(DATE_MESSAGE);
  let offset = 'Z';
  if (zone!.toUpperCase() !== 'Z') {
    if (Number(oh) > 23 || Number(om) > 59) return fail(DATE_MESSAGE);
    offset = `${sign === '-' ? '-' : '+'}${oh}:${om}`;
  }
  const ms = fraction.padEnd(3, '0').slice(0, 3);
  const instant = Date.parse(`${date}T${hh}:${mm}:${ss}.${ms}${offset}`);
  return Number.isNaN(instant) ? fail(DATE_MESSAGE) : ok(new Date(instant));
}

const DOCUMENT_INPUT = /^[0-9A-Za-z.\-/ ]{1,32}$/;

/** CPF (11 digits) or CNPJ (14: 12 letters or digits, then 2 check digits), punctuation allowed. */
export function parseDocument(value: string): Parsed<string> {
  const message = 'must be a CPF (11 digits) or a CNPJ (14 characters); dots, dashes and slashes are ignored';
  if (!DOCUMENT_INPUT.test(value)) return fail(message);
  const normalised = normaliseDocument(value);
  return /^\d{11}$/.test(normalised) || /^[0-9A-Z]{12}\d{2}$/.test(normalised) ? ok(normalised) : fail(message);
}

export function parseIban(value: string): Parsed<string> {
  if (value.length > 64) return fail('must be an IBAN');
  const iban = normaliseIban(value);
  const problem = ibanProblem(iban);
  return problem ? fail(`must be a valid IBAN (${problem})`) : ok(iban);
}

/** A comma-separated list of words from `words`, flattened to what they stand for (duplicates dropped). */
function wordList<T extends string>(words: Readonly<Record<string, readonly T[]>>, what: string) {
  const accepted = Object.keys(words);
  return (value: string): Parsed<T[]> => {
    const items = value.split(',').map((item) => item.trim());
    if (items.length > 20) return fail('must list at most 20 values');
    const out = new Set<T>();
    for (const item of items) {
      const meaning = Object.hasOwn(words, item) ? words[item] : undefined;
      if (!meaning) return fail(`must be one or a comma-separated list of ${what}: ${accepted.join(', ')}`);
      for (const m of meaning) out.add(m);
    }
    return ok([...out]);
  };
}

export const SORT_VALUES = ['createdAt', '-createdAt', 'expiresAt', '-expiresAt', 'updatedAt', '-updatedAt'] as const;

export interface Sort {
  field: ConsentSortField;
  direction: 'asc' | 'desc';
}

function parseSort(value: string): Parsed<Sort> {
  if (!(SORT_VALUES as readonly string[]).includes(value)) return fail(`must be one of ${SORT_VALUES.join(', ')} (a leading - sorts descending)`);
  const descending = value.startsWith('-');
  return ok({ field: (descending ? value.slice(1) : value) as ConsentSortField, direction: descending ? 'desc' : 'asc' });
}

function integer(min: number, max: number, rangeMessage: string) {
  return (value: string): Parsed<number> => {
    if (!/^\d{1,10}$/.test(value)) return fail(`must be an integer between ${min} and ${max}`);
    const n = Number(value);
    return n < min || n > max ? fail(rangeMessage) : ok(n);
  };
}

const pageParam = param(integer(1, PAGE_MAX, `must be between 1 and ${PAGE_MAX}`));
const pageSizeParam = param(integer(1, PAGE_SIZE_MAX, `must be between 1 and ${PAGE_SIZE_MAX}`));
const sortParam = param(parseSort);
const fromParam = param((v) => parseInstant(v, 'from'));
const toParam = param((v) => parseInstant(v, 'to'));

// ── the endpoints' query schemas ───────────────────────────────────────────────────────────────────────

/** `from ≤ to` for each pair present; the issue names the lower bound. */
function orderedRanges<T extends Record<string, unknown>>(pairs: Array<[keyof T & string, keyof T & string]>) {
  return (value: T, ctx: z.RefinementCtx) => {
    for (const [lower, upper] of pairs) {
      const from = value[lower];
      const to = value[upper];
      if (from instanceof Date && to instanceof Date && from.getTime() > to.getTime()) {
        ctx.addIssue({ code: 'custom', path: [lower], message: `must not be after ${upper}` });
      }
    }
  };
}

/** GET /consents */
export const listQuerySchema = z
  .strictObject({
    psuId: param(text(140)).optional(),
    document: param(parseDocument).optional(),
    clientId: param(text(200)).optional(),
    iban: param(parseIban).optional(),
    type: param(wordList<ConsentType>(TYPE_WORDS, 'consent types')).optional(),
    status: param(wordList<ConsentStatus>(STATUS_WORDS, 'consent statuses')).optional(),
    createdFrom: fromParam.optional(),
    createdTo: toParam.optional(),
    expiresFrom: fromParam.optional(),
    expiresTo: toParam.optional(),
    sort: sortParam.optional(),
    page: pageParam.optional(),
    'page-size': pageSizeParam.optional(),
  })
  .superRefine(
    orderedRanges([
      ['createdFrom', 'createdTo'],
      ['expiresFrom', 'expiresTo'],
    ]),
  );
export type ListQuery = z.infer<typeof listQuerySchema>;

/** GET /consents/active */
export const activeQuerySchema = z
  .strictObject({
    from: fromParam.optional(),
    to: toParam.optional(),
    sort: sortParam.optional(),
    page: pageParam.optional(),
    'page-size': pageSizeParam.optional(),
  })
  .superRefine(orderedRanges([['from', 'to']]));
export type ActiveQuery = z.infer<typeof activeQuerySchema>;

/** Endpoints that take no query parameters. */
export const noQuerySchema = z.strictObject({});

// ── path and body ──────────────────────────────────────────────────────────────────────────────────────

/** Consent ids as stored (UUIDs); anything else cannot name a consent and is answered as unknown. */
export const consentIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

export const REASON_MAX = 140;

/**
 * PATCH /consents/{id}: revocation on the customer's behalf. `revokedBy` USER records that the customer
 * asked (actor PSU); ASPSP (default) that the bank decided. `reason` goes into the status history
 * (140 characters, as RevocationReason.additionalInformation in the spec).
 */
export const revokeBodySchema = z.strictObject({
  status: z.enum(['REVOKED', 'revokedByPsu'], { error: 'must be REVOKED (or revokedByPsu)' }),
  reason: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(REASON_MAX, { error: `must be at most ${REASON_MAX} characters` })
    .refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' }),
  revokedBy: z.enum(['ASPSP', 'USER'], { error: 'must be ASPSP or USER' }).optional(),
});
export type RevokeBody = z.infer<typeof revokeBodySchema>;

// ── reading ────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The query string as one value per parameter, in the order given, or the issues: a parameter given
 * twice, too many parameters, an over-long value.
 */
export function readQuery(querystring: string): { params: Array<[string, string]>; issues: ParameterIssue[] } {
  const params: Array<[string, string]> = [];
  const issues: ParameterIssue[] = [];
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(querystring)) {
    const shown = displayName(name);
    if (seen.has(name)) {
      if (!issues.some((i) => i.name === shown)) issues.push({ kind: 'invalidParameter', name: shown, message: 'must be given at most once' });
      continue;
    }
    seen.add(name);
    if (value.length > VALUE_MAX) issues.push({ kind: 'invalidParameter', name: shown, message: `must be at most ${VALUE_MAX} characters` });
    else params.push([name, value]);
  }
  if (seen.size > PARAMS_MAX) issues.unshift({ kind: 'invalidParameter', name: '', message: `at most ${PARAMS_MAX} query parameters are accepted` });
  return { params, issues };
}

/** Parameter names are echoed in details: keep them short and printable. */
function displayName(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 63)}…` : clean;
}

/**
 * Parses the query string with `schema`; every problem (duplicates, unknown names, bad values, ranges)
 * becomes one issue, all reported together as a ParameterError. Also returns the parameters as given
 * (for pagination links).
 */
export function parseQuery<S extends z.ZodType>(
  schema: S,
  querystring: string,
  known: readonly string[],
): { value: z.infer<S>; params: Array<[string, string]> } {
  const { params, issues } = readQuery(querystring);
  const input = Object.fromEntries(params);
  const result = schema.safeParse(input);
  if (!result.success) issues.push(...zodIssues(result.error, input, 'query', known));
  if (issues.length > 0 || !result.success) throw new ParameterError(issues);
  return { value: result.data, params };
}

/** Parses a JSON body with `schema` (the body must be an object). */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ParameterError([{ kind: 'invalidBody', name: '', message: 'the body must be a JSON object' }]);
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new ParameterError(zodIssues(result.error, body, 'body'));
  return result.data;
}

/** The names a strict object schema accepts (for "known: …" hints). */
export function knownKeys(schema: { shape: Record<string, unknown> }): string[] {
  return Object.keys(schema.shape);
}

function zodIssues(error: z.ZodError, input: unknown, where: 'query' | 'body', known: readonly string[] = []): ParameterIssue[] {
  return error.issues.flatMap((issue): ParameterIssue[] => {
    const name = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        kind: 'unknownParameter' as const,
        name: displayName([...issue.path.map(String), key].join('.')),
        message: where === 'query' ? `is not a parameter of this endpoint${known.length ? ` (known: ${known.join(', ')})` : ''}` : 'is not a known field',
      }));
    }
    if (where === 'body' && issue.path.length > 0 && valueAt(input, issue.path) === undefined) {
      return [{ kind: 'missingParameter', name, message: 'is required' }];
    }
    return [{ kind: 'invalidParameter', name, message: issue.message }];
  });
}
