/**
 * Login throttling on two instances sharing one Redis (and MongoDB-wire server): failures on either
 * instance count together, per account and per client address, on the bank login and on My consents;
 * the lockout holds on both; the customer gets a friendly 429 page; the log event carries keyed hashes,
 * never the username or the address.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { makeKeyClient, requireEnv, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, CookieJar, followRedirects, startFlow } from '../support/tpp.ts';

const database = `assent_test_${randomUUID().replaceAll('-', '')}`;
const prefix = `assent-test:${randomUUID()}:`;
let a: TestServer;
let b: TestServer;
let tpp: TestClient;

before(async () => {
  tpp = await makeKeyClient('throttle-tpp');
  const shared = {
    clients: [tpp.config],
    trustProxy: true,
    // one bank: the instances share their keys (the throttle's hashes are keyed with them)
    keys: { cookieKeys: [randomBytes(32).toString('base64url')] },
    authentication: {
      throttle: {
        account: { freeAttempts: 2, lockoutAfter: 4 },
        address: { freeAttempts: 5, lockoutAfter: 6 },
        baseDelaySeconds: 0.2,
        maxDelaySeconds: 1,
        lockoutSeconds: 600,
        windowSeconds: 600,
      },
    },
    mongodb: { uri: requireEnv('MONGODB_URI'), database },
    redis: { url: requireEnv('REDIS_URL'), prefix },
  };
  a = await startTestServer(shared);
  b = await startTestServer(shared);
});

after(async () => {
  await a?.stop();
  await b?.stop();
  const mongo = new MongoClient(requireEnv('MONGODB_URI'));
  await mongo.db(database).dropDatabase().catch(() => undefined);
  await mongo.close();
  const redis = new Redis(requireEnv('REDIS_URL'));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

/** One My consents login attempt on `server` from `address`; a fresh browser each time. */
async function myConsentsLogin(server: TestServer, address: string, username: string, password: string) {
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': address };
  const page = await (await jar.fetch(`${server.url}/my-consents`, { headers })).text();
  const res = await jar.fetch(`${server.url}/my-consents/login`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, csrf: csrfOf(page) }).toString(),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), html: await res.text(), type: res.headers.get('content-type') };
}

/** One bank login attempt on `server` (through a TPP's authorization) from `address`. */
async function bankLogin(server: TestServer, address: string, username: string, password: string) {
  const flow = await startFlow(server, tpp);
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': address };
  let res = await jar.fetch(flow.link.href, { headers });
  while (res.status === 303 || res.status === 302) res = await jar.fetch(new URL(res.headers.get('location')!, server.url).href, { headers });
  const html = await res.text();
  const action = /action="([^"]+\/login)"/.exec(html)![1]!;
  res = await jar.fetch(new URL(action, server.url).href, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, csrf: csrfOf(html) }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

function throttleEvents(): Array<Record<string, unknown>> {
  return [...a.logs, ...b.logs].map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'login_throttled');
}

describe('login throttling across two instances', () => {
  test('per account: increasing delay, then a lockout that holds on both instances and on both login pages', async () => {
    const address = '203.0.113.41';
    assert.equal((await myConsentsLogin(a, address, 'alice', 'wrong-1')).status, 401);
    assert.equal((await myConsentsLogin(b, address, 'Alice', 'wrong-2')).status, 401);
    const delayed = await myConsentsLogin(a, address, 'alice', 'wrong-3');
    assert.equal(delayed.status, 429, 'the third failure (across both instances) starts the delay');
    assert.match(delayed.type ?? '', /html/);
    assert.match(delayed.html, /Too many login attempts/);
    assert.ok(Number(delayed.retryAfter) >= 1);
    // during the delay even the right password is not checked
    assert.equal((await myConsentsLogin(b, address, ALICE.username, ALICE.password)).status, 429);

    await sleep(300);
    const locked = await myConsentsLogin(b, address, 'alice', 'wrong-4');
    assert.equal(locked.status, 429);
    assert.match(locked.html, /paused for about 10 minutes/);
    assert.ok(Number(locked.retryAfter) > 500);

    // locked on both instances, for the right password too, on My consents and on the bank login
    for (const server of [a, b]) {
      const right = await myConsentsLogin(server, address, ALICE.username, ALICE.password);
      assert.equal(right.status, 429);
      assert.doesNotMatch(right.html, /Log out/);
      const bank = await bankLogin(server, '203.0.113.42', ALICE.username, ALICE.password);
      assert.equal(bank.status, 429);
      assert.match(bank.html, /Too many login attempts/);
    }
    // another customer is not affected
    assert.equal((await myConsentsLogin(a, '203.0.113.43', 'bruno', 'bruno-demo')).status, 303);

    const events = throttleEvents();
    assert.ok(events.some((e) => e.locked === true && e.surface === 'my-consents'), JSON.stringify(events));
    for (const e of events) {
      const line = JSON.stringify(e).toLowerCase();
      assert.doesNotMatch(line, /alice|203\.0\.113/, 'a log event names the username or the address');
      assert.match(String(e.account), /^account:[A-Za-z0-9_-]{22}$/);
    }
    for (const line of [...a.logs, ...b.logs]) assert.doesNotMatch(line, /wrong-\d|alice-demo/, 'a password reached the logs');
  });

  test('per client address: many usernames from one address are throttled on the bank login; the account elsewhere is not', async () => {
    const address = '198.51.100.7';
    for (let i = 0; i < 5; i++) {
      const res = await bankLogin(i % 2 ? a : b, address, `nobody-${i}`, 'guess');
      assert.equal(res.status, 401, `attempt ${i + 1}`);
    }
    const sixth = await bankLogin(a, address, 'nobody-5', 'guess');
    assert.equal(sixth.status, 429);
    assert.equal((await bankLogin(b, address, 'bruno', 'bruno-demo')).status, 429, 'the address is locked on the other instance too');
    assert.equal((await bankLogin(b, '198.51.100.8', 'bruno', 'bruno-demo')).status, 303, 'from another address the account logs in');
  });

  test('a successful login clears the account failures', async () => {
    const address = '192.0.2.55';
    assert.equal((await myConsentsLogin(a, address, 'bruno', 'x-1')).status, 401);
    assert.equal((await myConsentsLogin(b, address, 'bruno', 'x-2')).status, 401);
    assert.equal((await myConsentsLogin(a, address, 'bruno', 'bruno-demo')).status, 303);
    assert.equal((await myConsentsLogin(b, address, 'bruno', 'x-3')).status, 401, 'the earlier failures still counted');
  });
});
