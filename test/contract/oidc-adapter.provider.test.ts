/**
 * The adapters under a real oidc-provider: a client_credentials token is issued, introspected (active),
 * revoked and introspected again (inactive), with the Redis keys checked along the way.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import Provider, { type Configuration } from 'oidc-provider';
import type { OidcAdapterClass } from '../../src/storage/oidc-adapter.ts';
import { memoryAdapterClass } from '../../src/storage/memory/oidc-adapter.ts';
import { redisAdapterClass } from '../../src/storage/redis/oidc-adapter.ts';

const url = process.env.REDIS_URL;
assert.ok(url, 'REDIS_URL is not set: run through `node scripts/test-env.ts -- …` (this test needs a real Redis)');

const client = new Redis(url);
const prefix = `test:oidc-adapter:provider:${randomUUID()}:`;

after(async () => {
  const leftovers: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    leftovers.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  if (leftovers.length > 0) await client.del(...leftovers);
  await client.quit();
});

async function startProvider(Adapter: OidcAdapterClass): Promise<{ base: string; server: Server; errors: unknown[] }> {
  const provider = new Provider('http://127.0.0.1', {
    adapter: Adapter as unknown as Configuration['adapter'], // consume() answers a boolean the library's types do not know
    clients: [
      {
        client_id: 'c1',
        client_secret: 's',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    scopes: ['accountinformation'],
  });
  const errors: unknown[] = [];
  provider.on('server_error', (_ctx: unknown, err: unknown) => errors.push(err));
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, server, errors };
}

const basic = `Basic ${Buffer.from('c1:s').toString('base64')}`;

async function post(base: string, path: string, form: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function issueIntrospectRevoke(base: string, onIssued?: (token: string) => Promise<void>): Promise<string> {
  const issued = await post(base, '/token', { grant_type: 'client_credentials', scope: 'accountinformation' });
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  const { access_token: token, scope } = issued.body as { access_token: string; scope: string };
  assert.equal(typeof token, 'string');
  assert.equal(scope, 'accountinformation');
  await onIssued?.(token);

  const active = await post(base, '/token/introspection', { token });
  assert.equal(active.status, 200);
  assert.equal((active.body as { active: boolean }).active, true, JSON.stringify(active.body));
  assert.equal((active.body as { client_id: string }).client_id, 'c1');

  const revoked = await post(base, '/token/revocation', { token });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));

  const inactive = await post(base, '/token/introspection', { token });
  assert.equal(inactive.status, 200);
  assert.deepEqual(inactive.body, { active: false });
  return token;
}

describe('oidc adapters under a real oidc-provider', () => {
  test('redis: client_credentials token issued, introspected, revoked', async () => {
    const { base, server, errors } = await startProvider(redisAdapterClass(client, { prefix }));
    try {
      const token = await issueIntrospectRevoke(base, async (issued) => {
        const stored = await client.get(`${prefix}ClientCredentials:${issued}`);
        assert.ok(stored, 'the token is stored in Redis');
        const payload = JSON.parse(stored) as Record<string, unknown>;
        assert.equal(payload.kind, 'ClientCredentials');
        assert.equal(payload.clientId, 'c1');
        const pttl = await client.pttl(`${prefix}ClientCredentials:${issued}`);
        assert.ok(pttl > 0 && pttl <= 600_000, `TTL follows the token lifetime (default 10 min): ${pttl}`);
      });
      assert.equal(await client.exists(`${prefix}ClientCredentials:${token}`), 0, 'revocation removed the key');
      assert.deepEqual(errors, []);
    } finally {
      server.close();
    }
  });

  test('memory: client_credentials token issued, introspected, revoked', async () => {
    const Adapter = memoryAdapterClass();
    const { base, server, errors } = await startProvider(Adapter);
    try {
      await issueIntrospectRevoke(base, async () => assert.equal(Adapter.store.size, 1));
      assert.equal(Adapter.store.size, 0);
      assert.deepEqual(errors, []);
    } finally {
      server.close();
      Adapter.store.close();
    }
  });
});
