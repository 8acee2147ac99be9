/**
 * Berlin Group 1.3.11 against Assent's Berlin Group API, which serves the Open Payments 1.3.3 profile of
 * it (docs/berlin-group-1.3.11.md has the whole comparison). On real Redis + MongoDB-wire:
 * - every answer of a 1.3.11 client's flow is valid against BOTH specs: the Open Payments paths and, with
 *   the path mapped to 1.3.11's `/v1/consents…`, psd2-api_v1.3.11 (the bodies are compatible);
 * - the 1.3.11-only request constructs Assent cannot honour are refused with FORMAT_ERROR at their path,
 *   never accepted and ignored; the 1.3.11-only headers that ask for nothing Assent must do are accepted;
 * - a request without PSU-IP-Address (mandatory in 1.3.11, conditional in 1.3.3) is accepted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { validateResponse } from '../../support/openapi.ts';
import { assertError, call, consentBody, tokenFor, type CallOptions, type CallResult } from './helpers.ts';

const SPEC_1311 = new URL('../../../../shared/specs/psd2-api_v1.3.11-2021-10-01v1.yaml', import.meta.url);

let server: TestServer;
let tpp: TestClient;
let token: string;

before(async () => {
  tpp = makeSecretClient('bg1311-tpp');
  server = await startTestServer({ clients: [tpp.config], profile: 'demo' });
  token = await tokenFor(server, tpp);
});
after(() => server.stop());

/** A call validated against Open Payments 1.3.3 (helpers.ts) and against 1.3.11 at its own path. */
async function both(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const res = await call(server, method, path, { token, ...options });
  validateResponse(SPEC_1311, `/psd2/v1${path}`, method, res.status, res.body ?? '');
  return res;
}

describe('Berlin Group 1.3.11 clients', () => {
  test('create, read, status, start and update an authorisation, delete: every answer valid against both specs', async () => {
    const created = await both('POST', '/consents', {
      json: consentBody(),
      headers: { 'psu-ip-address': '192.0.2.10', 'x-affiliatedaspsp-id': 'assent-bank', 'tpp-redirect-preferred': 'true', 'tpp-brand-logging-information': 'Budget App', 'tpp-decoupled-preferred': 'false' },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.consentId as string;
    assert.equal((await both('GET', `/consents/${id}`)).status, 200);
    assert.equal((await both('GET', `/consents/${id}/status`)).body.consentStatus, 'received');
    const started = await both('POST', `/consents/${id}/authorisations`);
    assert.equal(started.status, 201, started.text);
    const authorisationId = started.body.authorisationId as string;
    const method = (started.body.scaMethods as Array<{ authenticationMethodId: string }>)[0]!.authenticationMethodId;
    const selected = await both('PUT', `/consents/${id}/authorisations/${authorisationId}`, { json: { authenticationMethodId: method } });
    assert.equal(selected.status, 200, selected.text);
    assert.ok(selected.body._links.scaOAuth, 'the redirect approach: an OAuth link to follow');
    assert.equal((await both('GET', `/consents/${id}/authorisations`)).status, 200);
    assert.equal((await both('GET', `/consents/${id}/authorisations/${authorisationId}`)).status, 200);
    assert.equal((await both('DELETE', `/consents/${id}`)).status, 204);
    assert.equal((await both('GET', `/consents/${id}/status`)).body.consentStatus, 'rejected');
  });

  test('without PSU-IP-Address (mandatory in 1.3.11, conditional for AIS in Open Payments): accepted', async () => {
    const created = await both('POST', '/consents', { json: consentBody() });
    assert.equal(created.status, 201, created.text);
  });

  test('a decoupled approach asked for (TPP-Decoupled-Preferred: true): the redirect approach is what Assent offers, and says so in the links', async () => {
    const created = await both('POST', '/consents', { json: consentBody(), headers: { 'tpp-decoupled-preferred': 'true' } });
    assert.equal(created.status, 201, created.text);
    assert.ok(created.body._links.startAuthorisationWithAuthenticationMethodSelection || created.body._links.startAuthorisation, JSON.stringify(created.body._links));
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['availableAccountsWithBalance (1.3.11 spelling; Open Payments: availableAccounts allAccountsWithBalances)', { access: { availableAccountsWithBalance: 'allAccounts' } }, 'access.availableAccountsWithBalance'],
    ['additionalInformation (ownerName, trustedBeneficiaries)', { access: { accounts: [{ iban: 'DE89370400440532013000' }], additionalInformation: { ownerName: [{ iban: 'DE89370400440532013000' }] } } }, 'access.additionalInformation'],
    ['availableAccounts allAccountsWithOwnerName (no owner names to grant)', { access: { availableAccounts: 'allAccountsWithOwnerName' } }, 'access.availableAccounts'],
    ['restrictedTo', { access: { availableAccounts: 'allAccounts', restrictedTo: ['CACC'] } }, 'access.restrictedTo'],
    ['an account reference with cashAccountType', { access: { accounts: [{ iban: 'DE89370400440532013000', cashAccountType: 'CACC' }] } }, 'access.accounts[0].cashAccountType'],
    ['an account reference by `other`', { access: { accounts: [{ other: { identification: '12345', schemeNameCode: 'BBAN' } }] } }, 'access.accounts[0].other'],
  ];
  for (const [name, overrides, path] of refused) {
    test(`refused with FORMAT_ERROR at its path, nothing stored: ${name}`, async () => {
      const before = (await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
      const res = await both('POST', '/consents', { json: consentBody(overrides) });
      assertError(res, 400, 'FORMAT_ERROR', path);
      const after = (await server.assent.stores.consents.query({ clientId: tpp.clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 })).total;
      assert.equal(after, before);
    });
  }

  test('the 1.3.11 paths themselves (/psd2/v1/consents) are not served: 404', async () => {
    const res = await fetch(`${server.url}/psd2/v1/consents`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': crypto.randomUUID() }, body: JSON.stringify(consentBody()) });
    await res.arrayBuffer();
    assert.equal(res.status, 404);
  });
});
