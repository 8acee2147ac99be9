/**
 * Pagination of GET /backoffice/v1/consents on real stores: Open Finance Brasil links and meta, the
 * default page size, first / middle / exact last / beyond the last page, page-size 1 and 1000, an empty
 * result, ties in the sort field, and the filters carried in every link. 30 consents of one TPP, one a
 * minute, plus two created at the same instant.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSecretClient } from '../../support/assent.ts';
import { Seeder, assertError, call, ids, internalClientConfig, startBackoffice, tokenFor, type BackofficeServer } from './helpers.ts';

let server: BackofficeServer;
let token: string;
/** the 30 ids, oldest first */
const created: string[] = [];
const tied: string[] = [];

before(async () => {
  const reader = makeSecretClient('bo-reader', internalClientConfig('backoffice:read'));
  server = await startBackoffice({ clients: [reader.config], profile: 'demo' });
  token = await tokenFor(server, reader, 'backoffice:read');
  const s = new Seeder(server);
  for (let i = 0; i < 30; i++) {
    const at = new Date(Date.UTC(2025, 2, 1, 9, i));
    s.clock = at;
    created.push((await s.create({ clientId: 'tpp-page', expiresAt: new Date('2099-01-01T00:00:00Z') })).id);
  }
  s.at('2025-04-01T00:00:00Z');
  for (let i = 0; i < 2; i++) tied.push((await s.create({ clientId: 'tpp-tie', expiresAt: new Date('2099-01-01T00:00:00Z') })).id);
  tied.sort();
});
after(() => server.stop());

const page = (query: string) => call(server, 'GET', `/consents?clientId=tpp-page${query ? `&${query}` : ''}`, { token });
const newestFirst = () => [...created].reverse();

/** page and page-size of a link, and that it keeps the filter */
function linkPage(link: string | undefined): [number, number] | undefined {
  if (link === undefined) return undefined;
  const url = new URL(link);
  assert.equal(url.origin, server.linkOrigin);
  assert.equal(url.pathname, '/backoffice/v1/consents');
  assert.equal(url.searchParams.get('clientId'), 'tpp-page');
  return [Number(url.searchParams.get('page')), Number(url.searchParams.get('page-size'))];
}

function links(res: { body: any }) {
  const l = res.body.links;
  return { self: linkPage(l.self), first: linkPage(l.first), prev: linkPage(l.prev), next: linkPage(l.next), last: linkPage(l.last) };
}

describe('pagination', () => {
  test('default: page 1 of 25, newest first, links to next and last', async () => {
    const res = await page('');
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res), newestFirst().slice(0, 25));
    assert.deepEqual(res.body.meta.totalRecords, 30);
    assert.deepEqual(res.body.meta.totalPages, 2);
    assert.deepEqual(links(res), { self: [1, 25], first: [1, 25], prev: undefined, next: [2, 25], last: [2, 25] });
  });

  test('a middle page links both ways; the last page (partly filled) has no next', async () => {
    const middle = await page('page=2&page-size=7');
    assert.deepEqual(ids(middle), newestFirst().slice(7, 14));
    assert.deepEqual(links(middle), { self: [2, 7], first: [1, 7], prev: [1, 7], next: [3, 7], last: [5, 7] });
    const last = await call(server, 'GET', middle.body.links.last, { token });
    assert.deepEqual(ids(last), newestFirst().slice(28));
    assert.deepEqual(links(last), { self: [5, 7], first: [1, 7], prev: [4, 7], next: undefined, last: [5, 7] });
  });

  test('an exact last page: full, no next', async () => {
    const res = await page('page=3&page-size=10');
    assert.deepEqual(ids(res), newestFirst().slice(20, 30));
    assert.equal(res.body.meta.totalPages, 3);
    assert.deepEqual(links(res), { self: [3, 10], first: [1, 10], prev: [2, 10], next: undefined, last: [3, 10] });
  });

  test('one page holding everything: first = last, neither prev nor next', async () => {
    const res = await page('page-size=30');
    assert.equal(res.body.data.length, 30);
    assert.equal(res.body.meta.totalPages, 1);
    assert.deepEqual(links(res), { self: [1, 30], first: [1, 30], prev: undefined, next: undefined, last: [1, 30] });
  });

  test('beyond the last page: 200, empty, prev points at the last page', async () => {
    const res = await page('page=9&page-size=10');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
    assert.equal(res.body.meta.totalRecords, 30);
    assert.equal(res.body.meta.totalPages, 3);
    assert.deepEqual(links(res), { self: [9, 10], first: [1, 10], prev: [3, 10], next: undefined, last: [3, 10] });
    const back = await call(server, 'GET', res.body.links.prev, { token });
    assert.deepEqual(ids(back), newestFirst().slice(20, 30));
  });

  test('page-size 1: walking next visits every consent once, in order', async () => {
    let res = await page('page-size=1&sort=createdAt');
    assert.equal(res.body.meta.totalPages, 30);
    const seen: string[] = [];
    for (;;) {
      seen.push(...ids(res));
      if (!res.body.links.next) break;
      res = await call(server, 'GET', res.body.links.next, { token });
    }
    assert.deepEqual(seen, created);
    assert.deepEqual(links(res), { self: [30, 1], first: [1, 1], prev: [29, 1], next: undefined, last: [30, 1] });
  });

  test('page-size 1000 is the largest; 1001 is 400', async () => {
    const res = await page('page-size=1000');
    assert.equal(res.body.data.length, 30);
    assert.equal(res.body.meta.totalPages, 1);
    assertError(await page('page-size=1001'), 400, 'INVALID_PARAMETER', 'page-size');
  });

  test('an empty result: no data, totalPages 0, first = last = page 1', async () => {
    const res = await call(server, 'GET', '/consents?clientId=nobody&page=1&page-size=10', { token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
    assert.deepEqual(res.body.meta.totalRecords, 0);
    assert.deepEqual(res.body.meta.totalPages, 0);
    assert.equal(res.body.links.prev, undefined);
    assert.equal(res.body.links.next, undefined);
    assert.equal(res.body.links.first, res.body.links.last);
    assert.equal(res.body.links.self, `${server.linkOrigin}/backoffice/v1/consents?clientId=nobody&page=1&page-size=10`);
    const beyond = await call(server, 'GET', '/consents?clientId=nobody&page=3', { token });
    assert.deepEqual(beyond.body.data, []);
    assert.equal(beyond.body.links.prev, `${server.linkOrigin}/backoffice/v1/consents?clientId=nobody&page=1&page-size=25`);
  });

  test('links carry every filter and the sort as given', async () => {
    const res = await page('status=AWAITING_AUTHORISATION&createdFrom=2025-03-01&sort=-updatedAt&page-size=5');
    const next = new URL(res.body.links.next);
    assert.deepEqual([...next.searchParams.keys()], ['clientId', 'status', 'createdFrom', 'sort', 'page', 'page-size']);
    assert.equal(next.searchParams.get('status'), 'AWAITING_AUTHORISATION');
    const followed = await call(server, 'GET', res.body.links.next, { token });
    assert.equal(followed.body.meta.totalRecords, 30);
  });

  test('ties in the sort field are broken by id, in the same direction', async () => {
    const asc = await call(server, 'GET', '/consents?clientId=tpp-tie&sort=createdAt', { token });
    const desc = await call(server, 'GET', '/consents?clientId=tpp-tie&sort=-createdAt', { token });
    assert.deepEqual(ids(asc), tied);
    assert.deepEqual(ids(desc), [...tied].reverse());
    const first = await call(server, 'GET', '/consents?clientId=tpp-tie&sort=createdAt&page-size=1', { token });
    const second = await call(server, 'GET', first.body.links.next, { token });
    assert.deepEqual([...ids(first), ...ids(second)], tied);
  });

  test('meta.requestDateTime is the time of the request', async () => {
    const before = Date.now() - 1000;
    const res = await page('page-size=1');
    const at = Date.parse(res.body.meta.requestDateTime);
    assert.ok(at >= before && at <= Date.now() + 1000);
  });
});
