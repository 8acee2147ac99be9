/**
 * The router and its description without stores: docs/openapi/backoffice.yaml describes exactly the
 * routes served and the catalogue's codes; the list endpoints ask the repository for one page (skip and
 * limit, never everything) and present what it returns; unexpected failures are a bare 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { parse } from 'yaml';
import { configSchema, type AssentConfig } from '../../../config/schema.ts';
import type { ConsentService } from '../../../src/application/consents.ts';
import type { ConsentQuery, ConsentSortField } from '../../../src/consent/repository.ts';
import type { Consent } from '../../../src/consent/types.ts';
import { BO_ERRORS } from '../../../src/dialects/backoffice/errors.ts';
import { loadOpenApi, openApiFor, OPENAPI_FILE } from '../../../src/dialects/backoffice/openapi.ts';
import { backofficeRouter } from '../../../src/dialects/backoffice/routes.ts';
import { requestContext } from '../../../src/http/request-context.ts';
import { createLogger } from '../../../src/log.ts';
import { TokenError, type OAuthService } from '../../../src/oidc/oauth.ts';
import { loadSpec } from '../../support/openapi.ts';
import { OUR_SPEC } from './helpers.ts';

type Json = Record<string, any>;
const ours = parse(readFileSync(OUR_SPEC, 'utf8')) as Json;
const config: AssentConfig = { ...configSchema.parse({}), profile: 'demo' };

describe('our OpenAPI description', () => {
  test('the router serves the checked-in file, set to the deployment', () => {
    assert.equal(OPENAPI_FILE.href, OUR_SPEC.href);
    const served = openApiFor(loadOpenApi(), 'https://bank.example/connect');
    assert.deepEqual(served.servers, [{ url: 'https://bank.example/backoffice/v1', description: 'this server' }]);
    assert.equal((served as Json).components.securitySchemes.oAuth2.flows.clientCredentials.tokenUrl, 'https://bank.example/connect/token');
    assert.deepEqual((served as Json).paths, ours.paths);
  });

  test('it describes exactly the routes the router serves', () => {
    const router = backofficeRouter({ consents: {} as ConsentService, oauth: {} as OAuthService, config, log: createLogger('silent') });
    const served = new Set<string>();
    for (const layer of router.stack) {
      const methods = layer.methods.filter((m) => m !== 'HEAD');
      if (methods.length !== 1) continue; // the 405 / 404 catch-alls answer every method
      served.add(`${methods[0]} ${String(layer.path).replace(/^\/backoffice\/v1/, '').replace(/:(\w+)/g, '{$1}')}`);
    }
    const described = new Set<string>();
    for (const [path, item] of Object.entries(ours.paths as Json)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'].filter((m) => item[m])) described.add(`${method.toUpperCase()} ${path}`);
    }
    assert.deepEqual([...served].sort(), [...described].sort());
  });

  test('its error codes are the catalogue’s', () => {
    const codes = Object.values(BO_ERRORS).map((e) => e.code);
    assert.deepEqual([...ours.components.schemas.ApiErrorCode.enum].sort(), [...new Set(codes)].sort());
    for (const [name, entry] of Object.entries(ours.components.schemas as Json)) {
      const match = /^ErrorResponse(\d{3})$/.exec(name);
      if (!match) continue;
      const allowed = entry.allOf[1].properties.errors.items.properties.code.enum as string[];
      const expected = Object.values(BO_ERRORS).filter((e) => e.status === Number(match[1])).map((e) => e.code);
      assert.deepEqual([...allowed].sort(), [...new Set(expected)].sort(), name);
    }
  });

  test('every $ref resolves and every response schema compiles', () => {
    const refs = JSON.stringify(ours).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const pointer = ref.slice('"$ref":"#/'.length, -1).split('/');
      assert.ok(pointer.reduce<Json | undefined>((node, key) => node?.[key], ours), `unresolved ${ref}`);
    }
    const spec = loadSpec(OUR_SPEC);
    for (const name of Object.keys(ours.components.schemas)) {
      assert.doesNotThrow(() => spec.ajv.compile({ $ref: `${spec.id}#/components/schemas/${name}` }), name);
    }
  });
});

describe('the list endpoints against a recording consent service', () => {
  const calls: Array<{ filter: ConsentQuery; options: { sort: ConsentSortField; direction: string; skip: number; limit: number } }> = [];
  let total = 0;
  let fail = false;
  let server: Server;
  let base: string;
  const now = new Date('2025-06-01T12:00:00Z');

  const fakeConsent = (i: number): Consent => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    clientId: 'tpp',
    type: 'accounts',
    access: {},
    recurringIndicator: false,
    validUntil: '2099-01-01',
    expiresAt: new Date('2099-01-02T00:00:00Z'),
    frequencyPerDay: 1,
    combinedServiceIndicator: false,
    status: 'valid',
    lastActionDate: '2025-01-01',
    createdAt: new Date('2025-01-01T00:00:00Z'),
    updatedAt: new Date('2025-01-01T00:00:00Z'),
    history: [],
    authorisations: [],
    revision: 1,
  });

  before(async () => {
    const consents = {
      async query(filter: ConsentQuery, options: { sort: ConsentSortField; direction: 'asc' | 'desc'; skip: number; limit: number }) {
        if (fail) throw new Error('database unreachable at mongodb://secret-host');
        calls.push({ filter, options });
        const count = Math.max(0, Math.min(options.limit, total - options.skip));
        return { items: Array.from({ length: count }, (_, i) => fakeConsent(options.skip + i)), total };
      },
    } as unknown as ConsentService;
    const oauth = {
      async verifyAccessToken(request: { authorization?: string }, scope: string) {
        if (request.authorization !== 'Bearer good') throw new TokenError('invalid', 'unknown token');
        return { clientId: 'bank-app', scopes: new Set([scope]), kind: 'client_credentials' };
      },
      async client(clientId: string) {
        return { clientId, name: clientId === 'tpp' ? 'The TPP' : clientId, redirectUris: [], internal: clientId === 'bank-app' };
      },
    } as unknown as OAuthService;
    const app = new Koa();
    app.use(requestContext());
    const router = backofficeRouter({ consents, oauth, config: { ...config, issuer: 'https://bank.example/connect' }, log: createLogger('silent'), now: () => now });
    app.use(router.routes());
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backoffice/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: 'Bearer good' } });
    return { status: res.status, body: (await res.json()) as Json };
  };

  test('one page is asked for: skip = (page - 1) × page-size, limit = page-size', async () => {
    total = 1_000_000;
    calls.length = 0;
    const res = await get('/consents?page=4000&page-size=250&sort=-expiresAt');
    assert.equal(res.status, 200);
    assert.deepEqual(calls.map((c) => c.options), [{ sort: 'expiresAt', direction: 'desc', skip: 999_750, limit: 250 }]);
    assert.equal(res.body.data.length, 250);
    assert.deepEqual(res.body.meta, { totalRecords: 1_000_000, totalPages: 4000, requestDateTime: '2025-06-01T12:00:00Z' });
    assert.equal(res.body.links.next, undefined);
    assert.equal(res.body.links.last, 'https://bank.example/backoffice/v1/consents?sort=-expiresAt&page=4000&page-size=250');
    assert.equal(res.body.data[0].tppName, 'The TPP');
  });

  test('the defaults: page 1, 25, newest first; filters reach the query with inclusive ends made exclusive', async () => {
    calls.length = 0;
    await get('/consents?createdFrom=2025-01-01&createdTo=2025-01-31&expiresTo=2025-12-31T23:59:59Z&status=REVOKED&type=PAYMENT');
    assert.deepEqual(calls[0]?.options, { sort: 'createdAt', direction: 'desc', skip: 0, limit: 25 });
    assert.deepEqual(calls[0]?.filter, {
      status: ['revokedByPsu', 'terminatedByTpp'],
      type: ['payments', 'br-payment'],
      createdFrom: new Date('2025-01-01T00:00:00.000Z'),
      createdTo: new Date('2025-02-01T00:00:00.000Z'),
      expiresTo: new Date('2025-12-31T23:59:59.001Z'),
    });
  });

  test('active: the repository window, a date-only `to` covering its whole day; default now', async () => {
    calls.length = 0;
    await get('/consents/active?from=2025-01-01&to=2025-01-31');
    assert.deepEqual(calls[0]?.filter, {
      activeDuring: { from: new Date('2025-01-01T00:00:00.000Z'), to: new Date('2025-01-31T23:59:59.999Z') },
    });
    calls.length = 0;
    await get('/consents/active');
    assert.deepEqual(calls[0]?.filter, { activeDuring: { from: now, to: now } });
  });

  test('a failing store is a bare 500 in the spec format, its message not exposed', async () => {
    fail = true;
    try {
      const res = await get('/consents');
      assert.equal(res.status, 500);
      assert.equal(res.body.errors[0].code, 'INTERNAL_ERROR');
      assert.ok(!JSON.stringify(res.body).includes('secret-host'));
    } finally {
      fail = false;
    }
  });
});
