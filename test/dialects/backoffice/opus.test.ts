/**
 * The back-office at the Opus paths (/open-banking/oob-consents/…) on real Redis and FerretDB: the search
 * with the spec's filters and pagination, one consent, the active window, both revocation PATCHes, over
 * Berlin Group, Open Finance Brasil data sharing and payment consents; auth and errors. EVERY answer is
 * validated against the Opus spec (en-oasOOFDados.yml). One Brazilian consent is authorised for real,
 * so the revocation is seen to kill the TPP's token and to show in the TPP's own API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { clientAuth, makeSecretClient, pkce, postForm, type TestClient } from '../../support/assent.ts';
import { validateResponse } from '../../support/openapi.ts';
import { decideWithoutBrowser, exchangeCode, introspect } from '../../support/tpp.ts';
import type { Consent } from '../../../src/consent/types.ts';
import { QUERY_INDEXES } from '../../../src/dialects/backoffice/query-core.ts';
import { br, consentBody, consentsToken } from '../brazil/helpers.ts';
import { OPUS_SPEC, Seeder, assertError, internalClientConfig, startBackoffice, tokenFor, type BackofficeServer, type CallResult } from './helpers.ts';

const P = '/open-banking/oob-consents';
const CPF_A = '52998224725';
const CPF_B = '11144477735';
const CNPJ_B = '11222333000181';

let server: BackofficeServer;
let tpp: TestClient;
let reader: string;
let revoker: string;
let tppToken: string;
let s: Seeder;
const seeded: Record<string, Consent> = {};

async function opus(method: string, path: string, options: { token?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const target = path.startsWith('http') ? `${server.origin}${new URL(path).pathname}${new URL(path).search}` : `${server.origin}${P}${path}`;
  const res = await fetch(target, { method, headers, ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}) });
  const text = await res.text();
  assert.notEqual(res.status, 500, text);
  const body = text === '' ? undefined : JSON.parse(text);
  validateResponse(OPUS_SPEC, new URL(target).pathname, method, res.status, body ?? '');
  return { status: res.status, headers: res.headers, body, text };
}

const ids = (res: CallResult) => (res.body.data as Array<{ id: string }>).map((c) => c.id);
const uuid = (c: Consent) => c.id.slice(-36);

function brDetails(cpf: string, cnpj?: string, permissions = ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ']) {
  return {
    permissions,
    loggedUser: { document: { identification: cpf, rel: 'CPF' } },
    ...(cnpj ? { businessEntity: { document: { identification: cnpj, rel: 'CNPJ' } } } : {}),
  };
}

before(async () => {
  tpp = makeSecretClient('opus-tpp', { scope: 'openid offline_access consents accounts resources accountinformation', client_name: 'Guia Seguros' });
  const other = makeSecretClient('opus-other', { scope: 'openid accountinformation', client_name: 'Outra Financeira' });
  const r = makeSecretClient('opus-reader', internalClientConfig('backoffice:read'));
  const w = makeSecretClient('opus-revoker', internalClientConfig('backoffice:revoke'));
  server = await startBackoffice({ clients: [tpp.config, other.config, r.config, w.config], profile: 'demo' });
  reader = await tokenFor(server, r, 'backoffice:read');
  revoker = await tokenFor(server, w, 'backoffice:revoke');
  tppToken = await consentsToken(server, tpp);
  s = new Seeder(server);
  const year = new Date(Date.now() + 200 * 86_400_000);
  // created an hour apart, in this order
  const t0 = Date.now() - 10 * 3_600_000;
  const at = (h: number) => s.at(new Date(t0 + h * 3_600_000).toISOString());
  at(0);
  seeded.bgValid = await s.approve(await s.create({ clientId: 'opus-tpp', expiresAt: year }), 'psu-alice');
  at(1);
  seeded.bgAwaiting = await s.create({ clientId: 'opus-other', expiresAt: year });
  at(2);
  const brA = await s.service.create(
    { clientId: 'opus-tpp', type: 'br-data-sharing', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: year.toISOString().slice(0, 10), expiresAt: year, frequencyPerDay: 1, combinedServiceIndicator: false, details: brDetails(CPF_A) },
    { idPrefix: 'urn:assent:' },
  );
  seeded.brA = await s.service.approve(brA, { psuId: 'psu-alice', grantedAccounts: [{ accountId: 'acc-alice-salary', access: ['accounts', 'balances'] }], grantId: `grant-${randomUUID()}` });
  at(3);
  seeded.brB = await s.service.create(
    { clientId: 'opus-other', type: 'br-data-sharing', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: '9999-12-31', expiresAt: new Date('9999-12-31T23:59:59Z'), frequencyPerDay: 1, combinedServiceIndicator: false, details: brDetails(CPF_B, CNPJ_B, ['CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ', 'RESOURCES_READ']) },
    { idPrefix: 'urn:assent:' },
  );
  at(4);
  const brRejected = await s.service.create(
    { clientId: 'opus-tpp', type: 'br-data-sharing', access: { allPsd2: 'allAccounts' }, recurringIndicator: true, validUntil: year.toISOString().slice(0, 10), expiresAt: year, frequencyPerDay: 1, combinedServiceIndicator: false, details: brDetails(CPF_B) },
    { idPrefix: 'urn:assent:' },
  );
  seeded.brRejected = await s.service.terminateByTpp(brRejected, 'opus-tpp');
  at(5);
  seeded.pay = await s.service.create(
    { clientId: 'opus-tpp', type: 'br-payment', access: { allPsd2: 'allAccounts' }, recurringIndicator: false, validUntil: year.toISOString().slice(0, 10), expiresAt: year, frequencyPerDay: 1, combinedServiceIndicator: false, details: { loggedUser: { document: { identification: CPF_A, rel: 'CPF' } } } },
    { idPrefix: 'urn:assent:' },
  );
  s.clock = new Date();
});
after(() => server.stop());

describe('GET /open-banking/oob-consents/v1/consents', () => {
  test('every regime, newest first by default; ConsentSummary in the spec\'s words', async () => {
    const res = await opus('GET', '/v1/consents', { token: reader });
    assert.equal(res.status, 200);
    const order = ['pay', 'brRejected', 'brB', 'brA', 'bgAwaiting', 'bgValid'].map((k) => uuid(seeded[k]!));
    assert.deepEqual(ids(res).filter((id) => order.includes(id)), order);
    const byId = new Map((res.body.data as Array<Record<string, unknown>>).map((c) => [c.id, c]));
    assert.deepEqual(byId.get(uuid(seeded.pay!)), { ...byId.get(uuid(seeded.pay!)), type: 'PAYMENT', paymentType: 'PIX', status: 'AWAITING_AUTHORISATION' });
    assert.equal(byId.get(uuid(seeded.brA!))?.status, 'AUTHORISED');
    assert.equal(byId.get(uuid(seeded.brA!))?.type, 'DATA_SHARING');
    assert.equal(byId.get(uuid(seeded.brA!))?.tppName, 'Guia Seguros');
    assert.equal(byId.get(uuid(seeded.brB!))?.expiresOn, undefined, 'indefinite: no expiry');
    assert.equal(byId.get(uuid(seeded.bgValid!))?.status, 'AUTHORISED');
    assert.equal(res.body.meta.totalRecords, 6);
  });

  const cases: Array<[string, string, string[]]> = [
    ['cpf', `cpf=${CPF_A}`, ['pay', 'brA']],
    ['cnpj', `cnpj=${CNPJ_B}`, ['brB']],
    ['consentOwner with cpf and cnpj: both', `consentOwner=${encodeURIComponent(JSON.stringify([{ key: 'cpf', value: CPF_B }, { key: 'cnpj', value: CNPJ_B }]))}`, ['brB']],
    ['status', 'status=AUTHORISED', ['brA', 'bgValid']],
    ['statusList', 'statusList=AWAITING_AUTHORISATION,REJECTED', ['pay', 'brRejected', 'brB', 'bgAwaiting']],
    ['a status Assent never produces', 'status=TIMEOUT_PAYMENT', []],
    ['type', 'type=PAYMENT', ['pay']],
    ['typeList', 'typeList=DATA_SHARING,ENROLLMENT', ['brRejected', 'brB', 'brA', 'bgAwaiting', 'bgValid']],
    ['type ENROLLMENT', 'type=ENROLLMENT', []],
    ['paymentType', 'paymentType=PIX', ['pay']],
    ['orgName (part of the TPP name, any case)', 'orgName=guia', ['pay', 'brRejected', 'brA', 'bgValid']],
    ['orgName nobody has', 'orgName=Nenhuma', []],
    ['consentTermPeriod -1: indefinite', 'consentTermPeriod=-1', ['brB']],
    // created a few hours ago, expiring in 200 days: 6 whole months
    ['consentTermPeriod 6: six whole months to expiry', 'consentTermPeriod=6', ['pay', 'brRejected', 'brA', 'bgAwaiting', 'bgValid']],
    ['consentTermPeriod 7: none', 'consentTermPeriod=7', []],
    ['consentTermPeriod 6 + cpf', `consentTermPeriod=6&cpf=${CPF_A}`, ['pay', 'brA']],
    ['searchKey nobody holds', 'searchKey=nobody-holds-this', []],
    ['cpf + status', `cpf=${CPF_A}&status=AUTHORISED`, ['brA']],
    ['orderType ASC', 'orderType=ASC&type=DATA_SHARING&orgName=guia', ['bgValid', 'brA', 'brRejected']],
    // Open Finance order: active, pending, expired, closed
    ['orderType OPF', 'orderType=OPF', ['brA', 'bgValid', 'pay', 'brB', 'bgAwaiting', 'brRejected']],
  ];
  for (const [name, query, expected] of cases) {
    test(`filter: ${name}`, async () => {
      const res = await opus('GET', `/v1/consents?${query}`, { token: reader });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(ids(res), expected.map((k) => uuid(seeded[k]!)));
      assert.equal(res.body.meta.totalRecords, expected.length);
    });
  }

  test('createdOnBegin / createdOnEnd are inclusive', async () => {
    const begin = seeded.brA!.createdAt.toISOString();
    const end = seeded.brRejected!.createdAt.toISOString();
    const res = await opus('GET', `/v1/consents?createdOnBegin=${begin}&createdOnEnd=${end}`, { token: reader });
    assert.deepEqual(ids(res), ['brRejected', 'brB', 'brA'].map((k) => uuid(seeded[k]!)));
  });

  test('pagination: page and page-size, links carry the filters, OPF pages through the groups', async () => {
    const first = await opus('GET', '/v1/consents?orderType=OPF&page-size=4', { token: reader });
    assert.equal(first.body.meta.totalPages, 2);
    assert.ok(first.body.links.next);
    assert.match(first.body.links.next, /orderType=OPF/);
    const second = await opus('GET', first.body.links.next, { token: reader });
    assert.deepEqual([...ids(first), ...ids(second)], ['brA', 'bgValid', 'pay', 'brB', 'bgAwaiting', 'brRejected'].map((k) => uuid(seeded[k]!)));
    assert.equal(second.body.links.next, undefined);
    assert.ok(second.body.links.prev);
  });

  const bad: Array<[string, string]> = [
    ['cpf with a bad check digit', 'cpf=52998224724'],
    ['cnpj too short', 'cnpj=1122233300018'],
    ['consentOwner not JSON', 'consentOwner=cpf'],
    ['status and statusList together', 'status=AUTHORISED&statusList=REJECTED'],
    ['consentTermPeriod with createdOnBegin', 'consentTermPeriod=-1&createdOnBegin=2026-01-01T00:00:00Z'],
    ['consentTermPeriod of more than 4 digits', 'consentTermPeriod=12345'],
    ['consentTermPeriod not a number', 'consentTermPeriod=twelve'],
    ['an unknown modalityType', 'modalityType=TED'],
    ['modalityType and modalityTypeList together', 'modalityType=IMMEDIATE&modalityTypeList=SCHEDULED'],
    ['orgName shorter than 3', 'orgName=ab'],
    ['unknown status', 'status=valid'],
    ['unknown parameter', 'nope=1'],
    ['page-size 0', 'page-size=0'],
    ['createdOnBegin after createdOnEnd', 'createdOnBegin=2026-02-01T00:00:00Z&createdOnEnd=2026-01-01T00:00:00Z'],
  ];
  for (const [name, query] of bad) {
    test(`400: ${name}`, async () => {
      const res = await opus('GET', `/v1/consents?${query}`, { token: reader });
      assert.equal(res.status, 400, res.text);
      assert.ok(res.body.errors.length > 0 && res.body.errors.every((e: { code: string; detail: string }) => e.code && e.detail));
    });
  }

  test('a consentTermPeriod that is no number of months says why; modalities outside the spec are refused', async () => {
    const detail = async (query: string) => {
      const res = await opus('GET', `/v1/consents?${query}`, { token: reader });
      assertError(res, 400, 'INVALID_PARAMETER');
      return (res.body.errors as Array<{ detail: string }>).map((e) => e.detail).join(' | ');
    };
    assert.match(await detail('consentTermPeriod=6.5'), /^consentTermPeriod: must be an integer number of months \(0–9999\), or -1/);
    assert.match(await detail('consentTermPeriod=-2'), /^consentTermPeriod: must be an integer number of months/);
    // modalities are searchable (opus-payments.test.ts); a value outside the spec's enum is refused
    assert.match(await detail('modalityType=VRP'), /^modalityType: must be one of IMMEDIATE, SCHEDULED, SWEEPING/);
    assert.match(await detail('modalityTypeList=IMMEDIATE,AUTOMATIC'), /^modalityTypeList: must be a comma-separated list of IMMEDIATE, SCHEDULED, SWEEPING/);
  });

  test('auth: no token 401, a TPP\'s token 403, the revoke-only client 403', async () => {
    assertError(await opus('GET', '/v1/consents'), 401, 'UNAUTHORIZED');
    assertError(await opus('GET', '/v1/consents', { token: tppToken }), 403, 'INSUFFICIENT_SCOPE');
    assertError(await opus('GET', '/v1/consents', { token: revoker }), 403, 'INSUFFICIENT_SCOPE');
  });
});

describe('GET /open-banking/oob-consents/v1/consents/{consentId}', () => {
  test('a Brazilian consent by its UUID (or its URN): ConsentDetail with documents, resources, permissions, history', async () => {
    for (const id of [uuid(seeded.brA!), encodeURIComponent(seeded.brA!.id)]) {
      const res = await opus('GET', `/v1/consents/${id}`, { token: reader });
      assert.equal(res.status, 200, res.text);
      const d = res.body.data;
      assert.equal(d.externalId, seeded.brA!.id);
      assert.equal(d.personDocumentType, 'CPF');
      assert.equal(d.personDocumentNumber, CPF_A);
      assert.deepEqual(d.resources, [{ resourceId: 'acc-alice-salary', type: 'ACCOUNT', status: 'AVAILABLE' }]);
      assert.deepEqual(d.permissions.map((p: { name: string }) => p.name), ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ']);
      assert.deepEqual(d.consentHistoryStatus.map((h: { consentStatus: string }) => h.consentStatus), ['AWAITING_AUTHORISATION', 'AUTHORISED']);
      assert.equal(d.status, 'AUTHORISED');
    }
  });

  test('a company consent shows the CNPJ; a rejected one its rejection; a Berlin Group one and a payment one read too', async () => {
    const b = await opus('GET', `/v1/consents/${uuid(seeded.brB!)}`, { token: reader });
    assert.equal(b.body.data.businessDocumentNumber, CNPJ_B);
    const r = await opus('GET', `/v1/consents/${uuid(seeded.brRejected!)}`, { token: reader });
    assert.deepEqual(r.body.data.rejection, { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REJECTED' } });
    assert.equal((await opus('GET', `/v1/consents/${seeded.bgValid!.id}`, { token: reader })).body.data.type, 'DATA_SHARING');
    assert.equal((await opus('GET', `/v1/consents/${uuid(seeded.pay!)}`, { token: reader })).body.data.type, 'PAYMENT');
  });

  test('unknown: 404 CONSENT_NOT_FOUND; malformed: the same', async () => {
    assertError(await opus('GET', `/v1/consents/${randomUUID()}`, { token: reader }), 404, 'CONSENT_NOT_FOUND');
    assertError(await opus('GET', '/v1/consents/%20bad', { token: reader }), 404, 'CONSENT_NOT_FOUND');
  });
});

describe('GET /open-banking/oob-consents/consents/v2/active', () => {
  test('the consents granted and usable in [startDate, endDate], as ActiveConsent', async () => {
    const res = await opus('GET', `/consents/v2/active?startDate=${new Date(Date.now() - 86_400_000).toISOString()}&endDate=${new Date().toISOString()}`, { token: reader });
    assert.equal(res.status, 200, res.text);
    const mine = (res.body.data as Array<{ externalId: string }>).map((c) => c.externalId).filter((id) => Object.values(seeded).some((c) => c.id === id));
    assert.deepEqual(mine, [seeded.brA!.id, seeded.bgValid!.id]);
    const a = (res.body.data as Array<Record<string, unknown>>).find((c) => c.externalId === seeded.brA!.id)!;
    assert.equal(a.personDocumentNumber, CPF_A);
    assert.equal(a.status, 'AUTHORISED');
    assertError(await opus('GET', '/consents/v2/active?startDate=2026-02-01T00:00:00Z&endDate=2026-01-01T00:00:00Z', { token: reader }), 400, 'INVALID_PARAMETER');
    assertError(await opus('GET', '/consents/v2/active?from=2026-01-01', { token: reader }), 400, 'UNKNOWN_PARAMETER');
  });
});

describe('revocation PATCHes', () => {
  async function authorisedForReal(): Promise<{ consentId: string; accessToken: string }> {
    const created = await br(server, 'POST', '/consents', { token: tppToken, json: consentBody() });
    assert.equal(created.status, 201);
    const consentId = created.body.data.consentId as string;
    const { verifier, challenge } = await pkce();
    const state = randomUUID();
    const auth = await clientAuth(tpp, server.issuer);
    const par = await postForm(
      `${server.issuer}/par`,
      { client_id: tpp.clientId, response_type: 'code', scope: `openid consent:${consentId} accounts resources`, redirect_uri: tpp.redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', ...auth.form },
      auth.headers,
    );
    const link = new URL(`${server.issuer}/authorize`);
    link.searchParams.set('client_id', tpp.clientId);
    link.searchParams.set('request_uri', String(par.json.request_uri));
    const back = await decideWithoutBrowser(server, { consentId, authorisationId: '', link, state, verifier, ccToken: tppToken }, 'approve', { username: 'alice', password: 'alice-demo' });
    const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, verifier);
    assert.equal(tokens.status, 200, tokens.text);
    return { consentId, accessToken: tokens.json.access_token as string };
  }

  test('data sharing PATCH: the rejection is recorded, the TPP sees it, the token dies; again: 409', async () => {
    const { consentId, accessToken } = await authorisedForReal();
    assert.equal((await introspect(server, tpp, accessToken)).active, true);
    const body = { data: { rejection: { rejectedBy: 'ASPSP', reason: { code: 'INTERNAL_SECURITY_REASON', additionalInformation: 'fraude suspeita' } } }, applicationName: 'backoffice' };
    const res = await opus('PATCH', `/consents/v1/consents/${consentId.slice(-36)}`, { token: revoker, json: body });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.status, 'REJECTED');
    assert.deepEqual(res.body.data.rejection, { rejectedBy: 'ASPSP', reason: { code: 'INTERNAL_SECURITY_REASON', additionalInformation: 'fraude suspeita' } });
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    const seen = await br(server, 'GET', `/consents/${consentId}`, { token: tppToken });
    assert.deepEqual(seen.body.data.rejection, { rejectedBy: 'ASPSP', reason: { code: 'INTERNAL_SECURITY_REASON', additionalInformation: 'fraude suspeita' } });
    assertError(await opus('PATCH', `/consents/v1/consents/${consentId.slice(-36)}`, { token: revoker, json: body }), 409, 'CONSENT_ALREADY_ENDED');
  });

  test('deprecated PATCH on a Berlin Group consent: REVOKED, revokedBy USER', async () => {
    const c = await s.approve(await s.create({ clientId: 'opus-tpp', expiresAt: new Date(Date.now() + 86_400_000) }), 'psu-alice');
    const res = await opus('PATCH', `/v1/consents/${c.id}`, { token: revoker, json: { data: { status: 'REVOKED', revocation: { revokedBy: 'USER', reason: { code: 'OTHER', additionalInformation: 'pedido por telefone' } } } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.status, 'REVOKED');
    assert.equal(res.body.data.revocation.revokedBy, 'USER');
    assert.equal((await server.assent.stores.consents.findById(c.id))?.status, 'revokedByPsu');
  });

  test('refused: awaiting 409, a payment consent 400, revokedBy TPP 400, a bad body 400, unknown 404, a read-only token 403; nothing changes', async () => {
    const awaiting = seeded.brB!;
    const rej = { data: { rejection: { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } } } };
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(awaiting)}`, { token: revoker, json: rej }), 409, 'CONSENT_NOT_AUTHORISED');
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(seeded.pay!)}`, { token: revoker, json: rej }), 400, 'INVALID_PARAMETER');
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(seeded.brA!)}`, { token: revoker, json: { data: { rejection: { rejectedBy: 'TPP', reason: { code: 'CUSTOMER_MANUALLY_REVOKED' } } } } }), 400, 'INVALID_PARAMETER');
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(seeded.brA!)}`, { token: revoker, json: { data: { rejection: { rejectedBy: 'USER', reason: { code: 'CONSENT_EXPIRED' } } } } }), 400, 'INVALID_PARAMETER');
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(seeded.brA!)}`, { token: revoker, json: { data: {} } }), 400, 'MISSING_PARAMETER');
    assertError(await opus('PATCH', `/consents/v1/consents/${randomUUID()}`, { token: revoker, json: rej }), 404, 'CONSENT_NOT_FOUND');
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(seeded.brA!)}`, { token: reader, json: rej }), 403, 'INSUFFICIENT_SCOPE');
    assert.equal((await server.assent.stores.consents.findById(seeded.brA!.id))?.status, 'AUTHORISED');
    assert.equal((await server.assent.stores.consents.findById(awaiting.id))?.status, 'AWAITING_AUTHORISATION');
  });
});

describe('the search-keys operations', () => {
  const BRAND = { 'x-brand-id': 'assent-bank' };
  const keysOf = (c: Consent) => `/consents/v1/consents/${uuid(c)}/search-keys`;
  const keyOf = (c: Consent, key: string) => `/consents/v1/consents/${uuid(c)}/search-key/${encodeURIComponent(key)}`;

  test('add (array and one), check, find by searchKey / searchKeys, remove; by UUID or URN; stored only as hashes', async () => {
    const a = seeded.bgValid!;
    const b = seeded.brB!;
    const added = await opus('POST', keysOf(a), { token: revoker, json: ['contrato-123', 'ref 52998224725', 'contrato-123'], headers: BRAND });
    assert.equal(added.status, 204, added.text);
    assert.equal((await opus('POST', keyOf(b, 'contrato-777'), { token: revoker, headers: BRAND })).status, 204);
    assert.equal((await opus('POST', `/consents/v1/consents/${encodeURIComponent(b.id)}/search-key/shared-ref`, { token: revoker, headers: BRAND })).status, 204);
    assert.equal((await opus('POST', keyOf(a, 'shared-ref'), { token: revoker, headers: BRAND })).status, 204);

    const checked = await opus('GET', `${keysOf(a)}?searchKeys=contrato-123,contrato-777,shared-ref`, { token: reader, headers: BRAND });
    assert.equal(checked.status, 200, checked.text);
    assert.deepEqual(checked.body.data, [
      { searchKey: 'contrato-123', exists: true },
      { searchKey: 'contrato-777', exists: false },
      { searchKey: 'shared-ref', exists: true },
    ]);
    assert.deepEqual((await opus('GET', keyOf(b, 'contrato-777'), { token: reader, headers: BRAND })).body.data, { searchKey: 'contrato-777', exists: true });
    assert.deepEqual((await opus('GET', keyOf(b, 'contrato-123'), { token: reader, headers: BRAND })).body.data, { searchKey: 'contrato-123', exists: false });

    assert.deepEqual(ids(await opus('GET', '/v1/consents?searchKey=contrato-123', { token: reader })), [uuid(a)]);
    assert.deepEqual(ids(await opus('GET', '/v1/consents?searchKey=shared-ref', { token: reader })), [uuid(b), uuid(a)]);
    assert.deepEqual(ids(await opus('GET', '/v1/consents?searchKeys=contrato-777,contrato-123', { token: reader })), [uuid(b), uuid(a)]);
    assert.deepEqual(ids(await opus('GET', `/v1/consents?searchKey=shared-ref&cnpj=${CNPJ_B}`, { token: reader })), [uuid(b)]);

    // never in clear at rest (a key may be personal data)
    const raw = JSON.stringify(await (server.assent.stores.consents as unknown as { consents: { findOne(f: unknown): Promise<unknown> } }).consents.findOne({ _id: a.id }));
    for (const key of ['contrato-123', '52998224725', 'shared-ref']) assert.ok(!raw.includes(key), `${key} stored in clear`);

    assert.equal((await opus('DELETE', `${keysOf(a)}?searchKeys=contrato-123,never-added`, { token: revoker, headers: BRAND })).status, 204);
    assert.equal((await opus('DELETE', keyOf(b, 'shared-ref'), { token: revoker, headers: BRAND })).status, 204);
    assert.deepEqual(ids(await opus('GET', '/v1/consents?searchKeys=contrato-123,shared-ref', { token: reader })), [uuid(a)]);
    assert.deepEqual((await opus('GET', keyOf(a, 'contrato-123'), { token: reader, headers: BRAND })).body.data, { searchKey: 'contrato-123', exists: false });
  });

  test('refused, nothing stored: no token 401, the read token writing 403, no X-Brand-ID 400, bad keys and bodies 400, too many 400, unknown consent 404, PUT 405', async () => {
    const c = seeded.bgAwaiting!;
    for (const [method, path] of [['POST', keysOf(c)], ['GET', `${keysOf(c)}?searchKeys=x`], ['DELETE', `${keysOf(c)}?searchKeys=x`], ['POST', keyOf(c, 'x')], ['GET', keyOf(c, 'x')], ['DELETE', keyOf(c, 'x')]] as const) {
      assertError(await opus(method, path, { ...(method === 'POST' && path.endsWith('keys') ? { json: ['x'] } : {}), headers: BRAND }), 401, 'UNAUTHORIZED');
      assertError(await opus(method, path, { token: revoker, ...(method === 'POST' && path.endsWith('keys') ? { json: ['x'] } : {}) }), method === 'GET' ? 403 : 400, method === 'GET' ? 'INSUFFICIENT_SCOPE' : 'MISSING_PARAMETER');
    }
    assertError(await opus('POST', keyOf(c, 'x'), { token: reader, headers: BRAND }), 403, 'INSUFFICIENT_SCOPE');
    assertError(await opus('GET', keyOf(c, 'x'), { token: reader }), 400, 'MISSING_PARAMETER');
    const badBodies: unknown[] = [[], {}, 'x', [''], ['a,b'], ['ok', 7], [`${'k'.repeat(257)}`], Array.from({ length: 51 }, (_, i) => `k${i}`)];
    for (const json of badBodies) {
      const res = await opus('POST', keysOf(c), { token: revoker, json, headers: BRAND });
      assert.equal(res.status, 400, `${JSON.stringify(json).slice(0, 60)} → ${res.text}`);
    }
    assertError(await opus('GET', `${keysOf(c)}`, { token: reader, headers: BRAND }), 400, 'MISSING_PARAMETER');
    assertError(await opus('GET', `${keysOf(c)}?searchKeys=a,,b`, { token: reader, headers: BRAND }), 400, 'INVALID_PARAMETER');
    assertError(await opus('POST', `/consents/v1/consents/${uuid(c)}/search-key/${'k'.repeat(257)}`, { token: revoker, headers: BRAND }), 400, 'INVALID_PARAMETER');
    assertError(await opus('POST', `/consents/v1/consents/${randomUUID()}/search-keys`, { token: revoker, json: ['x'], headers: BRAND }), 404, 'CONSENT_NOT_FOUND');
    assertError(await opus('GET', `/consents/v1/consents/${randomUUID()}/search-key/x`, { token: reader, headers: BRAND }), 404, 'CONSENT_NOT_FOUND');
    // at most 100 per consent: two batches of 50 fit, one more does not
    for (const batch of [0, 1]) {
      const res = await opus('POST', keysOf(c), { token: revoker, json: Array.from({ length: 50 }, (_, i) => `cap-${batch}-${i}`), headers: BRAND });
      assert.equal(res.status, 204, res.text);
    }
    assertError(await opus('POST', keyOf(c, 'one-too-many'), { token: revoker, headers: BRAND }), 400, 'INVALID_PARAMETER');
    assert.deepEqual((await opus('GET', keyOf(c, 'one-too-many'), { token: reader, headers: BRAND })).body.data, { searchKey: 'one-too-many', exists: false });
    assert.equal((await opus('POST', keyOf(c, 'cap-0-1'), { token: revoker, headers: BRAND })).status, 204, 'a key it holds already adds nothing');
    assert.deepEqual(ids(await opus('GET', '/v1/consents?searchKey=x', { token: reader })), []);
    const put = await fetch(`${server.origin}${P}${keyOf(c, 'x')}`, { method: 'PUT', headers: { authorization: `Bearer ${reader}` } });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE, HEAD');
  });

  test('the keys are never logged', () => {
    for (const line of server.logs) for (const key of ['contrato-123', 'shared-ref', 'cap-0-1']) assert.ok(!line.includes(key), line);
  });
});

describe('indexes', () => {
  test('every index the query core declares exists in MongoDB', async () => {
    const repo = server.assent.stores.consents as unknown as { consents?: { listIndexes(): { toArray(): Promise<Array<{ name: string }>> } } };
    assert.ok(repo.consents, 'the test runs on MongoDB');
    const names = (await repo.consents.listIndexes().toArray()).map((i) => i.name);
    for (const index of QUERY_INDEXES) assert.ok(names.includes(index.name), `missing index ${index.name}`);
    assert.ok(QUERY_INDEXES.length >= 8);
  });
});
