/**
 * Authorising an Open Finance Brasil consent on real Redis and FerretDB: PAR with scope
 * `openid consent:{consentId} accounts resources`, the customer whose CPF the consent names approves, the
 * tokens carry the consent; a TPP DELETE kills them at once. Another customer (CPF mismatch) gets
 * access_denied and the consent is REJECTED by the bank.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSecretClient, startTestServer, type TestClient, type TestServer, changeStoredConsent } from '../../support/assent.ts';
import { CookieJar, decideWithoutBrowser, exchangeCode, introspect } from '../../support/tpp.ts';
import { BALANCES, CNPJ, PF, PJ, assertErrors, br, consentBody, consentsToken, inDays, pushConsentAuthorization } from './helpers.ts';

const ALICE = { username: 'alice', password: 'alice-demo' }; // CPF 52998224725 (config/demo/customers.json)
const BRUNO = { username: 'bruno', password: 'bruno-demo' };

let server: TestServer;
let tpp: TestClient;
let token: string;

before(async () => {
  tpp = makeSecretClient('br-auth-tpp', { scope: 'openid offline_access consents accounts resources customers' });
  server = await startTestServer({ clients: [tpp.config] });
  token = await consentsToken(server, tpp);
});
after(() => server.stop());

function pushed(consentId: string, scope?: string) {
  return pushConsentAuthorization(server, tpp, consentId, token, scope);
}

async function createConsent(data: Record<string, unknown> = {}): Promise<string> {
  const res = await br(server, 'POST', '/consents', { token, json: consentBody(data) });
  assert.equal(res.status, 201);
  return res.body.data.consentId;
}

async function authorised(data: Record<string, unknown> = {}, customer = ALICE, scope?: (id: string) => string): Promise<{ consentId: string; accessToken: string }> {
  const consentId = await createConsent(data);
  const flow = await pushed(consentId, scope?.(consentId));
  const back = await decideWithoutBrowser(server, flow, 'approve', customer);
  const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { consentId, accessToken: tokens.json.access_token as string };
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


  test('AUTHORISED past expirationDateTime: the sweeper rejects it (CONSENT_MAX_DATE_REACHED) and the token dies', async () => {
    const { consentId, accessToken } = await authorised();
    await changeStoredConsent(server, consentId, { expiresAt: new Date(Date.now() - 1000) });
    assert.ok((await server.assent.consents.sweep()) >= 1);
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    const read = await br(server, 'GET', `/consents/${consentId}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.deepEqual(read.body.data.rejection, { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_MAX_DATE_REACHED' } });
  });
});

const CUSTOMER_HEADERS = { 'x-fapi-customer-ip-address': '198.51.100.7', 'x-customer-user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' };
const BRUNO_PF = { document: { identification: '11144477735', rel: 'CPF' } };
const BUSINESS = { loggedUser: BRUNO_PF, businessEntity: PJ, permissions: ['CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', 'RESOURCES_READ'] };

function extend(consentId: string, accessToken: string, data: Record<string, unknown>, headers: Record<string, string> = CUSTOMER_HEADERS) {
  return br(server, 'POST', `/consents/${consentId}/extends`, { token: accessToken, json: { data }, headers });
}

describe('POST /consents/{consentId}/extends and GET /extensions', () => {
  test('the consent\'s own token, the customer\'s CPF: 201 with the new expiry; GET reads it; the history lists every extension, newest first', async () => {
    const { consentId, accessToken } = await authorised();
    const before = await br(server, 'GET', `/consents/${consentId}`, { token });
    const first = inDays(200);
    const res = await extend(consentId, accessToken, { loggedUser: PF, expirationDateTime: first });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.data.consentId, consentId);
    assert.equal(res.body.data.status, 'AUTHORISED');
    assert.equal(res.body.data.expirationDateTime, first);
    assert.equal((await br(server, 'GET', `/consents/${consentId}`, { token })).body.data.expirationDateTime, first);

    const second = inDays(300);
    assert.equal((await extend(consentId, accessToken, { loggedUser: PF, expirationDateTime: second })).status, 201);
    const history = await br(server, 'GET', `/consents/${consentId}/extensions`, { token });
    assert.equal(history.status, 200);
    assert.equal(history.body.meta.totalRecords, 2);
    assert.deepEqual(history.body.data.map((e: { expirationDateTime: string }) => e.expirationDateTime), [second, first]);
    assert.deepEqual(history.body.data.map((e: { previousExpirationDateTime: string }) => e.previousExpirationDateTime), [first, before.body.data.expirationDateTime]);
    for (const entry of history.body.data) {
      assert.deepEqual(entry.loggedUser, PF);
      assert.equal(entry.xFapiCustomerIpAddress, '198.51.100.7');
      assert.equal(entry.xCustomerUserAgent, 'Mozilla/5.0 (X11; Linux x86_64)');
      assert.match(entry.requestDateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
    // the token still works: the consent stays AUTHORISED
    assert.equal((await introspect(server, tpp, accessToken)).active, true);
    // without expirationDateTime: indefinite from now on
    assert.equal((await extend(consentId, accessToken, { loggedUser: PF })).status, 201);
    assert.equal((await br(server, 'GET', `/consents/${consentId}`, { token })).body.data.expirationDateTime, undefined);
  });

  test('a company consent: the CPF and the CNPJ must both match', async () => {
    const { consentId, accessToken } = await authorised(BUSINESS, BRUNO, (id) => `openid consent:${id} customers resources`);
    const otherCnpj = { document: { identification: '11444777000161', rel: 'CNPJ' } };
    assertErrors(await extend(consentId, accessToken, { loggedUser: BRUNO_PF, businessEntity: otherCnpj, expirationDateTime: inDays(200) }), 422, 'ESTADO_CONSENTIMENTO_INVALIDO');
    assertErrors(await extend(consentId, accessToken, { loggedUser: BRUNO_PF, expirationDateTime: inDays(200) }), 422, 'ESTADO_CONSENTIMENTO_INVALIDO');
    assertErrors(await extend(consentId, accessToken, { loggedUser: PF, businessEntity: PJ, expirationDateTime: inDays(200) }), 422, 'ESTADO_CONSENTIMENTO_INVALIDO');
    assert.equal((await br(server, 'GET', `/consents/${consentId}/extensions`, { token })).body.meta.totalRecords, 0);
    const ok = await extend(consentId, accessToken, { loggedUser: BRUNO_PF, businessEntity: { document: { identification: CNPJ, rel: 'CNPJ' } }, expirationDateTime: inDays(200) });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const history = await br(server, 'GET', `/consents/${consentId}/extensions`, { token });
    assert.deepEqual(history.body.data[0].loggedUser, BRUNO_PF);
  });

  test('refused: another CPF (422), an earlier or too late date (422), missing customer headers (400), nothing recorded', async () => {
    const { consentId, accessToken } = await authorised();
    const stored = await server.assent.stores.consents.findById(consentId);
    assertErrors(await extend(consentId, accessToken, { loggedUser: BRUNO_PF, expirationDateTime: inDays(200) }), 422, 'ESTADO_CONSENTIMENTO_INVALIDO');
    assertErrors(await extend(consentId, accessToken, { loggedUser: PF, expirationDateTime: inDays(30) }), 422, 'DATA_EXPIRACAO_INVALIDA');
    assertErrors(await extend(consentId, accessToken, { loggedUser: PF, expirationDateTime: inDays(400) }), 422, 'DATA_EXPIRACAO_INVALIDA');
    assertErrors(await extend(consentId, accessToken, { loggedUser: PF, expirationDateTime: inDays(200) }, {}), 400, 'PARAMETRO_NAO_INFORMADO');
    assertErrors(await extend(consentId, accessToken, { expirationDateTime: inDays(200) }), 400, 'PARAMETRO_NAO_INFORMADO');
    assert.equal((await server.assent.stores.consents.findById(consentId))?.revision, stored?.revision);
  });

  test('the token of another consent is 403; a client_credentials token is 403; nothing recorded', async () => {
    const a = await authorised();
    const b = await authorised();
    assertErrors(await extend(a.consentId, b.accessToken, { loggedUser: PF, expirationDateTime: inDays(200) }), 403, 'PROIBIDO');
    assertErrors(await extend(a.consentId, token, { loggedUser: PF, expirationDateTime: inDays(200) }), 403, 'PROIBIDO');
    assert.equal((await server.assent.stores.consents.findById(a.consentId))?.details?.extensions, undefined);
  });

  test('a token granted without openid is 403; a consent no longer AUTHORISED cannot be extended (its token is dead: 401)', async () => {
    const noOpenid = await authorised({}, ALICE, (id) => `consent:${id} accounts resources`);
    assertErrors(await extend(noOpenid.consentId, noOpenid.accessToken, { loggedUser: PF, expirationDateTime: inDays(200) }), 403, 'PROIBIDO');
    const { consentId, accessToken } = await authorised();
    assert.equal((await br(server, 'DELETE', `/consents/${consentId}`, { token })).status, 204);
    assertErrors(await extend(consentId, accessToken, { loggedUser: PF, expirationDateTime: inDays(200) }), 401, 'NAO_AUTORIZADO');
  });
});
