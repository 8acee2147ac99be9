/**
 * GET and PATCH /backoffice/v1/consents/{id} on real Redis + MongoDB-wire: the full detail (granted
 * accounts, SCA authorisations, the status history with actor and reason, the spec's revocation and
 * rejection), expiry on read, and the revocation on the customer's behalf — with a consent a TPP really
 * got tokens for (consent API → login and approval on Assent's pages → code exchange), whose access and
 * refresh tokens must be dead right after the PATCH.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeKeyClient, makeSecretClient, type TestClient } from '../../support/assent.ts';
import { decideWithoutBrowser, exchangeCode, introspect, refresh, startFlow } from '../../support/tpp.ts';
import type { Consent } from '../../../src/consent/types.ts';
import { IBAN_DE, Seeder, assertError, call, internalClientConfig, startBackoffice, tokenFor, type BackofficeServer } from './helpers.ts';

const CPF = '529.982.247-25';

let server: BackofficeServer;
let tpp: TestClient;
let adminToken: string;
let readerToken: string;
let seeder: Seeder;

before(async () => {
  tpp = await makeKeyClient('bo-tpp');
  const admin = makeSecretClient('bo-admin', internalClientConfig('backoffice:read backoffice:revoke'));
  const reader = makeSecretClient('bo-reader', internalClientConfig('backoffice:read'));
  server = await startBackoffice({ clients: [tpp.config, admin.config, reader.config], profile: 'demo' });
  adminToken = await tokenFor(server, admin, 'backoffice:read backoffice:revoke');
  readerToken = await tokenFor(server, reader, 'backoffice:read');
  seeder = new Seeder(server);
});
after(() => server.stop());

const future = () => new Date(Date.now() + 30 * 86_400_000);
const stored = async (id: string) => (await server.assent.stores.consents.findById(id))!;
const detail = (id: string, token = readerToken) => call(server, 'GET', `/consents/${id}`, { token });
const revoke = (id: string, json: unknown, token = adminToken, headers: Record<string, string> = {}) =>
  call(server, 'PATCH', `/consents/${id}`, { token, json, headers });

/** A valid consent seeded now (no tokens). */
async function validConsent(extra: Partial<Parameters<Seeder['create']>[0]> = {}): Promise<Consent> {
  seeder.clock = new Date();
  const c = await seeder.create({ clientId: tpp.clientId, expiresAt: future(), ...extra });
  return seeder.approve(c, 'psu-x', [{ accountId: 'acc-1', iban: IBAN_DE, currency: 'EUR', access: ['accounts'] }]);
}

/**
 * The real path: the TPP creates a consent through the Berlin Group API, the customer logs in and
 * approves on Assent's pages, the TPP exchanges the code. Returns the consent id and the tokens.
 */
async function consentWithTokens(): Promise<{ consentId: string; accessToken: string; refreshToken: string }> {
  const flow = await startFlow(server, tpp);
  const back = await decideWithoutBrowser(server, flow);
  const code = back.searchParams.get('code');
  assert.ok(code, `no code: ${back.href}`);
  const tokens = await exchangeCode(server, tpp, code, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  assert.ok(tokens.json.refresh_token, 'a recurring consent gets a refresh token');
  return { consentId: flow.consentId, accessToken: tokens.json.access_token as string, refreshToken: tokens.json.refresh_token as string };
}

describe('GET /consents/{id}', () => {
  test('the full detail: fields, documents, granted accounts, SCA authorisations, status history', async () => {
    seeder.at('2025-03-01T12:00:00Z');
    const details = { loggedUser: { document: { identification: CPF, rel: 'CPF' } }, permissions: ['ACCOUNTS_READ', 'RESOURCES_READ'] };
    let c = await seeder.create({
      clientId: tpp.clientId,
      type: 'br-data-sharing',
      access: {},
      psuIpAddress: '198.51.100.7',
      expiresAt: new Date('2099-03-01T12:00:00Z'),
      details,
    });
    seeder.at('2025-03-01T12:03:00Z');
    c = await seeder.approve(c, 'psu-br-1', [
      { accountId: 'br-acc-1', access: ['accounts', 'balances'] },
      { accountId: 'br-acc-2', iban: 'BR1500000000000010932840814P2', currency: 'BRL', access: ['accounts'] },
    ]);

    const res = await detail(c.id);
    assert.equal(res.status, 200, res.text);
    const data = res.body.data;
    // nothing read under it yet (usage counting has its own tests, test/dialects/fs-authorize/validate.test.ts)
    assert.deepEqual(data.usage.accesses, []);
    assert.equal(res.body.links.self, `${server.linkOrigin}/backoffice/v1/consents/${c.id}`);
    assert.deepEqual(
      { ...data, authorisations: undefined, consentHistoryStatus: undefined, usage: undefined },
      {
        id: c.id,
        type: 'DATA_SHARING',
        detailedType: 'br-data-sharing',
        status: 'AUTHORISED',
        detailedStatus: 'AUTHORISED',
        createdOn: '2025-03-01T12:00:00.000Z',
        expiredOn: '2099-03-01T12:00:00.000Z',
        updatedOn: '2025-03-01T12:03:00.000Z',
        validUntil: '2099-03-01',
        lastActionDate: '2025-03-01',
        clientId: tpp.clientId,
        tppName: 'bo-tpp app',
        psuId: 'psu-br-1',
        psuIpAddress: '198.51.100.7',
        personDocumentType: 'CPF',
        personDocumentNumber: CPF,
        recurringIndicator: true,
        frequencyPerDay: 4,
        combinedServiceIndicator: false,
        access: {},
        grantedAccounts: [
          { accountId: 'br-acc-1', access: ['accounts', 'balances'] },
          { accountId: 'br-acc-2', iban: 'BR1500000000000010932840814P2', currency: 'BRL', access: ['accounts'] },
        ],
        details,
        authorisations: undefined,
        consentHistoryStatus: undefined,
        usage: undefined,
      },
    );
    assert.equal(data.authorisations.length, 1);
    const [authorisation] = data.authorisations;
    assert.equal(authorisation.scaStatus, 'finalised');
    assert.equal(authorisation.scaMethodId, server.assent.config.consent.scaMethods[0]!.authenticationMethodId);
    assert.deepEqual(
      authorisation.history.map((h: { from: string | null; to: string; actor: string }) => [h.from, h.to, h.actor]),
      [
        [null, 'started', 'TPP'],
        ['started', 'scaMethodSelected', 'TPP'],
        ['scaMethodSelected', 'finalised', 'PSU'],
      ],
    );
    assert.deepEqual(data.consentHistoryStatus, [
      { consentStatus: 'AWAITING_AUTHORISATION', updatedOn: '2025-03-01T12:00:00.000Z', from: null, to: 'AWAITING_AUTHORISATION', actor: 'TPP' },
      { consentStatus: 'AUTHORISED', updatedOn: '2025-03-01T12:03:00.000Z', from: 'AWAITING_AUTHORISATION', to: 'AUTHORISED', actor: 'PSU' },
    ]);
    assert.equal(data.revocation, undefined);
  });

  test('how each consent ended: revocation, termination, rejection, timeout, expiry', async () => {
    const base = () => seeder.create({ clientId: tpp.clientId, expiresAt: new Date('2025-06-01T00:00:00Z') });
    seeder.at('2025-05-01T10:00:00Z');
    const revoked = await seeder.revoke(await seeder.approve(await base(), 'psu-1'), 'PSU', 'customer asked in the app');
    const terminated = await seeder.terminate(await seeder.approve(await base(), 'psu-1'));
    const denied = await seeder.deny(await base(), 'psu-1', 'not me');
    const pending = await seeder.create({ clientId: tpp.clientId, expiresAt: new Date('2099-01-01') });
    const approved = await seeder.approve(await base(), 'psu-1');
    const stale = await seeder.at('2025-05-01T12:00:00Z').rejectStale(pending);
    const expired = await seeder.at('2025-06-02T00:00:00Z').read(approved);
    assert.equal(expired.status, 'expired');

    const body = async (c: Consent) => (await detail(c.id)).body.data;
    const r = await body(revoked);
    assert.equal(r.status, 'REVOKED');
    assert.equal(r.detailedStatus, 'revokedByPsu');
    assert.deepEqual(r.revocation, { revokedBy: 'USER', reason: { code: 'OTHER', additionalInformation: 'customer asked in the app' }, revokedAt: '2025-05-01T10:00:00.000Z' });
    assert.deepEqual(r.consentHistoryStatus.at(-1), {
      consentStatus: 'REVOKED',
      updatedOn: '2025-05-01T10:00:00.000Z',
      from: 'valid',
      to: 'revokedByPsu',
      actor: 'PSU',
      reason: 'customer asked in the app',
    });
    const t = await body(terminated);
    assert.equal(t.status, 'REVOKED');
    assert.equal(t.detailedStatus, 'terminatedByTpp');
    assert.equal(t.revocation.revokedBy, 'TPP');
    const d = await body(denied);
    assert.equal(d.status, 'REJECTED');
    assert.deepEqual(d.rejection, { rejectedBy: 'USER', reason: { code: 'CUSTOMER_MANUALLY_REJECTED', additionalInformation: 'not me' }, rejectedAt: '2025-05-01T10:00:00.000Z' });
    assert.equal(d.authorisations[0].scaStatus, 'failed');
    const s = await body(stale);
    assert.deepEqual(s.rejection, { rejectedBy: 'ASPSP', reason: { code: 'CONSENT_EXPIRED', additionalInformation: 'not authorised in time' }, rejectedAt: '2025-05-01T12:00:00.000Z' });
    const e = await body(expired);
    assert.equal(e.status, 'EXPIRED');
    assert.deepEqual(e.consentHistoryStatus.at(-1), {
      consentStatus: 'EXPIRED',
      updatedOn: '2025-06-02T00:00:00.000Z',
      from: 'valid',
      to: 'expired',
      actor: 'system',
      reason: 'validUntil passed',
    });
  });

  test('a consent past its expiry reads as EXPIRED, and the expiry is recorded', async () => {
    seeder.at('2025-01-01T00:00:00Z');
    const c = await seeder.approve(await seeder.create({ clientId: tpp.clientId, expiresAt: new Date('2025-01-31T00:00:00Z') }), 'psu-1');
    assert.equal((await stored(c.id)).status, 'valid');
    const res = await detail(c.id);
    assert.equal(res.body.data.status, 'EXPIRED');
    assert.equal((await stored(c.id)).status, 'expired');
  });

  test('unknown or malformed ids are 404 CONSENT_NOT_FOUND; query parameters are refused', async () => {
    assertError(await detail(randomUUID()), 404, 'CONSENT_NOT_FOUND');
    for (const id of ['not a uuid', 'x'.repeat(200), '%00', '..%2F..%2Fetc']) {
      assertError(await detail(encodeURIComponent(id)), 404, 'CONSENT_NOT_FOUND');
    }
    const c = await validConsent();
    assertError(await call(server, 'GET', `/consents/${c.id}?expand=all`, { token: readerToken }), 400, 'UNKNOWN_PARAMETER', 'expand');
  });
});

describe('PATCH /consents/{id}: revocation on the customer’s behalf', () => {
  test('a consent with live tokens: REVOKED, history (actor ASPSP, reason, request id), tokens dead at once', async () => {
    const { consentId, accessToken, refreshToken } = await consentWithTokens();
    assert.equal((await introspect(server, tpp, accessToken)).active, true);
    assert.equal((await introspect(server, tpp, refreshToken)).active, true);
    const before = await stored(consentId);

    const requestId = randomUUID();
    const res = await revoke(consentId, { status: 'REVOKED', reason: 'suspected fraud reported by the customer' }, adminToken, { 'x-request-id': requestId });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.status, 'REVOKED');
    assert.equal(res.body.data.detailedStatus, 'revokedByPsu');
    assert.deepEqual(res.body.data.revocation.revokedBy, 'ASPSP');
    assert.deepEqual(res.body.data.revocation.reason, { code: 'OTHER', additionalInformation: 'suspected fraud reported by the customer' });
    const last = res.body.data.consentHistoryStatus.at(-1);
    assert.deepEqual({ ...last, updatedOn: undefined }, {
      consentStatus: 'REVOKED',
      updatedOn: undefined,
      from: 'valid',
      to: 'revokedByPsu',
      actor: 'ASPSP',
      reason: 'suspected fraud reported by the customer',
      requestId,
      operatorUsername: 'bo-admin',
    });

    const after = await stored(consentId);
    assert.equal(after.status, 'revokedByPsu');
    assert.equal(after.history.length, before.history.length + 1);
    assert.equal(after.history.at(-1)?.actor, 'ASPSP');
    assert.equal(after.history.at(-1)?.by, 'bo-admin', 'which back-office client acted');
    assert.equal((await introspect(server, tpp, accessToken)).active, false);
    assert.equal((await introspect(server, tpp, refreshToken)).active, false);
    const refreshed = await refresh(server, tpp, refreshToken);
    assert.equal(refreshed.status, 400);
    assert.equal(refreshed.json.error, 'invalid_grant');
    // the detail says the same
    assert.equal((await detail(consentId)).body.data.status, 'REVOKED');
  });

  test('revokedBy USER records the customer as the actor; revokedByPsu is accepted as the status', async () => {
    const c = await validConsent();
    const res = await revoke(c.id, { status: 'revokedByPsu', reason: 'called the contact centre', revokedBy: 'USER' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.revocation.revokedBy, 'USER');
    assert.equal((await stored(c.id)).history.at(-1)?.actor, 'PSU');
  });

  test('revoking again: 409 CONSENT_ALREADY_ENDED, no second history entry', async () => {
    const c = await validConsent();
    assert.equal((await revoke(c.id, { status: 'REVOKED', reason: 'first' })).status, 200);
    const length = (await stored(c.id)).history.length;
    const again = await revoke(c.id, { status: 'REVOKED', reason: 'second' });
    assertError(again, 409, 'CONSENT_ALREADY_ENDED');
    assert.match(again.body.errors[0].detail, /REVOKED \(revokedByPsu\)/);
    assert.equal((await stored(c.id)).history.length, length);
  });

  test('a consent awaiting authorisation cannot be revoked: 409 CONSENT_NOT_AUTHORISED', async () => {
    seeder.clock = new Date();
    const c = await seeder.create({ clientId: tpp.clientId, expiresAt: future() });
    assertError(await revoke(c.id, { status: 'REVOKED', reason: 'x' }), 409, 'CONSENT_NOT_AUTHORISED');
    assert.equal((await stored(c.id)).status, 'received');
  });

  test('ended consents (rejected, terminated, expired, past expiry) are 409 CONSENT_ALREADY_ENDED', async () => {
    seeder.clock = new Date();
    const rejected = await seeder.deny(await seeder.create({ clientId: tpp.clientId, expiresAt: future() }), 'psu-1');
    const terminated = await seeder.terminate(await validConsent());
    seeder.at('2025-01-01T00:00:00Z');
    const pastExpiry = await seeder.approve(await seeder.create({ clientId: tpp.clientId, expiresAt: new Date('2025-02-01T00:00:00Z') }), 'psu-1');
    for (const c of [rejected, terminated, pastExpiry]) {
      const length = (await stored(c.id)).history.length;
      assertError(await revoke(c.id, { status: 'REVOKED', reason: 'x' }), 409, 'CONSENT_ALREADY_ENDED');
      const after = await stored(c.id);
      assert.notEqual(after.status, 'revokedByPsu');
      assert.ok(after.history.length <= length + 1);
    }
    assert.equal((await stored(pastExpiry.id)).status, 'expired');
  });

  test('an unknown consent is 404', async () => {
    assertError(await revoke(randomUUID(), { status: 'REVOKED', reason: 'x' }), 404, 'CONSENT_NOT_FOUND');
    assertError(await revoke('not-an-id%20', { status: 'REVOKED', reason: 'x' }), 404, 'CONSENT_NOT_FOUND');
  });

  test('bad bodies: 400 naming the field, 415, 413; the consent stays valid', async () => {
    const c = await validConsent();
    const bodies: Array<[unknown, string, string]> = [
      [{}, 'MISSING_PARAMETER', 'status'],
      [{ status: 'REVOKED' }, 'MISSING_PARAMETER', 'reason'],
      [{ status: 'REJECTED', reason: 'x' }, 'INVALID_PARAMETER', 'status'],
      [{ status: 'revoked', reason: 'x' }, 'INVALID_PARAMETER', 'status'],
      [{ status: 'REVOKED', reason: '' }, 'INVALID_PARAMETER', 'reason'],
      [{ status: 'REVOKED', reason: '   ' }, 'INVALID_PARAMETER', 'reason'],
      [{ status: 'REVOKED', reason: 'r'.repeat(141) }, 'INVALID_PARAMETER', 'reason'],
      [{ status: 'REVOKED', reason: 42 }, 'INVALID_PARAMETER', 'reason'],
      [{ status: 'REVOKED', reason: 'a\u0007b' }, 'INVALID_PARAMETER', 'reason'],
      [{ status: 'REVOKED', reason: 'x', revokedBy: 'TPP' }, 'INVALID_PARAMETER', 'revokedBy'],
      [{ status: 'REVOKED', reason: 'x', note: 'y' }, 'UNKNOWN_PARAMETER', 'note'],
      [{ data: { status: 'REVOKED' } }, 'UNKNOWN_PARAMETER', 'data'],
    ];
    for (const [json, code, field] of bodies) assertError(await revoke(c.id, json), 400, code, field);
    for (const raw of ['[]', '"REVOKED"', 'null', '{"status": "REVOKED", ', '\u00ff\u00fe']) {
      assertError(await call(server, 'PATCH', `/consents/${c.id}`, { token: adminToken, raw, headers: { 'content-type': 'application/json' } }), 400, 'INVALID_BODY');
    }
    assertError(await call(server, 'PATCH', `/consents/${c.id}`, { token: adminToken }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assertError(
      await call(server, 'PATCH', `/consents/${c.id}`, { token: adminToken, raw: 'status=REVOKED', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const big = JSON.stringify({ status: 'REVOKED', reason: 'x', padding: 'p'.repeat(server.assent.config.bodyLimitBytes) });
    assertError(await call(server, 'PATCH', `/consents/${c.id}`, { token: adminToken, raw: big, headers: { 'content-type': 'application/json' } }), 413, 'BODY_TOO_LARGE');
    assertError(await call(server, 'PATCH', `/consents/${c.id}?force=true`, { token: adminToken, json: { status: 'REVOKED', reason: 'x' } }), 400, 'UNKNOWN_PARAMETER', 'force');
    assert.equal((await stored(c.id)).status, 'valid');
  });

  test('concurrent revocations: exactly one succeeds, one history entry', async () => {
    const c = await validConsent();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => revoke(c.id, { status: 'REVOKED', reason: `attempt ${i}` })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) {
      assert.ok(['CONSENT_ALREADY_ENDED', 'CONSENT_CHANGED_CONCURRENTLY'].includes(r.body.errors[0].code), r.text);
    }
    const after = await stored(c.id);
    assert.equal(after.history.filter((h) => h.to === 'revokedByPsu').length, 1);
    const winner = results.find((r) => r.status === 200)!;
    assert.equal(after.history.at(-1)?.reason, winner.body.data.revocation.reason.additionalInformation);
  });

  test('the logs carry ids and outcomes, never the reason, the customer or the document', async () => {
    const c = await validConsent({ details: { loggedUser: { document: { identification: CPF, rel: 'CPF' } } } });
    const reason = `secret-reason-${randomUUID()}`;
    assert.equal((await revoke(c.id, { status: 'REVOKED', reason })).status, 200);
    await call(server, 'GET', `/consents?document=${encodeURIComponent(CPF)}&psuId=psu-x`, { token: readerToken });
    await call(server, 'GET', `/consents?document=bad-${reason}`, { token: readerToken });
    const logs = server.logs.join('\n');
    assert.ok(logs.includes('backoffice: consent revoked'), 'the revocation is logged');
    assert.ok(logs.includes(c.id));
    for (const secret of [reason, CPF, '52998224725', 'psu-x']) assert.ok(!logs.includes(secret), `the logs contain ${secret}`);
  });
});
