/**
 * Runs a real Assent in-process for a test: real Redis and MongoDB-wire server from REDIS_URL / MONGODB_URI
 * (each test file gets its own database and key prefix), a free loopback port, and TPP clients whose keys
 * the test holds. Also: private_key_jwt assertions, DPoP proofs and small HTTP helpers.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import * as jose from 'jose';
import { loadConfig } from '../../config/load.ts';
import type { AssentConfigInput, ClientConfig } from '../../config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startAssent, type RunningAssent, type StartOptions } from '../../src/server.ts';
import { freePort } from './services.ts';

export function requireEnv(name: 'REDIS_URL' | 'MONGODB_URI'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through scripts/test-env.ts (npm test)`);
  return value;
}

export interface TestClient {
  clientId: string;
  privateJwk: jose.JWK;
  publicJwk: jose.JWK;
  secret?: string;
  redirectUri: string;
  config: ClientConfig;
}

/** A TPP using private_key_jwt (ES256). */
export async function makeKeyClient(clientId: string, extra: Partial<ClientConfig> = {}): Promise<TestClient> {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const privateJwk = { ...(await jose.exportJWK(privateKey)), kid, alg: 'ES256' };
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const redirectUri = `https://${clientId}.example/callback`;
  return {
    clientId,
    privateJwk,
    publicJwk,
    redirectUri,
    config: {
      client_id: clientId,
      client_name: `${clientId} app`,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [publicJwk as Record<string, unknown>] },
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      scope: 'openid offline_access accountinformation',
      ...extra,
    },
  };
}

/** A client_secret_basic TPP (demo profile only). */
export function makeSecretClient(clientId: string, extra: Partial<ClientConfig> = {}): TestClient {
  const secret = `${clientId}-secret-${randomUUID()}`;
  const redirectUri = `https://${clientId}.example/callback`;
  return {
    clientId,
    privateJwk: {},
    publicJwk: {},
    secret,
    redirectUri,
    config: {
      client_id: clientId,
      client_name: `${clientId} app`,
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      scope: 'openid offline_access accountinformation',
      ...extra,
    },
  };
}

export interface TestServer {
  assent: RunningAssent;
  url: string;
  issuer: string;
  /** log lines written by the server, for assertions on logging */
  logs: string[];
  stop(): Promise<void>;
}

/** Starts Assent on real stores with the given overrides; `stop` closes it and drops its data. */
export async function startTestServer(
  overrides: AssentConfigInput = {},
  options: { embedded?: boolean; start?: StartOptions } = {},
): Promise<TestServer> {
  const port = await freePort();
  const database = `assent_test_${randomUUID().replaceAll('-', '')}`;
  const prefix = `assent-test:${randomUUID()}:`;
  const issuer = `http://127.0.0.1:${port}/connect`;
  const env: Record<string, string> = {};
  const stores = options.embedded
    ? {}
    : { mongodb: { uri: requireEnv('MONGODB_URI'), database }, redis: { url: requireEnv('REDIS_URL'), prefix } };
  const config = loadConfig({
    env,
    overrides: {
      port,
      host: '127.0.0.1',
      issuer,
      logLevel: 'info',
      consent: { sweepIntervalSeconds: 0 },
      ...stores,
      ...overrides,
    },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const assent = await startAssent(config, createLogger(config.logLevel, sink), options.start);
  return {
    assent,
    url: assent.url,
    issuer,
    logs,
    async stop() {
      await assent.close();
      if (!options.embedded) {
        const mongo = new MongoClient(requireEnv('MONGODB_URI'));
        await mongo.db(database).dropDatabase().catch(() => undefined);
        await mongo.close();
        const redis = new Redis(requireEnv('REDIS_URL'));
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
    },
  };
}

/** A private_key_jwt client assertion for `audience` (the issuer). */
/**
 * Changes a stored consent behind the application's back (how a test stands in for time passing or an
 * out-of-band edit), the way every writer must: under the consent fence, with a new revision published,
 * so that no instance answers from the copy it remembers. Returns the new revision.
 */
export async function changeStoredConsent(server: TestServer, consentId: string, set: Record<string, unknown>): Promise<number> {
  const { fence, db } = server.assent.stores;
  if (!db) throw new Error('changeStoredConsent needs the consents in MongoDB');
  await fence.hold(consentId);
  let revision: number | null = null;
  try {
    const after = await db.collection<{ _id: string; revision: number }>('consents').findOneAndUpdate({ _id: consentId }, { $set: set, $inc: { revision: 1 } }, { returnDocument: 'after' });
    if (!after) throw new Error(`no stored consent ${consentId}`);
    revision = after.revision;
    return revision;
  } finally {
    await fence.release(consentId, revision);
  }
}

export async function clientAssertion(client: TestClient, audience: string): Promise<string> {
  const key = await jose.importJWK(client.privateJwk, 'ES256');
  return new jose.SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: client.privateJwk.kid! })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('60s')
    .sign(key);
}

/** Client authentication as form fields or headers, by the client's method. */
export async function clientAuth(client: TestClient, issuer: string): Promise<{ headers: Record<string, string>; form: Record<string, string> }> {
  if (client.secret) {
    return {
      headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}` },
      form: {},
    };
  }
  return {
    headers: {},
    form: {
      client_id: client.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(client, issuer),
    },
  };
}

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

export async function clientCredentialsToken(server: TestServer, client: TestClient, scope = 'accountinformation', extraHeaders: Record<string, string> = {}) {
  const auth = await clientAuth(client, server.issuer);
  return postForm(`${server.issuer}/token`, { grant_type: 'client_credentials', scope, ...auth.form }, { ...auth.headers, ...extraHeaders });
}

/** A DPoP proof JWT for one request. */
export async function dpopProof(keyPair: jose.GenerateKeyPairResult, htm: string, htu: string, accessToken?: string): Promise<string> {
  const jwk = await jose.exportJWK(keyPair.publicKey);
  const claims: Record<string, unknown> = { htm, htu, jti: randomUUID() };
  if (accessToken) claims.ath = jose.base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))));
  return new jose.SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).setIssuedAt().sign(keyPair.privateKey);
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: jose.base64url.encode(new Uint8Array(digest)) };
}
