/**
 * The token endpoint needs no consent store: the consent a grant was made for travels in the grant
 * (oidc-provider's Grant, in Redis), so codes are exchanged and tokens refreshed with `consent_id` while
 * MongoDB is unreachable. A consent that ended has no grant any more, so nothing is issued for it.
 * Real Redis and FerretDB, real token endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MongoClient } from 'mongodb';
import { GRANT_CONSENT_ID } from '../../src/oidc/provider.ts';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { bg, decideWithoutBrowser, exchangeCode, introspect, refresh, startFlow } from '../support/tpp.ts';

async function approvedCode(server: TestServer, tpp: TestClient) {
  const flow = await startFlow(server, tpp);
  const code = (await decideWithoutBrowser(server, flow)).searchParams.get('code');
  assert.ok(code);
  return { flow, code };
}

describe('token endpoint without the consent store', () => {
  let server: TestServer;
  let tpp: TestClient;

  before(async () => {
    tpp = makeSecretClient('tpp-nomongo');
    server = await startTestServer({ clients: [tpp.config], profile: 'demo' });
  });
  after(() => server.stop());

  test('the grant made at approval names its consent', async () => {
    const { flow, code } = await approvedCode(server, tpp);
    const consent = await server.assent.consents.get(flow.consentId);
    assert.ok(consent?.grantId);
    const grant = (await server.assent.provider.Grant.find(consent.grantId)) as unknown as Record<string, unknown>;
    assert.equal(grant[GRANT_CONSENT_ID], flow.consentId);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
  });

  test('a grant stored before grants carried their consent still gets consent_id (from the store)', async () => {
    const { flow, code } = await approvedCode(server, tpp);
    const consent = await server.assent.consents.get(flow.consentId);
    const Grant = server.assent.provider.Grant;
    const grant = (await Grant.find(consent!.grantId!)) as unknown as Record<string, unknown> & { save(): Promise<string> };
    delete grant[GRANT_CONSENT_ID];
    await grant.save();
    assert.equal(((await Grant.find(consent!.grantId!)) as unknown as Record<string, unknown>)[GRANT_CONSENT_ID], undefined);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await introspect(server, tpp, tokens.json.access_token as string)).consent_id, flow.consentId);
  });

  test('a consent that ended before the exchange gets no tokens; its refresh token is dead too', async () => {
    const ended = await approvedCode(server, tpp);
    assert.equal((await bg(server, ended.flow.ccToken, 'DELETE', `/consents/${ended.flow.consentId}`)).status, 204);
    const refused = await exchangeCode(server, tpp, ended.code, ended.flow.verifier);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error, 'invalid_grant');

    const later = await approvedCode(server, tpp);
    const tokens = await exchangeCode(server, tpp, later.code, later.flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await bg(server, later.flow.ccToken, 'DELETE', `/consents/${later.flow.consentId}`)).status, 204);
    const refreshed = await refresh(server, tpp, tokens.json.refresh_token as string);
    assert.equal(refreshed.status, 400, refreshed.text);
    assert.equal(refreshed.json.error, 'invalid_grant');
  });

  // last: it closes this server's MongoDB client for good
  test('with MongoDB unreachable, the code exchange and a refresh issue tokens carrying consent_id', async () => {
    const { flow, code } = await approvedCode(server, tpp);
    const mongo = (server.assent.stores.db as unknown as { client: MongoClient }).client;
    await mongo.close();
    // the consent store is really gone for this server
    await assert.rejects(server.assent.stores.consents.findById(flow.consentId));

    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const access = await server.assent.provider.AccessToken.find(tokens.json.access_token as string);
    assert.equal((access as unknown as { extra?: Record<string, unknown> }).extra?.consent_id, flow.consentId);
    assert.equal((await introspect(server, tpp, tokens.json.access_token as string)).consent_id, flow.consentId);

    const refreshed = await refresh(server, tpp, tokens.json.refresh_token as string);
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal((await introspect(server, tpp, refreshed.json.access_token as string)).consent_id, flow.consentId);
  });
});
