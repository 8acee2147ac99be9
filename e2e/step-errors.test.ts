/**
 * Every row of the step-outcome table in docs/plugins.md ("Errors") is what the customer's browser
 * shows, in Chromium against a real Assent on real Redis + MongoDB-wire: one test per row and pipeline.
 * A retrieval step (150) and a persist step (500) throw what the current test sets; the consent's stored
 * status is checked against what the TPP was told.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import { launchBrowser } from './support/browser.ts';
import { callback, login, newContext } from './support/flow.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../test/support/assent.ts';
import { startFlow } from '../test/support/tpp.ts';
import { StepError, type PersistStep, type RetrievalStep, type StepErrorCode } from '../src/steps/contracts.ts';

let server: TestServer;
let tpp: TestClient;
let browser: Browser;

/** what the test steps throw now */
let failure: { pipeline: 'retrieval' | 'persist'; error: () => Error } | undefined;

const failingRetrieval = {
  id: 'test.failing-retrieval',
  priority: 150,
  run(ctx) {
    ctx.data.notices.push({ level: 'info', text: 'Built before the failure.' });
    if (failure?.pipeline === 'retrieval') throw failure.error();
  },
} satisfies RetrievalStep;

const failingPersist = {
  id: 'test.failing-persist',
  priority: 500,
  run() {
    if (failure?.pipeline === 'persist') throw failure.error();
  },
} satisfies PersistStep;

before(async () => {
  tpp = await makeKeyClient('step-app', { client_name: 'Step App' });
  server = await startTestServer(
    { clients: [tpp.config], profile: 'demo' },
    { start: { steps: { retrieval: [failingRetrieval], persist: [failingPersist] } } },
  );
  browser = await launchBrowser();
});
after(async () => {
  failure = undefined;
  await browser?.close();
  await server?.stop();
});

/** Opens the consent flow with the failure set, logs in; for persist failures, clicks "Allow access". */
async function run(pipeline: 'retrieval' | 'persist', error: () => Error) {
  const { context, page, callbacks } = await newContext(browser, tpp);
  const flow = await startFlow(server, tpp);
  failure = { pipeline, error };
  const responses: number[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/interaction/')) responses.push(r.status());
  });
  await page.goto(flow.link.href);
  await login(page);
  if (pipeline === 'persist') await page.getByRole('button', { name: /allow access/i }).click();
  return { context, page, callbacks, flow, responses };
}

async function status(consentId: string) {
  const consent = await server.assent.consents.get(consentId);
  return { status: consent?.status, sca: consent?.authorisations[0]?.scaStatus, reason: consent?.history.at(-1)?.reason };
}

async function expectConsentPageWithMessage(page: Page, message: string) {
  await page.getByRole('button', { name: /allow access/i }).waitFor();
  assert.match(await page.getByRole('alert').innerText(), new RegExp(message));
  assert.match(await page.locator('main').innerText(), /Built before the failure\./);
}

async function expectTppError(callbacks: URL[], flow: { state: string }, error: string, description?: RegExp) {
  const back = await callback(callbacks);
  assert.equal(back.searchParams.get('error'), error);
  assert.equal(back.searchParams.get('state'), flow.state);
  assert.equal(back.searchParams.get('code'), null);
  if (description) assert.match(back.searchParams.get('error_description') ?? '', description);
}

const error = (code: StepErrorCode, description: string) => () => new StepError(code, description);

for (const pipeline of ['retrieval', 'persist'] as const) {
  describe(`a ${pipeline} step's outcome is what the browser shows`, () => {
    test('invalid_request: the consent page again, with the message; the consent unchanged, the customer can retry', async () => {
      const { context, page, callbacks, flow } = await run(pipeline, error('invalid_request', 'Your card is blocked for sharing.'));
      try {
        await expectConsentPageWithMessage(page, 'Your card is blocked for sharing\\.');
        assert.equal((await status(flow.consentId)).status, 'received');
        failure = undefined;
        await page.getByRole('button', { name: /allow access/i }).click();
        assert.ok((await callback(callbacks)).searchParams.get('code'), 'the retry was approved');
        assert.equal((await status(flow.consentId)).status, 'valid');
      } finally {
        await context.close();
      }
    });

    test('access_denied: back to the TPP with access_denied and the description; consent rejected, SCA failed', async () => {
      const { context, callbacks, flow } = await run(pipeline, error('access_denied', 'Sharing is blocked on this account.'));
      try {
        await expectTppError(callbacks, flow, 'access_denied', /Sharing is blocked on this account\./);
        assert.deepEqual(await status(flow.consentId), { status: 'rejected', sca: 'failed', reason: 'Sharing is blocked on this account.' });
      } finally {
        await context.close();
      }
    });

    test('consent_conflict: back to the TPP with access_denied; the consent unchanged', async () => {
      const { context, callbacks, flow } = await run(pipeline, error('consent_conflict', 'Someone else decided.'));
      try {
        await expectTppError(callbacks, flow, 'access_denied');
        assert.equal((await status(flow.consentId)).status, 'received');
      } finally {
        await context.close();
      }
    });

    test('temporarily_unavailable: back to the TPP with that error; the consent unchanged', async () => {
      const { context, callbacks, flow } = await run(pipeline, error('temporarily_unavailable', 'The risk engine is down.'));
      try {
        await expectTppError(callbacks, flow, 'temporarily_unavailable', /risk engine is down/);
        assert.equal((await status(flow.consentId)).status, 'received');
      } finally {
        await context.close();
      }
    });

    test('anything else: a friendly error page (HTML 500, logged, never shown), no JSON; nothing decided', async () => {
      const logged = server.logs.length;
      const { context, page, flow, responses } = await run(pipeline, () => new Error('secret internal detail'));
      try {
        await page.getByRole('heading', { level: 1, name: /something went wrong/i }).waitFor();
        const text = await page.locator('main').innerText();
        assert.doesNotMatch(text, /secret internal detail|server_error|\{/);
        assert.match(await page.locator('html').getAttribute('lang') ?? '', /en/);
        assert.ok(responses.includes(500), `statuses: ${responses.join(', ')}`);
        assert.ok(server.logs.slice(logged).some((l) => l.includes('secret internal detail') && l.includes('interaction failed')));
        assert.equal((await status(flow.consentId)).status, 'received');
      } finally {
        await context.close();
      }
    });
  });
}
