/**
 * Two Opus back-office operations on real Redis and FerretDB, every answer validated against
 * en-oasOOFDados.yml:
 * - GET …/v1/consents/{consentId}/extends: a data sharing consent's extensions (made through the Open
 *   Finance Brasil API by the customer's own token), newest first, paginated; none for other consents;
 * - PATCH …/payments/v1/consents/{consentId}: an AUTHORISED payment consent not paid yet becomes REJECTED
 *   with the bank's rejection, the TPP sees it in the Payments API and its token dies; everything that
 *   may not be revoked this way is refused and nothing changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeSecretClient, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { validateResponse } from '../../support/openapi.ts';
import { decideWithoutBrowser, exchangeCode, introspect } from '../../support/tpp.ts';
import { PF, br, consentBody, consentsToken, inDays, pushConsentAuthorization } from '../brazil/helpers.ts';
import { authorisedPaymentConsent, CARLA_CPF, PAYMENTS_CONFIG, consentData, createPaymentConsent, makePaymentsTpp, pay, paymentsToken, type PaymentsTpp } from '../br-payments/helpers.ts';
import { OPUS_SPEC, assertError, internalClientConfig, tokenFor, type CallResult } from './helpers.ts';

const P = '/open-banking/oob-consents';
const ALICE = { username: 'alice', password: 'alice-demo' }; // CPF 52998224725, PF's

let server: TestServer;
let dataTpp: TestClient;
let payer: PaymentsTpp;
let reader: string;
let revoker: string;
let dataToken: string;
let payToken: string;

async function opus(method: string, path: string, options: { token?: string; json?: unknown; unspecified?: boolean } = {}): Promise<CallResult> {
  const res = await fetch(`${server.url}${P}${path}`, {
    method,
    headers: { authorization: `Bearer ${options.token ?? reader}`, ...(options.json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
  });
  const text = await res.text();
  assert.notEqual(res.status, 500, text);
  const body = text ? JSON.parse(text) : undefined;
  // (a method the spec does not list for the path: nothing to validate against)
  if (!options.unspecified) validateResponse(OPUS_SPEC, new URL(`${server.url}${P}${path}`).pathname, method, res.status, body ?? '');
  return { status: res.status, headers: res.headers, body, text };
}

const uuid = (id: string) => id.slice(-36);

before(async () => {
  dataTpp = makeSecretClient('opus-ext-tpp', { scope: 'openid offline_access consents accounts resources' });
  payer = await makePaymentsTpp('opus-ext-payer');
  const r = makeSecretClient('opus-ext-reader', internalClientConfig('backoffice:read'));
  const w = makeSecretClient('opus-ext-revoker', internalClientConfig('backoffice:revoke'));
  server = await startTestServer({ clients: [dataTpp.config, payer.config, r.config, w.config], ...PAYMENTS_CONFIG });
  reader = await tokenFor(server, r, 'backoffice:read');
  revoker = await tokenFor(server, w, 'backoffice:revoke');
  dataToken = await consentsToken(server, dataTpp);
  payToken = await paymentsToken(server, payer);
});
after(() => server.stop());

/** A data sharing consent Alice approved, and the TPP's token for it. */
async function authorisedDataSharing(): Promise<{ consentId: string; accessToken: string }> {
  const created = await br(server, 'POST', '/consents', { token: dataToken, json: consentBody() });
  assert.equal(created.status, 201);
  const consentId = created.body.data.consentId as string;
  const flow = await pushConsentAuthorization(server, dataTpp, consentId, dataToken);
  const back = await decideWithoutBrowser(server, flow, 'approve', ALICE);
  const tokens = await exchangeCode(server, dataTpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { consentId, accessToken: tokens.json.access_token as string };
}

const authorisedPayment = () => authorisedPaymentConsent(server, payer, payToken);

describe('GET /open-banking/oob-consents/v1/consents/{consentId}/extends', () => {
  test('the extensions the customer made, newest first, with the expiry and the customer; paginated; by UUID or URN', async () => {
    const { consentId, accessToken } = await authorisedDataSharing();
    const none = await opus('GET', `/v1/consents/${uuid(consentId)}/extends`);
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.body.data, []);
    assert.equal(none.body.meta.totalRecords, 0);
    const first = inDays(200);
    const second = inDays(300);
    for (const expirationDateTime of [first, second]) {
      const res = await br(server, 'POST', `/consents/${consentId}/extends`, { token: accessToken, json: { data: { loggedUser: PF, expirationDateTime } }, headers: { 'x-fapi-customer-ip-address': '198.51.100.7', 'x-customer-user-agent': 'Mozilla/5.0' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const res = await opus('GET', `/v1/consents/${uuid(consentId)}/extends`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data.map((e: { expirationDateTime: string }) => e.expirationDateTime), [second, first]);
    for (const e of res.body.data) {
      assert.deepEqual(e.loggedUser, PF);
      assert.match(e.requestDateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.deepEqual(Object.keys(e).sort(), ['expirationDateTime', 'loggedUser', 'requestDateTime']);
    }
    assert.deepEqual({ totalRecords: res.body.meta.totalRecords, totalPages: res.body.meta.totalPages }, { totalRecords: 2, totalPages: 1 });
    assert.match(res.body.links.self, /\/v1\/consents\/.+\/extends\?page=1&page-size=25$/);
    const paged = await opus('GET', `/v1/consents/${uuid(consentId)}/extends?page=2&page-size=1`);
    assert.deepEqual(paged.body.data.map((e: { expirationDateTime: string }) => e.expirationDateTime), [first]);
    assert.equal(paged.body.meta.totalPages, 2);
    const byUrn = await opus('GET', `/v1/consents/${encodeURIComponent(consentId)}/extends`);
    assert.deepEqual(byUrn.body.data, res.body.data);
  });

  test('a payment consent has none; unknown 404; a bad page 400; an unknown parameter 400; a revoke-only token 403; POST 405', async () => {
    const payment = await createPaymentConsent(server, payer, payToken);
    assert.deepEqual((await opus('GET', `/v1/consents/${uuid(payment)}/extends`)).body.data, []);
    assertError(await opus('GET', `/v1/consents/${randomUUID()}/extends`), 404, 'CONSENT_NOT_FOUND');
    assertError(await opus('GET', `/v1/consents/${uuid(payment)}/extends?page=0`), 400, 'INVALID_PARAMETER');
    assertError(await opus('GET', `/v1/consents/${uuid(payment)}/extends?x=1`), 400, 'UNKNOWN_PARAMETER');
    assertError(await opus('GET', `/v1/consents/${uuid(payment)}/extends`, { token: revoker }), 403, 'INSUFFICIENT_SCOPE');
    assertError(await opus('POST', `/v1/consents/${uuid(payment)}/extends`, { json: {}, unspecified: true }), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('PATCH /open-banking/oob-consents/payments/v1/consents/{consentId}', () => {
  test('rejection by the bank: REJECTED with its reason; the Payments API says so to the TPP; the token dies; again 409', async () => {
    const { consentId, accessToken } = await authorisedPayment();
    assert.equal((await introspect(server, payer, accessToken)).active, true);
    const body = { data: { rejection: { rejectedBy: 'DETENTORA', rejectedFrom: 'DETENTORA', reason: { code: 'SALDO_INSUFICIENTE', detail: 'Conta sem saldo para o pagamento.' } } }, applicationName: 'back-office' };
    const res = await opus('PATCH', `/payments/v1/consents/${uuid(consentId)}`, { token: revoker, json: body });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.status, 'REJECTED');
    assert.equal(res.body.data.externalId, consentId);
    assert.equal((await introspect(server, payer, accessToken)).active, false);
    const seen = await pay(server, 'GET', `/consents/${consentId}`, { token: payToken });
    assert.equal(seen.body.data.status, 'REJECTED');
    assert.deepEqual(seen.body.data.rejectionReason, { code: 'SALDO_INSUFICIENTE', detail: 'Conta sem saldo para o pagamento.' });
    assertError(await opus('PATCH', `/payments/v1/consents/${uuid(consentId)}`, { token: revoker, json: body }), 409, 'CONSENT_ALREADY_ENDED');
  });

  test('revocation for the customer: REVOGADO_USUARIO records NAO_INFORMADO by the customer with the detail', async () => {
    const { consentId } = await authorisedPayment();
    const res = await opus('PATCH', `/payments/v1/consents/${uuid(consentId)}`, { token: revoker, json: { data: { revocation: { reason: { code: 'REVOGADO_USUARIO', detail: 'Pedido pelo cliente no app.' } } } } });
    assert.equal(res.status, 200, res.text);
    const stored = await server.assent.stores.consents.findById(consentId);
    assert.equal(stored?.status, 'REJECTED');
    assert.deepEqual(stored?.rejection, { rejectedBy: 'USER', reason: { code: 'NAO_INFORMADO', additionalInformation: 'Pedido pelo cliente no app.' } });
  });

  test('refused, nothing changes: awaiting 409, a data sharing consent 400, INICIADORA 400, both or neither 400, a code outside the Payments API 400, unknown 404, a read token 403', async () => {
    const awaiting = await createPaymentConsent(server, payer, payToken, consentData({ loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } } }));
    const { consentId: data } = await authorisedDataSharing();
    const { consentId: payment } = await authorisedPayment();
    const rej = { data: { rejection: { rejectedBy: 'DETENTORA', reason: { code: 'NAO_INFORMADO', detail: 'x' } } } };
    assertError(await opus('PATCH', `/payments/v1/consents/${uuid(awaiting)}`, { token: revoker, json: rej }), 409, 'CONSENT_NOT_AUTHORISED');
    assertError(await opus('PATCH', `/payments/v1/consents/${uuid(data)}`, { token: revoker, json: rej }), 400, 'INVALID_PARAMETER');
    assertError(await opus('PATCH', `/consents/v1/consents/${uuid(payment)}`, { token: revoker, json: { data: { rejection: { rejectedBy: 'ASPSP', reason: { code: 'INTERNAL_SECURITY_REASON' } } } } }), 400, 'INVALID_PARAMETER');
    const bad = [
      { data: { rejection: { rejectedBy: 'INICIADORA', reason: { code: 'NAO_INFORMADO', detail: 'x' } } } },
      { data: { ...rej.data, revocation: { reason: { code: 'NAO_INFORMADO' } } } },
      { data: {} },
      { data: { rejection: { reason: { code: 'CONTA_DIVERGENTE_DA_SOLICITADA', detail: 'x' } } } },
      { data: { rejection: { reason: { code: 'NAO_INFORMADO' } } } },
      { data: { revocation: { reason: { code: 'OTHER' } } } },
      { data: { rejection: { reason: { code: 'NAO_INFORMADO', detail: 'x' }, extra: 1 } } },
    ];
    for (const json of bad) {
      const res = await opus('PATCH', `/payments/v1/consents/${uuid(payment)}`, { token: revoker, json });
      assert.equal(res.status, 400, `${JSON.stringify(json)} → ${res.text}`);
    }
    assertError(await opus('PATCH', `/payments/v1/consents/${randomUUID()}`, { token: revoker, json: rej }), 404, 'CONSENT_NOT_FOUND');
    assertError(await opus('PATCH', `/payments/v1/consents/${uuid(payment)}`, { json: rej }), 403, 'INSUFFICIENT_SCOPE');
    assert.equal((await server.assent.stores.consents.findById(payment))?.status, 'AUTHORISED');
    assert.equal((await server.assent.stores.consents.findById(data))?.status, 'AUTHORISED');
    assert.equal((await server.assent.stores.consents.findById(awaiting))?.status, 'AWAITING_AUTHORISATION');
    assertError(await opus('GET', `/payments/v1/consents/${uuid(payment)}`, { unspecified: true }), 405, 'METHOD_NOT_ALLOWED');
  });
});
