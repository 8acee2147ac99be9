/**
 * The Berlin Group consent API end to end on real Redis + MongoDB-wire: the Open Payments walk-through up
 * to the scaOAuth link, every endpoint, the header and token checks, ownership, state conflicts, expiry,
 * replayed and concurrent transitions. Every answer is checked against the Open Payments spec (helpers.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
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
  changeStoredConsent,
} from '../../support/assent.ts';
import { BASE, IBAN_DE, assertError, call, consentBody, createConsent, isoDay, tokenFor } from './helpers.ts';

describe('Berlin Group consent API', () => {
  let server: TestServer;
  let tpp: TestClient;
  let other: TestClient;
  let token: string;
  let otherToken: string;
  let narrow: TestClient;
  let backoffice: TestClient;

  before(async () => {
    tpp = await makeKeyClient('bg-tpp');
    other = makeSecretClient('bg-other');
    narrow = makeSecretClient('bg-narrow', { scope: 'openid offline_access' });
    backoffice = makeSecretClient('bg-backoffice', { scope: 'accountinformation backoffice:read', 'urn:assent:internal': true });
    server = await startTestServer({ clients: [tpp.config, other.config, narrow.config, backoffice.config], profile: 'demo' });
    token = await tokenFor(server, tpp);
    otherToken = await tokenFor(server, other);
  });
  after(() => server.stop());

  const stored = (id: string) => server.assent.stores.consents.findById(id);

  describe('the walk-through', () => {
    test('create → read → status → start authorisation → list → SCA status → select method → scaOAuth link', async () => {
      const psuIp = '198.51.100.7';
      const created = await call(server, 'POST', '/consents', {
        token,
        json: consentBody(),
        headers: { 'psu-ip-address': psuIp, 'psu-id': 'PSU-1234', 'x-bicfi': 'AAAADEBBXXX', 'tpp-redirect-uri': tpp.redirectUri },
      });
      assert.equal(created.status, 201, created.text);
      const consentId = created.body.consentId as string;
      assert.equal(created.body.consentStatus, 'received');
      assert.deepEqual(created.body.scaMethods, [{ authenticationType: 'PUSH_OTP', authenticationMethodId: 'push-otp', name: 'Bank app' }]);
      assert.deepEqual(created.body._links, {
        self: { href: `${BASE}/consents/${consentId}` },
        status: { href: `${BASE}/consents/${consentId}/status` },
        startAuthorisation: { href: `${BASE}/consents/${consentId}/authorisations` },
      });
      assert.equal(created.headers.get('location'), `${BASE}/consents/${consentId}`);
      assert.equal(created.headers.get('aspsp-sca-approach'), 'REDIRECT');

      const record = await stored(consentId);
      assert.equal(record?.clientId, tpp.clientId);
      assert.equal(record?.psuIpAddress, psuIp);
      assert.equal(record?.details?.psuIdentification, 'PSU-1234');
      assert.equal(record?.psuId, undefined, 'the internal PSU id is only known once a customer approves');
      assert.equal(record?.details?.tppRedirectUri, tpp.redirectUri);
      assert.equal(record?.history.length, 1);

      const read = await call(server, 'GET', created.body._links.self.href, { token });
      assert.equal(read.status, 200);
      const sent = consentBody();
      assert.deepEqual(read.body, {
        access: sent.access,
        recurringIndicator: true,
        validUntil: sent.validUntil,
        frequencyPerDay: 4,
        lastActionDate: isoDay(0),
        consentStatus: 'received',
      });

      const status = await call(server, 'GET', created.body._links.status.href, { token });
      assert.deepEqual(status.body, { consentStatus: 'received' });

      const started = await call(server, 'POST', created.body._links.startAuthorisation.href, {
        token,
        raw: '',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(started.status, 201, started.text);
      const authorisationId = started.body.authorisationId as string;
      const authPath = `${BASE}/consents/${consentId}/authorisations/${authorisationId}`;
      assert.equal(started.body.scaStatus, 'started');
      assert.equal(started.headers.get('aspsp-sca-approach'), 'REDIRECT');
      assert.deepEqual(started.body._links, { scaStatus: { href: authPath }, selectAuthenticationMethod: { href: authPath } });
      assert.equal(started.body.scaMethods[0].authenticationMethodId, 'push-otp');

      const list = await call(server, 'GET', `/consents/${consentId}/authorisations`, { token });
      assert.deepEqual(list.body, { authorisationIds: [authorisationId] });

      const sca = await call(server, 'GET', started.body._links.scaStatus.href, { token });
      assert.deepEqual(sca.body, { scaStatus: 'started' });

      const selected = await call(server, 'PUT', started.body._links.selectAuthenticationMethod.href, {
        token,
        json: { authenticationMethodId: 'push-otp' },
      });
      assert.equal(selected.status, 200, selected.text);
      assert.equal(selected.body.scaStatus, 'scaMethodSelected');
      assert.equal(selected.headers.get('aspsp-sca-approach'), 'REDIRECT');
      assert.deepEqual(selected.body.chosenScaMethod, { authenticationType: 'PUSH_OTP', authenticationMethodId: 'push-otp', name: 'Bank app' });
      assert.equal(typeof selected.body.psuMessage, 'string');
      assert.equal(selected.body._links.scaStatus.href, authPath);

      const link = new URL(selected.body._links.scaOAuth.href as string);
      assert.equal(`${link.origin}${link.pathname}`, `${server.issuer}/authorize`);
      assert.equal(link.searchParams.get('client_id'), tpp.clientId);
      assert.equal(link.searchParams.get('response_type'), 'code');
      assert.deepEqual(link.searchParams.get('scope')?.split(' ').sort(), ['accountinformation', 'offline_access', 'openid']);
      assert.equal(link.searchParams.get('prompt'), 'consent');
      assert.deepEqual(link.searchParams.get('acr_values')?.split(' '), [`consentId:${consentId}`, `consentAuthorisationId:${authorisationId}`]);
      assert.equal(link.searchParams.get('redirect_uri'), tpp.redirectUri);

      const after = await call(server, 'GET', authPath, { token });
      assert.deepEqual(after.body, { scaStatus: 'scaMethodSelected' });

      // the link works: with state and PKCE added, the authorization endpoint starts the PSU interaction
      const { challenge } = await pkce();
      link.searchParams.set('state', randomUUID());
      link.searchParams.set('code_challenge', challenge);
      link.searchParams.set('code_challenge_method', 'S256');
      const authorize = await fetch(link, { redirect: 'manual' });
      assert.ok([302, 303].includes(authorize.status), `authorize answered ${authorize.status}: ${await authorize.text()}`);
      const location = authorize.headers.get('location') ?? '';
      assert.ok(!location.startsWith(tpp.redirectUri), `the authorization request was refused: ${location}`);
    });

    test('without TPP-Redirect-URI the scaOAuth link has no redirect_uri (the TPP adds it)', async () => {
      const consentId = await createConsent(server, token);
      const started = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token });
      assert.equal(started.status, 201);
      const selected = await call(server, 'PUT', `/consents/${consentId}/authorisations/${started.body.authorisationId}`, {
        token,
        json: { authenticationMethodId: 'push-otp' },
      });
      assert.equal(selected.status, 200);
      const link = new URL(selected.body._links.scaOAuth.href as string);
      assert.equal(link.searchParams.get('redirect_uri'), null);
      assert.equal(link.searchParams.get('client_id'), tpp.clientId);
    });

    test('global access in the Open Payments spelling is kept as sent', async () => {
      for (const access of [{ allPsd2: 'allAccounts' }, { availableAccounts: 'allAccounts' }, { availableAccounts: 'allAccountsWithBalances' }]) {
        const consentId = await createConsent(server, token, { access });
        const read = await call(server, 'GET', `/consents/${consentId}`, { token });
        assert.deepEqual(read.body.access, access);
      }
    });

    test('a validUntil beyond the maximum validity is capped; a one-off consent gets frequencyPerDay 1', async () => {
      const consentId = await createConsent(server, token, { validUntil: '9999-12-31', recurringIndicator: false, frequencyPerDay: 4 });
      const read = await call(server, 'GET', `/consents/${consentId}`, { token });
      assert.equal(read.body.validUntil, isoDay(server.assent.config.consent.maxValidityDays));
      assert.equal(read.body.frequencyPerDay, 1);
    });

    test('an IBAN in print format is stored in electronic format', async () => {
      const consentId = await createConsent(server, token, {
        access: { accounts: [{ iban: 'DE89 3704 0044 0532 0130 00', currency: 'EUR' }] },
      });
      const read = await call(server, 'GET', `/consents/${consentId}`, { token });
      assert.deepEqual(read.body.access, { accounts: [{ iban: IBAN_DE, currency: 'EUR' }] });
    });

    test('start authorisation accepts no body, an empty body and {}', async () => {
      const consentId = await createConsent(server, token);
      const none = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token });
      const empty = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token, raw: '', headers: { 'content-type': 'application/json' } });
      const object = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token, json: {} });
      assert.deepEqual([none.status, empty.status, object.status], [201, 201, 201]);
      const list = await call(server, 'GET', `/consents/${consentId}/authorisations`, { token });
      assert.equal(list.body.authorisationIds.length, 3);
    });

    test('a DPoP-bound token works with its proof and not without', async () => {
      const keyPair = await jose.generateKeyPair('ES256');
      const bound = await clientCredentialsToken(server, tpp, 'accountinformation', { dpop: await dpopProof(keyPair, 'POST', `${server.issuer}/token`) });
      assert.equal(bound.json.token_type, 'DPoP');
      const accessToken = bound.json.access_token as string;
      const url = `${server.url}${BASE}/consents`;
      const ok = await call(server, 'POST', url, {
        json: consentBody(),
        headers: { authorization: `DPoP ${accessToken}`, dpop: await dpopProof(keyPair, 'POST', url, accessToken) },
      });
      assert.equal(ok.status, 201, ok.text);
      const noProof = await call(server, 'POST', url, { json: consentBody(), headers: { authorization: `DPoP ${accessToken}` } });
      assertError(noProof, 401, 'TOKEN_INVALID');
      const asBearer = await call(server, 'POST', url, { json: consentBody(), token: accessToken });
      assertError(asBearer, 401, 'TOKEN_INVALID');
    });

    test('the OpenAPI description is served as JSON for this deployment', async () => {
      const res = await fetch(`${server.url}${BASE}/openapi.json`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const doc = (await res.json()) as any;
      assert.equal(doc.openapi, '3.0.1');
      assert.deepEqual(doc.servers, [{ url: `${server.url}/psd2`, description: 'this server' }]);
      assert.equal(doc.components.securitySchemes.oAuth2.flows.clientCredentials.tokenUrl, `${server.issuer}/token`);
      assert.ok(doc.paths['/consent/v1/consents/{consentId}/authorisations/{authorisationId}'].put);
    });
  });

  describe('headers', () => {
    test('X-Request-ID is required and must be a UUID; the answer still carries one', async () => {
      const missing = await call(server, 'POST', '/consents', { token, json: consentBody(), requestId: null });
      assertError(missing, 400, 'FORMAT_ERROR', 'X-Request-ID');
      const invalid = await call(server, 'POST', '/consents', { token, json: consentBody(), requestId: 'not-a-uuid' });
      assertError(invalid, 400, 'FORMAT_ERROR', 'X-Request-ID');
      const onGet = await call(server, 'GET', `/consents/${randomUUID()}`, { token, requestId: '12345' });
      assertError(onGet, 400, 'FORMAT_ERROR', 'X-Request-ID');
    });

    test('X-Request-ID is checked before the token', async () => {
      const res = await call(server, 'GET', `/consents/${randomUUID()}/status`, { requestId: null });
      assertError(res, 400, 'FORMAT_ERROR', 'X-Request-ID');
    });

    test('PSU-IP-Address must be an IPv4 or IPv6 address; IPv6 is stored', async () => {
      for (const bad of ['999.1.1.1', 'localhost', '1.2.3', '']) {
        const res = await call(server, 'POST', '/consents', { token, json: consentBody(), headers: { 'psu-ip-address': bad } });
        assertError(res, 400, 'FORMAT_ERROR', 'PSU-IP-Address');
      }
      const consentId = await createConsent(server, token, {}, { 'psu-ip-address': '2001:db8::1' });
      assert.equal((await stored(consentId))?.psuIpAddress, '2001:db8::1');
      const onRead = await call(server, 'GET', `/consents/${consentId}`, { token, headers: { 'psu-ip-address': '300.0.0.1' } });
      assertError(onRead, 400, 'FORMAT_ERROR', 'PSU-IP-Address');
    });

    test('X-BicFi is optional but must match the spec\'s pattern; TPP-Redirect-URI must be registered', async () => {
      assertError(await call(server, 'POST', '/consents', { token, json: consentBody(), headers: { 'x-bicfi': 'not a bic' } }), 400, 'FORMAT_ERROR', 'X-BicFi');
      assertError(await call(server, 'POST', '/consents', { token, json: consentBody(), headers: { 'x-bicfi': 'AAAADEB' } }), 400, 'FORMAT_ERROR', 'X-BicFi');
      // the spec's pattern is unanchored (JSON Schema): a value that contains a BIC matches it
      for (const bic of ['AAAADEBB', 'AAAADEBBXXX', 'x-AAAADE2B-y']) {
        assert.equal((await call(server, 'POST', '/consents', { token, json: consentBody(), headers: { 'x-bicfi': bic } })).status, 201, bic);
      }
      assertError(await call(server, 'POST', '/consents', { token, json: consentBody(), headers: { 'tpp-redirect-uri': 'https://evil.example/cb' } }), 400, 'FORMAT_ERROR', 'TPP-Redirect-URI');
      assertError(await call(server, 'POST', '/consents', { token, json: consentBody(), headers: { 'tpp-redirect-uri': 'not a uri' } }), 400, 'FORMAT_ERROR', 'TPP-Redirect-URI');
    });
  });

  describe('access tokens', () => {
    const paths = () => [
      ['POST', '/consents'],
      ['GET', `/consents/${randomUUID()}`],
      ['DELETE', `/consents/${randomUUID()}`],
      ['GET', `/consents/${randomUUID()}/status`],
      ['POST', `/consents/${randomUUID()}/authorisations`],
      ['GET', `/consents/${randomUUID()}/authorisations`],
      ['GET', `/consents/${randomUUID()}/authorisations/${randomUUID()}`],
      ['PUT', `/consents/${randomUUID()}/authorisations/${randomUUID()}`],
    ] as const;

    test('no token → 401 TOKEN_INVALID on every endpoint', async () => {
      for (const [method, path] of paths()) {
        const json = method === 'POST' && path === '/consents' ? consentBody() : method === 'PUT' ? { authenticationMethodId: 'push-otp' } : undefined;
        const res = await call(server, method, path, { ...(json ? { json } : {}) });
        assertError(res, 401, 'TOKEN_INVALID');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    });

    test('an unknown token, a malformed header and a Basic header → 401 TOKEN_INVALID', async () => {
      assertError(await call(server, 'GET', `/consents/${randomUUID()}`, { token: 'not-a-real-token' }), 401, 'TOKEN_INVALID');
      assertError(await call(server, 'GET', `/consents/${randomUUID()}`, { headers: { authorization: 'Bearer' } }), 401, 'TOKEN_INVALID');
      assertError(await call(server, 'GET', `/consents/${randomUUID()}`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'TOKEN_INVALID');
    });

    test('a revoked token → 401 TOKEN_INVALID', async () => {
      const revocable = await tokenFor(server, tpp);
      const consentId = await createConsent(server, revocable);
      const auth = await clientAuth(tpp, server.issuer);
      const revoked = await postForm(`${server.issuer}/revoke`, { token: revocable, ...auth.form }, auth.headers);
      assert.equal(revoked.status, 200);
      assertError(await call(server, 'GET', `/consents/${consentId}`, { token: revocable }), 401, 'TOKEN_INVALID');
    });

    test('a token without the accountinformation scope → 403 SERVICE_BLOCKED (insufficient_scope)', async () => {
      const res = await clientCredentialsToken(server, narrow, 'openid');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.scope, undefined);
      const answer = await call(server, 'GET', `/consents/${randomUUID()}`, { token: res.json.access_token as string });
      assertError(answer, 403, 'SERVICE_BLOCKED');
      assert.match(answer.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    });

    test("an internal (back-office) client's token is not a TPP's → 401 TOKEN_INVALID", async () => {
      const res = await clientCredentialsToken(server, backoffice, 'accountinformation');
      assert.equal(res.status, 200, res.text);
      assertError(await call(server, 'POST', '/consents', { token: res.json.access_token as string, json: consentBody() }), 401, 'TOKEN_INVALID');
    });
  });

  describe('ownership and unknown resources', () => {
    test("another TPP's consent is answered exactly like an unknown one (403 CONSENT_UNKNOWN) on every endpoint", async () => {
      const consentId = await createConsent(server, token);
      const started = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token });
      const authorisationId = started.body.authorisationId as string;
      const unknownId = randomUUID();
      const requests = (id: string) =>
        [
          ['GET', `/consents/${id}`, undefined],
          ['DELETE', `/consents/${id}`, undefined],
          ['GET', `/consents/${id}/status`, undefined],
          ['POST', `/consents/${id}/authorisations`, undefined],
          ['GET', `/consents/${id}/authorisations`, undefined],
          ['GET', `/consents/${id}/authorisations/${authorisationId}`, undefined],
          ['PUT', `/consents/${id}/authorisations/${authorisationId}`, { authenticationMethodId: 'push-otp' }],
        ] as const;
      const foreign = requests(consentId);
      const unknown = requests(unknownId);
      for (let i = 0; i < foreign.length; i++) {
        const [method, path, json] = foreign[i]!;
        const a = await call(server, method, path, { token: otherToken, ...(json ? { json } : {}) });
        const b = await call(server, method, unknown[i]![1], { token: otherToken, ...(json ? { json } : {}) });
        assertError(a, 403, 'CONSENT_UNKNOWN');
        assert.equal(a.text, b.text, `${method} ${path}: foreign and unknown differ`);
      }
      // nothing changed for the owner
      const record = await stored(consentId);
      assert.equal(record?.status, 'received');
      assert.equal(record?.authorisations.length, 1);
      assert.equal(record?.authorisations[0]?.scaStatus, 'started');
    });

    test('ids that cannot name a consent are unknown too', async () => {
      for (const id of ['x'.repeat(200), '%E2%80%AE', 'a%20b', '%ZZ', '%00']) {
        const res = await call(server, 'GET', `/consents/${id}/status`, { token });
        assert.ok([403, 404].includes(res.status), `${id}: ${res.status}`);
        if (res.status === 403) assertError(res, 403, 'CONSENT_UNKNOWN');
      }
    });

    test('an unknown authorisation → 403 RESOURCE_UNKNOWN (also one of another consent)', async () => {
      const a = await createConsent(server, token);
      const b = await createConsent(server, token);
      const ofB = (await call(server, 'POST', `/consents/${b}/authorisations`, { token })).body.authorisationId as string;
      for (const authId of [randomUUID(), ofB, 'not valid!']) {
        assertError(await call(server, 'GET', `/consents/${a}/authorisations/${encodeURIComponent(authId)}`, { token }), 403, 'RESOURCE_UNKNOWN');
        assertError(
          await call(server, 'PUT', `/consents/${a}/authorisations/${encodeURIComponent(authId)}`, { token, json: { authenticationMethodId: 'push-otp' } }),
          403,
          'RESOURCE_UNKNOWN',
        );
      }
    });

    test('unsupported methods on known paths → 405 SERVICE_INVALID with Allow', async () => {
      const id = randomUUID();
      const cases: Array<[string, string, string]> = [
        ['PATCH', '/consents', 'POST'],
        ['GET', '/consents', 'POST'],
        ['PUT', `/consents/${id}`, 'GET, DELETE, HEAD'],
        ['POST', `/consents/${id}/status`, 'GET, HEAD'],
        ['DELETE', `/consents/${id}/authorisations`, 'POST, GET, HEAD'],
        ['DELETE', `/consents/${id}/authorisations/${id}`, 'GET, PUT, HEAD'],
        ['POST', `/consents/${id}/authorisations/${id}`, 'GET, PUT, HEAD'],
      ];
      for (const [method, path, allow] of cases) {
        const res = await call(server, method, path, { token });
        assertError(res, 405, 'SERVICE_INVALID');
        assert.equal(res.headers.get('allow'), allow);
      }
    });

    test('an unknown path under the API → 404 RESOURCE_UNKNOWN', async () => {
      const res = await call(server, 'GET', '/payments', { token, unspecified: true });
      assertError(res, 404, 'RESOURCE_UNKNOWN');
    });
  });

  describe('state', () => {
    test('DELETE of a received consent rejects it; a repeated DELETE is 204 with no second history entry', async () => {
      const consentId = await createConsent(server, token);
      const first = await call(server, 'DELETE', `/consents/${consentId}`, { token });
      assert.equal(first.status, 204);
      assert.equal(first.text, '');
      const status = await call(server, 'GET', `/consents/${consentId}/status`, { token });
      assert.deepEqual(status.body, { consentStatus: 'rejected' });
      const again = await call(server, 'DELETE', `/consents/${consentId}`, { token });
      assert.equal(again.status, 204);
      const record = await stored(consentId);
      assert.deepEqual(
        record?.history.map((h) => [h.from, h.to, h.actor]),
        [
          [null, 'received', 'TPP'],
          ['received', 'rejected', 'TPP'],
        ],
      );
    });

    test('10 parallel DELETEs: all 204, exactly one terminal history entry', async () => {
      const consentId = await createConsent(server, token);
      const answers = await Promise.all(Array.from({ length: 10 }, () => call(server, 'DELETE', `/consents/${consentId}`, { token })));
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(10).fill(204),
      );
      const record = await stored(consentId);
      assert.equal(record?.status, 'rejected');
      assert.equal(record?.history.filter((h) => h.to === 'rejected').length, 1);
      assert.equal(record?.history.length, 2);
    });

    test('parallel selections of the SCA method: one 200, the others 409 STATUS_INVALID, one history entry', async () => {
      const consentId = await createConsent(server, token);
      const authId = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(server, 'PUT', `/consents/${consentId}/authorisations/${authId}`, { token, json: { authenticationMethodId: 'push-otp' } }),
        ),
      );
      const ok = answers.filter((a) => a.status === 200);
      assert.equal(ok.length, 1, answers.map((a) => `${a.status} ${a.text}`).join('\n'));
      for (const a of answers.filter((x) => x.status !== 200)) assertError(a, 409, 'STATUS_INVALID');
      const record = await stored(consentId);
      const authorisation = record?.authorisations.find((a) => a.id === authId);
      assert.deepEqual(
        authorisation?.history.map((h) => h.to),
        ['started', 'scaMethodSelected'],
      );
    });

    test('selecting again after the method was selected → 409 STATUS_INVALID', async () => {
      const consentId = await createConsent(server, token);
      const authId = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
      const path = `/consents/${consentId}/authorisations/${authId}`;
      assert.equal((await call(server, 'PUT', path, { token, json: { authenticationMethodId: 'push-otp' } })).status, 200);
      assertError(await call(server, 'PUT', path, { token, json: { authenticationMethodId: 'push-otp' } }), 409, 'STATUS_INVALID');
    });

    test('an unknown authenticationMethodId → 400 SCA_METHOD_UNKNOWN, nothing changes', async () => {
      const consentId = await createConsent(server, token);
      const authId = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
      const res = await call(server, 'PUT', `/consents/${consentId}/authorisations/${authId}`, { token, json: { authenticationMethodId: 'sms-otp' } });
      assertError(res, 400, 'SCA_METHOD_UNKNOWN', 'authenticationMethodId');
      const sca = await call(server, 'GET', `/consents/${consentId}/authorisations/${authId}`, { token });
      assert.deepEqual(sca.body, { scaStatus: 'started' });
    });

    test('the update body, when given, must be a method selection', async () => {
      const consentId = await createConsent(server, token);
      const authId = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
      const path = `/consents/${consentId}/authorisations/${authId}`;
      assertError(await call(server, 'PUT', path, { token, json: { authenticationMethodId: 7 } }), 400, 'FORMAT_ERROR', 'authenticationMethodId');
      assertError(await call(server, 'PUT', path, { token, json: { authenticationMethodId: 'push-otp', psuData: { password: 'x' } } }), 400, 'FORMAT_ERROR', 'psuData');
      const wrongType = await call(server, 'PUT', path, { token, raw: 'authenticationMethodId=push-otp', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(wrongType.status, 415);
      assert.equal(wrongType.text, '');
      assertError(await call(server, 'POST', `/consents/${consentId}/authorisations`, { token, json: { psuData: {} } }), 400, 'FORMAT_ERROR', 'psuData');
      assert.equal((await call(server, 'POST', `/consents/${consentId}/authorisations`, { token, raw: '{}', headers: { 'content-type': 'text/plain' } })).status, 415);
      const sca = await call(server, 'GET', path, { token });
      assert.deepEqual(sca.body, { scaStatus: 'started' });
    });

    test('starting or updating an authorisation of an ended consent → 409 STATUS_INVALID', async () => {
      const consentId = await createConsent(server, token);
      const authId = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
      assert.equal((await call(server, 'DELETE', `/consents/${consentId}`, { token })).status, 204);
      assertError(await call(server, 'POST', `/consents/${consentId}/authorisations`, { token }), 409, 'STATUS_INVALID');
      assertError(
        await call(server, 'PUT', `/consents/${consentId}/authorisations/${authId}`, { token, json: { authenticationMethodId: 'push-otp' } }),
        409,
        'STATUS_INVALID',
      );
      // reads still work, and the authorisation failed with its consent
      assert.deepEqual((await call(server, 'GET', `/consents/${consentId}/authorisations/${authId}`, { token })).body, { scaStatus: 'failed' });
    });

    test('an expired consent reads as expired; starting or updating its authorisation → 401 CONSENT_EXPIRED', async () => {
      // a consent whose stored expiresAt has passed, written through the service on the test's store
      const expired = await server.assent.consents.create({
        clientId: tpp.clientId,
        type: 'accounts',
        access: { accounts: [{ iban: IBAN_DE, currency: 'EUR' }] },
        recurringIndicator: true,
        validUntil: isoDay(-1),
        expiresAt: new Date(Date.now() - 60_000),
        frequencyPerDay: 4,
        combinedServiceIndicator: false,
      });
      assertError(await call(server, 'POST', `/consents/${expired.id}/authorisations`, { token }), 401, 'CONSENT_EXPIRED');
      const read = await call(server, 'GET', `/consents/${expired.id}`, { token });
      assert.equal(read.body.consentStatus, 'expired');

      // a consent that expires while its authorisation is under way: expiresAt moved into the past in MongoDB
      const consentId = await createConsent(server, token);
      const authId = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
      await changeStoredConsent(server, consentId, { expiresAt: new Date(Date.now() - 1000) });
      assertError(
        await call(server, 'PUT', `/consents/${consentId}/authorisations/${authId}`, { token, json: { authenticationMethodId: 'push-otp' } }),
        401,
        'CONSENT_EXPIRED',
      );
      assert.deepEqual((await call(server, 'GET', `/consents/${consentId}/status`, { token })).body, { consentStatus: 'expired' });
      // DELETE of an expired consent is still 204 and changes nothing more
      assert.equal((await call(server, 'DELETE', `/consents/${consentId}`, { token })).status, 204);
      const record = await stored(consentId);
      assert.deepEqual(
        record?.history.map((h) => h.to),
        ['received', 'expired'],
      );
    });

    test('a consent of another API type is not a resource of this API', async () => {
      const foreignType = await server.assent.consents.create({
        clientId: tpp.clientId,
        type: 'br-data-sharing',
        access: {},
        recurringIndicator: true,
        validUntil: isoDay(10),
        frequencyPerDay: 1,
        combinedServiceIndicator: false,
      });
      assertError(await call(server, 'GET', `/consents/${foreignType.id}`, { token }), 403, 'CONSENT_UNKNOWN');
      assertError(await call(server, 'DELETE', `/consents/${foreignType.id}`, { token }), 403, 'CONSENT_UNKNOWN');
    });
  });

  test("the 101st consent of a TPP within a minute → 429 ACCESS_EXCEEDED (the client's configured limit)", async () => {
    const busy = makeSecretClient('bg-busy', { 'urn:assent:consent_create_limit': 100 });
    const busyServer = await startTestServer({ clients: [busy.config], profile: 'demo' });
    try {
      const busyToken = await tokenFor(busyServer, busy);
      const statuses = [];
      for (let i = 0; i < 101; i++) statuses.push((await call(busyServer, 'POST', '/consents', { token: busyToken, json: consentBody() })).status);
      assert.deepEqual(statuses.slice(0, 100), Array(100).fill(201));
      const limited = await call(busyServer, 'POST', '/consents', { token: busyToken, json: consentBody() });
      assertError(limited, 429, 'ACCESS_EXCEEDED');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(statuses[100], 429);
    } finally {
      await busyServer.stop();
    }
  });

  test('logs carry no tokens', () => {
    const all = server.logs.join('\n');
    assert.ok(!all.includes(token), 'access token in logs');
  });
});
