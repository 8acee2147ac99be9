/**
 * Authorising an Open Finance Brasil consent on real Redis and FerretDB: PAR with scope
 * `openid consent:{consentId} accounts resources`, the customer whose CPF the consent names approves, the
 * tokens carry the consent; a TPP DELETE kills them at once. Another customer (CPF mismatch) gets
 * access_denied and the consent is REJECTED by the bank.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { clientAuth, makeSecretClient, pkce, postForm, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { CookieJar, decideWithoutBrowser, exchangeCode, introspect, type StartedFlow } from '../../support/tpp.ts';
import { BALANCES, br, consentBody, consentsToken } from './helpers.ts';

const ALICE = { username: 'alice', password: 'alice-demo' }; // CPF 52998224725 (config/demo/customers.json)
const BRUNO = { username: 'bruno', password: 'bruno-demo' };

let server: TestServer;
let tpp: TestClient;
let token: string;

before(async () => {
  tpp = makeSecretClient('br-auth-tpp', { scope: 'openid offline_access consents accounts resources' });
  server = await startTestServer({ clients: [tpp.config] });
  token = await consentsToken(server, tpp);
});
after(() => server.stop());

async function pushed(consentId: string, scope = `openid consent:${consentId} accounts resources`): Promise<StartedFlow & { par: { status: number; json: Record<string, unknown> } }> {
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const auth = await clientAuth(tpp, server.issuer);
  const par = await postForm(
    `${server.issuer}/par`,
    { client_id: tpp.clientId, response_type: 'code', scope, redirect_uri: tpp.redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', ...auth.form },
    auth.headers,
  );
  const link = new URL(`${server.issuer}/authorize`);
  link.searchParams.set('client_id', tpp.clientId);
  link.searchParams.set('request_uri', String(par.json.request_uri ?? ''));
  return { consentId, authorisationId: '', link, state, verifier, ccToken: token, par: { status: par.status, json: par.json } };
}

async function createConsent(): Promise<string> {
  const res = await br(server, 'POST', '/consents', { token, json: consentBody() });
  assert.equal(res.status, 201);
  return res.body.data.consentId;
}

describe('consent:{consentId} authorization', () => {
  test('the named customer approves: AUTHORISED, the token carries the consent; DELETE kills it at once', async () => {
    const consentId = await createConsent();
    const flow = await pushed(consentId);
    assert.equal(flow.par.status, 201, JSON.stringify(flow.par.json));
    const back = await decideWithoutBrowser(server, flow, 'approve', ALICE);
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    assert.equal(back.searchParams.get('state'), flow.state);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const accessToken = tokens.json.access_token as string;
    const before = await introspect(server, tpp, accessToken);
    assert.equal(before.active, true);
    assert.equal(before.consent_id, consentId);
    const read = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(read.body.data.status, 'AUTHORISED');
    assert.deepEqual(read.body.data.permissions, BALANCES);

    assert.equal((await br(server, 'DELETE', `/consents/${consentId}`, { token })).status, 204);
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    const ended = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.deepEqual(ended.body.data.rejection, { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } });
  });

  test('CPF mismatch: access_denied for the TPP, the consent REJECTED by the bank', async () => {
    const consentId = await createConsent();
    const back = await decideWithoutBrowser(server, await pushed(consentId), 'approve', BRUNO);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('code'), null);
    const read = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.equal(read.body.data.rejection.rejectedBy, 'ASPSP');
    assert.equal(read.body.data.rejection.reason.code, 'INTERNAL_SECURITY_REASON');
  });

  test('PAR refuses a consent that is unknown or no longer awaiting authorisation', async () => {
    const unknown = await pushed('urn:assent:00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.par.status, 400);
    const consentId = await createConsent();
    assert.equal((await br(server, 'DELETE', `/consents/${consentId}`, { token })).status, 204);
    const ended = await pushed(consentId);
    assert.equal(ended.par.status, 400);
    assert.match(String(ended.par.json.error_description), /not awaiting/);
  });

  test('My consents lists it in Portuguese; the customer withdraws it: REJECTED (USER, CUSTOMER_MANUALLY_REVOKED), the token dies', async () => {
    const consentId = await createConsent();
    const flow = await pushed(consentId);
    const back = await decideWithoutBrowser(server, flow, 'approve', ALICE);
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
    const accessToken = tokens.json.access_token as string;
    assert.equal((await introspect(server, tpp, accessToken)).active, true);

    const jar = new CookieJar();
    const base = `${server.url}/my-consents`;
    const pt = { 'accept-language': 'pt-BR' };
    let html = await (await jar.fetch(base, { headers: pt })).text();
    const csrf = () => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    let res = await jar.fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...pt },
      body: new URLSearchParams({ ...ALICE, csrf: csrf() }).toString(),
    });
    assert.equal(res.status, 303);
    html = await (await jar.fetch(base, { headers: pt })).text();
    assert.match(html, /Saldos das contas/);
    html = await (await jar.fetch(`${base}/${encodeURIComponent(consentId)}/revoke`, { headers: pt })).text();
    res = await jar.fetch(`${base}/${encodeURIComponent(consentId)}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...pt },
      body: new URLSearchParams({ csrf: csrf() }).toString(),
    });
    assert.equal(res.status, 303);
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    const read = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.deepEqual(read.body.data.rejection, { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } });
  });

  async function authorised(): Promise<{ consentId: string; accessToken: string }> {
    const consentId = await createConsent();
    const flow = await pushed(consentId);
    const back = await decideWithoutBrowser(server, flow, 'approve', ALICE);
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    return { consentId, accessToken: tokens.json.access_token as string };
  }

  test('AUTHORISED past expirationDateTime: the sweeper rejects it (CONSENT_MAX_DATE_REACHED) and the token dies', async () => {
    const { consentId, accessToken } = await authorised();
    const repo = server.assent.stores.consents as unknown as { consents: { updateOne(f: unknown, u: unknown): Promise<unknown> } };
    await repo.consents.updateOne({ _id: consentId }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    assert.ok((await server.assent.consents.sweep()) >= 1);
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    const read = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.deepEqual(read.body.data.rejection, { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_MAX_DATE_REACHED' } });
  });
});
