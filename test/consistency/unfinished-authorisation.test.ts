/**
 * What happens to a consent whose authorization never completed (README, "One decision per
 * authorization"): the customer approved, the TPP got its code, and the code was never exchanged (it
 * expired). The consent stays `valid` — the TPP was told it was approved — and cannot be authorised
 * again: a new authorisation is refused by the Berlin Group API and an authorization request naming it
 * is sent back to the TPP with invalid_request and the reason. The TPP ends it with DELETE
 * (terminatedByTpp), the customer can withdraw it, or it expires at validUntil. Real Redis and FerretDB.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeSecretClient, startTestServer, type TestServer } from '../support/assent.ts';
import { bg, decideWithoutBrowser, exchangeCode, startFlow } from '../support/tpp.ts';

const tpp = makeSecretClient('tpp-unfinished');
let server: TestServer;

before(async () => {
  server = await startTestServer({ clients: [tpp.config], ttl: { authorizationCode: 1 } });
});
after(() => server.stop());

test('approved, the code never exchanged: stays valid, cannot be authorised again (with the reason), ends on DELETE', async () => {
  const flow = await startFlow(server, tpp);
  const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code');
  assert.ok(code);
  await new Promise((r) => setTimeout(r, 2_100)); // the code's lifetime (1 s here) passes

  const late = await exchangeCode(server, tpp, code, flow.verifier);
  assert.equal(late.status, 400, late.text);
  assert.equal(late.json.error, 'invalid_grant');
  const status = async () => (await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`)).body.consentStatus;
  assert.equal(await status(), 'valid');

  // a new authorisation of the consent: refused by the Berlin Group API, nothing changes
  const again = await bg(server, flow.ccToken, 'POST', `/consents/${flow.consentId}/authorisations`);
  assert.ok(again.status >= 400 && again.status < 500, `start authorisation answered ${again.status}`);
  assert.ok(Array.isArray(again.body.tppMessages), JSON.stringify(again.body));

  // the authorization request naming it: back to the TPP with invalid_request and the reason
  const res = await fetch(flow.link, { redirect: 'manual' });
  assert.ok(res.status >= 300 && res.status < 400, `authorize answered ${res.status}`);
  const back = new URL(res.headers.get('location')!, server.url);
  assert.equal(`${back.origin}${back.pathname}`, tpp.redirectUri);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.equal(back.searchParams.get('error_description'), 'the consent is not awaiting authorisation');
  assert.equal(await status(), 'valid');

  // the TPP ends it
  assert.equal((await bg(server, flow.ccToken, 'DELETE', `/consents/${flow.consentId}`)).status, 204);
  assert.equal(await status(), 'terminatedByTpp');
});
