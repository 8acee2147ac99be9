/**
 * The router on its own, with the real domain on the in-memory repository and a stand-in OAuthService:
 * what is awkward to provoke on a full server — the rate limit (injected small), an expired token, a PSU's
 * token, an unexpected failure (500 without details, logged) — plus the rate limiter itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { configSchema, type AssentConfig } from '../../../config/schema.ts';
import { ConsentService } from '../../../src/application/consents.ts';
import { requestContext } from '../../../src/http/request-context.ts';
import { createLogger } from '../../../src/log.ts';
import { TokenError, type AccessTokenInfo, type OAuthService } from '../../../src/oidc/oauth.ts';
import { MemoryConsentRepository } from '../../../src/storage/memory/consent-repository.ts';
import { berlinGroupRouter, type BerlinGroupDeps } from '../../../src/dialects/berlin-group/routes.ts';
import { validateResponse } from '../../support/openapi.ts';
import { BASE, OPEN_PAYMENTS_SPEC, consentBody } from './helpers.ts';

/** Tokens are their own description: "cc:<client>", "user:<client>", "expired", anything else unknown. */
function fakeOAuth(): OAuthService {
  return {
    async verifyAccessToken(request: { authorization?: string }, scope: string): Promise<AccessTokenInfo> {
      const value = /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1];
      if (!value) throw new TokenError('missing', 'an access token is required');
      if (value === 'expired') throw new TokenError('expired', 'the access token has expired');
      const [kind, clientId] = value.split(':');
      if (!clientId || (kind !== 'cc' && kind !== 'user')) throw new TokenError('invalid', 'the access token is unknown');
      return { clientId, scopes: new Set([scope]), kind: kind === 'cc' ? 'client_credentials' : 'user' };
    },
    async client(clientId: string) {
      return { clientId, name: clientId, redirectUris: [`https://${clientId}.example/cb`], internal: false };
    },
  } as unknown as OAuthService;
}

async function listen(deps: Partial<BerlinGroupDeps> & Pick<BerlinGroupDeps, 'consents'>, logs: string[]) {
  // the schema alone: no demo files, no environment
  const config: AssentConfig = { ...configSchema.parse({ issuer: 'http://127.0.0.1:1/connect' }), profile: 'demo' };
  const log = createLogger('info', new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) }));
  const app = new Koa();
  app.use(requestContext());
  const router = berlinGroupRouter({ oauth: fakeOAuth(), config, log, ...deps });
  app.use(router.routes()).use(router.allowedMethods());
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000; // never close a connection fetch is about to reuse (ECONNRESET under load)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE}` };
}

async function send(url: string, method: string, token: string | undefined, json?: unknown) {
  const headers: Record<string, string> = { 'x-request-id': randomUUID() };
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, body, text };
}

describe('Berlin Group router with stand-ins', () => {
  const logs: string[] = [];
  let server: Server;
  let url: string;
  const service = () => new ConsentService(new MemoryConsentRepository(), { receivedTimeoutSeconds: 3600, defaultScaMethodId: 'push-otp' });

  before(async () => {
    ({ server, url } = await listen({ consents: service(), rateLimit: { limit: 3, windowMs: 60_000 } }, logs));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('POST /consents over the per-TPP limit → 429 ACCESS_EXCEEDED with Retry-After; other TPPs unaffected', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send(`${url}/consents`, 'POST', 'cc:tpp-busy', consentBody()));
    assert.deepEqual(
      answers.map((a) => a.status),
      [201, 201, 201, 429],
    );
    const limited = answers[3]!;
    assert.equal(limited.body.tppMessages[0].code, 'ACCESS_EXCEEDED');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    validateResponse(OPEN_PAYMENTS_SPEC, '/psd2/consent/v1/consents', 'POST', 429, limited.body);
    // reads are not limited, and another TPP has its own window
    const consentId = answers[0]!.body.consentId as string;
    assert.equal((await send(`${url}/consents/${consentId}`, 'GET', 'cc:tpp-busy')).status, 200);
    assert.equal((await send(`${url}/consents`, 'POST', 'cc:tpp-calm', consentBody())).status, 201);
  });

  test('an expired token → 401 TOKEN_EXPIRED', async () => {
    const res = await send(`${url}/consents/${randomUUID()}`, 'GET', 'expired');
    assert.equal(res.status, 401);
    assert.equal(res.body.tppMessages[0].code, 'TOKEN_EXPIRED');
    validateResponse(OPEN_PAYMENTS_SPEC, `/psd2/consent/v1/consents/x`, 'GET', 401, res.body);
  });

  test("a PSU's token (not client_credentials) → 401 TOKEN_INVALID", async () => {
    const res = await send(`${url}/consents`, 'POST', 'user:tpp-a', consentBody());
    assert.equal(res.status, 401);
    assert.equal(res.body.tppMessages[0].code, 'TOKEN_INVALID');
  });

  test('an unexpected failure → 500 INTERNAL_SERVER_ERROR without details, logged', async () => {
    const failing = service();
    failing.getOwned = async () => {
      throw new Error('connection to db-7.internal lost: SECRET-DETAIL');
    };
    const failLogs: string[] = [];
    const broken = await listen({ consents: failing }, failLogs);
    try {
      const res = await send(`${broken.url}/consents/${randomUUID()}`, 'GET', 'cc:tpp-a');
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { tppMessages: [{ category: 'ERROR', code: 'INTERNAL_SERVER_ERROR', text: 'an unexpected error occurred' }] });
      assert.ok(!res.text.includes('SECRET-DETAIL'));
      assert.ok(res.headers.get('x-request-id'));
      assert.ok(failLogs.some((l) => l.includes('"level":"error"') && l.includes('berlin-group: unexpected error')));
    } finally {
      await new Promise<void>((resolve) => broken.server.close(() => resolve()));
    }
  });
});
