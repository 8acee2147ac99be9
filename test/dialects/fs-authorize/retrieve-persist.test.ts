/**
 * The WSO2-compatible retrieve/persist API for a bank's own consent UI: Basic auth, sessionDataKey
 * lifecycle (unknown, one-shot), the retrieval data, persist with and without the browser's cookies (a
 * cookie-less client following the redirects lands at the TPP),
 * a step that rejects, every row of docs/plugins.md's step-outcome table on retrieve. The "browser" here is a cookie jar over fetch.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { ALICE, CookieJar, accountsBody, exchangeCode, introspect, startFlow, type StartedFlow } from '../../support/tpp.ts';
import { StepError, type PersistStep, type RetrievalStep, type StepErrorCode } from '../../../src/steps/contracts.ts';

const UI = 'https://bank-ui.example/consent';
const CREDENTIALS = { username: 'bank-ui', password: 'bank-ui-password-0123' };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const AUTH = basic(CREDENTIALS.username, CREDENTIALS.password);

/** What the risk step throws on any decision now (set by the step-outcome tests, cleared after each). */
let persistFailure: (() => Error) | undefined;

/** Rejects any approval carrying metadata.risk = "high": a bank's own rule as a step. */
const riskStep = {
  id: 'test.risk-gate',
  priority: 500,
  run(ctx) {
    if (persistFailure) throw persistFailure();
    if (ctx.decision.approved && ctx.metadata.risk === 'high') throw new StepError('access_denied', 'blocked by the risk engine');
  },
} satisfies PersistStep;

/** A bank rule as a retrieval step: a one-access-a-day consent may cover one account only (marker for the test). */
const singleAccountStep = {
  id: 'test.single-account',
  priority: 900,
  run(ctx) {
    if (ctx.consent.frequencyPerDay === 3) ctx.data.allowMultipleAccounts = false;
  },
} satisfies RetrievalStep;

/** What the failing retrieval step does now (set by the step-outcome tests, cleared after each): throw, or write a wrong shape. */
let retrievalFailure: (() => Error) | 'wrong-shape' | undefined;

/** A retrieval step that does what `retrievalFailure` says. */
const failingRetrievalStep = {
  id: 'test.failing-retrieval',
  priority: 150,
  run(ctx) {
    if (retrievalFailure === 'wrong-shape') (ctx.data.accounts[0] as unknown as { selected: string }).selected = 'yes';
    else if (retrievalFailure) throw retrievalFailure();
  },
} satisfies RetrievalStep;

let server: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('ui-tpp');
  server = await startTestServer(
    { clients: [tpp.config], consentPageUrl: UI, internalApi: CREDENTIALS },
    { start: { steps: { persist: [riskStep], retrieval: [singleAccountStep, failingRetrievalStep] } } },
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

  test('retrieve returns the consent data built by the retrieval steps, in the seed\'s shape field by field', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const res = await retrieve(key);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown> & {
      type: string;
      application: string;
      applicationName: string;
      consentData: Record<string, unknown> & {
        permissions: Array<Record<string, unknown>>;
        basicConsentData: Record<string, string[]>;
        additionalData: { consentId: string };
        initiatedAccountsForConsent: Array<{ accountId: string; displayName: string }>;
      };
      consumerData: { accounts: Array<{ accountId: string; displayName: string; selected: boolean }> };
    };
    // every field of the seed's sample, with the same type, and nothing at the top that WSO2 does not name
    const sample = SEED_RETRIEVE_SAMPLE;
    assert.deepEqual(Object.keys(body).sort(), [...Object.keys(sample), 'applicationName'].sort());
    for (const k of Object.keys(sample.consentData)) assert.equal(typeof body.consentData[k], typeof (sample.consentData as Record<string, unknown>)[k], k);
    for (const k of ['initiatedAccountsForConsent', 'isReauthorization', 'consentMetadata', 'additionalData']) assert.ok(k in body.consentData, k);
    assert.equal(body.consentData.isReauthorization, false);
    assert.equal(body.consentData.permissions.length, 1);
    assert.deepEqual(Object.keys(body.consentData.permissions[0]!).sort(), Object.keys(sample.consentData.permissions[0]!).sort());
    assert.deepEqual(body.consentData.permissions[0]!.displayValues, ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail']);
    for (const a of body.consumerData.accounts) for (const k of Object.keys(sample.consumerData.accounts[0]!)) assert.ok(k in a, k);
    assert.equal(body.type, 'accounts');
    assert.equal(body.consentData.type, 'accounts');
    assert.equal(body.application, tpp.clientId);
    assert.equal(body.applicationName, 'ui-tpp app');
    assert.equal(body.consentData.additionalData.consentId, flow.consentId);
    assert.equal(body.consentData.allowMultipleAccounts, true);
    assert.ok(body.consentData.basicConsentData['Expiration Date Time']);
    const accounts = Object.fromEntries(body.consumerData.accounts.map((a) => [a.accountId, a]));
    assert.equal(accounts[ALICE.salary.accountId]?.selected, true);
    assert.equal(accounts[ALICE.savings.accountId]?.selected, true);
    assert.equal(accounts['acc-alice-euro']?.selected, false);
    assert.deepEqual(body.consentData.initiatedAccountsForConsent.map((a) => a.accountId).sort(), [ALICE.salary.accountId, ALICE.savings.accountId].sort());
  });

  test('the seed\'s literal persist body: approval "true", accounts by display name under the permission uid', async () => {
    const flow = await startFlow(server, tpp);
    const { key, jar } = await toConsentUi(flow);
    const retrieved = (await (await retrieve(key)).json()) as { consentData: { permissions: Array<{ uid: string }> }; consumerData: { accounts: Array<{ accountId: string; displayName: string }> } };
    const uid = retrieved.consentData.permissions[0]!.uid;
    const salaryName = retrieved.consumerData.accounts.find((a) => a.accountId === ALICE.salary.accountId)!.displayName;
    const res = await persist(key, {
      metadata: {},
      approval: 'true',
      requestParameters: {
        hasApprovedAlways: ['false'],
        [uid]: [salaryName],
        consent: ['true'],
        type: ['accounts'],
        sessionDataKeyConsent: ['d53e3f9a-29f6-4fee-93a4-6d27118f17a5'],
      },
      type: 'accounts',
      cookies: { commonAuthId: 'd040bf2e-c5e0-4d12-b3f3-e88cd033be83', ui_lang: 'en_US', ...jar.all() },
    });
    assert.equal(res.status, 302, await res.clone().text());
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin + location.pathname, tpp.redirectUri);
    assert.ok(location.searchParams.get('code'));
    const consent = await server.assent.consents.get(flow.consentId);
    assert.equal(consent?.status, 'valid');
    assert.deepEqual(consent?.grantedAccounts?.map((a) => a.accountId), [ALICE.salary.accountId]);
  });

  test('paymentAccount / cofAccount and ids under requestParameters select accounts too; an unknown name is 400', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const unknown = await persist(key, { approval: true, requestParameters: { [flow.consentId]: ['No Such Account'] } });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { code: string }).code, 'invalid_request');
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
    const res = await persist(`${key}?authorize=false`, { approval: true, paymentAccount: ALICE.savings.accountId, requestParameters: { cofAccount: [ALICE.salary.accountId] } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { consentId: string; approval: boolean; consentStatus: string };
    assert.deepEqual(body, { consentId: flow.consentId, approval: true, consentStatus: 'valid' });
    const consent = await server.assent.consents.get(flow.consentId);
    assert.deepEqual(consent?.grantedAccounts?.map((a) => a.accountId).sort(), [ALICE.salary.accountId, ALICE.savings.accountId].sort());
  });

  test('?authorize=false stores a denial and answers 200 without a redirect; the key is spent', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const res = await persist(`${key}?authorize=false`, { approval: 'false' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('location'), null);
    assert.equal(((await res.json()) as { consentStatus: string }).consentStatus, 'rejected');
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'rejected');
    assert.equal((await persist(key, { approval: true })).status, 404);
  });

  test('every error is WSO2\'s { code, message, description }', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const url = (path: string) => `${server.url}/api/fs/consent/authorize${path}`;
    const call = (path: string, init: RequestInit = {}) => fetch(url(path), { ...init, headers: { authorization: AUTH, ...(init.headers as Record<string, string>) }, redirect: 'manual' });
    const json = { 'content-type': 'application/json' };
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['bad JSON', call(`/persist/${key}`, { method: 'PATCH', headers: json, body: '{"approval":' }), 400, 'invalid_request'],
      ['null body', call(`/persist/${key}`, { method: 'PATCH', headers: json, body: 'null' }), 400, 'invalid_request'],
      ['string body', call(`/persist/${key}`, { method: 'PATCH', headers: json, body: '"true"' }), 400, 'invalid_request'],
      ['array body', call(`/persist/${key}`, { method: 'PATCH', headers: json, body: '[]' }), 400, 'invalid_request'],
      ['too large', call(`/persist/${key}`, { method: 'PATCH', headers: json, body: JSON.stringify({ approval: true, metadata: { x: 'x'.repeat(2_000_000) } }) }), 413, 'payload_too_large'],
      ['wrong method', call(`/persist/${key}`, { method: 'POST', headers: json, body: '{}' }), 405, 'method_not_allowed'],
      ['wrong method on retrieve', call(`/retrieve/${key}`, { method: 'DELETE' }), 405, 'method_not_allowed'],
      ['missing key', call('/retrieve/'), 404, 'not_found'],
      ['missing key on persist', call('/persist', { method: 'PATCH', headers: json, body: '{}' }), 404, 'not_found'],
      ['wrong content type', call(`/persist/${key}`, { method: 'PATCH', headers: { 'content-type': 'text/plain' }, body: '{"approval":true}' }), 415, 'unsupported_media_type'],
      ['form content type', call(`/persist/${key}`, { method: 'PATCH', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'approval=true' }), 415, 'unsupported_media_type'],
      ['bad authorize', call(`/persist/${key}?authorize=maybe`, { method: 'PATCH', headers: json, body: '{"approval":false}' }), 400, 'invalid_request'],
    ];
    for (const [name, pending, status, code] of cases) {
      const res = await pending;
      assert.equal(res.status, status, name);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['code', 'description', 'message'], name);
      assert.equal(body.code, code, name);
    }
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received', 'an error changed the consent');
    assert.equal((await retrieve(key)).status, 200, 'an error spent the key');
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

  test('a cookie-less client following persist\'s redirects lands at the TPP with code, state and iss', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    // the bank UI's backend: no cookies of Assent's, follows every redirect (the TPP's URI is not served)
    let url = `${server.url}/api/fs/consent/authorize/persist/${key}`;
    let res = await persist(key, { approval: 'true', accountIds: [ALICE.salary.accountId] });
    const hops: string[] = [];
    while (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      hops.push(url);
      if (url.startsWith(tpp.redirectUri)) break;
      assert.ok(hops.length < 5, `redirect loop: ${hops.join(' → ')}`);
      res = await fetch(url, { redirect: 'manual' });
    }
    const location = new URL(hops.at(-1) ?? 'http://none/');
    assert.equal(location.origin + location.pathname, tpp.redirectUri, hops.join(' → '));
    assert.equal(hops.length, 1, 'persist answered the TPP directly');
    assert.equal(location.searchParams.get('state'), flow.state);
    assert.equal(location.searchParams.get('iss'), server.issuer);
    const code = location.searchParams.get('code');
    assert.ok(code);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await introspect(server, tpp, tokens.json.access_token as string)).consent_id, flow.consentId);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
  });

  test('persist without cookies, denied: 302 straight to the TPP with access_denied; the key is spent', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    const res = await persist(key, { approval: false });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin + location.pathname, tpp.redirectUri);
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('state'), flow.state);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'rejected');
    assert.equal((await persist(key, { approval: true })).status, 404);
  });

  test('allowMultipleAccounts false: two accounts are 400 and change nothing, one is granted', async () => {
    const flow = await startFlow(server, tpp, accountsBody([ALICE.salary, ALICE.savings], { frequencyPerDay: 3 }));
    const { key } = await toConsentUi(flow);
    const retrieved = (await (await retrieve(key)).json()) as { consentData: { allowMultipleAccounts?: boolean } };
    assert.equal(retrieved.consentData.allowMultipleAccounts, false);
    const both = await persist(key, { approval: 'true', accountIds: [ALICE.salary.accountId, ALICE.savings.accountId] });
    assert.equal(both.status, 400);
    assert.deepEqual(Object.keys((await both.json()) as object).sort(), ['code', 'description', 'message']);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
    const one = await persist(key, { approval: 'true', accountIds: [ALICE.savings.accountId] });
    assert.equal(one.status, 302);
    assert.ok(new URL(one.headers.get('location')!).searchParams.get('code'));
    const consent = await server.assent.consents.get(flow.consentId);
    assert.equal(consent?.status, 'valid');
    assert.deepEqual(consent?.grantedAccounts?.map((a) => a.accountId), [ALICE.savings.accountId]);
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

describe('a step\'s outcome on the API (docs/plugins.md, "Errors")', () => {
  afterEach(() => {
    retrievalFailure = undefined;
    persistFailure = undefined;
  });

  const fsError = async (res: Response) => {
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['code', 'description', 'message']);
    return body;
  };

  const refusals: Array<[StepErrorCode, number, string]> = [
    ['invalid_request', 400, 'invalid_request'],
    ['consent_conflict', 409, 'consent_unavailable'],
    ['temporarily_unavailable', 503, 'temporarily_unavailable'],
  ];
  for (const [stepCode, status, code] of refusals) {
    test(`${stepCode}: retrieve and an approving persist answer ${status} ${code} with the description; nothing changes, the key stays usable`, async () => {
      const flow = await startFlow(server, tpp);
      const { key } = await toConsentUi(flow);
      retrievalFailure = () => new StepError(stepCode, 'Sharing is paused on this account.');
      const res = await retrieve(key);
      assert.equal(res.status, status);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await fsError(res);
      assert.equal(body.code, code);
      assert.equal(body.description, 'Sharing is paused on this account.');
      // persist runs the retrieval steps to read the selection: the same answer
      const persisted = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
      assert.equal(persisted.status, status);
      assert.equal((await fsError(persisted)).code, code);
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
      retrievalFailure = undefined;
      assert.equal((await retrieve(key)).status, 200, 'the key was spent');
      const approved = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
      assert.equal(approved.status, 302);
      assert.ok(new URL(approved.headers.get('location')!).searchParams.get('code'));
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
    });
  }

  for (const [stepCode, status, code] of [...refusals, ['plain Error', 500, 'server_error'] as const]) {
    test(`a persist step's ${stepCode}: persist answers ${status} ${code}; nothing changes, the key stays usable`, async () => {
      const flow = await startFlow(server, tpp);
      const { key } = await toConsentUi(flow);
      persistFailure = () => (stepCode === 'plain Error' ? new Error('secret internal detail') : new StepError(stepCode, 'Sharing is paused on this account.'));
      const res = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
      assert.equal(res.status, status);
      const body = await fsError(res);
      assert.equal(body.code, code);
      assert.equal(body.description, stepCode === 'plain Error' ? 'An unexpected error occurred' : 'Sharing is paused on this account.');
      const consent = await server.assent.consents.get(flow.consentId);
      assert.equal(consent?.status, 'received');
      assert.equal(consent?.grantId, undefined);
      persistFailure = undefined;
      const approved = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
      assert.equal(approved.status, 302, 'the key was spent');
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'valid');
    });
  }

  test('access_denied: retrieve ends the authorization: 302 to the TPP with access_denied and the description; consent rejected, SCA failed; the key is spent', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    retrievalFailure = () => new StepError('access_denied', 'Sharing is blocked on this account.');
    const res = await fetch(`${server.url}/api/fs/consent/authorize/retrieve/${key}`, { headers: { authorization: AUTH }, redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin + location.pathname, tpp.redirectUri);
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('error_description'), 'Sharing is blocked on this account.');
    assert.equal(location.searchParams.get('state'), flow.state);
    assert.equal(location.searchParams.get('code'), null);
    const consent = await server.assent.consents.get(flow.consentId);
    assert.equal(consent?.status, 'rejected');
    assert.equal(consent?.authorisations[0]?.scaStatus, 'failed');
    assert.equal(consent?.history.at(-1)?.reason, 'Sharing is blocked on this account.');
    assert.equal((await retrieve(key)).status, 404);
    assert.equal((await persist(key, { approval: true })).status, 404);
  });

  test('access_denied during an approving persist with ?authorize=false: 200, not approved, the consent rejected', async () => {
    const flow = await startFlow(server, tpp);
    const { key } = await toConsentUi(flow);
    retrievalFailure = () => new StepError('access_denied', 'Sharing is blocked on this account.');
    const res = await persist(`${key}?authorize=false`, { approval: true, accountIds: [ALICE.salary.accountId] });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { consentId: flow.consentId, approval: false, consentStatus: 'rejected' });
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'rejected');
  });

  test('anything else (a plain Error, a wrong shape): 500 server_error without details, logged with the step; nothing decided', async () => {
    for (const [name, failure, logged] of [
      ['plain Error', () => new Error('secret internal detail'), /secret internal detail/],
      ['wrong shape', 'wrong-shape', /retrieval step \\"test\.failing-retrieval\\" wrote an invalid data\.accounts\.0\.selected/],
    ] as const) {
      const flow = await startFlow(server, tpp);
      const { key } = await toConsentUi(flow);
      retrievalFailure = failure;
      const from = server.logs.length;
      const res = await retrieve(key);
      assert.equal(res.status, 500, name);
      const body = await fsError(res);
      assert.equal(body.code, 'server_error', name);
      assert.doesNotMatch(JSON.stringify(body), /secret|test\.failing-retrieval/, name);
      assert.ok(server.logs.slice(from).some((l) => logged.test(l)), `${name}: not logged`);
      assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received', name);
      retrievalFailure = undefined;
      assert.equal((await retrieve(key)).status, 200, `${name}: the key was spent`);
    }
  });
});

/** The retrieve sample of ../shared/seeds/002_65a428b32eb9a9fc.txt, verbatim. */
const SEED_RETRIEVE_SAMPLE = {
  consentData: {
    permissions: [{ uid: '3c42210b-5eb8-40e2-a712-5c759a1773ef', displayValues: ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail'] }],
    allowMultipleAccounts: true,
    type: 'accounts',
    basicConsentData: {
      'Transaction From Date Time': ['2026-04-16T11:36:10.955194+05:30'],
      'Transaction To Date Time': ['2026-04-19T11:36:10.955271+05:30'],
      'Expiration Date Time': ['2026-04-21T11:36:10.954581+05:30'],
    },
  },
  application: 'oQ4KoaavpOuoE7rvQsZEOV',
  consumerData: {
    accounts: [
      { accountId: '30080012343456', displayName: 'Salary Saver Account', selected: false },
      { accountId: '30080098763459', displayName: 'Max Bonus Account', selected: false },
    ],
  },
  type: 'accounts',
};
