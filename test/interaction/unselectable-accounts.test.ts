/**
 * The approval page grants only accounts it offered: when a retrieval step makes an account unselectable,
 * a hand-made form that sends it anyway is answered with the consent page and its message, and nothing is
 * decided; the offered account alone is granted. Real Redis and FerretDB.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RetrievalStep } from '../../src/steps/contracts.ts';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, followRedirects, openConsentPage, startFlow, submitDecision } from '../support/tpp.ts';

/** the bank does not let this TPP reach the savings account */
const noSavings = {
  id: 'test.no-savings',
  priority: 150,
  run(ctx) {
    for (const account of ctx.data.accounts) {
      if (account.accountId === ALICE.savings.accountId) Object.assign(account, { selectable: false, selected: false });
    }
  },
} satisfies RetrievalStep;

let server: TestServer;
let tpp: TestClient;
before(async () => {
  tpp = await makeKeyClient('unselectable-tpp');
  server = await startTestServer({ clients: [tpp.config] }, { start: { steps: { retrieval: [noSavings] } } });
});
after(() => server.stop());

test('an account the page did not offer cannot be granted by a hand-made form', async () => {
  const flow = await startFlow(server, tpp);
  const page = await openConsentPage(server, flow);
  assert.deepEqual(page.form.getAll('accounts'), [ALICE.salary.accountId], 'the page pre-selects the offered account only');

  page.form.append('accounts', ALICE.savings.accountId);
  const forged = await submitDecision(page, 'approve');
  assert.equal(forged.status, 400);
  assert.match(forged.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await forged.text(), /not available for this request/);
  assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received', 'nothing decided');

  page.form.delete('accounts');
  page.form.append('accounts', ALICE.salary.accountId);
  const { left } = await followRedirects(server, page.jar, await submitDecision(page, 'approve'));
  assert.ok(left && new URL(left).searchParams.get('code'), 'the offered account alone is granted');
  const consent = await server.assent.consents.get(flow.consentId);
  assert.equal(consent?.status, 'valid');
  assert.deepEqual(consent?.grantedAccounts?.map((g) => g.accountId), [ALICE.salary.accountId]);
});
