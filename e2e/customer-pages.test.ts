/**
 * What a customer reads, in Chromium against a real Assent on real Redis + MongoDB-wire: the "More
 * details" in English and Portuguese (labels translated, values formatted), the selection kept after an
 * error, My consents (ui_locales, withdrawn wording, the accounts each consent covers), the error pages
 * with their way back to the app, and the server's own root and 404 pages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { approveFlow, callback, login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { accountsBody, ALICE, inDays, startFlow } from '../test/support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

before(async () => {
  tpp = await makeKeyClient('budget-app', { client_name: 'Budget App' });
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
