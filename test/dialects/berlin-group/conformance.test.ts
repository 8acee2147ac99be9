/**
 * Berlin Group conformance items (Open Payments NextGenPSD2 1.3.3) on real Redis + MongoDB-wire: what a
 * client written against the spec sends and must get. Every answer is validated against the upstream
 * spec and our served one (helpers.ts `call`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { ALICE, followRedirects, openConsentPage, startFlow, submitDecision } from '../../support/tpp.ts';
import { assertError, call, consentBody, tokenFor } from './helpers.ts';

describe('Berlin Group conformance: tokens', () => {
  let server: TestServer;
  let tpp: TestClient;
  before(async () => {
    tpp = makeSecretClient('bgc-short');
    // client_credentials tokens live 1 s here, so that one can expire during the test
    server = await startTestServer({ clients: [tpp.config], profile: 'demo', ttl: { clientCredentials: 1 } }, { embedded: false });
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

describe('Berlin Group conformance', () => {
  let server: TestServer;
  let tpp: TestClient;
  let token: string;

  before(async () => {
    tpp = makeSecretClient('bgc-tpp');
    server = await startTestServer({ clients: [tpp.config], profile: 'demo', bodyTimeoutMs: 500 });
    token = await tokenFor(server, tpp);
  });
  after(() => server.stop());

  test('account references take clearingNumber (1 to 5 digits) beside the identifier, kept and shown back', async () => {
    const ref = { bban: '58398257466', clearingNumber: '5392', currency: 'SEK' };
    const created = await call(server, 'POST', '/consents', { token, json: consentBody({ access: { accounts: [ref], balances: [ref] } }) });
    assert.equal(created.status, 201, created.text);
    const read = await call(server, 'GET', `/consents/${created.body.consentId}`, { token });
    assert.deepEqual(read.body.access, { accounts: [ref], balances: [ref] });
    const bad = await call(server, 'POST', '/consents', {
      token,
      json: consentBody({ access: { accounts: [{ ...ref, clearingNumber: '53-92' }] } }),
    });
    assertError(bad, 400, 'FORMAT_ERROR', 'access.accounts[0].clearingNumber');
    // a clearing number is not an identifier of its own
    assertError(
      await call(server, 'POST', '/consents', { token, json: consentBody({ access: { accounts: [{ clearingNumber: '5392' }] } }) }),
      400,
      'FORMAT_ERROR',
      'access.accounts[0]',
    );
  });

  test('empty accounts: the list of accessible accounts; the customer picks on the page, the consent records and shows them', async () => {
    const body = consentBody({ access: { accounts: [] } });
    const created = await call(server, 'POST', '/consents', { token, json: body });
    assert.equal(created.status, 201, created.text);
    const flow = await startFlow(server, tpp, body);
    const page = await openConsentPage(server, flow);
    assert.deepEqual(page.form.getAll('accounts'), [], 'nothing is pre-selected: the customer picks');
    page.form.append('accounts', ALICE.savings.accountId);
    const { left } = await followRedirects(server, page.jar, await submitDecision(page, 'approve'));
    assert.ok(left?.startsWith(tpp.redirectUri), left);
    assert.ok(new URL(left!).searchParams.get("code"));
    const consent = await server.assent.consents.get(flow.consentId);
    assert.equal(consent?.status, 'valid');
    assert.deepEqual(consent?.grantedAccounts?.map((a) => [a.accountId, a.access]), [[ALICE.savings.accountId, ['accounts']]]);
    const read = await call(server, 'GET', `/consents/${flow.consentId}`, { token });
    assert.deepEqual(read.body.access, { accounts: [{ iban: ALICE.savings.iban, currency: ALICE.savings.currency }] });
    // an empty list cannot be mixed with named accounts
    assertError(
      await call(server, 'POST', '/consents', {
        token,
        json: consentBody({ access: { accounts: [], balances: [{ iban: ALICE.salary.iban }] } }),
      }),
      400,
      'FORMAT_ERROR',
      'access.accounts',
    );
  });

  test('PUT without a body, or with {}, selects the default SCA method (the spec makes the body optional)', async () => {
    for (const options of [{}, { json: {} }]) {
      const consentId = (await call(server, 'POST', '/consents', { token, json: consentBody() })).body.consentId as string;
      // POST authorisations without a body too
      const started = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token });
      assert.equal(started.status, 201, started.text);
      const res = await call(server, 'PUT', `/consents/${consentId}/authorisations/${started.body.authorisationId}`, { token, ...options });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.scaStatus, 'scaMethodSelected');
      assert.equal(res.body.chosenScaMethod.authenticationMethodId, 'push-otp');
      assert.ok(res.body._links.scaOAuth.href);
    }
    // a JSON null is a body, and not an object
    const consentId = (await call(server, 'POST', '/consents', { token, json: consentBody() })).body.consentId as string;
    const started = await call(server, 'POST', `/consents/${consentId}/authorisations`, { token });
    assertError(await call(server, 'PUT', `/consents/${consentId}/authorisations/${started.body.authorisationId}`, { token, json: null }), 400, 'FORMAT_ERROR');
  });

  test('after a DELETE the consent\'s authorisations read as failed, not started', async () => {
    const consentId = (await call(server, 'POST', '/consents', { token, json: consentBody() })).body.consentId as string;
    const first = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
    const second = (await call(server, 'POST', `/consents/${consentId}/authorisations`, { token })).body.authorisationId as string;
    await call(server, 'PUT', `/consents/${consentId}/authorisations/${second}`, { token });
    assert.equal((await call(server, 'DELETE', `/consents/${consentId}`, { token })).status, 204);
    for (const id of [first, second]) {
      const sca = await call(server, 'GET', `/consents/${consentId}/authorisations/${id}`, { token });
      assert.deepEqual(sca.body, { scaStatus: 'failed' });
    }
    assert.equal((await call(server, 'GET', `/consents/${consentId}/status`, { token })).body.consentStatus, 'rejected');
  });

  /** Opens a connection and sends a POST /consents announcing 1000 bytes of body but only its start. */
  async function partialPost(requestId: string): Promise<{ socket: net.Socket; answer: Promise<string> }> {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    const answer = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
    socket.write(
      `POST /psd2/consent/v1/consents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
        `X-Request-ID: ${requestId}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"access":`,
    );
    return { socket, answer };
  }

  const linesFor = (requestId: string) => server.logs.filter((line) => line.includes(requestId));

  test('a client that aborts mid-body is logged as a client abort, not a 500; nothing is stored', async () => {
    const requestId = randomUUID();
    const before = await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
    const { socket, answer } = await partialPost(requestId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await answer;
    for (let i = 0; i < 50 && !linesFor(requestId).some((l) => l.includes('clientAborted')); i++) await new Promise((r) => setTimeout(r, 20));
    const lines = linesFor(requestId).map((l) => JSON.parse(l) as { level: string; msg: string; status?: number });
    assert.ok(lines.some((l) => l.msg === 'request aborted by the client'), JSON.stringify(lines));
    assert.ok(lines.some((l) => l.msg === 'berlin-group: the client aborted the request'), JSON.stringify(lines));
    assert.deepEqual(lines.filter((l) => l.level === 'error' || l.status === 500), []);
    const after = await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
    assert.equal(after.total, before.total);
  });

  test('a stalled body times out: 408 without a body, the connection closed', async () => {
    const requestId = randomUUID();
    const { answer } = await partialPost(requestId);
    const raw = await answer; // the server closes the connection after answering
    assert.match(raw, /^HTTP\/1\.1 408 /);
    assert.match(raw, new RegExp(`x-request-id: ${requestId}`, 'i'));
    assert.match(raw, /connection: close/i);
    assert.match(raw, /content-length: 0/i);
  });
});
