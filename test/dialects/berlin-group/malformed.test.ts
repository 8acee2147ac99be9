/**
 * Malformed requests: each is answered 4xx with the right code (and `path` where a field is at fault),
 * conforms to the spec, and stores nothing — the TPP's consent count and an existing consent stay as they were.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { IBAN_DE, IBAN_SE, assertError, call, consentBody, countConsents, createConsent, isoDay, tokenFor, type CallOptions } from './helpers.ts';

interface Case {
  name: string;
  /** the request, besides the token */
  request: CallOptions;
  status: number;
  /** absent: no body expected (415) */
  code?: string;
  path?: string;
}

const LIMIT = 100 * 1024;
const accounts = [{ iban: IBAN_DE, currency: 'EUR' }];
const withAccess = (access: unknown) => ({ json: consentBody({ access }) });
const without = (field: string) => {
  const body = consentBody();
  delete body[field];
  return { json: body };
};

const CASES: Case[] = [
  // not JSON, not an object
  { name: 'bad JSON', request: { raw: '{"access": ', headers: { 'content-type': 'application/json' } }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'JSON with a trailing comma', request: { raw: '{"recurringIndicator": true,}', headers: { 'content-type': 'application/json' } }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'a JSON array', request: { json: [consentBody()] }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'a JSON string', request: { json: 'consent' }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'JSON null', request: { raw: 'null', headers: { 'content-type': 'application/json' } }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'missing body', request: {}, status: 400, code: 'FORMAT_ERROR' },
  { name: 'empty body with a JSON content type', request: { raw: '', headers: { 'content-type': 'application/json' } }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'whitespace body', request: { raw: '   \n', headers: { 'content-type': 'application/json' } }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'not UTF-8', request: { raw: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), headers: { 'content-type': 'application/json' } }, status: 400, code: 'FORMAT_ERROR' },
  { name: 'empty object', request: { json: {} }, status: 400, code: 'FORMAT_ERROR', path: 'access' },
  // media type and size
  { name: 'text/plain', request: { raw: JSON.stringify(consentBody()), headers: { 'content-type': 'text/plain' } }, status: 415 },
  { name: 'form-encoded', request: { raw: 'recurringIndicator=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415 },
  { name: 'no content type', request: { raw: new TextEncoder().encode(JSON.stringify(consentBody())) }, status: 415 },
  { name: 'JSON in latin1', request: { raw: JSON.stringify(consentBody()), headers: { 'content-type': 'application/json; charset=iso-8859-1' } }, status: 415 },
  { name: 'oversized body', request: { json: consentBody({ pad: 'x'.repeat(LIMIT) }) }, status: 400, code: 'FORMAT_ERROR' },
  {
    name: 'oversized chunked body',
    request: {
      raw: new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 30; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(8 * 1024)));
          controller.close();
        },
      }),
      headers: { 'content-type': 'application/json' },
    },
    status: 400,
    code: 'FORMAT_ERROR',
  },
  // top-level fields
  { name: 'unknown top-level field', request: { json: consentBody({ consentId: 'mine' }) }, status: 400, code: 'FORMAT_ERROR', path: 'consentId' },
  { name: 'recurringIndicator as a string', request: { json: consentBody({ recurringIndicator: 'true' }) }, status: 400, code: 'FORMAT_ERROR', path: 'recurringIndicator' },
  { name: 'recurringIndicator missing', request: without('recurringIndicator'), status: 400, code: 'FORMAT_ERROR', path: 'recurringIndicator' },
  { name: 'combinedServiceIndicator missing', request: without('combinedServiceIndicator'), status: 400, code: 'FORMAT_ERROR', path: 'combinedServiceIndicator' },
  { name: 'frequencyPerDay as a string', request: { json: consentBody({ frequencyPerDay: '4' }) }, status: 400, code: 'FORMAT_ERROR', path: 'frequencyPerDay' },
  { name: 'frequencyPerDay 0', request: { json: consentBody({ frequencyPerDay: 0 }) }, status: 400, code: 'FORMAT_ERROR', path: 'frequencyPerDay' },
  { name: 'frequencyPerDay negative', request: { json: consentBody({ frequencyPerDay: -3 }) }, status: 400, code: 'FORMAT_ERROR', path: 'frequencyPerDay' },
  { name: 'frequencyPerDay 1.5', request: { json: consentBody({ frequencyPerDay: 1.5 }) }, status: 400, code: 'FORMAT_ERROR', path: 'frequencyPerDay' },
  { name: 'frequencyPerDay above consent.maxFrequencyPerDay (default 4)', request: { json: consentBody({ frequencyPerDay: 5 }) }, status: 400, code: 'FORMAT_ERROR', path: 'frequencyPerDay' },
  { name: 'validUntil in the past', request: { json: consentBody({ validUntil: isoDay(-1) }) }, status: 400, code: 'FORMAT_ERROR', path: 'validUntil' },
  { name: 'validUntil 2026-02-30', request: { json: consentBody({ validUntil: '2026-02-30' }) }, status: 400, code: 'FORMAT_ERROR', path: 'validUntil' },
  { name: 'validUntil 2099-02-30', request: { json: consentBody({ validUntil: '2099-02-30' }) }, status: 400, code: 'FORMAT_ERROR', path: 'validUntil' },
  { name: 'validUntil not ISO', request: { json: consentBody({ validUntil: '01.01.2099' }) }, status: 400, code: 'FORMAT_ERROR', path: 'validUntil' },
  { name: 'validUntil with a time', request: { json: consentBody({ validUntil: '2099-01-01T00:00:00Z' }) }, status: 400, code: 'FORMAT_ERROR', path: 'validUntil' },
  // access
  { name: 'empty access', request: withAccess({}), status: 400, code: 'FORMAT_ERROR', path: 'access' },
  { name: 'access as an array', request: withAccess([accounts]), status: 400, code: 'FORMAT_ERROR', path: 'access' },
  { name: 'access missing', request: without('access'), status: 400, code: 'FORMAT_ERROR', path: 'access' },
  { name: 'unknown field in access', request: withAccess({ accounts, cards: accounts }), status: 400, code: 'FORMAT_ERROR', path: 'access.cards' },
  { name: 'empty account list beside named accounts', request: withAccess({ accounts: [], balances: accounts }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts' },
  { name: 'accounts not an array', request: withAccess({ accounts: accounts[0] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts' },
  { name: 'bad IBAN checksum', request: withAccess({ accounts: [{ iban: 'DE89370400440532013001', currency: 'EUR' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].iban' },
  { name: 'IBAN of an unknown country', request: withAccess({ accounts: [{ iban: 'XX89370400440532013000' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].iban' },
  { name: 'IBAN as a number', request: withAccess({ accounts: [{ iban: 89370400440532013000 }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].iban' },
  { name: 'currency EURO', request: withAccess({ accounts: [{ iban: IBAN_DE, currency: 'EURO' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].currency' },
  { name: 'currency in lower case', request: withAccess({ accounts: [{ iban: IBAN_DE, currency: 'eur' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].currency' },
  { name: 'currency not ISO 4217', request: withAccess({ accounts: [{ iban: IBAN_DE, currency: 'ABC' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].currency' },
  { name: 'unknown field in an account reference', request: withAccess({ accounts: [{ iban: IBAN_DE, name: 'Main' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0].name' },
  { name: 'two identifiers in one reference', request: withAccess({ accounts: [{ iban: IBAN_DE, bban: '370400440532013000' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0]' },
  { name: 'no identifier in a reference', request: withAccess({ accounts: [{ currency: 'EUR' }] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[0]' },
  { name: 'the same account twice', request: withAccess({ accounts: [...accounts, ...accounts] }), status: 400, code: 'FORMAT_ERROR', path: 'access.accounts[1]' },
  { name: 'accounts combined with allPsd2', request: withAccess({ accounts, allPsd2: 'allAccounts' }), status: 400, code: 'FORMAT_ERROR', path: 'access.allPsd2' },
  { name: 'availableAccounts combined with allPsd2', request: withAccess({ availableAccounts: 'allAccounts', allPsd2: 'allAccounts' }), status: 400, code: 'FORMAT_ERROR' },
  { name: 'allPsd2 with owner name (not in Open Payments)', request: withAccess({ allPsd2: 'allAccountsWithOwnerName' }), status: 400, code: 'FORMAT_ERROR', path: 'access.allPsd2' },
  { name: 'availableAccounts unknown value', request: withAccess({ availableAccounts: 'everything' }), status: 400, code: 'FORMAT_ERROR', path: 'access.availableAccounts' },
  { name: 'availableAccountsWithBalance (Berlin Group spelling)', request: withAccess({ availableAccountsWithBalance: 'allAccounts' }), status: 400, code: 'FORMAT_ERROR', path: 'access.availableAccountsWithBalance' },
  // headers
  { name: 'missing X-Request-ID', request: { json: consentBody(), requestId: null }, status: 400, code: 'FORMAT_ERROR', path: 'X-Request-ID' },
  { name: 'X-Request-ID not a UUID', request: { json: consentBody(), requestId: 'request-1' }, status: 400, code: 'FORMAT_ERROR', path: 'X-Request-ID' },
  { name: 'bad PSU-IP-Address', request: { json: consentBody(), headers: { 'psu-ip-address': '10.0.0.256' } }, status: 400, code: 'FORMAT_ERROR', path: 'PSU-IP-Address' },
  { name: 'unregistered TPP-Redirect-URI', request: { json: consentBody(), headers: { 'tpp-redirect-uri': 'https://elsewhere.example/cb' } }, status: 400, code: 'FORMAT_ERROR', path: 'TPP-Redirect-URI' },
];

describe('Berlin Group consent API: malformed requests', () => {
  let server: TestServer;
  let tpp: TestClient;
  let token: string;
  let existing: string;
  let fuzzers: TestClient[];

  before(async () => {
    tpp = await makeKeyClient('bg-malformed');
    // POST /consents is limited to 100 a minute per TPP: the fuzz spreads over its own TPPs
    fuzzers = [await makeKeyClient('bg-fuzz-1'), await makeKeyClient('bg-fuzz-2')];
    server = await startTestServer({ clients: [tpp.config, ...fuzzers.map((f) => f.config)], profile: 'demo', bodyLimitBytes: LIMIT });
    token = await tokenFor(server, tpp);
    existing = await createConsent(server, token);
  });
  after(() => server.stop());

  test(`the table has at least 30 cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 30);
  });

  test('POST /consents: every malformed request is refused with the right code and stores nothing', async (t) => {
    const before = await countConsents(server, tpp.clientId);
    const snapshot = await server.assent.stores.consents.findById(existing);
    for (const c of CASES) {
      await t.test(c.name, async () => {
        const res = await call(server, 'POST', '/consents', { token, ...c.request });
        if (c.code) {
          assertError(res, c.status, c.code, c.path);
        } else {
          assert.equal(res.status, c.status, `${c.name}: ${res.text}`);
          assert.equal(res.text, '', `${c.name}: 415 has no body in the spec`);
        }
      });
    }
    assert.equal(await countConsents(server, tpp.clientId), before, 'a malformed request stored a consent');
    assert.deepEqual(await server.assent.stores.consents.findById(existing), snapshot);
  });

  test('one answer lists every bad field', async () => {
    const res = await call(server, 'POST', '/consents', {
      token,
      json: consentBody({ frequencyPerDay: 0, validUntil: 'soon', recurringIndicator: 'yes', extra: 1 }),
    });
    assertError(res, 400, 'FORMAT_ERROR');
    const paths = (res.body.tppMessages as Array<{ path?: string }>).map((m) => m.path).sort();
    assert.deepEqual(paths, ['extra', 'frequencyPerDay', 'recurringIndicator', 'validUntil']);
  });

  test('fuzz: 200 mutations of a valid body are answered 201 or 400, never 500, always per spec', async () => {
    // a small seeded PRNG (mulberry32), so a failure can be replayed
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const values = [null, 0, -1, 1.5, 1e308, '', ' ', 'x'.repeat(300), [], {}, true, false, '2026-13-01', '9999-12-31', '\u0000', 'DE00', [{}], { iban: IBAN_SE }, 'allAccounts', '<script>'];
    const keys = ['__proto__', 'constructor', 'toString', 'access', 'iban', 'currency', 'extra'];
    const paths = (node: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
      if (node === null || typeof node !== 'object') return [prefix];
      const entries = Array.isArray(node) ? node.map((v, i) => [i, v] as const) : Object.entries(node);
      return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
    };
    const statuses = new Map<number, number>();
    const tokens = [await tokenFor(server, fuzzers[0]!), await tokenFor(server, fuzzers[1]!)];
    for (let i = 0; i < 200; i++) {
      const body = JSON.parse(JSON.stringify(consentBody())) as Record<string, unknown>;
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        const path = pick(paths(body));
        if (path.length === 0) continue;
        const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], body);
        const key = path[path.length - 1]!;
        const action = random();
        if (action < 0.6) parent[key] = pick(values);
        else if (action < 0.8) delete parent[key];
        else if (typeof parent === 'object' && !Array.isArray(parent)) Object.defineProperty(parent, pick(keys), { value: pick(values), enumerable: true, configurable: true, writable: true });
      }
      const res = await call(server, 'POST', '/consents', { token: tokens[i % 2], json: body });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok([201, 400].includes(res.status), `mutation ${i}: ${res.status} ${res.text} for ${JSON.stringify(body)}`);
    }
    assert.ok((statuses.get(400) ?? 0) > 100, JSON.stringify([...statuses]));
  });

  test('malformed authorisation requests change nothing', async () => {
    const started = await call(server, 'POST', `/consents/${existing}/authorisations`, { token });
    const authId = started.body.authorisationId as string;
    const snapshot = await server.assent.stores.consents.findById(existing);
    const path = `/consents/${existing}/authorisations/${authId}`;
    const cases: Array<[string, string, CallOptions, number, string?, string?]> = [
      ['POST', `/consents/${existing}/authorisations`, { raw: '{', headers: { 'content-type': 'application/json' } }, 400, 'FORMAT_ERROR'],
      ['POST', `/consents/${existing}/authorisations`, { json: { scaAuthenticationData: '123' } }, 400, 'FORMAT_ERROR', 'scaAuthenticationData'],
      ['POST', `/consents/${existing}/authorisations`, { json: [] }, 400, 'FORMAT_ERROR'],
      ['PUT', path, { json: { authenticationMethodId: '' } }, 400, 'FORMAT_ERROR', 'authenticationMethodId'],
      ['PUT', path, { json: { authenticationMethodId: 'x'.repeat(36) } }, 400, 'FORMAT_ERROR', 'authenticationMethodId'],
      ['PUT', path, { json: { authenticationMethodId: null } }, 400, 'FORMAT_ERROR', 'authenticationMethodId'],
      ['PUT', path, { json: 'push-otp' }, 400, 'FORMAT_ERROR'],
      ['PUT', path, { json: { authenticationMethodId: 'unknown-method' } }, 400, 'SCA_METHOD_UNKNOWN', 'authenticationMethodId'],
      ['PUT', path, { raw: 'push-otp', headers: { 'content-type': 'text/plain' } }, 415],
      ['PUT', path, { json: { authenticationMethodId: 'push-otp' }, headers: { 'psu-ip-address': 'nope' } }, 400, 'FORMAT_ERROR', 'PSU-IP-Address'],
    ];
    for (const [method, p, request, status, code, field] of cases) {
      const res = await call(server, method, p, { token, ...request });
      if (code) assertError(res, status, code, field);
      else assert.equal(res.status, status);
    }
    assert.deepEqual(await server.assent.stores.consents.findById(existing), snapshot);
  });
});

describe('repeated Authorization headers', () => {
  let server: TestServer;
  let tpp: TestClient;
  before(async () => {
    tpp = await makeKeyClient('twice-tpp');
    server = await startTestServer({ clients: [tpp.config] });
  });
  after(() => server.stop());

  test('two Authorization headers are refused with 400 FORMAT_ERROR and nothing is stored', async () => {
    const token = await tokenFor(server, tpp);
    const { request } = await import('node:http');
    const body = JSON.stringify(consentBody());
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${server.url}/psd2/consent/v1/consents`, {
        method: 'POST',
        headers: [
          'authorization', `Bearer ${token}`,
          'authorization', `Bearer ${token}`,
          'host', new URL(server.url).host,
          'x-request-id', crypto.randomUUID(),
          'content-type', 'application/json',
          'content-length', String(Buffer.byteLength(body)),
        ],
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 400, answer.text);
    assert.ok(answer.text, 'empty 400 body');
    const parsed = JSON.parse(answer.text) as { tppMessages: Array<{ code: string; path?: string }> };
    assert.equal(parsed.tppMessages[0]?.code, 'FORMAT_ERROR');
    assert.equal(parsed.tppMessages[0]?.path, 'Authorization');
    assert.equal(await countConsents(server, tpp.clientId), 0);
    // one header still works
    assert.equal((await call(server, 'POST', '/consents', { token, json: consentBody() })).status, 201);
  });
});
