/**
 * Server-rendered customer pages (nunjucks, autoescape on). `render('consent', ctx)` renders
 * views/consent.njk; each render gets the helpers `t` (translator for `ctx.locale`), `formatDate`,
 * `formatIban`, `safeHref`, `detailLabel` / `formatDetail` (the "More details" labels and values) and the defaults `locale` ('en') and `bankName` ('Assent Bank').
 * Templates are compiled once per process: every view under the directory is compiled when the views
 * are created (a broken template stops startup) and kept; NODE_ENV=development re-reads and recompiles
 * them on every render instead, so edits show without a restart.
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import nunjucks from 'nunjucks';
import { DEFAULT_LOCALE, detailLabel, formatDate, formatDetailValue, isLocale, translator, type Locale } from './i18n.ts';

export const VIEWS_DIR = join(import.meta.dirname, '..', '..', 'views');
export const DEFAULT_BANK_NAME = 'Assent Bank';

export interface Views {
  /** `name` with or without the `.njk` extension, e.g. 'login' or 'login.njk' */
  render(name: string, context: object): string;
}

export interface ViewsOptions {
  /**
   * re-read and recompile templates on every render (development)
   * @default process.env.NODE_ENV === 'development'
   */
  noCache?: boolean;
}

/** "DE89370400440532013000" → "DE89 3704 0044 0532 0130 00" (spaces and case normalised). */
export function formatIban(iban: unknown): string {
  if (typeof iban !== 'string') return '';
  const compact = iban.replace(/\s+/g, '').toUpperCase();
  return compact.replace(/(.{4})(?=.)/g, '$1 ');
}

/** true for links safe to put in href: same-site paths ("/x", not "//host") and http(s) URLs. */
export function safeHref(url: unknown): boolean {
  if (typeof url !== 'string' || url === '') return false;
  if (url.startsWith('/')) return !url.startsWith('//') && !url.startsWith('/\\');
  return /^https?:\/\//i.test(url);
}

/** every `.njk` file under `dir`, as template names relative to it ('consent.njk', 'partials/x.njk') */
function templateNames(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.njk'))
    .map((name) => relative(dir, join(dir, name)).split(sep).join('/'));
}

/** `viewsDir`: one directory, or several searched in order (a bank's overrides first, then VIEWS_DIR) */
export function createViews(viewsDir: string | string[] = VIEWS_DIR, options: ViewsOptions = {}): Views {
  const noCache = options.noCache ?? process.env.NODE_ENV === 'development';
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache, watch: false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('iban', formatIban);
  // The loader keeps each Template it read (noCache false) and a Template compiles once; compiling them
  // all now moves that work out of the first requests and finds a broken template at startup.
  if (!noCache) {
    const names = new Set((Array.isArray(viewsDir) ? viewsDir : [viewsDir]).flatMap(templateNames));
    for (const name of names) env.getTemplate(name, true);
  }
  const translators = new Map<Locale, ReturnType<typeof translator>>();
  const translate = (locale: Locale) => {
    let t = translators.get(locale);
    if (!t) translators.set(locale, (t = translator(locale)));
    return t;
  };

  return {
    render(name, context) {
      const ctx = (context ?? {}) as Record<string, unknown>;
      const locale: Locale = isLocale(ctx.locale) ? ctx.locale : DEFAULT_LOCALE;
      const file = name.endsWith('.njk') ? name : `${name}.njk`;
      return env.render(file, {
        ...ctx,
        bankName: typeof ctx.bankName === 'string' && ctx.bankName ? ctx.bankName : DEFAULT_BANK_NAME,
        locale,
        t: translate(locale),
        formatDate: (date: string | Date) => formatDate(date, locale),
        detailLabel: (label: string) => detailLabel(label, locale),
        formatDetail: (values: unknown) => (Array.isArray(values) ? values : [values]).map((v) => formatDetailValue(v, locale)).join(', '),
        formatIban,
        safeHref,
      });
    },
  };
}
