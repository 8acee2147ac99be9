/**
 * The Open Finance Brasil Consents API 3.3.1 on real Redis and FerretDB: create, read, revoke,
 * extensions, every error of the spec, cross-TPP access, the FAPI headers, the lifecycle by the sweeper.
 * Every answer is validated against consents-3.3.1.yml (helpers.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSecretClient, startTestServer, type TestServer, changeStoredConsent } from '../../support/assent.ts';
import { BR_DATA_GROUPS } from '../../../src/consent/br-permissions.ts';
import { BALANCES, CNPJ, CPF, PF, PJ, assertErrors, br, consentBody, consentsToken, inDays } from './helpers.ts';

let server: TestServer;
let token: string;
let otherToken: string;
let bgToken: string;

before(async () => {
  const tpp = makeSecretClient('br-tpp', { scope: 'openid offline_access consents' });
  const other = makeSecretClient('br-other', { scope: 'openid offline_access consents' });
  const bgOnly = makeSecretClient('br-bg-only');
  server = await startTestServer({ clients: [tpp.config, other.config, bgOnly.config] });
  token = await consentsToken(server, tpp);
  otherToken = await consentsToken(server, other);
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`br-bg-only:${bgOnly.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=accountinformation',
  });
  bgToken = ((await res.json()) as { access_token: string }).access_token;
});
after(() => server.stop());

async function create(data: Record<string, unknown> = {}, t = token) {
  const res = await br(server, 'POST', '/consents', { token: t, json: consentBody(data) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data.consentId as string;
}

describe('POST /consents', () => {
  test('201: a URN id, AWAITING_AUTHORISATION, the permissions and expiry, links.self, meta', async () => {
    const expirationDateTime = inDays(30);
    const res = await br(server, 'POST', '/consents', {
      token,
      json: consentBody({ expirationDateTime }),
      headers: { 'x-fapi-customer-ip-address': '198.51.100.7', 'x-customer-user-agent': 'Mozilla/5.0', 'x-fapi-auth-date': 'Sun, 10 Sep 2017 19:43:31 GMT' },
    });
    assert.equal(res.status, 201);
    const { data, links, meta } = res.body;
    assert.match(data.consentId, /^urn:assent:[0-9a-f-]{36}$/);
    assert.equal(data.status, 'AWAITING_AUTHORISATION');
    assert.deepEqual(data.permissions, BALANCES);
    assert.equal(data.expirationDateTime, expirationDateTime);
    assert.equal(data.creationDateTime, data.statusUpdateDateTime);
    assert.equal(links.self, `${new URL(server.issuer).origin}/open-banking/consents/v3/consents/${data.consentId}`);
    assert.deepEqual({ totalRecords: meta.totalRecords, totalPages: meta.totalPages }, { totalRecords: 1, totalPages: 1 });
    const stored = await server.assent.stores.consents.findById(data.consentId);
    assert.equal(stored?.type, 'br-data-sharing');
    assert.equal(stored?.status, 'AWAITING_AUTHORISATION');
  });

  test('without expirationDateTime the consent is indefinite (no expirationDateTime in the answer)', async () => {
    const res = await br(server, 'POST', '/consents', { token, json: { data: { loggedUser: PF, permissions: BALANCES } } });
    assert.equal(res.status, 201);
    assert.equal(res.body.data.expirationDateTime, undefined);
  });

  test('a business consent with businessEntity', async () => {
    const res = await br(server, 'POST', '/consents', {
      token,
      json: consentBody({ businessEntity: PJ, permissions: ['CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', 'RESOURCES_READ'] }),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const stored = await server.assent.stores.consents.query({ document: CNPJ }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 5 });
    assert.equal(stored.total, 1);
  });

  const rules: Array<[string, Record<string, unknown>, string]> = [
    ['half a group', { permissions: ['ACCOUNTS_READ', 'RESOURCES_READ'] }, 'COMBINACAO_PERMISSOES_INCORRETA'],
    ['no RESOURCES_READ', { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ'] }, 'COMBINACAO_PERMISSOES_INCORRETA'],
    ['PF and PJ together', { businessEntity: PJ, permissions: ['CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ', 'CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', 'RESOURCES_READ'] }, 'PERMISSAO_PF_PJ_EM_CONJUNTO'],
    ['PJ without businessEntity', { permissions: ['CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', 'RESOURCES_READ'] }, 'INFORMACOES_PJ_NAO_INFORMADAS'],
    ['expiry in the past', { expirationDateTime: inDays(-1) }, 'DATA_EXPIRACAO_INVALIDA'],
    ['expiry past 12 months', { expirationDateTime: inDays(367) }, 'DATA_EXPIRACAO_INVALIDA'],
  ];
  for (const [name, data, code] of rules) {
    test(`422 ${code}: ${name}; nothing stored`, async () => {
      const before = await server.assent.stores.consents.query({ clientId: 'br-tpp' }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
      assertErrors(await br(server, 'POST', '/consents', { token, json: consentBody(data) }), 422, code);
      const after = await server.assent.stores.consents.query({ clientId: 'br-tpp' }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
      assert.equal(after.total, before.total);
    });
  }

  const bad: Array<[string, unknown, number, string]> = [
    ['invalid CPF', consentBody({ loggedUser: { document: { identification: '52998224724', rel: 'CPF' } } }), 400, 'PARAMETRO_INVALIDO'],
    ['invalid CNPJ', consentBody({ businessEntity: { document: { identification: '11222333000182', rel: 'CNPJ' } } }), 400, 'PARAMETRO_INVALIDO'],
    ['unknown permission', consentBody({ permissions: [...BALANCES, 'NOPE'] }), 400, 'PARAMETRO_INVALIDO'],
    ['unknown field', consentBody({ purpose: 'x' }), 400, 'PARAMETRO_INVALIDO'],
    ['missing loggedUser', { data: { permissions: BALANCES } }, 400, 'PARAMETRO_NAO_INFORMADO'],
    ['expiry with an offset', consentBody({ expirationDateTime: '2030-01-01T00:00:00-03:00' }), 400, 'PARAMETRO_INVALIDO'],
  ];
  for (const [name, json, status, code] of bad) {
    test(`${status} ${code}: ${name}`, async () => {
      assertErrors(await br(server, 'POST', '/consents', { token, json }), status, code);
    });
  }

  // the permission / CPF / CNPJ / date table through the API: status, code, what is stored
  const group = (id: string) => [...BR_DATA_GROUPS.find((g) => g.id === id)!.permissions];
  const table: Array<[string, Record<string, unknown>, 201 | 400 | 422, string?]> = [
    ['one whole group', {}, 201],
    ['three groups sharing ACCOUNTS_READ', { permissions: [...new Set([...BALANCES, ...group('accounts-limits'), ...group('accounts-transactions')])] }, 201],
    ['credit operations whole', { permissions: group('credit-operations') }, 201],
    ['investments whole', { permissions: group('investments') }, 201],
    ['exchanges', { permissions: group('exchanges') }, 201],
    ['credit card bills whole', { permissions: group('credit-cards-bills') }, 201],
    ['personal registration data', { permissions: group('customers-personal-identifications') }, 201],
    ['business data with businessEntity', { businessEntity: PJ, permissions: group('customers-business-additional-info') }, 201],
    ['accounts for a company', { businessEntity: PJ }, 201],
    ['expiry 364 days ahead', { expirationDateTime: inDays(364) }, 201],
    ['indefinite (no expiry)', { expirationDateTime: undefined }, 201],
    ['only RESOURCES_READ', { permissions: ['RESOURCES_READ'] }, 422, 'COMBINACAO_PERMISSOES_INCORRETA'],
    ['credit operations missing one', { permissions: group('credit-operations').filter((p) => p !== 'LOANS_PAYMENTS_READ') }, 422, 'COMBINACAO_PERMISSOES_INCORRETA'],
    ['bills without bill transactions', { permissions: ['CREDIT_CARDS_ACCOUNTS_READ', 'CREDIT_CARDS_ACCOUNTS_BILLS_READ', 'RESOURCES_READ'] }, 422, 'COMBINACAO_PERMISSOES_INCORRETA'],
    ['investments without funds', { permissions: group('investments').filter((p) => p !== 'FUNDS_READ') }, 422, 'COMBINACAO_PERMISSOES_INCORRETA'],
    ['business additional info without businessEntity', { permissions: group('customers-business-additional-info') }, 422, 'INFORMACOES_PJ_NAO_INFORMADAS'],
    ['personal and business additional info together', { businessEntity: PJ, permissions: ['CUSTOMERS_PERSONAL_ADITTIONALINFO_READ', 'CUSTOMERS_BUSINESS_ADITTIONALINFO_READ', 'RESOURCES_READ'] }, 422, 'PERMISSAO_PF_PJ_EM_CONJUNTO'],
    ['expiry a minute ago', { expirationDateTime: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') }, 422, 'DATA_EXPIRACAO_INVALIDA'],
    ['expiry 13 months ahead', { expirationDateTime: inDays(396) }, 422, 'DATA_EXPIRACAO_INVALIDA'],
    ['expiry not a real date', { expirationDateTime: '2027-02-30T00:00:00Z' }, 400, 'PARAMETRO_INVALIDO'],
    ['expiry with milliseconds', { expirationDateTime: new Date(Date.now() + 86_400_000).toISOString() }, 400, 'PARAMETRO_INVALIDO'],
    ['CPF of one repeated digit', { loggedUser: { document: { identification: '11111111111', rel: 'CPF' } } }, 400, 'PARAMETRO_INVALIDO'],
    ['CPF with punctuation', { loggedUser: { document: { identification: '529.982.247-25', rel: 'CPF' } } }, 400, 'PARAMETRO_INVALIDO'],
    ['CPF too short', { loggedUser: { document: { identification: '5299822472', rel: 'CPF' } } }, 400, 'PARAMETRO_INVALIDO'],
    ['rel not CPF', { loggedUser: { document: { identification: CPF, rel: 'RG' } } }, 400, 'PARAMETRO_INVALIDO'],
    ['CNPJ of one repeated digit', { businessEntity: { document: { identification: '11111111111111', rel: 'CNPJ' } } }, 400, 'PARAMETRO_INVALIDO'],
    ['businessEntity rel not CNPJ', { businessEntity: { document: { identification: CNPJ, rel: 'CPF' } } }, 400, 'PARAMETRO_INVALIDO'],
    ['repeated permission', { permissions: [...BALANCES, 'ACCOUNTS_READ'] }, 400, 'PARAMETRO_INVALIDO'],
    ['empty permissions', { permissions: [] }, 400, 'PARAMETRO_INVALIDO'],
    ['a payment permission', { permissions: [...BALANCES, 'PAYMENTS_INITIATE'] }, 400, 'PARAMETRO_INVALIDO'],
  ];
  for (const [name, data, status, code] of table) {
    test(`table: ${name} → ${status}${code ? ` ${code}` : ''}`, async () => {
      const body = consentBody(data);
      if ('expirationDateTime' in data && data.expirationDateTime === undefined) delete (body.data as Record<string, unknown>).expirationDateTime;
      const before = await server.assent.stores.consents.query({ clientId: 'br-tpp' }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
      const res = await br(server, 'POST', '/consents', { token, json: body });
      const after = await server.assent.stores.consents.query({ clientId: 'br-tpp' }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
      if (status === 201) {
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const stored = await server.assent.stores.consents.findById(res.body.data.consentId);
        assert.deepEqual((stored?.details as { permissions: string[] }).permissions, (body.data as { permissions: string[] }).permissions);
        assert.equal(after.total, before.total + 1);
      } else {
        assertErrors(res, status, code!);
        assert.equal(after.total, before.total);
      }
    });
  }
  test('the table has at least 25 cases', () => assert.ok(table.length >= 25));

  test('400 for a body that is not JSON, 415 for another media type', async () => {
    assertErrors(await br(server, 'POST', '/consents', { token, raw: '{nope', headers: { 'content-type': 'application/json' } }), 400, 'PARAMETRO_INVALIDO');
    assertErrors(await br(server, 'POST', '/consents', { token, raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'FORMATO_NAO_SUPORTADO');
  });

  test('401 without a token or with a bad one; 403 with a token lacking the consents scope', async () => {
    const none = await br(server, 'POST', '/consents', { json: consentBody() });
    assertErrors(none, 401, 'NAO_AUTORIZADO');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assertErrors(await br(server, 'POST', '/consents', { token: 'not-a-token', json: consentBody() }), 401, 'NAO_AUTORIZADO');
    assertErrors(await br(server, 'POST', '/consents', { token: bgToken, json: consentBody() }), 403, 'PROIBIDO');
  });

  test('x-fapi headers: a missing interaction id is minted; malformed headers are 400', async () => {
    const minted = await br(server, 'POST', '/consents', { token, json: consentBody(), interactionId: null });
    assert.equal(minted.status, 201);
    assert.match(minted.interactionId!, /^[0-9a-f-]{36}$/);
    const badId = await br(server, 'POST', '/consents', { token, json: consentBody(), interactionId: 'not-a-uuid' });
    assertErrors(badId, 400, 'PARAMETRO_INVALIDO');
    assert.notEqual(badId.interactionId, 'not-a-uuid');
    for (const headers of [{ 'x-fapi-auth-date': 'yesterday' }, { 'x-fapi-customer-ip-address': 'not-an-ip' }, { 'x-customer-user-agent': 'a'.repeat(256) }] as Array<Record<string, string>>) {
      assertErrors(await br(server, 'POST', '/consents', { token, json: consentBody(), headers }), 400, 'PARAMETRO_INVALIDO');
    }
  });
});

describe('GET and DELETE /consents/{consentId}', () => {
  test('GET reads it back', async () => {
    const id = await create();
    const res = await br(server, 'GET', `/consents/${id}`, { token });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.consentId, id);
    assert.equal(res.body.data.status, 'AWAITING_AUTHORISATION');
  });

  test("another TPP's consent answers exactly like an unknown one", async () => {
    const id = await create();
    const foreign = await br(server, 'GET', `/consents/${id}`, { token: otherToken });
    const unknown = await br(server, 'GET', `/consents/urn:assent:00000000-0000-4000-8000-000000000000`, { token: otherToken });
    assertErrors(foreign, 404, 'NAO_ENCONTRADO');
    assert.equal(foreign.status, unknown.status);
    assert.deepEqual(foreign.body.errors, unknown.body.errors);
    assertErrors(await br(server, 'DELETE', `/consents/${id}`, { token: otherToken }), 404, 'NAO_ENCONTRADO');
    assert.equal((await server.assent.stores.consents.findById(id))?.status, 'AWAITING_AUTHORISATION');
    assertErrors(await br(server, 'GET', '/consents/not-a-urn', { token }), 404, 'NAO_ENCONTRADO');
  });

  test('DELETE: 204, REJECTED by the USER (CUSTOMER_MANUALLY_REJECTED); again: 422 CONSENTIMENTO_EM_STATUS_REJEITADO, nothing changes', async () => {
    const id = await create();
    const res = await br(server, 'DELETE', `/consents/${id}`, { token });
    assert.equal(res.status, 204);
    const read = await br(server, 'GET', `/consents/${id}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.deepEqual(read.body.data.rejection, { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REJECTED' } });
    const stored = await server.assent.stores.consents.findById(id);
    assertErrors(await br(server, 'DELETE', `/consents/${id}`, { token }), 422, 'CONSENTIMENTO_EM_STATUS_REJEITADO');
    assert.equal((await server.assent.stores.consents.findById(id))?.revision, stored?.revision);
  });

  test('concurrent DELETEs: one 204, the others 204 or 422, one history entry', async () => {
    const id = await create();
    const answers = await Promise.all(Array.from({ length: 6 }, () => br(server, 'DELETE', `/consents/${id}`, { token })));
    assert.ok(answers.some((a) => a.status === 204));
    for (const a of answers) assert.ok([204, 422].includes(a.status), String(a.status));
    const stored = await server.assent.stores.consents.findById(id);
    assert.equal(stored?.history.filter((h) => h.to === 'REJECTED').length, 1);
  });

  test('405 for other methods; 404 for other paths', async () => {
    const res = await br(server, 'PUT', '/consents', { token, json: {} });
    assertErrors(res, 405, 'METODO_NAO_PERMITIDO');
    assertErrors(await br(server, 'GET', '/nope', { token, unspecified: true }), 404, 'NAO_ENCONTRADO');
  });
});

describe('extensions', () => {
  test('GET /extensions: an empty list for a new consent; cross-TPP is 404', async () => {
    const id = await create();
    const res = await br(server, 'GET', `/consents/${id}/extensions`, { token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
    assert.equal(res.body.meta.totalRecords, 0);
    assertErrors(await br(server, 'GET', `/consents/${id}/extensions`, { token: otherToken }), 404, 'NAO_ENCONTRADO');
  });

  test('POST /extends refuses a client_credentials token (403: not the customer\'s token)', async () => {
    const id = await create();
    const res = await br(server, 'POST', `/consents/${id}/extends`, {
      token,
      json: { data: { loggedUser: PF, expirationDateTime: inDays(200) } },
      headers: { 'x-fapi-customer-ip-address': '198.51.100.7', 'x-customer-user-agent': 'Mozilla/5.0' },
    });
    assertErrors(res, 403, 'PROIBIDO');
    assertErrors(await br(server, 'POST', `/consents/${id}/extends`, { json: { data: { loggedUser: PF } } }), 401, 'NAO_AUTORIZADO');
  });
});

describe('lifecycle by the sweeper', () => {
  test('AWAITING_AUTHORISATION older than 60 minutes → REJECTED (ASPSP, CONSENT_EXPIRED); at 59 minutes it still awaits', async () => {
    const id = await create();
    const young = await create();
    // move the consents' creation back 61 and 59 minutes (no clock in the test), then run the sweeper once
    for (const [consentId, minutes] of [[id, 61], [young, 59]] as const) {
      const stored = (await server.assent.stores.consents.findById(consentId))!;
      await changeStoredConsent(server, consentId, { createdAt: new Date(stored.createdAt.getTime() - minutes * 60_000) });
    }
    assert.ok((await server.assent.consents.sweep()) >= 1);
    assert.equal((await br(server, 'GET', `/consents/${young}`, { token })).body.data.status, 'AWAITING_AUTHORISATION');
    assert.equal((await server.assent.stores.consents.findById(young))?.status, 'AWAITING_AUTHORISATION');
    const read = await br(server, 'GET', `/consents/${id}`, { token });
    assert.equal(read.body.data.status, 'REJECTED');
    assert.deepEqual(read.body.data.rejection, { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_EXPIRED' } });
  });
});

describe('OpenAPI', () => {
  test('GET /openapi.json serves the Consents API 3.3.1 with this server', async () => {
    const res = await fetch(`${server.url}/open-banking/consents/v3/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { info: { version: string }; servers: Array<{ url: string }> };
    assert.equal(doc.info.version, '3.3.1');
    assert.equal(doc.servers[0]?.url, `${new URL(server.issuer).origin}/open-banking/consents/v3`);
  });
});
