/**
 * The customer-facing pages' languages: locale negotiation (OIDC `ui_locales`, then Accept-Language),
 * the message dictionaries in views/i18n/<locale>.json (flat "dotted.key" → text, `{name}` placeholders),
 * and date formatting. Dictionaries are read once, at module load.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locale } from '../steps/contracts.ts';

export type { Locale };

export const LOCALES: readonly Locale[] = ['en', 'pt-BR'];
export const DEFAULT_LOCALE: Locale = 'en';

export const I18N_DIR = join(import.meta.dirname, '..', '..', 'views', 'i18n');

export type Dictionary = Readonly<Record<string, string>>;
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

function loadDictionary(locale: Locale): Dictionary {
  const parsed: unknown = JSON.parse(readFileSync(join(I18N_DIR, `${locale}.json`), 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`i18n: ${locale}.json is not an object`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') out[key] = value;
  }
  return Object.freeze(out);
}

const DICTIONARIES: Readonly<Record<Locale, Dictionary>> = {
  en: loadDictionary('en'),
  'pt-BR': loadDictionary('pt-BR'),
};

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** Maps one language tag to a supported locale: `en`, `en-GB` → en; `pt`, `pt-BR`, `pt-br`, `pt-PT` → pt-BR. */
export function matchLocale(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split(/[-_]/, 1)[0];
  if (primary === 'en') return 'en';
  if (primary === 'pt') return 'pt-BR';
  return undefined;
}

/** At most this many entries of either list are considered (headers are attacker-controlled). */
const MAX_TAGS = 32;

function parseAcceptLanguage(header: string): string[] {
  const entries: { tag: string; q: number; index: number }[] = [];
  const parts = header.split(',', MAX_TAGS);
  for (let index = 0; index < parts.length; index++) {
    const [rawTag, ...params] = (parts[index] ?? '').split(';');
    const tag = (rawTag ?? '').trim();
    if (!tag) continue;
    let q = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (m) q = Number(m[1]);
    }
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    entries.push({ tag, q, index });
  }
  entries.sort((a, b) => b.q - a.q || a.index - b.index);
  return entries.map((e) => e.tag);
}

/**
 * Picks the page language: the first supported entry of `ui_locales` (space-separated, in priority
 * order), else the best supported Accept-Language entry by q-value, else English.
 */
export function negotiateLocale({ uiLocales, acceptLanguage }: { uiLocales?: string; acceptLanguage?: string }): Locale {
  if (uiLocales) {
    for (const tag of uiLocales.trim().split(/\s+/).slice(0, MAX_TAGS)) {
      const locale = matchLocale(tag);
      if (locale) return locale;
    }
  }
  if (acceptLanguage) {
    for (const tag of parseAcceptLanguage(acceptLanguage)) {
      const locale = matchLocale(tag);
      if (locale) return locale;
    }
  }
  return DEFAULT_LOCALE;
}

function interpolate(text: string, vars?: Record<string, string | number>): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );
}

/**
 * A translation function over two dictionaries: `primary` first, then `fallback`, else the key itself.
 * `{name}` placeholders are replaced from `vars` (unknown placeholders stay as they are). The result is
 * plain text: templates escape it.
 */
export function translatorFrom(primary: Dictionary, fallback: Dictionary): Translate {
  return (key, vars) => {
    const text = Object.hasOwn(primary, key) ? primary[key] : Object.hasOwn(fallback, key) ? fallback[key] : undefined;
    return interpolate(text ?? key, vars);
  };
}

/** The translation function for `locale` (views/i18n/<locale>.json, falling back to en.json). */
export function translator(locale: Locale): Translate {
  return translatorFrom(DICTIONARIES[isLocale(locale) ? locale : DEFAULT_LOCALE], DICTIONARIES[DEFAULT_LOCALE]);
}

const DATE_FORMATS: Readonly<Record<Locale, Intl.DateTimeFormat>> = {
  // en-GB gives "1 May 2026" (day month year), which reads well internationally
  en: new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }),
  'pt-BR': new Intl.DateTimeFormat('pt-BR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }),
};

/**
 * "1 May 2026" / "1 de maio de 2026" (in UTC). Accepts a Date or an ISO string ('YYYY-MM-DD' or a full
 * timestamp); anything unparseable is returned as given (empty string for null/undefined).
 */
export function formatDate(isoDate: string | Date, locale: Locale): string {
  if (isoDate === null || isoDate === undefined) return '';
  const date = isoDate instanceof Date ? isoDate : new Date(String(isoDate));
  if (Number.isNaN(date.getTime())) return String(isoDate);
  return DATE_FORMATS[isLocale(locale) ? locale : DEFAULT_LOCALE].format(date);
}

const NUMBER_FORMATS: Readonly<Record<Locale, Intl.NumberFormat>> = {
  en: new Intl.NumberFormat('en-GB'),
  'pt-BR': new Intl.NumberFormat('pt-BR'),
};

/**
 * One "More details" value (WSO2 basicConsentData: strings) as the customer reads it: an ISO date or
 * timestamp as a date, "true" / "false" as yes / no, a number in the locale's notation; other text as given.
 */
export function formatDetailValue(value: unknown, locale: Locale): string {
  const text = String(value ?? '');
  const t = translator(locale);
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return formatDate(text, locale);
  if (text === 'true') return t('details.yes');
  if (text === 'false') return t('details.no');
  if (/^-?\d+(\.\d+)?$/.test(text)) return NUMBER_FORMATS[isLocale(locale) ? locale : DEFAULT_LOCALE].format(Number(text));
  return text;
}

/** A "More details" label in the customer's language (`details.<label>`), else the label as the step wrote it. */
export function detailLabel(label: string, locale: Locale): string {
  const key = `details.${label}`;
  const text = translator(locale)(key);
  return text === key ? label : text;
}
