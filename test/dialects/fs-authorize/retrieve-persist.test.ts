/**
 * The WSO2-compatible retrieve/persist API for a bank's own consent UI: Basic auth, sessionDataKey
 * lifecycle (unknown, one-shot), the retrieval data, persist with and without the browser's cookies,
 * a step that rejects. The "browser" here is a cookie jar over fetch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { ALICE, CookieJar, exchangeCode, introspect, startFlow, type StartedFlow } from '../../support/tpp.ts';
import { StepError, type PersistStep } from '../../../src/steps/contracts.ts';

const UI = 'https://bank-ui.example/consent';
const CREDENTIALS = { username: 'bank-ui', password: 'bank-ui-password-0123' };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const AUTH = basic(CREDENTIALS.username, CREDENTIALS.password);

/** Rejects any approval carrying metadata.risk = "high": a bank's own rule as a step. */
const riskStep = {
  id: 'test.risk-gate',
  priority: 500,
  run(ctx) {
    if (ctx.decision.approved && ctx.metadata.risk === 'high') throw new StepError('access_denied', 'blocked by the risk engine');
  },
} satisfies PersistStep;

let server: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('ui-tpp');
  server = await startTestServer(
    { clients: [tpp.config], consentPageUrl: UI, internalApi: CREDENTIALS },
    { start: { steps: { persist: [riskStep] } } },
  );
});
after(() => server.stop());

/** Drives the browser part up to the bank UI redirect; returns the sessionDataKey and the cookie jar. */
async function toConsentUi(flow: StartedFlow): Promise<{ key: string; jar: CookieJar }> {
  const jar = new CookieJar();
  let res = await jar.fetch(flow.link.href);
  let location = new URL(res.headers.get('location')!, server.url).href;
  res = await jar.fetch(location); // the login page
  const html = await res.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, 'login form without csrf');
  res = await jar.fetch(`${location}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrf }).toString(),
  });
  assert.equal(res.status, 303);
  // resume → a new interaction at the consent prompt → the bank's UI
  for (let i = 0; i < 5; i++) {
    location = new URL(res.headers.get('location')!, server.url).href;
    if (location.startsWith(UI)) break;
    res = await jar.fetch(location);
  }
  const key = new URL(location).searchParams.get('sessionDataKey');
  assert.ok(key, `expected a redirect to the bank UI, got ${location}`);
  return { key, jar };
}

const retrieve = (key: string, auth = AUTH) =>
  fetch(`${server.url}/api/fs/consent/authorize/retrieve/${key}`, { headers: { authorization: auth, accept: 'application/json' } });

const persist = (key: string, body: unknown, auth = AUTH) =>
  fetch(`${server.url}/api/fs/consent/authorize/persist/${key}`, {
    method: 'PATCH',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual',
  });

describe('retrieve / persist', () => {
  test('bad or missing Basic credentials are 401, whatever the key', async () => {
    for (const auth of ['', basic(CREDENTIALS.username, 'wrong-password-0000'), basic('someone', CREDENTIALS.password), 'Bearer abc']) {
      const res = await retrieve('x'.repeat(43), auth);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
      const res2 = await persist('x'.repeat(43), { approval: true }, auth);
      assert.equal(res2.status, 401);
    }
  });

  test('an unknown sessionDataKey is 404 on both', async () => {
    const res = await retrieve('A'.repeat(43));
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'session_data_key_invalid');
    assert.equal((await persist('nonsense', { approval: true })).status, 404);
  });

  test('retrieve returns the consent data built by the retrieval steps', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const res = await retrieve(key);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      type: string;
      application: string;
      consentData: { type: string; consentId: string; permissions: Array<{ uid: string; displayValues: string[] }>; allowMultipleAccounts: boolean; basicConsentData: Record<string, string[]> };
      consumerData: { accounts: Array<{ accountId: string; displayName: string; selected: boolean }> };
    };
    assert.equal(body.type, 'accounts');
    assert.equal(body.application, 'ui-tpp app');
    assert.equal(body.consentData.consentId, flow.consentId);
    assert.ok(body.consentData.permissions.length >= 2);
    for (const p of body.consentData.permissions) assert.ok(p.uid && p.displayValues.length > 0);
    assert.equal(body.consentData.allowMultipleAccounts, true);
    assert.ok(body.consentData.basicConsentData['Expiration Date']);
    const accounts = Object.fromEntries(body.consumerData.accounts.map((a) => [a.accountId, a]));
    assert.equal(accounts[ALICE.salary.accountId]?.selected, true);
    assert.equal(accounts[ALICE.savings.accountId]?.selected, true);
    assert.equal(accounts['acc-alice-euro']?.selected, false);
  });

  test('persist with the browser cookies: 302 to the TPP with code, state and iss; one-shot', async () => {
    const flow = await startFlow(server, tpp);
    const { key, jar } = await toConsentUi(flow);
    const bad = await persist(key, { approval: 'maybe' });
    assert.equal(bad.status, 400);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received', 'a bad body changed the consent');

    const cookies = jar.all();
    const res = await persist(key, { approval: 'true', accountIds: [ALICE.salary.accountId], metadata: {}, cookies });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin + location.pathname, tpp.redirectUri);
    assert.equal(location.searchParams.get('state'), flow.state);
    assert.equal(location.searchParams.get('iss'), server.issuer);
    const code = location.searchParams.get('code');
    assert.ok(code);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await introspect(server, tpp, tokens.json.access_token as string)).consent_id, flow.consentId);

    const consent = await server.assent.consents.get(flow.consentId);
    assert.equal(consent?.status, 'valid');
    assert.deepEqual(consent?.grantedAccounts?.map((a) => a.accountId), [ALICE.salary.accountId]);
    const historyLength = consent?.history.length;

    // replay: the key is spent, nothing changes
    const replay = await persist(key, { approval: false, cookies });
    assert.equal(replay.status, 404);
    const after = await server.assent.consents.get(flow.consentId);
    assert.equal(after?.status, 'valid');
    assert.equal(after?.history.length, historyLength);
  });

  test('persist without cookies: 302 to the resume URL, which the browser follows to the TPP', async () => {
    const flow = await startFlow(server, tpp);
    const { key, jar } = await toConsentUi(flow);
    const res = await persist(key, { approval: false });
    assert.equal(res.status, 302);
    const resume = res.headers.get('location')!;
    assert.ok(resume.startsWith(server.issuer), resume);
    const landed = await jar.fetch(resume);
    const location = new URL(landed.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('state'), flow.state);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'rejected');
  });

  test('selecting an account the customer does not hold is 400 and changes nothing', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const res = await persist(key, { approval: true, accountIds: ['acc-bruno-main'] });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
    // the key is still usable after a rejected body
    assert.equal((await retrieve(key)).status, 200);
  });

  test('a persist step that rejects ends the authorization with access_denied and rejects the consent', async () => {
    const flow = await startFlow(server, tpp);
    const { key, jar } = await toConsentUi(flow);
    const res = await persist(key, {
      approval: true,
      accountIds: [ALICE.salary.accountId],
      metadata: { risk: 'high' },
      cookies: jar.all(),
    });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('error_description'), 'blocked by the risk engine');
    const consent = await server.assent.consents.get(flow.consentId);
    assert.equal(consent?.status, 'rejected');
    assert.equal(consent?.grantId, undefined);
  });
});

