import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsentPageData } from '../../src/steps/contracts.ts';
import { formatDate, negotiateLocale, translator, translatorFrom, type Locale } from '../../src/interaction/i18n.ts';
import { createViews, formatIban, safeHref, VIEWS_DIR } from '../../src/interaction/views.ts';

const views = createViews();
const LOCALES: Locale[] = ['en', 'pt-BR'];
const XSS = '<script>alert(1)</script>';
const CSRF = 'csrf-token-123';

function pageData(overrides: Partial<ConsentPageData> = {}): ConsentPageData {
  return {
    type: 'accounts',
    permissions: [
      { uid: 'p1', code: 'ReadAccountsBasic', title: 'Your account names and numbers', displayValues: [] },
      {
        uid: 'p2',
        code: 'ReadBalances',
        title: 'Your balances',
        detail: 'The amount of money in your accounts',
        displayValues: ['Booked balance'],
      },
    ],
    allowMultipleAccounts: true,
    basicConsentData: { 'Expiration Date Time': ['2026-05-01'] },
    accounts: [
      { accountId: 'acc-1', displayName: 'Everyday account', iban: 'DE89370400440532013000', currency: 'EUR', selected: true, selectable: true },
      { accountId: 'acc-2', displayName: 'Savings', iban: 'DE02120300000000202051', currency: 'EUR', selected: false, selectable: true },
      { accountId: 'acc-3', displayName: 'Old account', iban: 'DE02500105170137075030', currency: 'USD', selected: true, selectable: false },
    ],
    notices: [{ level: 'warning', text: 'This app is in test mode.' }],
    extra: {},
    ...overrides,
  };
}

function consentContext(locale: Locale, overrides: Record<string, unknown> = {}) {
  return {
    locale,
    uid: 'uid-1',
    csrf: CSRF,
    action: '/interaction/uid-1/confirm',
    client: { name: 'Budget Buddy' },
    psu: { name: 'Maria Silva' },
    data: pageData(),
    consent: { validUntil: '2026-05-01', frequencyPerDay: 4, recurringIndicator: true },
    ...overrides,
  };
}

function loginContext(locale: Locale, overrides: Record<string, unknown> = {}) {
  return {
    locale,
    uid: 'uid-1',
    csrf: CSRF,
    action: '/interaction/uid-1/login',
    abortAction: '/interaction/uid-1/abort',
    client: { name: 'Budget Buddy' },
    ...overrides,
  };
}

function myConsentsContext(locale: Locale, overrides: Record<string, unknown> = {}) {
  return {
    locale,
    psu: { name: 'Maria Silva' },
    csrf: CSRF,
    logoutAction: '/my-consents/logout',
    consents: [
      {
        id: 'c-1',
        tppName: 'Budget Buddy',
        permissions: ['Your balances'],
        since: new Date('2026-01-15T10:00:00Z'),
        until: '2026-05-01',
        status: 'valid',
        statusLabel: translator(locale)('status.valid'),
        active: true,
      },
      {
        id: 'c-2',
        tppName: 'Old App',
        permissions: ['Your transactions'],
        since: '2025-01-01',
        until: '2025-06-01',
        status: 'expired',
        statusLabel: translator(locale)('status.expired'),
        active: false,
      },
    ],
    ...overrides,
  };
}

function revokeContext(locale: Locale, overrides: Record<string, unknown> = {}) {
  return {
    locale,
    csrf: CSRF,
    consent: { id: 'c-1', tppName: 'Budget Buddy', permissions: ['Your balances'], until: '2026-05-01' },
    action: '/my-consents/c-1/revoke',
    cancelUrl: '/my-consents',
    ...overrides,
  };
}

/** Every <form> in the page carries the hidden csrf field. */
function assertCsrfInEveryForm(html: string): void {
  const forms = html.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
  assert.ok(forms.length > 0, 'page has a form');
  for (const form of forms) {
    assert.match(form, new RegExp(`<input type="hidden" name="csrf" value="${CSRF}">`), `csrf missing in ${form.slice(0, 80)}`);
  }
}

function count(html: string, re: RegExp): number {
  return (html.match(re) ?? []).length;
}

function assertPageBasics(html: string, locale: Locale): void {
  assert.match(html, new RegExp(`<html lang="${locale}">`));
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /<link rel="stylesheet" href="\/static\/assent.css">/);
  assert.equal(count(html, /<h1[\s>]/g), 1, 'exactly one h1');
  assert.match(html, /<main id="main"/);
  assert.match(html, /Assent Bank/);
  assert.doesNotMatch(html, /style=|onclick=|<script>/, 'no inline styles or scripts');
}

describe('negotiateLocale', () => {
  it('defaults to en', () => {
    assert.equal(negotiateLocale({}), 'en');
    assert.equal(negotiateLocale({ uiLocales: 'fr de', acceptLanguage: 'fr-FR,de;q=0.8' }), 'en');
    assert.equal(negotiateLocale({ acceptLanguage: '' }), 'en');
  });

  it('maps pt, pt-BR and pt-br to pt-BR', () => {
    for (const tag of ['pt', 'pt-BR', 'pt-br', 'PT-br']) {
      assert.equal(negotiateLocale({ uiLocales: tag }), 'pt-BR', tag);
      assert.equal(negotiateLocale({ acceptLanguage: tag }), 'pt-BR', tag);
    }
  });

  it('gives ui_locales priority, in order, over Accept-Language', () => {
    assert.equal(negotiateLocale({ uiLocales: 'pt-BR en', acceptLanguage: 'en' }), 'pt-BR');
    assert.equal(negotiateLocale({ uiLocales: 'fr en pt-BR', acceptLanguage: 'pt-BR' }), 'en');
    assert.equal(negotiateLocale({ uiLocales: 'fr', acceptLanguage: 'pt-BR,en;q=0.5' }), 'pt-BR');
    assert.equal(negotiateLocale({ uiLocales: '  ', acceptLanguage: 'pt' }), 'pt-BR');
  });

  it('honours Accept-Language q-values', () => {
    assert.equal(negotiateLocale({ acceptLanguage: 'en;q=0.5, pt-BR;q=0.9' }), 'pt-BR');
    assert.equal(negotiateLocale({ acceptLanguage: 'pt-BR;q=0.4,en-GB;q=0.8,fr' }), 'en');
    assert.equal(negotiateLocale({ acceptLanguage: 'fr-FR,fr;q=0.9,pt;q=0.7,en;q=0.6' }), 'pt-BR');
    assert.equal(negotiateLocale({ acceptLanguage: 'pt;q=0, en;q=0.1' }), 'en', 'q=0 means not acceptable');
    assert.equal(negotiateLocale({ acceptLanguage: 'pt;q=0' }), 'en');
    assert.equal(negotiateLocale({ acceptLanguage: '*' }), 'en');
  });
});

describe('translator', () => {
  it('translates and interpolates', () => {
    assert.equal(translator('en')('consent.approve'), 'Allow access');
    assert.equal(translator('pt-BR')('consent.approve'), 'Permitir acesso');
    assert.equal(translator('en')('consent.heading', { tpp: 'Acme' }), 'Acme wants to access your accounts');
    assert.equal(translator('pt-BR')('consent.frequencyPerDay', { n: 4 }), 'Até 4 vezes por dia');
    assert.equal(translator('en')('consent.heading'), '{tpp} wants to access your accounts', 'missing vars stay');
  });

  it('falls back to en, then to the key', () => {
    const en = JSON.parse(readFileSync(join(VIEWS_DIR, 'i18n', 'en.json'), 'utf8')) as Record<string, string>;
    const pt = JSON.parse(readFileSync(join(VIEWS_DIR, 'i18n', 'pt-BR.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(pt).sort(), Object.keys(en).sort(), 'dictionaries have the same keys');
    const t = translatorFrom({ 'a.both': 'ambos' }, { 'a.both': 'both', 'a.enOnly': 'only {x}' });
    assert.equal(t('a.both'), 'ambos');
    assert.equal(t('a.enOnly', { x: 'English' }), 'only English');
    assert.equal(t('a.nowhere'), 'a.nowhere');
    assert.equal(translator('pt-BR')('no.such.key'), 'no.such.key');
    assert.equal(translator('en')('no.such.key', { a: 1 }), 'no.such.key');
    // an unsupported locale behaves like en
    assert.equal(translator('fr' as Locale)('login.submit'), 'Log in');
  });

  it('has the status labels and generic errors', () => {
    const t = translator('en');
    for (const s of ['received', 'rejected', 'valid', 'revokedByPsu', 'expired', 'terminatedByTpp']) {
      assert.notEqual(t(`status.${s}`), `status.${s}`, s);
      assert.notEqual(translator('pt-BR')(`status.${s}`), t(`status.${s}`), `pt-BR ${s}`);
    }
    assert.equal(t('error.credentials'), 'The username or password is incorrect.');
    assert.equal(t('error.noAccount'), 'Choose at least one account.');
    for (const k of ['error.expired', 'error.unknown', 'error.generic']) assert.notEqual(t(k), k);
  });
});

describe('formatDate and formatIban', () => {
  it('formats dates in UTC per locale', () => {
    assert.equal(formatDate('2026-05-01', 'en'), '1 May 2026');
    assert.equal(formatDate('2026-05-01', 'pt-BR'), '1 de maio de 2026');
    assert.equal(formatDate(new Date('2026-05-01T23:30:00Z'), 'en'), '1 May 2026');
    assert.equal(formatDate('not a date', 'en'), 'not a date');
  });

  it('groups IBANs in fours', () => {
    assert.equal(formatIban('DE89370400440532013000'), 'DE89 3704 0044 0532 0130 00');
    assert.equal(formatIban('de89 3704 0044 0532 0130 00'), 'DE89 3704 0044 0532 0130 00');
    assert.equal(formatIban('GB29NWBK60161331926819'), 'GB29 NWBK 6016 1331 9268 19');
  });

  it('accepts only safe hrefs', () => {
    assert.equal(safeHref('/my-consents'), true);
    assert.equal(safeHref('https://tpp.example/cb'), true);
    assert.equal(safeHref('javascript:alert(1)'), false);
    assert.equal(safeHref('//evil.example'), false);
    assert.equal(safeHref(undefined), false);
  });
});

describe('login.njk', () => {
  for (const locale of LOCALES) {
    it(`renders in ${locale}`, () => {
      const html = views.render('login', loginContext(locale));
      assertPageBasics(html, locale);
      assertCsrfInEveryForm(html);
      assert.match(html, /Budget Buddy/);
      assert.match(html, /<form class="form" method="post" action="\/interaction\/uid-1\/login">/);
      assert.match(html, /<form class="form form--secondary" method="post" action="\/interaction\/uid-1\/abort">/);
      assert.match(html, /<label class="field__label" for="username">/);
      assert.match(html, /<label class="field__label" for="password">/);
      assert.match(html, /name="username"[^>]*autocomplete="username"/);
      assert.match(html, /type="password"\s+autocomplete="current-password"/);
      assert.doesNotMatch(html, /role="alert"/);
      if (locale === 'pt-BR') {
        assert.match(html, />Entrar</);
        assert.match(html, /Usuário/);
        assert.match(html, /Senha/);
        assert.match(html, />Cancelar</);
      } else {
        assert.match(html, />Log in</);
        assert.match(html, />Cancel</);
      }
    });
  }

  it('shows the error linked to the fields and keeps the username', () => {
    const html = views.render('login.njk', loginContext('en', { error: 'error.credentials', username: 'maria' }));
    assert.match(html, /role="alert" id="login-error" tabindex="-1"/);
    assert.match(html, /The username or password is incorrect\./);
    assert.equal(count(html, /aria-describedby="login-error"/g), 2);
    assert.match(html, /value="maria"/);
  });

  it('escapes the client name', () => {
    const html = views.render('login', loginContext('en', { client: { name: XSS }, username: '"><img src=x>' }));
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(html, /<img src=x>/);
  });
});

describe('consent.njk', () => {
  for (const locale of LOCALES) {
    it(`renders in ${locale}`, () => {
      const html = views.render('consent', consentContext(locale));
      assertPageBasics(html, locale);
      assertCsrfInEveryForm(html);
      assert.equal(count(html, /<form\b/g), 1, 'one form');
      assert.match(html, /<form class="form" method="post" action="\/interaction\/uid-1\/confirm">/);
      assert.match(html, /Budget Buddy/);
      assert.match(html, /Your balances/);
      assert.match(html, /The amount of money in your accounts/);
      assert.match(html, /DE89 3704 0044 0532 0130 00/);
      assert.match(html, /DE02 1203 0000 0000 2020 51/);
      assert.match(html, /role="note"/);
      assert.match(html, /This app is in test mode\./);
      assert.match(html, /<fieldset class="choices"/);
      assert.match(html, /<legend/);
      assert.match(html, /<button class="button button--primary" type="submit" name="decision" value="approve">/);
      assert.match(html, /<button class="button button--secondary" type="submit" name="decision" value="deny"/);
      if (locale === 'pt-BR') {
        assert.match(html, /Budget Buddy quer acessar suas contas/);
        assert.match(html, /Até 1 de maio de 2026/);
        assert.match(html, /Até 4 vezes por dia/);
        assert.match(html, />Permitir acesso</);
        assert.match(html, />Não permitir</);
      } else {
        assert.match(html, /<h1>Budget Buddy wants to access your accounts<\/h1>/);
        assert.match(html, /Until 1 May 2026/);
        assert.match(html, /Up to 4 times a day/);
        assert.match(html, />Allow access</);
        assert.match(html, />Don&#39;t allow</);
      }
    });
  }

  it('uses checkboxes when several accounts are allowed', () => {
    const html = views.render('consent', consentContext('en'));
    assert.equal(count(html, /type="checkbox"/g), 3);
    assert.equal(count(html, /type="radio"/g), 0);
    assert.match(html, /name="accounts" value="acc-1" checked>/);
    assert.match(html, /name="accounts" value="acc-2">/);
    assert.match(html, /name="accounts" value="acc-3" checked disabled>/);
    assert.match(html, /data-select-all="Select all accounts"/);
  });

  it('uses radio buttons, with at most one checked, when only one account is allowed', () => {
    const data = pageData({ allowMultipleAccounts: false });
    data.accounts[1]!.selected = true;
    const html = views.render('consent', consentContext('en', { data }));
    assert.equal(count(html, /type="radio"/g), 3);
    assert.equal(count(html, /type="checkbox"/g), 0);
    assert.equal(count(html, / checked[ >]/g), 1);
    assert.match(html, /value="acc-1" checked>/);
    assert.doesNotMatch(html, /data-select-all/);
  });

  it('says "once" for a one-off consent', () => {
    const html = views.render('consent', consentContext('en', { consent: { validUntil: '2026-05-01', frequencyPerDay: 1, recurringIndicator: false } }));
    assert.match(html, /<dd>\s*Once\s*<\/dd>/);
  });

  it('shows the error linked to the account choice', () => {
    const html = views.render('consent', consentContext('pt-BR', { error: 'error.noAccount' }));
    assert.match(html, /role="alert" id="consent-error" tabindex="-1"/);
    assert.match(html, /Escolha pelo menos uma conta\./);
    assert.match(html, /<fieldset class="choices" aria-describedby="accounts-hint consent-error"/);
    // the error comes before the heading
    assert.ok(html.indexOf('role="alert"') < html.indexOf('<h1'));
  });

  it('escapes the client name and step-provided text', () => {
    const data = pageData({ notices: [{ level: 'info', text: XSS }] });
    data.accounts[0]!.displayName = XSS;
    const html = views.render('consent', consentContext('en', { client: { name: XSS }, data }));
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; wants to access your accounts/);
  });
});

describe('error.njk', () => {
  for (const locale of LOCALES) {
    it(`renders in ${locale}`, () => {
      const html = views.render('error', { locale, title: 'error.titleExpired', message: 'error.expired', requestId: 'req-42', backUrl: '/' });
      assertPageBasics(html, locale);
      assert.match(html, /req-42/);
      assert.match(html, /href="\/"/);
      assert.match(html, locale === 'en' ? /This request has expired or is no longer valid\./ : /Este pedido expirou ou não é mais válido\./);
    });
  }

  it('shows ready-made text and a default title, and drops unsafe back links', () => {
    const html = views.render('error', { locale: 'en', message: `Oops ${XSS}`, backUrl: 'javascript:alert(1)' });
    assert.match(html, /<h1>Something went wrong<\/h1>/);
    assert.match(html, /Oops &lt;script&gt;/);
    assert.doesNotMatch(html, /javascript:/);
    assert.doesNotMatch(html, /class="reference"/);
  });
});

describe('my-consents.njk', () => {
  for (const locale of LOCALES) {
    it(`renders in ${locale}`, () => {
      const html = views.render('my-consents', myConsentsContext(locale, { flash: 'myConsents.flashRevoked' }));
      assertPageBasics(html, locale);
      assertCsrfInEveryForm(html);
      assert.match(html, /<form class="page-head__action" method="post" action="\/my-consents\/logout">/);
      assert.match(html, /Budget Buddy/);
      assert.match(html, /Old App/);
      assert.match(html, /href="\/my-consents\/c-1\/revoke"/);
      assert.doesNotMatch(html, /c-2\/revoke/, 'inactive consents cannot be withdrawn');
      assert.match(html, /role="status"/);
      assert.match(html, /class="badge badge--active"/);
      assert.match(html, /class="badge badge--ended"/);
      if (locale === 'pt-BR') {
        assert.match(html, /Seus aplicativos conectados/);
        assert.match(html, /15 de janeiro de 2026/);
        assert.match(html, /Ativo/);
        assert.match(html, /Encerrar acesso/);
      } else {
        assert.match(html, /15 January 2026/);
        assert.match(html, /Active/);
        assert.match(html, /Withdraw access/);
      }
    });
  }

  it('shows an empty state, and falls back to the status key for a missing label', () => {
    const empty = views.render('my-consents', myConsentsContext('en', { consents: [] }));
    assert.match(empty, /You have not allowed any apps to access your accounts\./);
    assert.doesNotMatch(empty, /class="cards"/);
    const html = views.render('my-consents', myConsentsContext('pt-BR', {
      consents: [{ id: 'a/b', tppName: XSS, permissions: [], since: '2026-01-01', until: '2026-02-01', status: 'revokedByPsu', statusLabel: '', active: true }],
    }));
    assert.match(html, /Encerrado por você/);
    assert.match(html, /href="\/my-consents\/a%2Fb\/revoke"/);
    assert.doesNotMatch(html, /<script>alert/);
  });
});

describe('revoke-confirm.njk', () => {
  for (const locale of LOCALES) {
    it(`renders in ${locale}`, () => {
      const html = views.render('revoke-confirm', revokeContext(locale));
      assertPageBasics(html, locale);
      assertCsrfInEveryForm(html);
      assert.match(html, /<form class="form" method="post" action="\/my-consents\/c-1\/revoke">/);
      assert.match(html, /href="\/my-consents"/);
      assert.match(html, /Your balances/);
      assert.match(html, locale === 'en' ? /Withdraw Budget Buddy&#39;s access\?/ : /Encerrar o acesso de Budget Buddy\?/);
    });
  }

  it('escapes the TPP name', () => {
    const html = views.render('revoke-confirm', revokeContext('en', { consent: { id: 'c', tppName: XSS, permissions: [], until: '2026-05-01' } }));
    assert.doesNotMatch(html, /<script>alert/);
  });
});

describe('my-consents-login.njk', () => {
  for (const locale of LOCALES) {
    it(`renders in ${locale}`, () => {
      const html = views.render('my-consents-login', { locale, csrf: CSRF, action: '/my-consents/login', error: 'error.credentials', username: 'maria' });
      assertPageBasics(html, locale);
      assertCsrfInEveryForm(html);
      assert.match(html, /role="alert"/);
      assert.match(html, /autocomplete="current-password"/);
      assert.match(html, locale === 'en' ? /<h1>Your connected apps<\/h1>/ : /<h1>Seus aplicativos conectados<\/h1>/);
      assert.match(html, locale === 'en' ? /The username or password is incorrect\./ : /Usuário ou senha incorretos\./);
    });
  }
});

describe('createViews', () => {
  it('defaults the locale to en and lets the bank name be set', () => {
    const html = views.render('error', { message: 'error.generic', bankName: 'Banco Exemplo', locale: 'xx' });
    assert.match(html, /<html lang="en">/);
    assert.match(html, /Banco Exemplo/);
    assert.doesNotMatch(html, /Assent Bank/);
  });

  it('serves the stylesheet and script from public/', () => {
    const css = readFileSync(join(VIEWS_DIR, '..', 'public', 'assent.css'), 'utf8');
    assert.match(css, /:focus-visible/);
    assert.doesNotMatch(css, /@import|url\(https?:/, 'no external resources');
    readFileSync(join(VIEWS_DIR, '..', 'public', 'assent.js'), 'utf8');
    readFileSync(join(VIEWS_DIR, '..', 'public', 'favicon.svg'), 'utf8');
  });
});
