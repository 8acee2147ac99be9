/**
 * The OAuth core on real Redis + MongoDB-wire: discovery, client_credentials with private_key_jwt,
 * introspection, revocation, PAR, DPoP, and the fapi2 profile's refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import {
  clientAuth,
  clientCredentialsToken,
  dpopProof,
  makeKeyClient,
  makeSecretClient,
  pkce,
  postForm,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../support/assent.ts';
import { seedConsent } from '../support/tpp.ts';

describe('OAuth core, demo profile', () => {
  let server: TestServer;
  let tpp: TestClient;
  let other: TestClient;

  before(async () => {
    tpp = await makeKeyClient('tpp-one');
    other = makeSecretClient('tpp-two');
    server = await startTestServer({ clients: [tpp.config, other.config], profile: 'demo' });
  });
  after(() => server.stop());

  test('discovery advertises the mounted endpoints and the features', async () => {
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const d = (await res.json()) as Record<string, unknown>;
    assert.equal(d.issuer, server.issuer);
    assert.equal(d.authorization_endpoint, `${server.issuer}/authorize`);
    assert.equal(d.token_endpoint, `${server.issuer}/token`);
    assert.equal(d.pushed_authorization_request_endpoint, `${server.issuer}/par`);
    assert.equal(d.introspection_endpoint, `${server.issuer}/introspect`);
    assert.equal(d.revocation_endpoint, `${server.issuer}/revoke`);
    assert.equal(d.jwks_uri, `${server.issuer}/jwks`);
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    assert.ok((d.token_endpoint_auth_methods_supported as string[]).includes('private_key_jwt'));
    assert.ok((d.token_endpoint_auth_methods_supported as string[]).includes('tls_client_auth'));
    assert.ok((d.dpop_signing_alg_values_supported as string[]).includes('ES256'));
    assert.ok((d.grant_types_supported as string[]).includes('client_credentials'));
    assert.ok((d.grant_types_supported as string[]).includes('refresh_token'));
    assert.equal(d.authorization_response_iss_parameter_supported, true);
    assert.ok((d.scopes_supported as string[]).includes('accountinformation'));
    assert.ok((d.request_object_signing_alg_values_supported as string[]).includes('PS256'));
    assert.deepEqual(d.response_types_supported, ['code']);
  });

  test('client_credentials with private_key_jwt: issued, introspected active, revoked, then inactive', async () => {
    const token = await clientCredentialsToken(server, tpp);
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.token_type, 'Bearer');
    assert.equal(token.json.scope, 'accountinformation');
    const accessToken = token.json.access_token as string;

    const auth = await clientAuth(tpp, server.issuer);
    const active = await postForm(`${server.issuer}/introspect`, { token: accessToken, ...auth.form }, auth.headers);
    assert.equal(active.status, 200);
    assert.equal(active.json.active, true);
    assert.equal(active.json.client_id, 'tpp-one');
    assert.equal(active.json.scope, 'accountinformation');
    assert.equal(active.json.aud, new URL(server.issuer).origin);

    // another TPP may not look at this token
    const otherAuth = await clientAuth(other, server.issuer);
    const foreign = await postForm(`${server.issuer}/introspect`, { token: accessToken, ...otherAuth.form }, otherAuth.headers);
    assert.equal(foreign.json.active, false);

    const revokeAuth = await clientAuth(tpp, server.issuer);
    const revoked = await postForm(`${server.issuer}/revoke`, { token: accessToken, ...revokeAuth.form }, revokeAuth.headers);
    assert.equal(revoked.status, 200);

    const again = await clientAuth(tpp, server.issuer);
    const inactive = await postForm(`${server.issuer}/introspect`, { token: accessToken, ...again.form }, again.headers);
    assert.equal(inactive.json.active, false);
  });

  test('a scope the client may not have is refused', async () => {
    const token = await clientCredentialsToken(server, tpp, 'backoffice:revoke');
    assert.equal(token.status, 400);
    assert.equal(token.json.error, 'invalid_scope');
  });

  test('a wrong client assertion key is refused with invalid_client', async () => {
    const impostor = await makeKeyClient('tpp-one');
    const token = await clientCredentialsToken(server, impostor);
    assert.equal(token.status, 401);
    assert.equal(token.json.error, 'invalid_client');
  });

  test('PAR with private_key_jwt returns a request_uri; the authorization endpoint accepts it', async () => {
    const { challenge } = await pkce();
    const consent = await seedConsent(server, tpp.clientId);
    const auth = await clientAuth(tpp, server.issuer);
    const par = await postForm(`${server.issuer}/par`, {
      ...auth.form,
      consent_id: consent.id,
      response_type: 'code',
      redirect_uri: tpp.redirectUri,
      scope: 'openid accountinformation',
      state: 'xyz',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    assert.equal(par.status, 201, par.text);
    assert.match(par.json.request_uri as string, /^urn:ietf:params:oauth:request_uri:/);
    assert.ok((par.json.expires_in as number) > 0);
    const authorize = await fetch(
      `${server.issuer}/authorize?${new URLSearchParams({ client_id: tpp.clientId, request_uri: par.json.request_uri as string })}`,
      { redirect: 'manual' },
    );
    assert.equal(authorize.status, 303);
    assert.match(authorize.headers.get('location') ?? '', /^\/interaction\//);
  });

  test('PAR must name a consent of the requesting client that awaits authorisation', async () => {
    const { challenge } = await pkce();
    const base = {
      response_type: 'code',
      redirect_uri: tpp.redirectUri,
      scope: 'openid accountinformation',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const none = await postForm(`${server.issuer}/par`, { ...(await clientAuth(tpp, server.issuer)).form, ...base });
    assert.equal(none.status, 400);
    assert.match(String(none.json.error_description), /must name a consent/);

    const foreign = await seedConsent(server, other.clientId);
    const stolen = await postForm(`${server.issuer}/par`, { ...(await clientAuth(tpp, server.issuer)).form, ...base, consent_id: foreign.id });
    const unknown = await postForm(`${server.issuer}/par`, { ...(await clientAuth(tpp, server.issuer)).form, ...base, consent_id: 'no-such-consent' });
    assert.equal(stolen.status, 400);
    assert.deepEqual(stolen.json, unknown.json, 'a foreign consent must look exactly like an unknown one');

    const ended = await seedConsent(server, tpp.clientId);
    await server.assent.consents.terminateByTpp(ended, tpp.clientId);
    const final = await postForm(`${server.issuer}/par`, { ...(await clientAuth(tpp, server.issuer)).form, ...base, consent_id: ended.id });
    assert.equal(final.status, 400);
    assert.match(String(final.json.error_description), /not awaiting authorisation/);

    const viaAcr = await seedConsent(server, tpp.clientId);
    const ok = await postForm(`${server.issuer}/par`, { ...(await clientAuth(tpp, server.issuer)).form, ...base, acr_values: `consentId:${viaAcr.id}` });
    assert.equal(ok.status, 201, ok.text);
  });

  test('PKCE is required even for confidential clients', async () => {
    const auth = await clientAuth(tpp, server.issuer);
    const par = await postForm(`${server.issuer}/par`, {
      ...auth.form,
      response_type: 'code',
      redirect_uri: tpp.redirectUri,
      scope: 'openid accountinformation',
    });
    assert.equal(par.status, 400);
    assert.equal(par.json.error, 'invalid_request');
    assert.match(String(par.json.error_description), /PKCE/);
  });

  test('a redirect_uri that is not registered is refused', async () => {
    const { challenge } = await pkce();
    const auth = await clientAuth(tpp, server.issuer);
    const par = await postForm(`${server.issuer}/par`, {
      ...auth.form,
      response_type: 'code',
      redirect_uri: 'https://evil.example/cb',
      scope: 'openid accountinformation',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    assert.equal(par.status, 400);
    assert.ok(['invalid_redirect_uri', 'invalid_request'].includes(par.json.error as string), String(par.json.error));
    assert.match(String(par.json.error_description), /redirect_uri/);
  });

  test('a signed request object (JAR) pushed through PAR is accepted', async () => {
    const { challenge } = await pkce();
    const consent = await seedConsent(server, tpp.clientId);
    const key = await jose.importJWK(tpp.privateJwk, 'ES256');
    const request = await new jose.SignJWT({
      response_type: 'code',
      client_id: tpp.clientId,
      redirect_uri: tpp.redirectUri,
      scope: 'openid accountinformation',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'jar',
      consent_id: consent.id,
    })
      .setProtectedHeader({ alg: 'ES256', kid: tpp.privateJwk.kid!, typ: 'oauth-authz-req+jwt' })
      .setIssuer(tpp.clientId)
      .setAudience(server.issuer)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('60s')
      .sign(key);
    const auth = await clientAuth(tpp, server.issuer);
    const par = await postForm(`${server.issuer}/par`, { ...auth.form, request });
    assert.equal(par.status, 201, par.text);
  });

  test('DPoP: a proof makes a sender-constrained token', async () => {
    const keyPair = await jose.generateKeyPair('ES256');
    const proof = await dpopProof(keyPair, 'POST', `${server.issuer}/token`);
    const token = await clientCredentialsToken(server, tpp, 'accountinformation', { dpop: proof });
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.token_type, 'DPoP');
    const auth = await clientAuth(tpp, server.issuer);
    const info = await postForm(`${server.issuer}/introspect`, { token: token.json.access_token as string, ...auth.form });
    assert.equal(info.json.active, true);
    const cnf = info.json.cnf as { jkt?: string };
    assert.equal(cnf.jkt, await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey)));
  });

  test('X-Request-ID is echoed, and x-fapi-interaction-id too', async () => {
    const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123', 'x-fapi-interaction-id': 'fapi-9' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    assert.equal(res.headers.get('x-fapi-interaction-id'), 'fapi-9');
    const fresh = await fetch(`${server.url}/healthz`);
    assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('logs are JSON with a request id on every request line, and carry no secrets or tokens', async () => {
    const token = await clientCredentialsToken(server, other);
    assert.equal(token.status, 200);
    const lines = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = lines.filter((l) => l.msg === 'request');
    assert.ok(requestLines.length > 0);
    for (const line of requestLines) assert.ok(typeof line.requestId === 'string' && line.requestId.length > 0);
    const all = server.logs.join('\n');
    assert.ok(!all.includes(other.secret!), 'client secret in logs');
    assert.ok(!all.includes(token.json.access_token as string), 'access token in logs');
  });
});

describe('OAuth core, fapi2 profile', () => {
  let server: TestServer;
  let tpp: TestClient;

  before(async () => {
    tpp = await makeKeyClient('fapi-tpp');
    server = await startTestServer({ clients: [tpp.config], profile: 'fapi2' });
  });
  after(() => server.stop());

  test('discovery: PAR required, PS256/ES256 only', async () => {
    const d = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(d.require_pushed_authorization_requests, true);
    assert.deepEqual(d.token_endpoint_auth_methods_supported, ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']);
    assert.deepEqual([...(d.token_endpoint_auth_signing_alg_values_supported as string[])].sort(), ['ES256', 'PS256']);
    assert.deepEqual([...(d.id_token_signing_alg_values_supported as string[])].sort(), ['ES256', 'PS256']);
  });

  test('the plain authorization endpoint without PAR is refused', async () => {
    const { challenge } = await pkce();
    const url = new URL(`${server.issuer}/authorize`);
    url.search = new URLSearchParams({
      client_id: tpp.clientId,
      response_type: 'code',
      redirect_uri: tpp.redirectUri,
      scope: 'openid accountinformation',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    const location = new URL(res.headers.get('location') ?? 'http://none/');
    assert.equal(location.searchParams.get('error'), 'invalid_request', `got ${res.status} ${location.href}`);
    assert.match(location.searchParams.get('error_description') ?? '', /pushed authorization request/i);
  });

  test('tokens must be sender-constrained: no DPoP proof, no token', async () => {
    const bearer = await clientCredentialsToken(server, tpp);
    assert.equal(bearer.status, 400);
    assert.equal(bearer.json.access_token, undefined);
    assert.equal(bearer.json.error, 'invalid_grant'); // oidc-provider: missing DPoP proof JWT
    const keyPair = await jose.generateKeyPair('ES256');
    const proof = await dpopProof(keyPair, 'POST', `${server.issuer}/token`);
    const bound = await clientCredentialsToken(server, tpp, 'accountinformation', { dpop: proof });
    assert.equal(bound.status, 200, bound.text);
    assert.equal(bound.json.token_type, 'DPoP');
  });
});
