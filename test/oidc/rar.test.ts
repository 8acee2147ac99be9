/**
 * Rich Authorization Requests (RFC 9396), `account_information`, on real Redis + MongoDB-wire: discovery,
 * every kind of bad detail refused at PAR with invalid_authorization_details (and nothing created), a
 * consent created from the details at the approval page, the code / tokens / introspection carrying the
 * enriched details, and details given together with a consent id checked against that consent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeKeyClient, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, accountsBody, decideWithoutBrowser, exchangeCode, introspect, refresh, startFlow } from '../support/tpp.ts';
import { accountInformation, pushDetails, rarFlow as startRarFlow } from '../support/rar.ts';

let server: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('rar-tpp');
  server = await startTestServer({ clients: [tpp.config], internalApi: { username: 'rar-gw', password: 'a-long-internal-password' } });
});
after(async () => {
  await server.stop();
});

const detail = accountInformation;
const par = (details: unknown, extra: Record<string, string> = {}) => pushDetails(server, tpp, details, extra);
const rarFlow = (details: unknown, extra: Record<string, string> = {}) => startRarFlow(server, tpp, details, extra);

const count = () => server.assent.stores.db!.collection('consents').countDocuments({});

describe('discovery', () => {
  test('advertises authorization_details_types_supported', async () => {
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(meta.authorization_details_types_supported, ['account_information']);
  });
});

describe('bad details: 400 invalid_authorization_details, nothing created', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not JSON', '[{"type": ', /JSON/],
    ['not an array of objects', JSON.stringify([1]), /authorization_details/],
    ['an unsupported type', [{ type: 'payment_initiation', instructedAmount: { amount: '1', currency: 'EUR' } }], /unsupported authorization details type/],
    ['an unknown member', [detail({ purpose: 'x' })], /^account_information: .*purpose/],
    ['access missing', [{ ...detail(), access: undefined }], /^account_information: access/],
    ['an invalid IBAN', [detail({ access: { accounts: [{ iban: 'SE00 1234', currency: 'SEK' }] } })], /^account_information: access\.accounts\[0\]\.iban/],
    ['validUntil in the past', [detail({ validUntil: '2020-01-01' })], /^account_information: validUntil: must not be before today/],
    ['validUntil not a date', [detail({ validUntil: 'soon' })], /^account_information: validUntil/],
    ['frequencyPerDay above the bank’s limit', [detail({ frequencyPerDay: 9 })], /^account_information: frequencyPerDay: must be at most 4/],
    ['recurringIndicator not a boolean', [detail({ recurringIndicator: 'yes' })], /^account_information: recurringIndicator/],
    ['two account_information details', [detail(), detail()], /at most one account_information detail/],
  ];
  for (const [name, details, description] of cases) {
    test(name, async () => {
      const before = await count();
      const { res } = await par(details);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'invalid_authorization_details', res.text);
      assert.match(String(res.json.error_description), description);
      assert.equal(await count(), before);
    });
  }
});

describe('a consent from the details', () => {
  test('created at the approval page, approved with the chosen accounts; code, tokens and introspection carry the enriched details', async () => {
    const flow = await rarFlow([detail()]);
    const back = await decideWithoutBrowser(server, flow);
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    const tokens = await exchangeCode(server, tpp, code, flow.verifier);
    assert.equal(tokens.status, 200, tokens.text);
    const [inToken] = tokens.json.authorization_details as Array<Record<string, any>>;
    assert.ok(inToken, tokens.text);
    const consentId = inToken.consentId as string;
    const consent = (await server.assent.consents.get(consentId))!;
    assert.equal(consent.status, 'valid');
    assert.equal(consent.clientId, tpp.clientId);
    assert.equal(consent.psuId, 'psu-alice');

    const info = await introspect(server, tpp, tokens.json.access_token as string);
    assert.equal(info.active, true);
    assert.equal(info.consent_id, consentId);
    const [d] = info.authorization_details as Array<Record<string, any>>;
    assert.equal(d!.type, 'account_information');
    assert.equal(d!.consentId, consentId);
    assert.equal(d!.frequencyPerDay, 4);
    assert.deepEqual(
      [...d!.accounts].sort((a: { resourceId: string }, b: { resourceId: string }) => a.resourceId.localeCompare(b.resourceId)),
      [
        { resourceId: ALICE.salary.accountId, currency: 'SEK', access: ['accounts', 'balances', 'transactions'] },
        { resourceId: ALICE.savings.accountId, currency: 'SEK', access: ['accounts'] },
      ],
    );
    assert.ok(!JSON.stringify(d).includes(ALICE.salary.iban), 'no IBAN in the token');

    // the refreshed token carries them too; the validation API accepts the token for the granted data
    const refreshed = await refresh(server, tpp, tokens.json.refresh_token as string);
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.deepEqual(refreshed.json.authorization_details, tokens.json.authorization_details);
    const basic = `Basic ${Buffer.from('rar-gw:a-long-internal-password').toString('base64')}`;
    const validate = async (resourcePath: string) =>
      (await (
        await fetch(`${server.url}/api/fs/consent/validate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basic },
          body: JSON.stringify({ accessToken: refreshed.json.access_token, method: 'GET', resourcePath }),
        })
      ).json()) as Record<string, unknown>;
    assert.equal((await validate(`/psd2/accountinformation/v1/accounts/${ALICE.salary.accountId}/balances`)).isValid, true);
    assert.equal((await validate(`/psd2/accountinformation/v1/accounts/${ALICE.savings.accountId}/balances`)).errorCode, 'CONSENT_INVALID');
  });

  test('denied: the consent created from the details is rejected, no code', async () => {
    const flow = await rarFlow([detail()]);
    const back = await decideWithoutBrowser(server, flow, 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
  });
});

describe('details with a consent id', () => {
  test('describing the named consent: accepted; describing something else: invalid_authorization_details', async () => {
    const body = accountsBody([ALICE.salary, ALICE.savings]);
    const named = await startFlow(server, tpp, body);
    const same = [{ type: 'account_information', ...body }];
    const ok = await par(same, { consent_id: named.consentId });
    assert.equal(ok.res.status, 201, ok.res.text);
    const other = await par([{ ...same[0], frequencyPerDay: 2 }], { consent_id: named.consentId });
    assert.equal(other.res.status, 400, other.res.text);
    assert.equal(other.res.json.error, 'invalid_authorization_details');
  });
});
