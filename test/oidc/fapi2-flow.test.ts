/**
 * The whole consent flow under the fapi2 profile: DPoP-bound client_credentials token used at the
 * Berlin Group API with proofs, the scaOAuth parameters pushed through PAR with private_key_jwt, the
 * customer's approval, the code exchanged for DPoP-bound tokens carrying consent_id, a DPoP refresh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { clientAuth, dpopProof, makeKeyClient, pkce, postForm, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, accountsBody, decideWithoutBrowser, introspect, type StartedFlow } from '../support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let keys: jose.GenerateKeyPairResult;

before(async () => {
  tpp = await makeKeyClient('fapi-app');
  server = await startTestServer({ clients: [tpp.config], profile: 'fapi2' });
  keys = await jose.generateKeyPair('ES256');
});
after(() => server.stop());

async function api(token: string, method: string, path: string, body?: unknown) {
  const url = `${server.url}/psd2/consent/v1${path}`;
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `DPoP ${token}`,
      dpop: await dpopProof(keys, method, url, token),
      'x-request-id': randomUUID(),
      'psu-ip-address': '192.0.2.10',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

async function token(form: Record<string, string>) {
  const auth = await clientAuth(tpp, server.issuer);
  return postForm(`${server.issuer}/token`, { ...form, ...auth.form }, { dpop: await dpopProof(keys, 'POST', `${server.issuer}/token`) });
}

test('fapi2: DPoP + PAR + private_key_jwt from consent to refreshed tokens', async () => {
  const cc = await token({ grant_type: 'client_credentials', scope: 'accountinformation' });
  assert.equal(cc.status, 200, cc.text);
  assert.equal(cc.json.token_type, 'DPoP');
  const ccToken = cc.json.access_token as string;

  // a DPoP-bound token presented as a bearer token is refused
  const asBearer = await fetch(`${server.url}/psd2/consent/v1/consents/x/status`, {
    headers: { authorization: `Bearer ${ccToken}`, 'x-request-id': randomUUID() },
  });
  assert.equal(asBearer.status, 401);

  const created = await api(ccToken, 'POST', '/consents', accountsBody([ALICE.salary]));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const consentId = created.body.consentId as string;
  const started = await api(ccToken, 'POST', `/consents/${consentId}/authorisations`);
  const authorisationId = started.body.authorisationId as string;
  const selected = await api(ccToken, 'PUT', `/consents/${consentId}/authorisations/${authorisationId}`, { authenticationMethodId: 'push-otp' });
  assert.equal(selected.status, 200, JSON.stringify(selected.body));
  const link = new URL(selected.body._links.scaOAuth.href as string);

  // the scaOAuth parameters go through PAR (required in fapi2)
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const auth = await clientAuth(tpp, server.issuer);
  const par = await postForm(`${server.issuer}/par`, {
    ...Object.fromEntries(link.searchParams),
    redirect_uri: tpp.redirectUri,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...auth.form,
  });
  assert.equal(par.status, 201, par.text);
  const authorize = new URL(`${server.issuer}/authorize`);
  authorize.search = new URLSearchParams({ client_id: tpp.clientId, request_uri: par.json.request_uri as string }).toString();

  const flow: StartedFlow = { consentId, authorisationId, link: authorize, state, verifier, ccToken };
  const back = await decideWithoutBrowser(server, flow);
  assert.equal(back.searchParams.get('state'), state);
  assert.equal(back.searchParams.get('iss'), server.issuer);

  const tokens = await token({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: tpp.redirectUri });
  assert.equal(tokens.status, 200, tokens.text);
  assert.equal(tokens.json.token_type, 'DPoP');
  const info = await introspect(server, tpp, tokens.json.access_token as string);
  assert.equal(info.consent_id, consentId);
  assert.equal((info.cnf as { jkt: string }).jkt, await jose.calculateJwkThumbprint(await jose.exportJWK(keys.publicKey)));

  const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token as string });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.equal((await introspect(server, tpp, refreshed.json.access_token as string)).consent_id, consentId);

  const status = await api(ccToken, 'GET', `/consents/${consentId}/status`);
  assert.equal(status.body.consentStatus, 'valid');
});
