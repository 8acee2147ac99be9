/**
 * Two Assent instances behind one (simulated) load balancer, on one Redis and one MongoDB-wire server:
 * the per-TPP consent-creation limit and DPoP proof replay protection hold across them. The instances
 * share the public issuer; requests to B carry X-Forwarded-Host/-Proto naming it, as a proxy sends them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { clientAssertion, dpopProof, makeKeyClient, postForm, requireEnv, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { accountsBody, ALICE } from '../support/tpp.ts';

const database = `assent_test_${randomUUID().replaceAll('-', '')}`;
const prefix = `assent-test:${randomUUID()}:`;
let a: TestServer;
let b: TestServer;
let bearer: TestClient;
let dpopClient: TestClient;
/** headers that make B see the public origin (A's) */
let viaB: Record<string, string>;

before(async () => {
  bearer = await makeKeyClient('scale-tpp');
  dpopClient = await makeKeyClient('scale-dpop-tpp', { dpop_bound_access_tokens: true });
  const shared = {
    clients: [bearer.config, dpopClient.config],
    trustProxy: true,
    consent: { createRateLimit: { limit: 100, windowSeconds: 60 } },
    mongodb: { uri: requireEnv('MONGODB_URI'), database },
    redis: { url: requireEnv('REDIS_URL'), prefix },
  };
  a = await startTestServer(shared);
  b = await startTestServer({ ...shared, issuer: a.issuer });
  viaB = { 'x-forwarded-host': new URL(a.url).host, 'x-forwarded-proto': 'http' };
});

after(async () => {
  await a?.stop();
  await b?.stop();
  const mongo = new MongoClient(requireEnv('MONGODB_URI'));
  await mongo.db(database).dropDatabase().catch(() => undefined);
  await mongo.close();
  const redis = new Redis(requireEnv('REDIS_URL'));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** server's base URL and the headers that go with it */
const at = (server: TestServer) => ({ base: server.url, headers: server === b ? viaB : {} });

async function ccToken(server: TestServer, client: TestClient, dpop?: jose.GenerateKeyPairResult) {
  const { base, headers } = at(server);
  const proof: Record<string, string> = dpop ? { dpop: await dpopProof(dpop, 'POST', `${a.issuer}/token`) } : {};
  return postForm(
    `${base}/connect/token`,
    {
      grant_type: 'client_credentials',
      scope: 'accountinformation',
      client_id: client.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(client, a.issuer),
    },
    { ...headers, ...proof },
  );
}

function createConsent(server: TestServer, authorization: Record<string, string>) {
  const { base, headers } = at(server);
  return fetch(`${base}/psd2/consent/v1/consents`, {
    method: 'POST',
    headers: {
      ...headers,
      ...authorization,
      'x-request-id': randomUUID(),
      'psu-ip-address': '192.0.2.10',
      'content-type': 'application/json',
    },
    body: JSON.stringify(accountsBody([ALICE.salary])),
  });
}

describe('two instances on one Redis and MongoDB-wire server', () => {
  test('the consent-creation limit (configured: 100 a minute per TPP) holds across both: 120 requests, 100 created', async () => {
    const token = await ccToken(a, bearer);
    assert.equal(token.status, 200, token.text);
    const authorization = { authorization: `Bearer ${token.json.access_token as string}` };
    const statuses: number[] = [];
    for (let round = 0; round < 12; round++) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const res = await createConsent(i % 2 === 0 ? a : b, authorization);
          const body = (await res.json()) as { tppMessages?: Array<{ code: string }> };
          if (res.status === 429) {
            assert.equal(body.tppMessages?.[0]?.code, 'ACCESS_EXCEEDED');
            assert.ok(Number(res.headers.get('retry-after')) >= 1);
          }
          return res.status;
        }),
      );
      statuses.push(...batch);
    }
    assert.equal(statuses.filter((s) => s === 201).length, 100, `created: ${statuses.filter((s) => s === 201).length}`);
    assert.equal(statuses.filter((s) => s === 429).length, 20);
  });

  test('a DPoP proof used at the consent API on A is refused on B', async () => {
    const key = await jose.generateKeyPair('ES256');
    const token = await ccToken(a, dpopClient, key);
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.token_type, 'DPoP');
    const accessToken = token.json.access_token as string;
    const proof = await dpopProof(key, 'POST', `${a.url}/psd2/consent/v1/consents`, accessToken);
    const first = await createConsent(a, { authorization: `DPoP ${accessToken}`, dpop: proof });
    assert.equal(first.status, 201, await first.text());
    const replayed = await createConsent(b, { authorization: `DPoP ${accessToken}`, dpop: proof });
    assert.equal(replayed.status, 401, 'the replayed proof was accepted on the other instance');
    // a fresh proof is fine on B
    const fresh = await createConsent(b, { authorization: `DPoP ${accessToken}`, dpop: await dpopProof(key, 'POST', `${a.url}/psd2/consent/v1/consents`, accessToken) });
    assert.equal(fresh.status, 201, await fresh.text());
  });

  test('one DPoP proof sent to both token endpoints at once gets exactly one token', async () => {
    const key = await jose.generateKeyPair('ES256');
    const proof = await dpopProof(key, 'POST', `${a.issuer}/token`);
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const server = i % 2 === 0 ? a : b;
        const { base, headers } = at(server);
        return postForm(
          `${base}/connect/token`,
          {
            grant_type: 'client_credentials',
            scope: 'accountinformation',
            client_id: dpopClient.clientId,
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: await clientAssertion(dpopClient, a.issuer),
          },
          { ...headers, dpop: proof },
        );
      }),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => `${r.status} ${r.json.error_description ?? ''}`).join('; '));
    for (const r of results.filter((r) => r.status !== 200)) assert.equal(r.json.error, 'invalid_grant'); // (oidc-provider: "DPoP proof JWT Replay detected")
  });
});
