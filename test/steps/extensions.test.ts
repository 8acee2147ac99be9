/**
 * Step extensions over HTTP against a real extension server (node:http on a loopback port): every hook
 * (populate_consent_authorize_screen, persist_authorized_consent, validate_consent_access,
 * pre_process_consent_creation), Basic and client_credentials auth, and the failures — a timeout, a 500,
 * a malformed answer — each failing closed with nothing stored. The calls are logged without personal data.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientCredentialsToken, makeSecretClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, CookieJar, accountsBody, bg, startFlow, type StartedFlow } from '../support/tpp.ts';
import { extensionsOpenApi, HOOKS, requestEnvelope, type Hook } from '../../src/steps/extensions/schemas.ts';

const UI = 'https://bank-ui.example/consent';
const INTERNAL = { username: 'bank-ui', password: 'bank-ui-password-0123' };
const BASIC = `Basic ${Buffer.from(`${INTERNAL.username}:${INTERNAL.password}`).toString('base64')}`;
const EXT_BASIC = { username: 'assent', password: 'extension-secret' };
const EXT_CLIENT = { clientId: 'assent-ext', clientSecret: 'ext-client-secret' };

type Behaviour = 'success' | 'error' | 'timeout' | '500' | 'malformed';

/** The bank's extension server: records what it got, answers as told. */
class ExtensionServer {
  readonly calls: Array<{ hook: Hook; authorization: string; body: any }> = [];
  readonly behaviour: Partial<Record<Hook, Behaviour>> = {};
  /** what a SUCCESS answer carries, per hook */
  readonly data: Partial<Record<Hook, unknown>> = {};
  tokensIssued = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  callsOf(hook: Hook) {
    return this.calls.filter((c) => c.hook === hook);
  }

  async #handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const authorization = req.headers.authorization ?? '';
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.url === '/token') {
      const expected = `Basic ${Buffer.from(`${EXT_CLIENT.clientId}:${EXT_CLIENT.clientSecret}`).toString('base64')}`;
      if (authorization !== expected || !text.includes('grant_type=client_credentials')) return send(401, { error: 'invalid_client' });
      this.tokensIssued++;
      return send(200, { access_token: 'ext-token-1', token_type: 'Bearer', expires_in: 300 });
    }
    const hook = req.url?.slice(1) as Hook;
    if (!HOOKS.includes(hook)) return send(404, {});
    const body = JSON.parse(text);
    this.calls.push({ hook, authorization, body });
    const wanted = hook === 'persist_authorized_consent' ? 'Bearer ext-token-1' : `Basic ${Buffer.from(`${EXT_BASIC.username}:${EXT_BASIC.password}`).toString('base64')}`;
    if (authorization !== wanted) return send(401, {});
    // every request is what the served OpenAPI document says it is
    assert.ok(requestEnvelope(hook).safeParse(body).success, `a ${hook} request outside its schema`);
    switch (this.behaviour[hook] ?? 'success') {
      case 'timeout':
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return send(200, { responseId: body.requestId, status: 'SUCCESS', data: {} });
      case '500':
        return send(500, { oops: true });
      case 'malformed':
        return send(200, { responseId: body.requestId, status: 'SUCCESS', data: { unexpected: 'field' } });
      case 'error':
        return send(200, { responseId: body.requestId, status: 'ERROR', errorMessage: 'Refused by the bank rules.', path: 'access.accounts[0]' });
      default:
        return send(200, { responseId: body.requestId, status: 'SUCCESS', data: this.data[hook] ?? (hook === 'validate_consent_access' ? { isValid: true } : {}) });
    }
  }
}

const ext = new ExtensionServer();
let server: TestServer;
let tpp: TestClient;

before(async () => {
  await ext.start();
  tpp = makeSecretClient('ext-tpp');
  const endpoint = (hook: Hook) => ({
    url: `${ext.url}/${hook}`,
    auth:
      hook === 'persist_authorized_consent'
        ? { type: 'client_credentials' as const, tokenUrl: `${ext.url}/token`, ...EXT_CLIENT }
        : { type: 'basic' as const, ...EXT_BASIC },
    timeoutMs: 300,
    retries: 1,
  });
  server = await startTestServer({
    clients: [tpp.config],
    profile: 'demo',
    consentPageUrl: UI,
    internalApi: INTERNAL,
    extensions: Object.fromEntries(HOOKS.map((hook) => [hook, endpoint(hook)])),
  });
});
after(async () => {
  await server.stop();
  await ext.stop();
});
beforeEach(() => {
  for (const hook of HOOKS) {
    delete ext.behaviour[hook];
    delete ext.data[hook];
  }
  ext.calls.length = 0;
});

/** Logs in through Assent and follows to the bank UI; returns the sessionDataKey. */
async function toConsentUi(flow: StartedFlow): Promise<string> {
  const jar = new CookieJar();
  let res = await jar.fetch(flow.link.href);
  let location = new URL(res.headers.get('location')!, server.url).href;
  res = await jar.fetch(location);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  res = await jar.fetch(`${location}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrf: csrf! }).toString(),
  });
  for (let i = 0; i < 5; i++) {
    location = new URL(res.headers.get('location')!, server.url).href;
    if (location.startsWith(UI)) break;
    res = await jar.fetch(location);
  }
  return new URL(location).searchParams.get('sessionDataKey')!;
}

const retrieve = (key: string) => fetch(`${server.url}/api/fs/consent/authorize/retrieve/${key}`, { headers: { authorization: BASIC } });
const persist = (key: string, body: unknown) =>
  fetch(`${server.url}/api/fs/consent/authorize/persist/${key}`, {
    method: 'PATCH',
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual',
  });
const validate = (consentId: string) =>
  fetch(`${server.url}/api/fs/consent/validate`, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: JSON.stringify({ consentId, clientId: tpp.clientId, method: 'GET', resourcePath: `/psd2/accountinformation/v1/accounts/${ALICE.salary.accountId}/balances` }),
  });

async function ccToken(): Promise<string> {
  return (await clientCredentialsToken(server, tpp)).json.access_token as string;
}

async function approvedConsent(): Promise<string> {
  const flow = await startFlow(server, tpp);
  const key = await toConsentUi(flow);
  const res = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
  assert.equal(res.status, 302, await res.text());
  return flow.consentId;
}

describe('step extensions over HTTP', () => {
  test('the extension API is served as an OpenAPI document built from the schemas Assent checks', async () => {
    const res = await fetch(`${server.url}/api/fs/extensions/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), HOOKS.map((h) => `/${h}`).sort());
    assert.deepEqual(doc, JSON.parse(JSON.stringify(extensionsOpenApi())));
  });

  test('pre_process_consent_creation: SUCCESS lets the consent be created; ERROR refuses it with FORMAT_ERROR at its path, nothing stored', async () => {
    const token = await ccToken();
    const ok = await bg(server, token, 'POST', '/consents', accountsBody([ALICE.salary]));
    assert.equal(ok.status, 201);
    const [call] = ext.callsOf('pre_process_consent_creation');
    assert.equal(call?.body.data.clientId, tpp.clientId);
    assert.equal(call?.body.data.frequencyPerDay, 4);

    ext.behaviour.pre_process_consent_creation = 'error';
    const before = (await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
    const refused = await bg(server, token, 'POST', '/consents', accountsBody([ALICE.salary]));
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.tppMessages, [{ category: 'ERROR', code: 'FORMAT_ERROR', path: 'access.accounts[0]', text: 'Refused by the bank rules.' }]);
    const after = (await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
    assert.equal(after, before);
  });

  test('populate_consent_authorize_screen: notices, one account only, an unselectable account, data for custom views', async () => {
    ext.data.populate_consent_authorize_screen = {
      notices: [{ level: 'info', text: 'Your bank reviews new providers.' }],
      allowMultipleAccounts: false,
      unselectableAccountIds: [ALICE.savings.accountId],
      additionalData: { riskScore: 'low' },
    };
    const flow = await startFlow(server, tpp);
    const key = await toConsentUi(flow);
    const res = await retrieve(key);
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.consentData.allowMultipleAccounts, false);
    const savings = body.consumerData.accounts.find((a: { accountId: string }) => a.accountId === ALICE.savings.accountId);
    assert.equal(savings.selected, false);
    const [call] = ext.callsOf('populate_consent_authorize_screen');
    assert.equal(call?.body.data.consent.id, flow.consentId);
    assert.equal(call?.body.data.psuId, 'psu-alice');
    const sent = call?.body.data.accounts.map((a: { accountId: string }) => a.accountId) as string[];
    assert.ok(sent.includes(ALICE.salary.accountId) && sent.includes(ALICE.savings.accountId), JSON.stringify(sent));
    // the unselectable account cannot be granted
    const refused = await persist(key, { approval: true, accountIds: [ALICE.savings.accountId] });
    assert.equal(refused.status, 400);
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'received');
  });

  test('persist_authorized_consent (client_credentials): SUCCESS stores the approval; ERROR rejects the consent', async () => {
    const consentId = await approvedConsent();
    assert.equal((await server.assent.consents.get(consentId))?.status, 'valid');
    const [call] = ext.callsOf('persist_authorized_consent');
    assert.equal(call?.authorization, 'Bearer ext-token-1');
    assert.equal(call?.body.data.approved, true);
    assert.deepEqual(call?.body.data.selectedAccountIds, [ALICE.salary.accountId]);
    assert.deepEqual(call?.body.data.grantedAccounts, [{ accountId: ALICE.salary.accountId, access: ['accounts', 'balances', 'transactions'] }]);
    assert.ok(ext.tokensIssued >= 1);

    ext.behaviour.persist_authorized_consent = 'error';
    const flow = await startFlow(server, tpp);
    const key = await toConsentUi(flow);
    const res = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal((await server.assent.consents.get(flow.consentId))?.status, 'rejected');
  });

  test('validate_consent_access: the bank may refuse what Assent allowed (RESOURCE_UNKNOWN), or allow it', async () => {
    const consentId = await approvedConsent();
    const allowed = (await (await validate(consentId)).json()) as { isValid: boolean };
    assert.equal(allowed.isValid, true);
    ext.data.validate_consent_access = { isValid: false, errorCode: 'RESOURCE_UNKNOWN' };
    const refused = (await (await validate(consentId)).json()) as { isValid: boolean; httpCode: number; errorCode: string };
    assert.deepEqual([refused.isValid, refused.httpCode, refused.errorCode], [false, 403, 'RESOURCE_UNKNOWN']);
    const [call] = ext.callsOf('validate_consent_access');
    assert.equal(call?.body.data.consent.id, consentId);
    assert.equal(call?.body.data.method, 'GET');
  });

  for (const failure of ['timeout', '500', 'malformed'] as const) {
    test(`a ${failure} fails closed: persist 503 with nothing stored (after a retry), creation 503, validation 503 not valid`, async () => {
      const flow = await startFlow(server, tpp);
      const key = await toConsentUi(flow);
      ext.behaviour.persist_authorized_consent = failure;
      const res = await persist(key, { approval: true, accountIds: [ALICE.salary.accountId] });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { code: string }).code, 'temporarily_unavailable');
      assert.equal(ext.callsOf('persist_authorized_consent').length, 2, 'one retry');
      const consent = await server.assent.consents.get(flow.consentId);
      assert.equal(consent?.status, 'received');
      assert.equal(consent?.grantedAccounts, undefined);
      assert.equal((await retrieve(key)).status, 200, 'the key is still usable: nothing was decided');

      ext.behaviour.pre_process_consent_creation = failure;
      const token = await ccToken();
      const before = (await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
      const created = await bg(server, token, 'POST', '/consents', accountsBody([ALICE.salary]));
      assert.equal(created.status, 503);
      const after = (await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
      assert.equal(after, before);

      delete ext.behaviour.persist_authorized_consent;
      delete ext.behaviour.pre_process_consent_creation;
      const approved = await approvedConsent();
      ext.behaviour.validate_consent_access = failure;
      const validated = await validate(approved);
      assert.equal(validated.status, 503);
      assert.equal(((await validated.json()) as { isValid: boolean }).isValid, false);
    });
  }

  test('every call is logged with the hook, attempt and outcome, and nothing about the customer or the request', async () => {
    await approvedConsent();
    const lines = server.logs.filter((l) => l.includes('"extension"'));
    assert.ok(lines.length > 0);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.ok(HOOKS.includes(entry.extension as Hook));
      assert.equal(typeof entry.attempt, 'number');
      assert.equal(typeof entry.outcome, 'string');
      for (const secret of ['psu-alice', ALICE.salary.iban, ALICE.salary.accountId, EXT_BASIC.password, 'ext-token-1', EXT_CLIENT.clientSecret]) {
        assert.ok(!line.includes(secret), `a log line carries ${secret}: ${line}`);
      }
    }
  });
});
