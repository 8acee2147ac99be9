/**
 * The consent-creation rate limit comes from the configuration: `consent.createRateLimit` for every TPP,
 * a client's `urn:assent:consent_create_limit` for that TPP; the default leaves room for a real TPP.
 * The router on its own, on the in-memory repository, with a stand-in OAuthService.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { configSchema, type AssentConfig, type AssentConfigInput } from '../../../config/schema.ts';
import { ConsentService } from '../../../src/application/consents.ts';
import { requestContext } from '../../../src/http/request-context.ts';
import { createLogger } from '../../../src/log.ts';
import { clientMetadata } from '../../../src/oidc/provider.ts';
import type { AccessTokenInfo, OAuthService } from '../../../src/oidc/oauth.ts';
import { MemoryConsentRepository } from '../../../src/storage/memory/consent-repository.ts';
import { berlinGroupRouter } from '../../../src/dialects/berlin-group/routes.ts';
import { BASE, consentBody } from './helpers.ts';

/** "cc:<client>" tokens are client_credentials tokens of <client> */
const oauth = {
  async verifyAccessToken(request: { authorization?: string }, scope: string): Promise<AccessTokenInfo> {
    const clientId = /^Bearer cc:(.+)$/.exec(request.authorization ?? '')?.[1] ?? 'nobody';
    return { clientId, scopes: new Set([scope]), kind: 'client_credentials' };
  },
  async client(clientId: string) {
    return { clientId, name: clientId, redirectUris: [`https://${clientId}.example/cb`], internal: false };
  },
} as unknown as OAuthService;

async function listen(input: AssentConfigInput): Promise<{ server: Server; url: string }> {
  const config: AssentConfig = { ...configSchema.parse({ issuer: 'http://127.0.0.1:1/connect', ...input }), profile: 'demo' };
  const consents = new ConsentService(new MemoryConsentRepository(), { receivedTimeoutSeconds: 3600, defaultScaMethodId: 'push-otp' });
  const app = new Koa();
  app.use(requestContext());
  const router = berlinGroupRouter({ consents, oauth, config, log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })) });
  app.use(router.routes()).use(router.allowedMethods());
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000; // never close a connection fetch is about to reuse (ECONNRESET under load)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE}` };
}

async function create(url: string, clientId: string): Promise<number> {
  const res = await fetch(`${url}/consents`, {
    method: 'POST',
    headers: { authorization: `Bearer cc:${clientId}`, 'x-request-id': randomUUID(), 'content-type': 'application/json' },
    body: JSON.stringify(consentBody()),
  });
  await res.arrayBuffer();
  return res.status;
}

async function statuses(url: string, clientId: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await create(url, clientId));
  return out;
}

const client = (client_id: string, extra: Record<string, unknown> = {}) => ({
  client_id,
  client_secret: `${client_id}-secret-1234`,
  token_endpoint_auth_method: 'client_secret_basic' as const,
  redirect_uris: [`https://${client_id}.example/cb`],
  ...extra,
});

describe('consent creation rate limit from the configuration', () => {
  let server: Server;
  let url: string;

  before(async () => {
    ({ server, url } = await listen({
      consent: { createRateLimit: { limit: 2, windowSeconds: 60 } },
      clients: [client('tpp-plain'), client('tpp-big', { 'urn:assent:consent_create_limit': 5 })],
    }));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('consent.createRateLimit applies to every TPP without a limit of its own', async () => {
    assert.deepEqual(await statuses(url, 'tpp-plain', 3), [201, 201, 429]);
    assert.deepEqual(await statuses(url, 'tpp-unlisted', 3), [201, 201, 429]);
  });

  test("a client's urn:assent:consent_create_limit is its own limit, in its own window", async () => {
    assert.deepEqual(await statuses(url, 'tpp-big', 6), [201, 201, 201, 201, 201, 429]);
  });

  test('the default is sized for a real TPP (50 a second over a minute), and bad values stop startup', () => {
    const defaults = configSchema.parse({}).consent.createRateLimit;
    assert.deepEqual(defaults, { limit: 3000, windowSeconds: 60 });
    assert.equal(configSchema.safeParse({ consent: { createRateLimit: { limit: 0 } } }).success, false);
    assert.equal(configSchema.safeParse({ clients: [client('x', { 'urn:assent:consent_create_limit': -1 })] }).success, false);
  });

  test('the per-client limit is not passed to oidc-provider as client metadata', () => {
    const parsed = configSchema.parse({ clients: [client('tpp-big', { 'urn:assent:consent_create_limit': 5 })] }).clients[0]!;
    assert.equal('urn:assent:consent_create_limit' in clientMetadata(parsed, 'demo'), false);
  });
});
