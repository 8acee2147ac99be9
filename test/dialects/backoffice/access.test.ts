/**
 * Who may call the back-office API, on real stores: every endpoint without a token, with a bad one, with
 * a TPP's token, with a non-internal client that has the scope, with a read-only and a revoke-only
 * internal client. Then the served OpenAPI description, 405 and 404, and HEAD.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeKeyClient, makeSecretClient } from '../../support/assent.ts';
import type { Consent } from '../../../src/consent/types.ts';
import { BASE, Seeder, assertError, call, internalClientConfig, startBackoffice, tokenFor, type BackofficeServer } from './helpers.ts';

let server: BackofficeServer;
const tokens: Record<'tpp' | 'outsider' | 'reader' | 'revoker' | 'admin', string> = { tpp: '', outsider: '', reader: '', revoker: '', admin: '' };
let consent: Consent;

before(async () => {
  const tpp = await makeKeyClient('acc-tpp');
  // a TPP that was (wrongly) given the back-office scope: still not an internal client
  const outsider = makeSecretClient('acc-outsider', { scope: 'accountinformation backoffice:read backoffice:revoke' });
  const reader = makeSecretClient('acc-reader', internalClientConfig('backoffice:read'));
  const revoker = makeSecretClient('acc-revoker', internalClientConfig('backoffice:revoke'));
  const admin = makeSecretClient('acc-admin', internalClientConfig('backoffice:read backoffice:revoke'));
  server = await startBackoffice({ clients: [tpp.config, outsider.config, reader.config, revoker.config, admin.config], profile: 'demo' });
  tokens.tpp = await tokenFor(server, tpp, 'accountinformation');
  tokens.outsider = await tokenFor(server, outsider, 'backoffice:read backoffice:revoke');
  tokens.reader = await tokenFor(server, reader, 'backoffice:read');
  tokens.revoker = await tokenFor(server, revoker, 'backoffice:revoke');
  tokens.admin = await tokenFor(server, admin, 'backoffice:read backoffice:revoke');
  const s = new Seeder(server);
  consent = await s.approve(await s.create({ clientId: 'acc-tpp', expiresAt: new Date(Date.now() + 86_400_000) }), 'psu-1');
});
after(() => server.stop());

interface Endpoint {
  name: string;
  method: string;
  path: () => string;
  json?: unknown;
  scope: 'backoffice:read' | 'backoffice:revoke';
}

const endpoints: Endpoint[] = [
  { name: 'list', method: 'GET', path: () => '/consents', scope: 'backoffice:read' },
  { name: 'active', method: 'GET', path: () => '/consents/active', scope: 'backoffice:read' },
  { name: 'detail', method: 'GET', path: () => `/consents/${consent.id}`, scope: 'backoffice:read' },
  // a body that would fail validation: authentication must answer first (and nothing gets revoked)
  { name: 'revoke', method: 'PATCH', path: () => `/consents/${consent.id}`, json: { status: 'nope' }, scope: 'backoffice:revoke' },
];

describe('authorisation of every endpoint', () => {
  for (const e of endpoints) {
    test(`${e.name}: no token → 401 with a Bearer challenge`, async () => {
      const res = await call(server, e.method, e.path(), { json: e.json });
      assertError(res, 401, 'UNAUTHORIZED');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="assent-backoffice"');
    });

    test(`${e.name}: an unknown or malformed token → 401 invalid_token`, async () => {
      for (const authorization of [`Bearer ${randomUUID()}`, 'Bearer', 'Basic YTpi', `DPoP ${tokens.reader}`]) {
        const res = await call(server, e.method, e.path(), { json: e.json, headers: { authorization } });
        assertError(res, 401, 'UNAUTHORIZED');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="assent-backoffice"/);
      }
    });

    test(`${e.name}: a TPP's token → 403`, async () => {
      const res = await call(server, e.method, e.path(), { token: tokens.tpp, json: e.json });
      assertError(res, 403, 'INSUFFICIENT_SCOPE');
      assert.equal(res.headers.get('www-authenticate'), `Bearer realm="assent-backoffice", error="insufficient_scope", scope="${e.scope}"`);
    });

    test(`${e.name}: a non-internal client holding the scope → 403 FORBIDDEN`, async () => {
      assertError(await call(server, e.method, e.path(), { token: tokens.outsider, json: e.json }), 403, 'FORBIDDEN');
    });
  }

  test('read-only internal client: the reads work, the revocation is 403', async () => {
    for (const e of endpoints.filter((x) => x.method === 'GET')) {
      assert.equal((await call(server, e.method, e.path(), { token: tokens.reader })).status, 200, e.name);
    }
    assertError(await call(server, 'PATCH', `/consents/${consent.id}`, { token: tokens.reader, json: { status: 'REVOKED', reason: 'x' } }), 403, 'INSUFFICIENT_SCOPE');
    assert.equal((await server.assent.stores.consents.findById(consent.id))?.status, 'valid');
  });

  test('revoke-only internal client: the reads are 403', async () => {
    for (const e of endpoints.filter((x) => x.method === 'GET')) {
      assertError(await call(server, e.method, e.path(), { token: tokens.revoker }), 403, 'INSUFFICIENT_SCOPE');
    }
  });

  test('authentication comes before parameters: a bad filter without a token is 401', async () => {
    assertError(await call(server, 'GET', '/consents?page-size=5000'), 401, 'UNAUTHORIZED');
    assertError(await call(server, 'GET', '/consents?page-size=5000', { token: tokens.tpp }), 403, 'INSUFFICIENT_SCOPE');
  });

  test('an internal client with both scopes may revoke', async () => {
    const res = await call(server, 'PATCH', `/consents/${consent.id}`, { token: tokens.admin, json: { status: 'REVOKED', reason: 'access test' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.status, 'REVOKED');
  });
});

describe('the rest of the surface', () => {
  test('GET /openapi.json: our description, servers and token URL of this deployment, no token needed', async () => {
    const res = await call(server, 'GET', '/openapi.json');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.servers, [{ url: `${server.linkOrigin}${BASE}`, description: 'this server' }]);
    assert.equal(res.body.components.securitySchemes.oAuth2.flows.clientCredentials.tokenUrl, `${server.issuer}/token`);
    assert.deepEqual(Object.keys(res.body.paths), ['/consents', '/consents/active', '/consents/{consentId}', '/openapi.json']);
  });

  test('other methods are 405 with Allow', async () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/consents', 'GET, HEAD'],
      ['DELETE', '/consents', 'GET, HEAD'],
      ['PATCH', '/consents/active', 'GET, HEAD'],
      ['DELETE', `/consents/${randomUUID()}`, 'GET, PATCH, HEAD'],
      ['PUT', `/consents/${randomUUID()}`, 'GET, PATCH, HEAD'],
      ['POST', '/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await call(server, method, path, { token: tokens.admin });
      assertError(res, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
    }
  });

  test('unknown paths under the prefix are 404 NOT_FOUND', async () => {
    for (const path of ['/', '/nope', '/consents/a/b', '/consent']) {
      assertError(await call(server, 'GET', path, { token: tokens.admin, unspecified: true }), 404, 'NOT_FOUND');
    }
  });

  test('HEAD answers like GET, without a body', async () => {
    const res = await call(server, 'HEAD', '/consents', { token: tokens.reader });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal((await call(server, 'HEAD', '/consents')).status, 401);
  });
});
