/**
 * What a customer reads, in Chromium against a real Assent on real Redis + MongoDB-wire: the "More
 * details" in English and Portuguese (labels translated, values formatted), the selection kept after an
 * error, My consents (ui_locales, withdrawn wording, the accounts each consent covers), the error pages
 * with their way back to the app, and the server's own root and 404 pages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { approveFlow, callback, login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { accountsBody, ALICE, inDays, startFlow, type StartedFlow } from '../test/support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makeKeyClient('budget-app', { client_name: 'Budget App', client_uri: 'https://budget.example/home' });
  server = await startTestServer({ clients: [tpp.config], profile: 'demo', mode: 'demo' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** "2027-01-05" → the customer's wording of it, as the page should write it */
const dateIn = (iso: string, locale: string) =>
  new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(iso));

describe('the consent page', () => {
  for (const [locale, labels] of [
    ['en', { expires: 'Expiration date', frequency: 'Frequency per day', recurring: 'Recurring', yes: 'Yes', lang: 'en-GB' }],
    ['pt-BR', { expires: 'Data de expiração', frequency: 'Frequência por dia', recurring: 'Recorrente', yes: 'Sim', lang: 'pt-BR' }],
  ] as const) {
    test(`"More details" in ${locale}: labels translated, dates, booleans and numbers formatted`, async () => {
      const { context, page } = await newContext(browser, tpp, labels.lang);
      try {
        const validUntil = inDays(40);
        const flow = await startFlow(server, tpp, accountsBody([ALICE.salary], { validUntil, frequencyPerDay: 4 }));
        flow.link.searchParams.set('ui_locales', locale);
        await page.goto(flow.link.href);
        await login(page);
        await page.locator('details.more summary').click();
        const rows = await page.locator('details.more .facts__row').allInnerTexts();
        const text = rows.map((r) => r.replace(/\s+/g, ' ').trim());
        assert.deepEqual(text, [
          `${labels.expires} ${dateIn(validUntil, labels.lang)}`,
          `${labels.frequency} 4`,
          `${labels.recurring} ${labels.yes}`,
        ]);
        assert.doesNotMatch(rows.join(' '), /true|\d{4}-\d{2}-\d{2}|Expiration Date Time/);
      } finally {
        await context.close();
      }
    });
  }

  test('after "Choose at least one account." the page keeps the customer\'s selection', async () => {
    const { context, page, callbacks } = await newContext(browser, tpp);
    try {
      const flow = await startFlow(server, tpp);
      await page.goto(flow.link.href);
      await login(page);
      const boxes = page.locator('input[name="accounts"]');
      assert.equal(await page.locator('input[name="accounts"]:checked').count(), 2, 'both pre-selected');
      for (const box of await boxes.all()) await box.uncheck();
      await page.getByRole('button', { name: /allow access/i }).click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Choose at least one account\./);
      assert.equal(await page.locator('input[name="accounts"]:checked').count(), 0, 'the customer unchecked both');
      await boxes.first().check();
      await page.getByRole('button', { name: /allow access/i }).click();
      assert.ok((await callback(callbacks)).searchParams.get('code'));
      const consent = await server.assent.consents.get(flow.consentId);
      assert.deepEqual(consent?.grantedAccounts?.map((g) => g.accountId), [ALICE.salary.accountId]);
    } finally {
      await context.close();
    }
  });
});

describe('My consents', () => {
  test('honours ?ui_locales=, shows the accounts each consent covers, says "withdrawn on …" for a withdrawn one', async () => {
    const { context, page, callbacks } = await newContext(browser, tpp, 'en-GB');
    try {
      const salaryOnly = await startFlow(server, tpp, accountsBody([ALICE.salary]));
      await approveFlow(page, callbacks, salaryOnly);
      const savingsOnly = await startFlow(server, tpp, accountsBody([ALICE.savings]));
      await approveFlow(page, callbacks, savingsOnly); // SCA: every consent asks for the credentials again

      // an English browser asking for Portuguese: the login page, and the list after it, are in Portuguese
      await page.goto(`${server.url}/my-consents?ui_locales=pt-BR`);
      assert.equal(await page.locator('html').getAttribute('lang'), 'pt-BR');
      await login(page);
      await page.getByRole('heading', { level: 1, name: 'Seus aplicativos conectados' }).waitFor();
      const salaryCard = page.locator('.card', { hasText: '5000 0000 0583 9825 7466' }).first(); // the newest
      const savingsCard = page.locator('.card', { hasText: '5000 0000 0583 9825 7474' });
      assert.match(await salaryCard.innerText(), /Contas\s+Salary account · SE45 5000 0000 0583 9825 7466/);
      assert.doesNotMatch(await salaryCard.innerText(), /7474/, 'each card names only its own accounts');
      assert.match(await savingsCard.innerText(), /Acesso até/);

      await savingsCard.getByRole('link', { name: /encerrar acesso/i }).click();
      await page.getByRole('button', { name: /encerrar acesso/i }).click();
      await page.getByRole('status').waitFor();
      const withdrawn = await page.locator('.card', { hasText: '5000 0000 0583 9825 7474' }).innerText();
      assert.match(withdrawn, /Encerrado em\s+\d{1,2} de \p{L}+ de \d{4}/u);
      assert.doesNotMatch(withdrawn, /Acesso até/);
      assert.match(await page.locator('.card', { hasText: '7466' }).first().innerText(), /Acesso até/);

      // and in English
      await page.goto(`${server.url}/my-consents?ui_locales=en`);
      const english = await page.locator('.card', { hasText: '5000 0000 0583 9825 7474' }).innerText();
      assert.match(english, /Withdrawn on\s+\d{1,2} [A-Z][a-z]+ \d{4}/);
      assert.doesNotMatch(english, /Access until/);
    } finally {
      await context.close();
    }
  });
});

describe('error pages say what happened and lead back to the app', () => {
  /** the consent page open for a fresh flow; returns the interaction's uid */
  async function openConsentPage(page: Page, flow: StartedFlow): Promise<string> {
    await page.goto(flow.link.href);
    await login(page);
    await page.getByRole('button', { name: /allow access/i }).waitFor();
    const uid = /\/interaction\/([^/?#]+)/.exec(page.url())?.[1];
    assert.ok(uid, page.url());
    return uid;
  }

  async function expireInteraction(uid: string) {
    const interaction = await server.assent.provider.Interaction.find(uid);
    assert.ok(interaction, 'the interaction exists');
    await interaction.destroy();
  }

  async function followReturnLink(page: Page, callbacks: URL[], flow: StartedFlow) {
    const link = page.getByRole('link', { name: 'Return to Budget App' });
    const href = new URL((await link.getAttribute('href'))!);
    assert.equal(href.origin + href.pathname, tpp.redirectUri);
    await link.click();
    const back = await callback(callbacks);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), flow.state);
    assert.equal(back.searchParams.get('iss'), server.issuer);
    assert.equal(back.searchParams.get('code'), null);
  }

  test('an expired request: "no longer valid", with "Return to Budget App" (error=access_denied, the state)', async () => {
    const { context, page, callbacks } = await newContext(browser, tpp);
    try {
      const flow = await startFlow(server, tpp);
      const uid = await openConsentPage(page, flow);
      await expireInteraction(uid);
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'This request is no longer valid' }).waitFor();
      assert.doesNotMatch(await page.locator('main').innerText(), /Something went wrong/);
      await followReturnLink(page, callbacks, flow);
    } finally {
      await context.close();
    }
  });

  test('a stale form (sent after the request expired): the same page and link; nothing decided', async () => {
    const { context, page, callbacks } = await newContext(browser, tpp);
    try {
      const flow = await startFlow(server, tpp);
      const uid = await openConsentPage(page, flow);
      await expireInteraction(uid);
      await page.getByRole('button', { name: /allow access/i }).click();
      await page.getByRole('heading', { level: 1, name: 'This request is no longer valid' }).waitFor();
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
      await followReturnLink(page, callbacks, flow);
    } finally {
      await context.close();
    }
  });

  test('Back after approving: "You already answered this request", the link leads to the app\'s home page, never a second answer to the TPP', async () => {
    const { context, page, callbacks } = await newContext(browser, tpp);
    try {
      const flow = await startFlow(server, tpp);
      await openConsentPage(page, flow);
      await page.getByRole('button', { name: /allow access/i }).click();
      assert.ok((await callback(callbacks)).searchParams.get('code'));
      await page.waitForURL((u) => u.href.startsWith(tpp.redirectUri));
      const answered = callbacks.length;
      await page.goBack();
      await page.getByRole('heading', { level: 1, name: 'You already answered this request' }).waitFor();
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
      // the TPP has its answer (the code): the way back is the app's home page, never a second
      // callback for this request (an access_denied would contradict the valid consent)
      const link = page.getByRole('link', { name: 'Return to Budget App' });
      assert.equal(await link.getAttribute('href'), 'https://budget.example/home');
      assert.equal(await page.locator(`a[href^="${tpp.redirectUri}"], form[action^="${tpp.redirectUri}"]`).count(), 0);
      assert.equal(callbacks.length, answered, 'no second callback');
    } finally {
      await context.close();
    }
  });

  test('a bad form token: "This form was not accepted", nothing decided; "Return to Budget App" cancels the request', async () => {
    const { context, page, callbacks } = await newContext(browser, tpp);
    try {
      const flow = await startFlow(server, tpp);
      await openConsentPage(page, flow);
      // the decision form's token (the "not you?" form carries one too)
      await page.locator('form:has(button:text-matches("allow access", "i")) input[name="csrf"]').evaluate((input: { value: string }) => (input.value = 'forged'));
      await page.getByRole('button', { name: /allow access/i }).click();
      await page.getByRole('heading', { level: 1, name: 'This form was not accepted' }).waitFor();
      const text = await page.locator('main').innerText();
      assert.doesNotMatch(text, /try again in a few minutes/);
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
      await page.getByRole('button', { name: 'Return to Budget App' }).click();
      const back = await callback(callbacks);
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal(back.searchParams.get('state'), flow.state);
    } finally {
      await context.close();
    }
  });
});

describe("the server's own pages", () => {
  test('`/` says what this server is and, in demo mode, links to the demo; in Portuguese too', async () => {
    const { context, page } = await newContext(browser, tpp);
    try {
      const res = await page.goto(`${server.url}/`);
      assert.equal(res?.status(), 200);
      await page.getByRole('heading', { level: 1, name: 'Assent Bank consent server' }).waitFor();
      assert.match(await page.locator('main').innerText(), /decide which apps may access their accounts/);
      await page.getByRole('link', { name: 'Try the demo app' }).click();
      await page.waitForURL(`${server.url}/demo-tpp`);
      await page.goto(`${server.url}/?ui_locales=pt-BR`);
      await page.getByRole('heading', { level: 1, name: 'Servidor de consentimentos do Assent Bank' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'Seus aplicativos conectados' }).getAttribute('href'), '/my-consents');
    } finally {
      await context.close();
    }
  });

  test("an authorization request the provider cannot accept: a page saying so, not \"Something went wrong\"", async () => {
    const { context, page } = await newContext(browser, tpp);
    try {
      const res = await page.goto(`${server.issuer}/authorize?client_id=no-such-app&response_type=code&scope=openid`);
      assert.ok((res?.status() ?? 0) >= 400);
      await page.getByRole('heading', { level: 1, name: 'This request is no longer valid' }).waitFor();
      assert.match(await page.locator('main').innerText(), /could not find this request/);
    } finally {
      await context.close();
    }
  });

  test('an unknown path: a branded 404 page for the browser; API paths keep their JSON errors', async () => {
    const { context, page } = await newContext(browser, tpp);
    try {
      const res = await page.goto(`${server.url}/no/such/page`);
      assert.equal(res?.status(), 404);
      assert.match(res?.headers()['content-type'] ?? '', /text\/html/);
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      await page.getByRole('link', { name: 'Go to the start page' }).click();
      await page.getByRole('heading', { level: 1, name: 'Assent Bank consent server' }).waitFor();
    } finally {
      await context.close();
    }
    // an API client asking the same gets no page
    const plain = await fetch(`${server.url}/no/such/page`, { headers: { accept: 'application/json' } });
    assert.equal(plain.status, 404);
    assert.doesNotMatch(plain.headers.get('content-type') ?? '', /html/);
    // unknown paths under an API prefix answer in that API's dialect, even to a browser
    const bg = await fetch(`${server.url}/psd2/consent/v1/nothing-here`, { headers: { accept: 'text/html' } });
    assert.equal(bg.status, 404);
    assert.match(bg.headers.get('content-type') ?? '', /json/);
    assert.ok(Array.isArray(((await bg.json()) as { tppMessages?: unknown }).tppMessages));
  });

  test('an unknown path under the OAuth mount: the branded 404 page for the browser, OAuth\'s JSON error for others', async () => {
    const { context, page } = await newContext(browser, tpp);
    try {
      for (const path of ['/no-such-endpoint', '/token']) {
        const res = await page.goto(`${server.issuer}${path}?ui_locales=pt-BR`);
        assert.equal(res?.status(), 404, path);
        assert.match(res?.headers()['content-type'] ?? '', /text\/html/, path);
        await page.getByRole('heading', { level: 1, name: 'Página não encontrada' }).waitFor();
        assert.equal(await page.getByRole('link', { name: 'Ir para a página inicial' }).getAttribute('href'), '/');
      }
    } finally {
      await context.close();
    }
    const cases: Array<[string, RequestInit]> = [
      ['/no-such-endpoint', { headers: { accept: 'application/json' } }],
      ['/no-such-endpoint', {}],
      ['/token', { headers: { accept: 'application/json' } }], // the token endpoint takes POST only
      ['/no-such-endpoint', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }],
      ['/.well-known/nothing', { headers: { accept: 'text/html' } }],
    ];
    for (const [path, init] of cases) {
      const res = await fetch(`${server.issuer}${path}`, init);
      const what = `${init.method ?? 'GET'} ${path} (${JSON.stringify(init.headers ?? {})})`;
      assert.equal(res.status, 404, what);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
      assert.equal(res.headers.get('cache-control'), 'no-store', what);
      const body = (await res.json()) as { error?: string; error_description?: string };
      assert.equal(body.error, 'invalid_request', what);
      assert.match(body.error_description ?? '', /^unrecognized route or not allowed method/, what);
    }
    // what oidc-provider serves is untouched
    const discovery = await fetch(`${server.issuer}/.well-known/openid-configuration`, { headers: { accept: 'text/html' } });
    assert.equal(discovery.status, 200);
    assert.equal(((await discovery.json()) as { issuer: string }).issuer, server.issuer);
  });
});
