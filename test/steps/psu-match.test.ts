/**
 * A consent the TPP requested for a named PSU (Berlin Group PSU-ID: the customer's login name at the
 * bank) can be approved by that customer only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, accountsBody, decideWithoutBrowser, startFlow } from '../support/tpp.ts';

let server: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('psu-tpp');
  server = await startTestServer({ clients: [tpp.config] });
});
after(() => server.stop());

test('PSU-ID names Alice: Alice can approve', async () => {
  const flow = await startFlow(server, tpp, accountsBody([ALICE.salary]), { 'psu-id': 'alice' });
  const back = await decideWithoutBrowser(server, flow, 'approve');
  assert.ok(back.searchParams.get('code'));
  const consent = await server.assent.consents.get(flow.consentId);
  assert.equal(consent?.status, 'valid');
  assert.equal(consent?.psuId, 'psu-alice');
});

test('PSU-ID names Bruno: Alice gets access_denied, the consent is rejected and nothing is granted', async () => {
  const flow = await startFlow(server, tpp, accountsBody([ALICE.salary]), { 'psu-id': 'bruno' });
  const back = await decideWithoutBrowser(server, flow, 'approve');
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('code'), null);
  const consent = await server.assent.consents.get(flow.consentId);
  assert.equal(consent?.status, 'rejected');
  assert.equal(consent?.grantId, undefined);
});
