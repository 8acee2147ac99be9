/**
 * The consent lifecycle on real Redis + MongoDB-wire: a consent past validUntil reads as expired and is
 * stored as such with a history entry (on read and by the sweeper), its tokens stop working; a consent
 * left `received` too long is rejected by the sweeper; the periodic sweeper runs by itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { makeKeyClient, requireEnv, startTestServer, type TestClient, type TestServer, changeStoredConsent } from '../support/assent.ts';
import { bg, decideWithoutBrowser, exchangeCode, introspect, refresh, seedConsent, startFlow } from '../support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let mongo: MongoClient;

before(async () => {
  tpp = await makeKeyClient('life-tpp');
  server = await startTestServer({ clients: [tpp.config], consent: { receivedTimeoutSeconds: 600, sweepIntervalSeconds: 1 } });
  mongo = new MongoClient(requireEnv('MONGODB_URI'));
});
after(async () => {
  await server.stop();
  await mongo.close();
});

/** Moves stored instants into the past, as time passing would (raw update, like a clock jump). */
async function backdate(consentId: string, fields: { expiresAt?: Date; createdAt?: Date }) {
  await changeStoredConsent(server, consentId, fields);
}

async function approvedWithTokens() {
  const flow = await startFlow(server, tpp);
  const back = await decideWithoutBrowser(server, flow);
  const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { flow, accessToken: tokens.json.access_token as string, refreshToken: tokens.json.refresh_token as string };
}

describe('expiry', () => {
  test('on read: a valid consent past validUntil reads as expired, is stored so once, and its tokens stop', async () => {
    const { flow, accessToken, refreshToken } = await approvedWithTokens();
    assert.equal((await introspect(server, tpp, accessToken)).active, true);
    await backdate(flow.consentId, { expiresAt: new Date(Date.now() - 1000) });

    const status = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`);
    assert.equal(status.body.consentStatus, 'expired');
    const again = await bg(server, flow.ccToken, 'GET', `/consents/${flow.consentId}/status`);
    assert.equal(again.body.consentStatus, 'expired');
    const stored = await server.assent.consents.get(flow.consentId);
    assert.equal(stored?.status, 'expired');
    const expiries = stored!.history.filter((h) => h.to === 'expired');
    assert.equal(expiries.length, 1, 'one history entry, however often it is read');
    assert.equal(expiries[0]!.actor, 'system');
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    assert.equal((await refresh(server, tpp, refreshToken)).json.error, 'invalid_grant');
  });

  test('by the sweeper: expired without anyone reading it, tokens revoked', async () => {
    const { flow, accessToken } = await approvedWithTokens();
    await backdate(flow.consentId, { expiresAt: new Date(Date.now() - 1000) });
    const changed = await server.assent.consents.sweep();
    assert.ok(changed >= 1);
    const raw = await server.assent.stores.consents.findById(flow.consentId);
    assert.equal(raw?.status, 'expired');
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
  });

  test('the periodic sweeper runs by itself', async () => {
    const { flow } = await approvedWithTokens();
    await backdate(flow.consentId, { expiresAt: new Date(Date.now() - 1000) });
    const deadline = Date.now() + 5_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      status = (await server.assent.stores.consents.findById(flow.consentId))?.status;
      if (status === 'expired') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 'expired');
  });
});

describe('stale received consents', () => {
  test('a consent left received longer than the timeout is rejected by the sweeper; a fresh one is left alone', async () => {
    const stale = await seedConsent(server, tpp.clientId);
    const fresh = await seedConsent(server, tpp.clientId);
    await backdate(stale.id, { createdAt: new Date(Date.now() - 601_000) });
    await server.assent.consents.sweep();
    const after = await server.assent.stores.consents.findById(stale.id);
    assert.equal(after?.status, 'rejected');
    assert.equal(after?.history.at(-1)?.actor, 'system');
    assert.equal((await server.assent.stores.consents.findById(fresh.id))?.status, 'received');
  });
});
