/**
 * Data at rest in Redis after a full flow (PAR-less Berlin Group flow: consent, login, approval, code
 * exchange, refresh, introspection, My consents): a dump of every key and value under the server's
 * prefix holds no PSU id, no personal data and no token, code or session value.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { makeKeyClient, requireEnv, startTestServer, type TestClient, type TestServer } from '../support/assent.ts';
import { ALICE, exchangeCode, followRedirects, introspect, openConsentPage, refresh, startFlow, submitDecision } from '../support/tpp.ts';

let server: TestServer;
let tpp: TestClient;
let redis: Redis;

before(async () => {
  tpp = await makeKeyClient('rest-tpp');
  server = await startTestServer({ clients: [tpp.config] });
  redis = new Redis(requireEnv('REDIS_URL'));
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

async function dumpAll(prefix: string): Promise<string> {
  const keys = await redis.keys(`${prefix}*`);
  assert.ok(keys.length > 0, 'the flow wrote to Redis');
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    let value: string;
    if (type === 'string') value = (await redis.get(key)) ?? '';
    else if (type === 'zset') value = (await redis.zrange(key, '0', '-1', 'WITHSCORES')).join(' ');
    else if (type === 'hash') value = JSON.stringify(await redis.hgetall(key));
    else if (type === 'set') value = (await redis.smembers(key)).join(' ');
    else if (type === 'list') value = (await redis.lrange(key, 0, -1)).join(' ');
    else value = `(${type})`;
    parts.push(`${key} = ${value}`);
  }
  return parts.join('\n');
}

test('after a full flow, Redis holds no PSU id, no personal data and no token value', async () => {
  const flow = await startFlow(server, tpp);
  const page = await openConsentPage(server, flow);
  const { left } = await followRedirects(server, page.jar, await submitDecision(page, 'approve'));
  assert.ok(left);
  const code = new URL(left).searchParams.get('code')!;
  const tokens = await exchangeCode(server, tpp, code, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  const refreshed = await refresh(server, tpp, tokens.json.refresh_token as string);
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.equal((await introspect(server, tpp, refreshed.json.access_token as string)).active, true);

  const dump = await dumpAll(server.assent.config.redis.prefix);
  const secrets: Record<string, string> = {
    'PSU id': 'psu-alice',
    'customer name': 'Alice Andersson',
    'username (as a value)': `"${ALICE.username}"`,
    'account id': ALICE.salary.accountId,
    IBAN: ALICE.salary.iban,
    'authorization code': code,
    'access token': tokens.json.access_token as string,
    'refresh token': tokens.json.refresh_token as string,
    'refreshed access token': refreshed.json.access_token as string,
    'refreshed refresh token': refreshed.json.refresh_token as string,
    'client credentials token': flow.ccToken,
  };
  // every cookie value (the session id above all) but the interaction's uid, which is in the page URLs
  // and access logs anyway and is no credential without its signed cookies
  const uid = new URL(page.action).pathname.split('/')[2]!;
  for (const [name, value] of Object.entries(page.jar.all())) if (value.length >= 16 && value !== uid) secrets[`cookie ${name}`] = value;
  assert.ok(Object.keys(secrets).some((k) => k.startsWith('cookie _session')), 'the session cookie is checked');
  for (const [what, value] of Object.entries(secrets)) assert.ok(!dump.includes(value), `${what} is in clear in Redis: ${dump.split('\n').filter((l) => l.includes(value)).join('\n').slice(0, 600)}`);
  assert.match(dump, /"sealed":"enc:v1:/, 'payloads are sealed');
});
