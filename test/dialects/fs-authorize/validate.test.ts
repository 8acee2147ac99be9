/**
 * The consent validation API on real Redis + MongoDB-wire: who may call it, every outcome with its
 * Berlin Group code, the signed consent information, usage counting (50 concurrent calls, PSU present,
 * one-off consents, day rollover on an injected clock, two instances on one Redis), revocation mid-use,
 * and failing closed when Redis is gone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { Redis } from 'ioredis';
import { makeKeyClient, makeSecretClient, requireEnv, startTestServer, type TestClient, type TestServer, changeStoredConsent } from '../../support/assent.ts';
import { ALICE, accountsBody, decideWithoutBrowser, exchangeCode, inDays, startFlow } from '../../support/tpp.ts';
import { startRedis } from '../../support/services.ts';
import { Seeder, call, internalClientConfig, tokenFor } from '../backoffice/helpers.ts';
import { AccessValidator } from '../../../src/application/access.ts';
import { RedisUsageCounter } from '../../../src/storage/redis/usage-counter.ts';
import { bankDay } from '../../../src/consent/usage.ts';
import { generateKeyRingConfig } from '../../../src/crypto/key-ring.ts';

const AIS = '/psd2/accountinformation/v1';
const BASIC = { username: 'bank-gateway', password: 'a-long-internal-password' };
/** one data key ring for every instance of a test (a second instance must read the first's consents) */
const KEYS = { dataKeys: JSON.stringify(generateKeyRingConfig()) };

let server: TestServer;
let tpp: TestClient;
let other: TestClient;
let gateway: TestClient;
let backoffice: TestClient;
let gatewayToken: string;

before(async () => {
  tpp = await makeKeyClient('validate-tpp');
  other = await makeKeyClient('validate-other');
  gateway = makeSecretClient('validate-gateway', internalClientConfig('consent:validate'));
  backoffice = makeSecretClient('validate-backoffice', internalClientConfig('backoffice:read'));
  server = await startTestServer({ clients: [tpp.config, other.config, gateway.config, backoffice.config], internalApi: BASIC, keys: KEYS });
  gatewayToken = await tokenFor(server, gateway, 'consent:validate');
});
after(async () => {
  await server.stop();
});

async function approved(s: TestServer = server, body: unknown = accountsBody([ALICE.salary, ALICE.savings])) {
  const flow = await startFlow(s, tpp, body);
  const back = await decideWithoutBrowser(s, flow);
  const tokens = await exchangeCode(s, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { consentId: flow.consentId, accessToken: tokens.json.access_token as string };
}

async function validate(body: Record<string, unknown>, auth: string = `Bearer ${gatewayToken}`, s: TestServer = server) {
  const res = await fetch(`${s.url}/api/fs/consent/validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, any> };
}

const balances = (accountId = ALICE.salary.accountId) => `${AIS}/accounts/${accountId}/balances`;

describe('who may ask', () => {
  test('no credentials 401; a TPP token or an internal token without consent:validate 403; Basic and the gateway token pass', async () => {
    const { accessToken } = await approved();
    const body = { accessToken, method: 'GET', resourcePath: `${AIS}/accounts` };
    const none = await validate(body, '');
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthorized');
    const wrongBasic = await validate(body, `Basic ${Buffer.from('bank-gateway:nope').toString('base64')}`);
    assert.equal(wrongBasic.status, 401);
    const tppCc = await tokenFor(server, tpp, 'accountinformation');
    assert.equal((await validate(body, `Bearer ${tppCc}`)).status, 403);
    assert.equal((await validate(body, `Bearer ${accessToken}`)).status, 403, 'the PSU token itself is not a caller');
    const bo = await tokenFor(server, backoffice, 'backoffice:read');
    assert.equal((await validate(body, `Bearer ${bo}`)).status, 403);
    const basic = await validate(body, `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`);
    assert.equal(basic.status, 200);
    assert.equal(basic.body.isValid, true);
    assert.equal((await validate(body)).body.isValid, true);
  });

  test('bad input is a 400 invalid_request naming the problem', async () => {
    const missing = await validate({ method: 'GET', resourcePath: '/x' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'invalid_request');
    const both = await validate({ accessToken: 'a', consentId: 'c', clientId: 'x', method: 'GET', resourcePath: '/x' });
    assert.equal(both.status, 400);
    const unknownKey = await validate({ accessToken: 'a', method: 'GET', resourcePath: '/x', extra: 1 });
    assert.equal(unknownKey.status, 400);
    const res = await fetch(`${server.url}/api/fs/consent/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayToken}` },
      body: '{not json',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
  });
});

describe('outcomes', () => {
  test('valid: consent information, remaining accesses, and a JWS verifiable with the published JWKS', async () => {
    const { consentId, accessToken } = await approved();
    const res = await validate({ accessToken, method: 'GET', resourcePath: balances() });
    assert.equal(res.status, 200);
    assert.equal(res.body.isValid, true);
    assert.equal(res.body.httpCode, 200);
    assert.equal(res.body.errorCode, null);
    const c = res.body.consent;
    assert.equal(c.id, consentId);
    assert.equal(c.clientId, tpp.clientId);
    assert.equal(c.status, 'valid');
    assert.equal(c.psuId, 'psu-alice');
    assert.equal(c.frequencyPerDay, 4);
    assert.equal(c.remainingToday, 3);
    assert.deepEqual(
      c.grantedAccounts.map((a: { accountId: string }) => a.accountId).sort(),
      [ALICE.salary.accountId, ALICE.savings.accountId].sort(),
    );
    const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload, protectedHeader } = await jose.jwtVerify(res.body.consentInformation, jwks, { issuer: server.issuer, typ: 'consent-info+jwt' });
    assert.equal(protectedHeader.typ, 'consent-info+jwt');
    assert.equal(payload.isValid, true);
    assert.deepEqual(payload.consent, c);
  });

  test('an unknown token: 401 TOKEN_INVALID', async () => {
    const res = await validate({ accessToken: 'not-a-token', method: 'GET', resourcePath: `${AIS}/accounts` });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.isValid, res.body.httpCode, res.body.errorCode, res.body.consent], [false, 401, 'TOKEN_INVALID', null]);
  });

  test("a TPP's client_credentials token, or a token from a grant the consent no longer has: 401 TOKEN_INVALID", async () => {
    const tppCc = await tokenFor(server, tpp, 'accountinformation');
    const cc = await validate({ accessToken: tppCc, method: 'GET', resourcePath: `${AIS}/accounts` });
    assert.deepEqual([cc.body.isValid, cc.body.httpCode, cc.body.errorCode, cc.body.consent], [false, 401, 'TOKEN_INVALID', null]);
    const { consentId, accessToken } = await approved();
    // the consent was authorised again under another grant: the old grant's token no longer speaks for it
    await changeStoredConsent(server, consentId, { grantId: `grant-${randomUUID()}` });
    const stale = await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts` });
    assert.deepEqual([stale.body.isValid, stale.body.httpCode, stale.body.errorCode], [false, 401, 'TOKEN_INVALID']);
  });

  test('a consent asked for with another client id: 403 CONSENT_UNKNOWN, nothing about it revealed', async () => {
    const { consentId } = await approved();
    const res = await validate({ consentId, clientId: other.clientId, method: 'GET', resourcePath: `${AIS}/accounts` });
    assert.deepEqual([res.body.isValid, res.body.httpCode, res.body.errorCode, res.body.consent], [false, 403, 'CONSENT_UNKNOWN', null]);
    const unknown = await validate({ consentId: randomUUID(), clientId: tpp.clientId, method: 'GET', resourcePath: `${AIS}/accounts` });
    assert.equal(unknown.body.errorCode, 'CONSENT_UNKNOWN');
  });

  test('an account outside the consent: 403 RESOURCE_UNKNOWN; a data kind not granted on the account: 401 CONSENT_INVALID (Berlin Group: not valid for the addressed resource)', async () => {
    const { accessToken } = await approved();
    const outside = await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts/acc-bruno-everyday` });
    assert.deepEqual([outside.body.isValid, outside.body.httpCode, outside.body.errorCode], [false, 403, 'RESOURCE_UNKNOWN']);
    // transactions were granted on the salary account only
    const tx = await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts/${ALICE.savings.accountId}/transactions` });
    assert.deepEqual([tx.body.isValid, tx.body.httpCode, tx.body.errorCode], [false, 401, 'CONSENT_INVALID']);
    const ok = await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts/${ALICE.salary.accountId}/transactions?bookingStatus=booked` });
    assert.equal(ok.body.isValid, true);
    const mismatch = await validate({ accessToken, method: 'GET', resourcePath: balances(), accountId: ALICE.savings.accountId });
    assert.equal(mismatch.body.errorCode, 'SERVICE_INVALID');
    const post = await validate({ accessToken, method: 'POST', resourcePath: `${AIS}/accounts` });
    assert.deepEqual([post.body.httpCode, post.body.errorCode], [405, 'SERVICE_INVALID']);
  });

  test('accounts-only consent: balances refused with 401 CONSENT_INVALID', async () => {
    const only = [{ iban: ALICE.salary.iban, currency: 'SEK' }];
    const { accessToken } = await approved(server, { ...accountsBody([ALICE.salary]), access: { accounts: only } });
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts/${ALICE.salary.accountId}` })).body.isValid, true);
    const res = await validate({ accessToken, method: 'GET', resourcePath: balances() });
    assert.deepEqual([res.body.httpCode, res.body.errorCode], [401, 'CONSENT_INVALID']);
  });

  test('expired consent: 401 CONSENT_EXPIRED', async () => {
    const { consentId } = await approved();
    await changeStoredConsent(server, consentId, { expiresAt: new Date(Date.now() - 1000) });
    const res = await validate({ consentId, clientId: tpp.clientId, method: 'GET', resourcePath: `${AIS}/accounts` });
    assert.deepEqual([res.body.isValid, res.body.httpCode, res.body.errorCode, res.body.consent.status], [false, 401, 'CONSENT_EXPIRED', 'expired']);
  });

  test('revocation mid-use: valid, then the customer revokes, then refused (token revoked, consent invalid)', async () => {
    const { consentId, accessToken } = await approved();
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances() })).body.isValid, true);
    const consent = (await server.assent.consents.get(consentId))!;
    await server.assent.consents.revokeByPsu(consent, { actor: 'PSU' });
    const byToken = await validate({ accessToken, method: 'GET', resourcePath: balances() });
    assert.deepEqual([byToken.body.isValid, byToken.body.httpCode, byToken.body.errorCode], [false, 401, 'TOKEN_INVALID']);
    const byId = await validate({ consentId, clientId: tpp.clientId, method: 'GET', resourcePath: balances() });
    assert.deepEqual([byId.body.isValid, byId.body.httpCode, byId.body.errorCode, byId.body.consent.status], [false, 401, 'CONSENT_INVALID', 'revokedByPsu']);
  });
});

describe('consents remembered by an instance (the consent fence)', () => {
  test('revoked on one instance: refused at once on another that remembers the consent, and on the first', async () => {
    const { consentId, accessToken } = await approved();
    const { mongodb, redis } = server.assent.config;
    const second = await startTestServer({ clients: [tpp.config, gateway.config], internalApi: BASIC, mongodb, redis, keys: KEYS, issuer: server.issuer });
    try {
      const basic = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;
      const byId = { consentId, clientId: tpp.clientId, method: 'GET', resourcePath: balances(), psuIpAddress: '192.0.2.10' };
      // both instances read the consent, then answer from memory
      for (let i = 0; i < 3; i++) {
        const a = await validate(byId, basic, second);
        assert.equal(a.body.isValid, true, JSON.stringify(a.body));
        assert.equal((await validate(byId)).body.isValid, true);
      }
      // the repository read is gone from the hot path: a read that fails would show
      const reads = countReads(second);
      assert.equal((await validate(byId, basic, second)).body.isValid, true);
      assert.equal(reads(), 0, 'answered from the remembered consent');
      await server.assent.consents.revokeByPsu((await server.assent.consents.get(consentId))!, { actor: 'PSU' });
      const other = await validate(byId, basic, second);
      assert.deepEqual([other.body.isValid, other.body.httpCode, other.body.errorCode, other.body.consent.status], [false, 401, 'CONSENT_INVALID', 'revokedByPsu']);
      const same = await validate(byId);
      assert.deepEqual([same.body.isValid, same.body.errorCode], [false, 'CONSENT_INVALID']);
      assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances() }, basic, second)).body.errorCode, 'TOKEN_INVALID');
    } finally {
      await second.assent.close();
    }
  });

  test('while a write holds the consent, validation reads the repository; a stored change is seen at once', async () => {
    const { consentId } = await approved();
    const byId = { consentId, clientId: tpp.clientId, method: 'GET', resourcePath: balances(), psuIpAddress: '192.0.2.10' };
    assert.equal((await validate(byId)).body.isValid, true);
    assert.equal((await validate(byId)).body.isValid, true);
    const fence = server.assent.stores.fence;
    await fence.hold(consentId);
    const reads = countReads(server);
    try {
      // a writer has stored a change (here: behind the service's back) but not yet released the fence
      const revision = (await server.assent.consents.get(consentId))!.revision;
      await changeStoredConsent(server, consentId, { expiresAt: new Date(Date.now() - 1000) });
      const held = await validate(byId);
      assert.ok(reads() > 0, 'the repository was read');
      assert.deepEqual([held.body.isValid, held.body.errorCode], [false, 'CONSENT_EXPIRED']);
      await fence.release(consentId, revision + 1);
    } finally {
      await fence.release(consentId, null).catch(() => undefined);
    }
  });
});

describe('embedded stores (demo mode)', () => {
  test('the in-memory fence: answered from memory, a revocation refused at once', async () => {
    const own = await startTestServer({ clients: [tpp.config, gateway.config], internalApi: BASIC }, { embedded: true });
    try {
      const { consentId } = await approved(own);
      const basic = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;
      const byId = { consentId, clientId: tpp.clientId, method: 'GET', resourcePath: balances() };
      assert.equal((await validate(byId, basic, own)).body.isValid, true);
      const reads = countReads(own);
      const second = await validate(byId, basic, own);
      assert.deepEqual([second.body.isValid, second.body.consent.remainingToday, reads()], [true, 2, 0]);
      await own.assent.consents.revokeByPsu((await own.assent.consents.get(consentId))!, { actor: 'PSU' });
      const after = await validate(byId, basic, own);
      assert.deepEqual([after.body.isValid, after.body.errorCode], [false, 'CONSENT_INVALID']);
    } finally {
      await own.stop();
    }
  });
});

/** counts the repository reads of one running Assent from now on */
function countReads(s: TestServer): () => number {
  const repo = s.assent.stores.consents as { findById: (id: string) => Promise<unknown> };
  const original = repo.findById.bind(repo);
  let n = 0;
  repo.findById = (id: string) => {
    n++;
    return original(id);
  };
  return () => n;
}

describe('Open Finance Brasil consents get their regime’s codes', () => {
  test('AUTHORISED: valid; a kind not granted 403 FORBIDDEN; another account 404 NOT_FOUND; over the limit 429; revoked 401 UNAUTHORIZED', async () => {
    const seeder = new Seeder(server);
    const created = await seeder.create({ clientId: tpp.clientId, type: 'br-data-sharing', access: {}, expiresAt: new Date(Date.now() + 30 * 86_400_000), frequencyPerDay: 1 });
    const c = await seeder.approve(created, 'psu-br-1', [{ accountId: 'br-acc-1', access: ['accounts', 'balances'] }]);
    const ask = (resourcePath: string) => validate({ consentId: c.id, clientId: tpp.clientId, method: 'GET', resourcePath });
    const ok = await ask('/open-banking/accounts/v2/accounts/br-acc-1/balances');
    assert.deepEqual([ok.body.isValid, ok.body.consent.status], [true, 'AUTHORISED']);
    assert.deepEqual([(await ask('/open-banking/accounts/v2/accounts/br-acc-1/balances')).body.httpCode, (await ask('/open-banking/accounts/v2/accounts/br-acc-1/balances')).body.errorCode], [429, 'TOO_MANY_REQUESTS']);
    const tx = await ask('/open-banking/accounts/v2/accounts/br-acc-1/transactions');
    assert.deepEqual([tx.body.httpCode, tx.body.errorCode], [403, 'FORBIDDEN']);
    const elsewhere = await ask('/open-banking/accounts/v2/accounts/br-acc-9');
    assert.deepEqual([elsewhere.body.httpCode, elsewhere.body.errorCode], [404, 'NOT_FOUND']);
    await seeder.revoke(c, 'PSU');
    const revoked = await ask('/open-banking/accounts/v2/accounts/br-acc-1');
    assert.deepEqual([revoked.body.isValid, revoked.body.httpCode, revoked.body.errorCode, revoked.body.consent.status], [false, 401, 'UNAUTHORIZED', 'REJECTED']);
  });
});

describe('usage counting', () => {
  test('50 concurrent calls without the customer: exactly frequencyPerDay succeed, the rest 429 ACCESS_EXCEEDED', async () => {
    const { accessToken } = await approved();
    const results = await Promise.all(Array.from({ length: 50 }, () => validate({ accessToken, method: 'GET', resourcePath: balances() })));
    const ok = results.filter((r) => r.body.isValid);
    assert.equal(ok.length, 4);
    assert.deepEqual(ok.map((r) => r.body.consent.remainingToday).sort(), [0, 1, 2, 3]);
    for (const r of results.filter((r) => !r.body.isValid)) assert.deepEqual([r.body.httpCode, r.body.errorCode], [429, 'ACCESS_EXCEEDED']);
    // another resource has its own count
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts` })).body.isValid, true);
  });

  test('with the customer present a recurring consent is not counted', async () => {
    const { accessToken } = await approved();
    for (let i = 0; i < 4; i++) assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances() })).body.isValid, true);
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances() })).body.errorCode, 'ACCESS_EXCEEDED');
    for (let i = 0; i < 3; i++) {
      const present = await validate({ accessToken, method: 'GET', resourcePath: balances(), psuIpAddress: '192.0.2.10' });
      assert.equal(present.body.isValid, true);
      assert.equal(present.body.consent.remainingToday, 0);
    }
  });

  test('a one-off consent allows one access per resource, with or without the customer', async () => {
    const { accessToken } = await approved(server, accountsBody([ALICE.salary, ALICE.savings], { recurringIndicator: false, frequencyPerDay: 1 }));
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances(), psuIpAddress: '192.0.2.10' })).body.isValid, true);
    const again = await validate({ accessToken, method: 'GET', resourcePath: balances(), psuIpAddress: '192.0.2.10' });
    assert.deepEqual([again.body.httpCode, again.body.errorCode], [429, 'ACCESS_EXCEEDED']);
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances(ALICE.savings.accountId) })).body.isValid, true);
    assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances(ALICE.savings.accountId) })).body.isValid, false);
  });

  test("day rollover at the bank's midnight (injected clock, Europe/Stockholm); the counter expires then", async () => {
    const { accessToken, consentId } = await approved();
    const zone = 'Europe/Stockholm';
    const { endsAt } = bankDay(new Date(), zone);
    let clock = new Date(endsAt.getTime() - 60_000);
    const redis = new Redis(requireEnv('REDIS_URL'));
    try {
      const validator = new AccessValidator(
        { consents: server.assent.consents, tokens: server.assent.oauth, usage: new RedisUsageCounter(redis, { prefix: server.assent.config.redis.prefix }) },
        { timeZone: zone, now: () => clock },
      );
      const ask = () => validator.validate({ subject: { accessToken }, method: 'GET', path: balances(), psuPresent: false });
      for (let i = 0; i < 4; i++) assert.equal((await ask()).isValid, true);
      assert.equal((await ask()).errorCode, 'ACCESS_EXCEEDED');
      const { day } = bankDay(clock, zone);
      const key = `${server.assent.config.redis.prefix}usage:${consentId}:${day}`;
      assert.equal(await redis.pexpiretime(key), endsAt.getTime(), "the day's counters expire at the bank's midnight");
      clock = new Date(endsAt.getTime() + 60_000);
      const next = await ask();
      assert.equal(next.isValid, true, 'a new day starts a new count');
      assert.equal(next.remainingToday, 3);
      assert.deepEqual((await validator.usage(next.consent!)).accesses, { [balances()]: 1 });
    } finally {
      redis.disconnect();
    }
  });

  test('the back-office consent detail shows the usage so far (validated against its spec)', async () => {
    const { accessToken, consentId } = await approved();
    for (let i = 0; i < 2; i++) await validate({ accessToken, method: 'GET', resourcePath: balances() });
    await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts` });
    await validate({ accessToken, method: 'GET', resourcePath: `${AIS}/accounts`, psuIpAddress: '192.0.2.10' });
    const bo = { ...server, origin: server.url, linkOrigin: new URL(server.issuer).origin, sideApp: false };
    const res = await call(bo, 'GET', `/consents/${consentId}`, { token: await tokenFor(server, backoffice, 'backoffice:read') });
    assert.equal(res.status, 200);
    const usage = res.body.data.usage;
    assert.equal(usage.timeZone, 'UTC');
    assert.equal(usage.period, new Date().toISOString().slice(0, 10));
    assert.deepEqual(
      [...usage.accesses].sort((a: { resourcePath: string }, b: { resourcePath: string }) => a.resourcePath.localeCompare(b.resourcePath)),
      [
        { resourcePath: `${AIS}/accounts`, count: 1 },
        { resourcePath: balances(), count: 2 },
      ],
    );
  });

  test('two Assent instances on one Redis and database share the counters', async () => {
    const { accessToken } = await approved();
    const { mongodb, redis } = server.assent.config;
    const second = await startTestServer({ clients: [tpp.config, other.config, gateway.config], internalApi: BASIC, mongodb, redis, keys: KEYS, issuer: server.issuer });
    try {
      const secondToken = await tokenFor(second, gateway, 'consent:validate');
      const calls = Array.from({ length: 30 }, (_, i) =>
        i % 2 === 0
          ? validate({ accessToken, method: 'GET', resourcePath: balances() })
          : validate({ accessToken, method: 'GET', resourcePath: balances() }, `Bearer ${secondToken}`, second),
      );
      const results = await Promise.all(calls);
      assert.equal(results.filter((r) => r.body.isValid).length, 4);
      for (const r of results) assert.ok(r.status === 200 && (r.body.isValid || r.body.errorCode === 'ACCESS_EXCEEDED'), JSON.stringify(r.body));
    } finally {
      await second.assent.close();
    }
  });
});

describe('Redis stopped', () => {
  test('validation fails closed with a clear 503, never valid', async () => {
    const redisServer = await startRedis({ dir: join(tmpdir(), `assent-validate-${randomUUID()}`) });
    const own = await startTestServer({ clients: [tpp.config, gateway.config], internalApi: BASIC, redis: { url: redisServer.url, prefix: 'v:' } });
    try {
      const { consentId, accessToken } = await approved(own);
      const basic = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;
      assert.equal((await validate({ accessToken, method: 'GET', resourcePath: balances() }, basic, own)).body.isValid, true);
      await redisServer.stop();
      const byId = await validate({ consentId, clientId: tpp.clientId, method: 'GET', resourcePath: balances() }, basic, own);
      assert.equal(byId.status, 503);
      assert.equal(byId.body.isValid, false);
      assert.equal(byId.body.code, 'usage_unavailable');
      const byToken = await validate({ accessToken, method: 'GET', resourcePath: balances() }, basic, own);
      assert.equal(byToken.status, 503);
      assert.equal(byToken.body.isValid, false);
    } finally {
      await own.assent.close();
      await redisServer.stop().catch(() => undefined);
    }
  });
});
