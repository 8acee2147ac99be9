/**
 * Shared pieces of the Payments API 4.0.0 tests: a TPP with a PS256 key generated for the test run (never
 * committed) and an organisation id, messages it signs, and a client that verifies and decodes EVERY
 * signed answer with Assent's published JWKS and checks it against ../shared/specs/payments-4.0.0.yml.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { brasiliaDate } from '../../../src/consent/br-payment.ts';
import { clientCredentialsToken, makeSecretClient, type TestClient, type TestServer } from '../../support/assent.ts';
import { checkResponse } from '../../support/openapi.ts';
import { decideWithoutBrowser, exchangeCode } from '../../support/tpp.ts';

export const PAYMENTS_SPEC = new URL('../../../../shared/specs/payments-4.0.0.yml', import.meta.url);
export const BASE = '/open-banking/payments/v4';
/** the public API URL the tests configure (links.self must match the spec's https pattern) */
export const API_URL = `https://api.assent.com.br${BASE}`;
export const ASSENT_ORG = 'a0e7c3b2-5d4f-4e1a-9c8b-7f6e5d4c3b2a';

export const CPF = '52998224725';
export const CREDITOR_ACCOUNT = { ispb: '12345678', issuer: '0001', number: '1234567890', accountType: 'CACC' };

export interface PaymentsTpp extends TestClient {
  organisationId: string;
  signingKey: jose.CryptoKey;
  kid: string;
}

/** A Brazilian TPP: client_secret_basic at the token endpoint, a PS256 key in its jwks, an organisation id. */
export async function makePaymentsTpp(clientId: string, extra: Record<string, unknown> = {}): Promise<PaymentsTpp> {
  const { privateKey, publicKey } = await jose.generateKeyPair('PS256', { extractable: true });
  const kid = `sig-${randomUUID()}`;
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'PS256', use: 'sig' };
  const organisationId = randomUUID();
  const client = makeSecretClient(clientId, {
    scope: 'openid payments',
    jwks: { keys: [publicJwk] },
    'urn:assent:organisation_id': organisationId,
    ...extra,
  });
  return { ...client, organisationId, signingKey: privateKey, kid };
}

export function today(): string {
  return brasiliaDate(new Date());
}

export function consentData(overrides: Record<string, unknown> = {}, payment: Record<string, unknown> = {}) {
  return {
    loggedUser: { document: { identification: CPF, rel: 'CPF' } },
    creditor: { personType: 'PESSOA_JURIDICA', cpfCnpj: '11222333000181', name: 'Padaria Pão Quente Ltda' },
    payment: {
      type: 'PIX',
      date: today(),
      currency: 'BRL',
      amount: '10.00',
      details: { localInstrument: 'DICT', proxy: 'padaria@example.com', creditorAccount: CREDITOR_ACCOUNT },
      ...payment,
    },
    ...overrides,
  };
}

export interface MessageOptions {
  claims?: Record<string, unknown>;
  omit?: string[];
  header?: Record<string, unknown>;
  key?: jose.CryptoKey;
  alg?: string;
}

/** A message the TPP signs: `data` plus aud, iss, iat, jti (each can be changed or left out). */
export function sign(tpp: PaymentsTpp, data: unknown, options: MessageOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = { aud: API_URL, iss: tpp.organisationId, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), data, ...options.claims };
  for (const name of options.omit ?? []) delete payload[name];
  return new jose.SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'PS256', kid: tpp.kid, typ: 'JWT', ...options.header }).sign(options.key ?? tpp.signingKey);
}

export interface PayResult {
  status: number;
  headers: Headers;
  /** the JSON body, or the verified payload of a signed one */
  body: any;
  signed: boolean;
}

const jwksCache = new Map<string, jose.JWTVerifyGetKey>();

/**
 * Calls the Payments API. A signed answer is verified with Assent's JWKS (PS256, iss = Assent's
 * organisation, aud = the TPP's), decoded, and like every answer checked against the spec, including its
 * media type (application/jwt where the spec says so).
 */
export async function pay(
  server: TestServer,
  method: string,
  path: string,
  options: { token?: string; jwt?: string; json?: unknown; raw?: string; contentType?: string; idempotencyKey?: string; headers?: Record<string, string>; audience?: string; serverError?: boolean } = {},
): Promise<PayResult> {
  const headers: Record<string, string> = { 'x-fapi-interaction-id': randomUUID() };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers['x-idempotency-key'] = options.idempotencyKey;
  let body: string | undefined;
  if (options.jwt !== undefined) {
    headers['content-type'] = 'application/jwt';
    body = options.jwt;
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) body = options.raw;
  if (options.contentType) headers['content-type'] = options.contentType;
  Object.assign(headers, options.headers);
  const res = await fetch(`${server.url}${BASE}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  // (a 500 only where a test makes a store fail on purpose)
  if (!options.serverError) assert.notEqual(res.status, 500, `${method} ${path} answered 500: ${text}`);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  let parsed: any;
  let signed = false;
  if (type === 'application/jwt') {
    signed = true;
    let keys = jwksCache.get(server.issuer);
    if (!keys) {
      keys = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      jwksCache.set(server.issuer, keys);
    }
    const { payload, protectedHeader } = await jose.jwtVerify(text, keys, {
      algorithms: ['PS256'],
      issuer: ASSENT_ORG,
      ...(options.audience ? { audience: options.audience } : {}),
    });
    assert.equal(protectedHeader.typ, 'JWT');
    assert.ok(typeof payload.jti === 'string' && typeof payload.iat === 'number');
    parsed = payload;
  } else {
    parsed = text === '' ? undefined : JSON.parse(text);
  }
  const check = checkResponse(PAYMENTS_SPEC, `${BASE}${path}`, method, res.status, parsed ?? '');
  assert.ok(check.valid, `${method} ${path} → ${res.status} does not conform to payments-4.0.0.yml:\n  ${check.errors.join('\n  ')}\nbody: ${JSON.stringify(parsed).slice(0, 2000)}`);
  if (check.mediaType) assert.equal(type, check.mediaType.split(';')[0], `${method} ${path} → ${res.status}: media type`);
  assert.ok(res.headers.get('x-fapi-interaction-id'));
  return { status: res.status, headers: res.headers, body: parsed, signed };
}

export async function paymentsToken(server: TestServer, client: TestClient): Promise<string> {
  const res = await clientCredentialsToken(server, client, 'payments');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return String((res.json as { access_token: string }).access_token);
}

export function assertErrors(res: PayResult, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.ok(Array.isArray(res.body?.errors) && res.body.errors.length > 0, JSON.stringify(res.body));
  assert.ok(res.body.errors.every((e: { code: string }) => e.code === code), `${code} expected: ${JSON.stringify(res.body.errors)}`);
  assert.match(res.body.meta.requestDateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
}

/** The server overrides every payments test uses. */
export const PAYMENTS_CONFIG = { brPayments: { organisationId: ASSENT_ORG, clockSkewSeconds: 60, apiUrl: API_URL } };

// ── authorization ────────────────────────────────────────────────────────────────────────────────────

/** Carla (config/demo/customers.json): CPF 390.533.447-05, two BRL accounts with Brazilian IBANs. */
export const CARLA = { username: 'carla', password: 'carla-demo' };
export const CARLA_CPF = '39053344705';
export const CARLA_CORRENTE = { ispb: '00360305', issuer: '0001', number: '9795493', accountType: 'CACC' };
export const CARLA_POUPANCA = { ispb: '00360305', issuer: '0001', number: '9795501', accountType: 'SVGS' };
export const ALICE = { username: 'alice', password: 'alice-demo' };

/** Pushes `openid payments consent:{id}` (PAR) and returns the flow to open in a browser. */
export async function pushPayment(server: TestServer, tpp: PaymentsTpp, consentId: string, extra: Record<string, string> = {}) {
  const { pkce, clientAuth, postForm } = await import('../../support/assent.ts');
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const auth = await clientAuth(tpp, server.issuer);
  const par = await postForm(
    `${server.issuer}/par`,
    { client_id: tpp.clientId, response_type: 'code', scope: `openid payments consent:${consentId}`, redirect_uri: tpp.redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', ...extra, ...auth.form },
    auth.headers,
  );
  assert.equal(par.status, 201, JSON.stringify(par.json));
  const link = new URL(`${server.issuer}/authorize`);
  link.searchParams.set('client_id', tpp.clientId);
  link.searchParams.set('request_uri', String(par.json.request_uri));
  return { consentId, authorisationId: '', link, state, verifier, ccToken: '' };
}

/** Creates a payment consent for Carla (or `data`) and returns its id. */
export async function createPaymentConsent(server: TestServer, tpp: PaymentsTpp, token: string, data = consentData({ loggedUser: { document: { identification: CARLA_CPF, rel: 'CPF' } } })): Promise<string> {
  const res = await pay(server, 'POST', '/consents', { token, jwt: await sign(tpp, data), idempotencyKey: randomUUID() });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data.consentId as string;
}

/** An endToEndId for `at` (its yyyyMMddHHmm is UTC), from Carla's bank's ISPB. */
export function endToEndId(at: Date = new Date()): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  return `E00360305${stamp}${randomUUID().replace(/-/g, '').slice(0, 11)}`;
}

/** The payment order that matches consentData() exactly. */
export function pixOrder(overrides: Record<string, unknown> = {}) {
  return {
    endToEndId: endToEndId(),
    localInstrument: 'DICT',
    payment: { amount: '10.00', currency: 'BRL' },
    creditorAccount: CREDITOR_ACCOUNT,
    proxy: 'padaria@example.com',
    cnpjInitiator: '11222333000181',
    remittanceInformation: 'Pão de queijo',
    ...overrides,
  };
}

/** A payment consent Carla approved (AUTHORISED, not paid yet), and the payment token the TPP got for it. */
export async function authorisedPaymentConsent(server: TestServer, tpp: PaymentsTpp, ccToken: string): Promise<{ consentId: string; accessToken: string }> {
  const consentId = await createPaymentConsent(server, tpp, ccToken);
  const flow = await pushPayment(server, tpp, consentId);
  const back = await decideWithoutBrowser(server, flow, 'approve', CARLA);
  const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
  assert.equal(tokens.status, 200, tokens.text);
  return { consentId, accessToken: tokens.json.access_token as string };
}
