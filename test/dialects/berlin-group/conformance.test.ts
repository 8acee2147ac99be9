/**
 * Berlin Group conformance items (Open Payments NextGenPSD2 1.3.3) on real Redis + MongoDB-wire: what a
 * client written against the spec sends and must get. Every answer is validated against the upstream
 * spec and our served one (helpers.ts `call`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { assertError, call, tokenFor } from './helpers.ts';

describe('Berlin Group conformance', () => {
  let server: TestServer;
  let tpp: TestClient;
  let token: string;

  before(async () => {
    tpp = makeSecretClient('bgc-tpp');
    // client_credentials tokens live 1 s here, so that one can expire during the test
    server = await startTestServer({ clients: [tpp.config], profile: 'demo', ttl: { clientCredentials: 1 } });
    token = await tokenFor(server, tpp);
  });
  after(() => server.stop());

  test('an expired token → 401 TOKEN_EXPIRED; a token never issued → 401 TOKEN_INVALID', async () => {
    const shortLived = await tokenFor(server, tpp);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const expired = await call(server, 'GET', `/consents/${randomUUID()}`, { token: shortLived });
    assertError(expired, 401, 'TOKEN_EXPIRED');
    assert.match(expired.headers.get('www-authenticate') ?? '', /invalid_token/);
    assertError(await call(server, 'GET', `/consents/${randomUUID()}`, { token: 'x'.repeat(43) }), 401, 'TOKEN_INVALID');
  });
});
