/**
 * Open Finance Brasil consent creation is limited per TPP like the Berlin Group one (config
 * consent.createRateLimit, a client's urn:assent:consent_create_limit): over it 429
 * LIMITE_REQUISICOES_EXCEDIDO with Retry-After, in the spec's error format; another TPP is unaffected.
 * Real Redis (the counts are shared by every instance) and FerretDB.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSecretClient, startTestServer, type TestServer } from '../../support/assent.ts';
import { assertErrors, br, consentBody, consentsToken } from './helpers.ts';

let server: TestServer;
let busy: string;
let calm: string;

before(async () => {
  const busyTpp = makeSecretClient('br-busy', { scope: 'openid offline_access consents', 'urn:assent:consent_create_limit': 2 });
  const calmTpp = makeSecretClient('br-calm', { scope: 'openid offline_access consents' });
  server = await startTestServer({ clients: [busyTpp.config, calmTpp.config] });
  busy = await consentsToken(server, busyTpp);
  calm = await consentsToken(server, calmTpp);
});
after(() => server.stop());

test('POST /consents over the TPP\'s limit: 429 LIMITE_REQUISICOES_EXCEDIDO with Retry-After; others unaffected', async () => {
  const statuses: number[] = [];
  let last;
  for (let i = 0; i < 3; i++) {
    last = await br(server, 'POST', '/consents', { token: busy, json: consentBody() });
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [201, 201, 429]);
  assertErrors(last!, 429, 'LIMITE_REQUISICOES_EXCEDIDO');
  assert.ok(Number(last!.headers.get('retry-after')) >= 1);
  assert.equal((await br(server, 'POST', '/consents', { token: calm, json: consentBody() })).status, 201);
});
