/**
 * The reference Account Information API on real Redis + MongoDB-wire: every answer validated against
 * the Open Payments spec; Consent-ID required and bound to the token; accounts outside the consent and
 * data kinds not granted refused; the fifth call of the day (frequencyPerDay 4) is 429 ACCESS_EXCEEDED.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, accountsBody, decideWithoutBrowser, exchangeCode, startFlow } from '../support/tpp.ts';
import { validateResponse } from '../support/openapi.ts';
import { OPEN_PAYMENTS_SPEC } from '../dialects/berlin-group/helpers.ts';
import { startRedis } from '../support/services.ts';

const AIS = '/psd2/accountinformation/v1';
let server: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('ais-tpp');
  server = await startTestServer({ clients: [tpp.config] });
});
after(async () => {
  await server.stop();
});

async function approved(body: unknown = accountsBody([ALICE.salary, ALICE.savings]), s: TestServer = server) {
  const flow = await startFlow(s, tpp, body);
  const back = await decideWithoutBrowser(s, flow);
  const tokens = await exchangeCode(s, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { consentId: flow.consentId, accessToken: tokens.json.access_token as string };
}

/** One AIS call; the answer must conform to the Open Payments spec, whatever its status. */
async function ais(path: string, token: string, consentId: string | undefined, headers: Record<string, string> = {}, s: TestServer = server) {
  const res = await fetch(`${s.url}${AIS}${path}`, {
    headers: { authorization: `Bearer ${token}`, 'x-request-id': randomUUID(), ...(consentId ? { 'consent-id': consentId } : {}), ...headers },
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : '';
  assert.notEqual(res.status, 500, text);
  validateResponse(OPEN_PAYMENTS_SPEC, `${AIS}${path.split('?')[0]}`, 'GET', res.status, body);
  return { status: res.status, body };
}

const code = (res: { body: { tppMessages?: Array<{ code: string }> } }) => res.body.tppMessages?.[0]?.code;
const present = { 'psu-ip-address': '192.0.2.10' };

describe('reading granted data', () => {
  test('accounts, one account, balances, transactions (booked, pending, both, dates) conform to the spec', async () => {
    const { consentId, accessToken } = await approved();
    const list = await ais('/accounts', accessToken, consentId, present);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.accounts.map((a: { resourceId: string }) => a.resourceId).sort(), [ALICE.salary.accountId, ALICE.savings.accountId].sort());
    const salary = list.body.accounts.find((a: { resourceId: string }) => a.resourceId === ALICE.salary.accountId);
    assert.equal(salary.iban, ALICE.salary.iban);
    assert.ok(salary._links.transactions, 'transactions granted on salary');
    const savings = list.body.accounts.find((a: { resourceId: string }) => a.resourceId === ALICE.savings.accountId);
    assert.equal(savings._links.transactions, undefined, 'no transactions link where none is granted');

    const one = await ais(`/accounts/${ALICE.salary.accountId}`, accessToken, consentId, present);
    assert.equal(one.body.resourceId, ALICE.salary.accountId);
    const balances = await ais(`/accounts/${ALICE.salary.accountId}/balances`, accessToken, consentId, present);
    assert.equal(balances.status, 200);
    assert.deepEqual(balances.body.balances.map((b: { balanceType: string }) => b.balanceType), ['closingBooked', 'expected']);

    const both = await ais(`/accounts/${ALICE.salary.accountId}/transactions?bookingStatus=both`, accessToken, consentId, present);
    assert.equal(both.status, 200);
    assert.ok(both.body.transactions.booked.length > 0);
    assert.ok(both.body.transactions.pending.length > 0);
    const booked = await ais(`/accounts/${ALICE.salary.accountId}/transactions?bookingStatus=booked`, accessToken, consentId, present);
    assert.equal(booked.body.transactions.pending, undefined);
    const from = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
    const recent = await ais(`/accounts/${ALICE.salary.accountId}/transactions?bookingStatus=booked&dateFrom=${from}`, accessToken, consentId, present);
    assert.ok(recent.body.transactions.booked.length < booked.body.transactions.booked.length);
    for (const t of recent.body.transactions.booked) assert.ok(t.bookingDate >= from);
    const bad = await ais(`/accounts/${ALICE.salary.accountId}/transactions?bookingStatus=all`, accessToken, consentId, present);
    assert.deepEqual([bad.status, code(bad)], [400, 'FORMAT_ERROR']);
  });
});

describe('refusals', () => {
  test('Consent-ID missing 400, not the token’s 401 CONSENT_INVALID; no token 401', async () => {
    const { consentId, accessToken } = await approved();
    const missing = await ais('/accounts', accessToken, undefined);
    assert.deepEqual([missing.status, code(missing)], [400, 'FORMAT_ERROR']);
    const other = await approved();
    const mismatch = await ais('/accounts', accessToken, other.consentId);
    assert.deepEqual([mismatch.status, code(mismatch)], [401, 'CONSENT_INVALID']);
    const none = await ais('/accounts', 'not-a-token', consentId);
    assert.deepEqual([none.status, code(none)], [401, 'TOKEN_INVALID']);
  });

  test('an account outside the consent 403 RESOURCE_UNKNOWN; transactions not granted 401 CONSENT_INVALID', async () => {
    const { consentId, accessToken } = await approved();
    const outside = await ais('/accounts/acc-alice-euro/balances', accessToken, consentId, present);
    assert.deepEqual([outside.status, code(outside)], [403, 'RESOURCE_UNKNOWN']);
    const foreign = await ais('/accounts/acc-bruno-main', accessToken, consentId, present);
    assert.deepEqual([foreign.status, code(foreign)], [403, 'RESOURCE_UNKNOWN']);
    const tx = await ais(`/accounts/${ALICE.savings.accountId}/transactions?bookingStatus=booked`, accessToken, consentId, present);
    assert.deepEqual([tx.status, code(tx)], [401, 'CONSENT_INVALID']);
  });

  test('balances on an accounts-only consent: 401 CONSENT_INVALID', async () => {
    const only = [{ iban: ALICE.salary.iban, currency: 'SEK' }];
    const { consentId, accessToken } = await approved({ ...accountsBody([ALICE.salary]), access: { accounts: only } });
    assert.equal((await ais(`/accounts/${ALICE.salary.accountId}`, accessToken, consentId, present)).status, 200);
    const res = await ais(`/accounts/${ALICE.salary.accountId}/balances`, accessToken, consentId, present);
    assert.deepEqual([res.status, code(res)], [401, 'CONSENT_INVALID']);
  });

  test('the fifth call of the day without the customer: 429 ACCESS_EXCEEDED', async () => {
    const { consentId, accessToken } = await approved();
    for (let i = 0; i < 4; i++) assert.equal((await ais(`/accounts/${ALICE.salary.accountId}/balances`, accessToken, consentId)).status, 200);
    const fifth = await ais(`/accounts/${ALICE.salary.accountId}/balances`, accessToken, consentId);
    assert.deepEqual([fifth.status, code(fifth)], [429, 'ACCESS_EXCEEDED']);
    assert.equal((await ais(`/accounts/${ALICE.salary.accountId}/balances`, accessToken, consentId, present)).status, 200, 'the customer present is not counted');
  });

  test('revocation mid-use: 200, the customer revokes, then 401 at once', async () => {
    const { consentId, accessToken } = await approved();
    const path = `/accounts/${ALICE.salary.accountId}/balances`;
    assert.equal((await ais(path, accessToken, consentId, present)).status, 200);
    await server.assent.consents.revokeByPsu((await server.assent.consents.get(consentId))!, { actor: 'PSU' });
    const after = await ais(path, accessToken, consentId, present);
    assert.equal(after.status, 401);
    assert.ok(['TOKEN_INVALID', 'CONSENT_INVALID'].includes(code(after)!), code(after));
  });

  test('Redis stopped: 503, never the data', async () => {
    const redisServer = await startRedis({ dir: join(tmpdir(), `assent-ais-${randomUUID()}`) });
    const own = await startTestServer({ clients: [tpp.config], redis: { url: redisServer.url, prefix: 'ais:' } });
    try {
      const { consentId, accessToken } = await approved(undefined, own);
      const path = `/accounts/${ALICE.salary.accountId}/balances`;
      assert.equal((await ais(path, accessToken, consentId, {}, own)).status, 200);
      await redisServer.stop();
      const down = await ais(path, accessToken, consentId, {}, own);
      assert.equal(down.status, 503);
      assert.equal(down.body.balances, undefined);
    } finally {
      await own.assent.close();
      await redisServer.stop().catch(() => undefined);
    }
  });
});
