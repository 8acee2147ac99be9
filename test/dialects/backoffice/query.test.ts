/**
 * GET /backoffice/v1/consents and /consents/active on real Redis + MongoDB-wire: every filter alone and in
 * combinations, both vocabularies, sorting both ways, the active window, and the bad-filter table (each a
 * 400 naming the parameter). Eight consents with chosen times, clients, customers, types and statuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSecretClient, makeKeyClient, type TestClient } from '../../support/assent.ts';
import type { Consent } from '../../../src/consent/types.ts';
import {
  IBAN_DE,
  IBAN_SE,
  Seeder,
  assertError,
  call,
  ids,
  internalClientConfig,
  startBackoffice,
  tokenFor,
  type BackofficeServer,
} from './helpers.ts';

const CPF = '123.456.789-09';
const CPF_2 = '98765432100';
/** a 2026-style alphanumeric CNPJ */
const CNPJ = '12.ABC.345/01DE-35';

let server: BackofficeServer;
let token: string;
const seeded: Record<string, Consent> = {};

const names = (list: string[]) => list.map((id) => Object.entries(seeded).find(([, c]) => c.id === id)?.[0] ?? `?${id}`);
const d = (iso: string) => new Date(iso);

async function list(query: string) {
  const res = await call(server, 'GET', `/consents${query ? `?${query}` : ''}`, { token });
  assert.equal(res.status, 200, res.text);
  return res;
}

/** The names matched by `query`, as a sorted set (page-size 1000: all of them). */
async function matched(query: string): Promise<string[]> {
  const res = await list(`${query}${query ? '&' : ''}page-size=1000`);
  assert.equal(res.body.meta.totalRecords, res.body.data.length);
  return names(ids(res)).sort();
}

before(async () => {
  const reader: TestClient = makeSecretClient('bo-reader', internalClientConfig('backoffice:read'));
  const tppA = await makeKeyClient('tpp-a');
  const tppB = makeSecretClient('tpp-b');
  server = await startBackoffice({ clients: [reader.config, tppA.config, tppB.config], profile: 'demo' });
  token = await tokenFor(server, reader, 'backoffice:read');

  const s = new Seeder(server);
  // a1: tpp-a, accounts, psu-1, valid; granted DE and SE
  let c = await s.at('2025-01-01T10:00:00Z').create({ clientId: 'tpp-a', psuId: 'psu-1', expiresAt: d('2099-01-01T00:00:00Z') });
  seeded.a1 = await s.at('2025-01-01T10:05:00Z').approve(c, 'psu-1', [
    { accountId: 'acc-de', iban: IBAN_DE, currency: 'EUR', access: ['accounts', 'balances'] },
    { accountId: 'acc-se', iban: IBAN_SE, currency: 'SEK', access: ['accounts'] },
  ]);
  // a2: tpp-a, accounts, psu-2, still received
  seeded.a2 = await s.at('2025-01-02T10:00:00Z').create({ clientId: 'tpp-a', psuId: 'psu-2', expiresAt: d('2099-02-01T00:00:00Z') });
  // a3: tpp-b, accounts (SE), psu-1, revoked by the customer on 01-10
  c = await s.at('2025-01-03T10:00:00Z').create({
    clientId: 'tpp-b',
    psuId: 'psu-1',
    access: { accounts: [{ iban: IBAN_SE }] },
    expiresAt: d('2099-03-01T00:00:00Z'),
  });
  c = await s.at('2025-01-03T10:05:00Z').approve(c, 'psu-1', [{ accountId: 'acc-se', iban: IBAN_SE, access: ['accounts'] }]);
  seeded.a3 = await s.at('2025-01-10T09:00:00Z').revoke(c, 'PSU', 'customer changed their mind');
  // a4: tpp-b, payments, psu-2, terminated by the TPP on 01-05
  c = await s.at('2025-01-04T10:00:00Z').create({ clientId: 'tpp-b', type: 'payments', access: {}, expiresAt: d('2099-04-01T00:00:00Z') });
  c = await s.at('2025-01-04T10:05:00Z').approve(c, 'psu-2');
  seeded.a4 = await s.at('2025-01-05T08:00:00Z').terminate(c);
  // b1: tpp-a, Brazil data sharing, CPF, AUTHORISED (its regime's word)
  c = await s.at('2025-01-05T10:00:00Z').create({
    clientId: 'tpp-a',
    type: 'br-data-sharing',
    access: {},
    expiresAt: d('2099-05-01T00:00:00Z'),
    details: { loggedUser: { document: { identification: CPF, rel: 'CPF' } }, permissions: ['ACCOUNTS_READ'] },
  });
  seeded.b1 = await s.at('2025-01-05T10:05:00Z').approve(c, 'psu-3', [{ accountId: 'br-acc-1', access: ['accounts'] }]);
  // b2: tpp-b, a payment consent for CPF_2 + CNPJ, denied by the customer
  c = await s.at('2025-01-06T10:00:00Z').create({
    clientId: 'tpp-b',
    type: 'payments',
    access: {},
    expiresAt: d('2099-06-01T00:00:00Z'),
    details: {
      loggedUser: { document: { identification: CPF_2, rel: 'CPF' } },
      businessEntity: { document: { identification: CNPJ, rel: 'CNPJ' } },
    },
  });
  seeded.b2 = await s.at('2025-01-06T10:10:00Z').deny(c, 'psu-4', 'not me');
  // e1: tpp-a, accounts (DE), psu-1, valid until 2025-02-01, expired (recorded on 02-02)
  c = await s.at('2025-01-07T10:00:00Z').create({ clientId: 'tpp-a', psuId: 'psu-1', expiresAt: d('2025-02-01T00:00:00Z') });
  c = await s.at('2025-01-07T10:05:00Z').approve(c, 'psu-1', [{ accountId: 'acc-de', iban: IBAN_DE, access: ['accounts'] }]);
  seeded.e1 = await s.at('2025-02-02T00:00:00Z').read(c);
  // r1: tpp-a, accounts, no PSU, never authorised: rejected by the timeout
  c = await s.at('2025-01-08T10:00:00Z').create({ clientId: 'tpp-a', expiresAt: d('2099-07-01T00:00:00Z') });
  seeded.r1 = await s.at('2025-01-08T12:00:00Z').rejectStale(c);

  const statuses = Object.fromEntries(Object.entries(seeded).map(([n, c]) => [n, c.status]));
  assert.deepEqual(statuses, {
    a1: 'valid',
    a2: 'received',
    a3: 'revokedByPsu',
    a4: 'terminatedByTpp',
    b1: 'AUTHORISED',
    b2: 'rejected',
    e1: 'expired',
    r1: 'rejected',
  });
});
after(() => server.stop());

describe('GET /consents: filters', () => {
  test('no filter: everything, newest first, in the spec envelope', async () => {
    const res = await list('');
    assert.deepEqual(names(ids(res)), ['r1', 'e1', 'b2', 'b1', 'a4', 'a3', 'a2', 'a1']);
    assert.equal(res.body.meta.totalRecords, 8);
    assert.equal(res.body.meta.totalPages, 1);
    const a1 = res.body.data.at(-1);
    assert.deepEqual(a1, {
      id: seeded.a1!.id,
      type: 'DATA_SHARING',
      detailedType: 'accounts',
      status: 'AUTHORISED',
      detailedStatus: 'valid',
      createdOn: '2025-01-01T10:00:00.000Z',
      expiresOn: '2099-01-01T00:00:00.000Z',
      updatedOn: '2025-01-01T10:05:00.000Z',
      clientId: 'tpp-a',
      tppName: 'tpp-a app',
      psuId: 'psu-1',
    });
    const b2 = res.body.data[2];
    assert.equal(b2.personDocumentType, 'CPF');
    assert.equal(b2.personDocumentNumber, CPF_2);
    assert.equal(b2.businessDocumentType, 'CNPJ');
    assert.equal(b2.businessDocumentNumber, CNPJ);
    assert.equal(b2.status, 'REJECTED');
    assert.equal(b2.type, 'PAYMENT');
  });

  const cases: Array<[string, string, string[]]> = [
    ['psuId', 'psuId=psu-1', ['a1', 'a3', 'e1']],
    ['psuId (unknown)', 'psuId=nobody', []],
    ['document: CPF with punctuation', `document=${encodeURIComponent(CPF)}`, ['b1']],
    ['document: CPF digits only', 'document=12345678909', ['b1']],
    ['document: the customer of a business consent', `document=${CPF_2}`, ['b2']],
    ['document: alphanumeric CNPJ, lower case', `document=${encodeURIComponent(CNPJ.toLowerCase())}`, ['b2']],
    ['clientId', 'clientId=tpp-b', ['a3', 'a4', 'b2']],
    ['iban: in the access', `iban=${IBAN_DE}`, ['a1', 'a2', 'e1', 'r1']],
    ['iban: paper format; in the access or the granted accounts', `iban=${encodeURIComponent('se45 5000 0000 0583 9825 7466')}`, ['a1', 'a3']],
    ['type: ours', 'type=accounts', ['a1', 'a2', 'a3', 'e1', 'r1']],
    ['type: spec DATA_SHARING', 'type=DATA_SHARING', ['a1', 'a2', 'a3', 'b1', 'e1', 'r1']],
    ['type: spec PAYMENT', 'type=PAYMENT', ['a4', 'b2']],
    ['type: list', 'type=br-data-sharing,payments', ['a4', 'b1', 'b2']],
    ['status: ours', 'status=valid', ['a1']],
    ['status: the Brazilian regime\'s own word', 'status=AUTHORISED', ['a1', 'b1']],
    ['status: spec AUTHORISED', 'status=AUTHORISED', ['a1', 'b1']],
    ['status: spec REVOKED is both kinds of revocation', 'status=REVOKED', ['a3', 'a4']],
    ['status: revokedByPsu only', 'status=revokedByPsu', ['a3']],
    ['status: terminatedByTpp only', 'status=terminatedByTpp', ['a4']],
    ['status: REJECTED', 'status=REJECTED', ['b2', 'r1']],
    ['status: EXPIRED', 'status=EXPIRED', ['e1']],
    ['status: AWAITING_AUTHORISATION', 'status=AWAITING_AUTHORISATION', ['a2']],
    ['status: mixed list', 'status=valid,AWAITING_AUTHORISATION', ['a1', 'a2']],
    ['createdFrom: a date starts at 00:00 UTC', 'createdFrom=2025-01-05', ['b1', 'b2', 'e1', 'r1']],
    ['createdTo: a date covers its whole day', 'createdTo=2025-01-02', ['a1', 'a2']],
    ['createdFrom + createdTo: one day each end', 'createdFrom=2025-01-03&createdTo=2025-01-04', ['a3', 'a4']],
    ['createdFrom: a date-time is inclusive', 'createdFrom=2025-01-07T10:00:00Z', ['e1', 'r1']],
    ['createdTo: a date-time is inclusive', 'createdTo=2025-01-03T10:00:00Z', ['a1', 'a2', 'a3']],
    ['createdTo: a millisecond earlier', 'createdTo=2025-01-03T09:59:59.999Z', ['a1', 'a2']],
    ['createdFrom: with an offset', `createdFrom=${encodeURIComponent('2025-01-07T07:00:00-03:00')}`, ['e1', 'r1']],
    ['createdTo: an unencoded + arrives as a space', 'createdTo=2025-01-03T11:00:00+01:00', ['a1', 'a2', 'a3']],
    ['expiresTo', 'expiresTo=2025-12-31', ['e1']],
    ['expiresFrom + expiresTo, inclusive', 'expiresFrom=2099-03-01&expiresTo=2099-05-01', ['a3', 'a4', 'b1']],
    ['expiresFrom', 'expiresFrom=2099-06-01T00:00:00Z', ['b2', 'r1']],
    ['clientId + status', 'clientId=tpp-a&status=valid', ['a1']],
    ['psuId + status (spec word)', 'psuId=psu-1&status=REVOKED', ['a3']],
    ['type + createdFrom', 'type=DATA_SHARING&createdFrom=2025-01-05', ['b1', 'e1', 'r1']],
    ['clientId + type + status', 'clientId=tpp-b&type=PAYMENT&status=REJECTED', ['b2']],
    ['iban + status', `iban=${IBAN_DE}&status=AWAITING_AUTHORISATION`, ['a2']],
    ['document + another client: nothing', `document=12345678909&clientId=tpp-b`, []],
    ['psuId + expiresTo', 'psuId=psu-1&expiresTo=2025-12-31', ['e1']],
    ['every filter at once', `psuId=psu-1&clientId=tpp-a&iban=${IBAN_DE}&type=accounts&status=valid,expired&createdFrom=2025-01-01&createdTo=2025-01-07&expiresFrom=2025-01-31&expiresTo=2099-01-01`, ['a1', 'e1']],
  ];
  for (const [title, query, expected] of cases) {
    test(title, async () => {
      assert.deepEqual(await matched(query), expected, query);
    });
  }
});

describe('GET /consents: sorting', () => {
  const byField = (field: 'createdAt' | 'expiresAt' | 'updatedAt', direction: 1 | -1) =>
    Object.entries(seeded)
      .sort(([, a], [, b]) => direction * (a[field].getTime() - b[field].getTime() || (a.id < b.id ? -1 : 1)))
      .map(([n]) => n);

  for (const field of ['createdAt', 'expiresAt', 'updatedAt'] as const) {
    test(`sort=${field} and sort=-${field}`, async () => {
      const asc = names(ids(await list(`sort=${field}`)));
      const desc = names(ids(await list(`sort=-${field}`)));
      assert.deepEqual(asc, byField(field, 1));
      assert.deepEqual(desc, byField(field, -1));
      assert.deepEqual(desc, [...asc].reverse());
    });
  }

  test('the fixed orders, spelled out', async () => {
    assert.deepEqual(names(ids(await list('sort=createdAt'))), ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'e1', 'r1']);
    assert.deepEqual(names(ids(await list('sort=expiresAt'))), ['e1', 'a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'r1']);
    assert.deepEqual(names(ids(await list('sort=-updatedAt'))), ['e1', 'a3', 'r1', 'b2', 'b1', 'a4', 'a2', 'a1']);
  });

  test('sorting combines with filters and pages', async () => {
    const first = await list('status=REVOKED,REJECTED&sort=createdAt&page-size=2');
    assert.deepEqual(names(ids(first)), ['a3', 'a4']);
    const second = await call(server, 'GET', first.body.links.next, { token });
    assert.deepEqual(names(ids(second)), ['b2', 'r1']);
    assert.match(second.body.links.self, /sort=createdAt/);
    assert.match(second.body.links.self, /status=REVOKED%2CREJECTED/);
  });
});

describe('GET /consents/active', () => {
  async function active(query: string): Promise<string[]> {
    const res = await call(server, 'GET', `/consents/active?${query}${query ? '&' : ''}page-size=1000`, { token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.meta.totalRecords, res.body.data.length);
    return names(ids(res)).sort();
  }

  test('a one-day window: created by its end, still valid after its start', async () => {
    assert.deepEqual(await active('from=2025-01-04&to=2025-01-04'), ['a1', 'a3', 'a4']);
  });

  test('an instant (to only: from = to) counts every consent active then; a4 had ended (01-05)', async () => {
    assert.deepEqual(await active('to=2025-01-07T12:00:00Z'), ['a1', 'a3', 'b1', 'e1']);
  });

  test('consents that expired, were revoked or were terminated before the window are out', async () => {
    // e1 expired 02-01, a3 revoked 01-10, a4 terminated 01-05
    assert.deepEqual(await active('from=2025-02-15&to=2025-02-20'), ['a1', 'b1']);
    // a revocation inside the window still counts
    assert.deepEqual(await active('from=2025-01-09&to=2025-01-09'), ['a1', 'a3', 'b1', 'e1']);
  });

  test('expiry is exclusive: a consent is not active at its expiresAt', async () => {
    assert.deepEqual(await active('from=2025-02-01T00:00:00Z&to=2025-02-01T00:00:00Z'), ['a1', 'b1']);
    assert.deepEqual(await active('from=2025-01-31T23:59:59.999Z&to=2025-01-31T23:59:59.999Z'), ['a1', 'b1', 'e1']);
  });

  test('default: active now; never received, rejected, ended consents', async () => {
    const now = await active('');
    assert.deepEqual(now, ['a1', 'b1']);
    for (const n of ['a2', 'a3', 'a4', 'b2', 'e1', 'r1']) assert.ok(!now.includes(n));
  });

  test('before anything was created: empty, with valid links', async () => {
    const res = await call(server, 'GET', '/consents/active?from=2024-01-01&to=2024-12-31', { token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
    assert.deepEqual(res.body.meta.totalRecords, 0);
    assert.equal(res.body.meta.totalPages, 0);
    assert.equal(res.body.links.first, res.body.links.last);
    assert.match(res.body.links.self, /\/backoffice\/v1\/consents\/active\?from=2024-01-01&to=2024-12-31&page=1&page-size=25$/);
  });

  test('paginated and sorted like the list', async () => {
    const first = await call(server, 'GET', '/consents/active?to=2025-01-07T12:00:00Z&sort=createdAt&page-size=2', { token });
    assert.deepEqual(names(ids(first)), ['a1', 'a3']);
    assert.equal(first.body.meta.totalRecords, 4);
    assert.equal(first.body.meta.totalPages, 2);
    const last = await call(server, 'GET', first.body.links.last, { token });
    assert.deepEqual(names(ids(last)), ['b1', 'e1']);
    assert.equal(last.body.links.next, undefined);
  });

  test('bad windows are 400 naming the parameter', async () => {
    assertError(await call(server, 'GET', '/consents/active?from=2025-02-02&to=2025-02-01', { token }), 400, 'INVALID_PARAMETER', 'from');
    assertError(await call(server, 'GET', '/consents/active?from=2999-01-01', { token }), 400, 'INVALID_PARAMETER', 'from');
    assertError(await call(server, 'GET', '/consents/active?to=yesterday', { token }), 400, 'INVALID_PARAMETER', 'to');
    assertError(await call(server, 'GET', '/consents/active?startDate=2025-01-01', { token }), 400, 'UNKNOWN_PARAMETER', 'startDate');
    assertError(await call(server, 'GET', '/consents/active?status=valid', { token }), 400, 'UNKNOWN_PARAMETER', 'status');
    assertError(await call(server, 'GET', '/consents/active?page-size=0', { token }), 400, 'INVALID_PARAMETER', 'page-size');
  });
});

describe('bad filters: 400 naming the parameter, nothing else changes', () => {
  const table: Array<[string, string, string]> = [
    // [query, parameter named, code]
    ['page-size=1001', 'page-size', 'INVALID_PARAMETER'],
    ['page-size=0', 'page-size', 'INVALID_PARAMETER'],
    ['page-size=ten', 'page-size', 'INVALID_PARAMETER'],
    ['page-size=2.5', 'page-size', 'INVALID_PARAMETER'],
    ['page=0', 'page', 'INVALID_PARAMETER'],
    ['page=-1', 'page', 'INVALID_PARAMETER'],
    ['page=1e3', 'page', 'INVALID_PARAMETER'],
    ['page=99999999999999999999', 'page', 'INVALID_PARAMETER'],
    ['page=1&page=2', 'page', 'INVALID_PARAMETER'],
    ['sort=createdOn', 'sort', 'INVALID_PARAMETER'],
    ['sort=+createdAt', 'sort', 'INVALID_PARAMETER'],
    ['direction=asc', 'direction', 'UNKNOWN_PARAMETER'],
    ['status=active', 'status', 'INVALID_PARAMETER'],
    ['status=', 'status', 'INVALID_PARAMETER'],
    ['status=valid,', 'status', 'INVALID_PARAMETER'],
    ['status=TIMEOUT_PAYMENT', 'status', 'INVALID_PARAMETER'],
    ['type=ENROLLMENT', 'type', 'INVALID_PARAMETER'],
    ['type=Accounts', 'type', 'INVALID_PARAMETER'],
    ['createdFrom=2024-02-30', 'createdFrom', 'INVALID_PARAMETER'],
    ['createdFrom=01/02/2025', 'createdFrom', 'INVALID_PARAMETER'],
    ['createdTo=2025-01-01T10:00:00', 'createdTo', 'INVALID_PARAMETER'],
    ['createdTo=2025-01-01T24:00:00Z', 'createdTo', 'INVALID_PARAMETER'],
    ['expiresFrom=tomorrow', 'expiresFrom', 'INVALID_PARAMETER'],
    ['expiresTo=2025-13-01', 'expiresTo', 'INVALID_PARAMETER'],
    ['createdFrom=2025-01-05&createdTo=2025-01-04', 'createdFrom', 'INVALID_PARAMETER'],
    ['expiresFrom=2099-01-02T00:00:00Z&expiresTo=2099-01-01T23:59:59Z', 'expiresFrom', 'INVALID_PARAMETER'],
    ['document=123', 'document', 'INVALID_PARAMETER'],
    ['document=1234567890X', 'document', 'INVALID_PARAMETER'],
    ['document=123.456.789-09;drop', 'document', 'INVALID_PARAMETER'],
    [`iban=${IBAN_DE.slice(0, -1)}1`, 'iban', 'INVALID_PARAMETER'],
    ['iban=XX00', 'iban', 'INVALID_PARAMETER'],
    ['psuId=', 'psuId', 'INVALID_PARAMETER'],
    [`psuId=${'p'.repeat(141)}`, 'psuId', 'INVALID_PARAMETER'],
    ['psuId=a%00b', 'psuId', 'INVALID_PARAMETER'],
    ['clientId=', 'clientId', 'INVALID_PARAMETER'],
    ['cpf=12345678909', 'cpf', 'UNKNOWN_PARAMETER'],
    ['statusList=AUTHORISED', 'statusList', 'UNKNOWN_PARAMETER'],
    ['pageSize=10', 'pageSize', 'UNKNOWN_PARAMETER'],
    [`psuId=${'x'.repeat(600)}`, 'psuId', 'INVALID_PARAMETER'],
  ];
  for (const [query, parameter, code] of table) {
    test(`${query.length > 60 ? `${query.slice(0, 57)}…` : query} → 400 ${code} (${parameter})`, async () => {
      assertError(await call(server, 'GET', `/consents?${query}`, { token }), 400, code, parameter);
    });
  }

  test('several problems are all reported, one error each', async () => {
    const res = await call(server, 'GET', '/consents?page=0&page-size=5000&status=nope&foo=1', { token });
    assert.equal(res.status, 400);
    const details = (res.body.errors as Array<{ code: string; detail: string }>).map((e) => `${e.code} ${e.detail.split(':')[0]}`).sort();
    assert.deepEqual(details, ['INVALID_PARAMETER page', 'INVALID_PARAMETER page-size', 'INVALID_PARAMETER status', 'UNKNOWN_PARAMETER foo']);
  });

  test('the detail tells the rule, not the input', async () => {
    const res = await call(server, 'GET', '/consents?page-size=1001', { token });
    assert.equal(res.body.errors[0].detail, 'page-size: must be between 1 and 1000');
    const doc = await call(server, 'GET', '/consents?document=99999', { token });
    assert.ok(!doc.text.includes('99999'), doc.text);
    const unknown = await call(server, 'GET', '/consents?direction=desc', { token });
    assert.match(unknown.body.errors[0].detail, /^direction: is not a parameter of this endpoint \(known: psuId, document, .*page-size\)$/);
  });

  test('never a 500, whatever the query string', async () => {
    const odd = [
      '%',
      '%zz=1',
      'page=%ff',
      '=x',
      '&&&',
      'a[b]=c',
      'status[]=valid',
      `${'k'.repeat(300)}=1`,
      Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&'),
      'createdFrom=%2B2025-01-01',
      'createdFrom=0000-00-00',
      'createdFrom=9999-12-31T23:59:59.999999999%2B23:59',
      'expiresTo=-271821-04-20',
      'iban=%F0%9F%98%80',
      'document=%E2%80%8B12345678909',
      'type=,,,',
      'sort=',
      'page-size=%20',
      `status=${Array(30).fill('valid').join(',')}`,
    ];
    for (const query of odd) {
      const res = await call(server, 'GET', `/consents?${query}`, { token });
      assert.ok(res.status === 200 || res.status === 400, `${query} → ${res.status}`);
    }
  });
});
