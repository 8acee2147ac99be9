/**
 * Shared pieces of the Open Finance Brasil consent API tests: a client that sends the FAPI headers and
 * checks EVERY answer against Consents API 3.3.1 (../shared/specs/consents-3.3.1.yml).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { clientAuth, clientCredentialsToken, pkce, postForm, type TestClient, type TestServer } from '../../support/assent.ts';
import type { StartedFlow } from '../../support/tpp.ts';
import { validateResponse } from '../../support/openapi.ts';

export const OFB_SPEC = new URL('../../../../shared/specs/consents-3.3.1.yml', import.meta.url);
export const BASE = '/open-banking/consents/v3';

export const CPF = '52998224725';
export const CNPJ = '11222333000181';
export const PF = { document: { identification: CPF, rel: 'CPF' } };
export const PJ = { document: { identification: CNPJ, rel: 'CNPJ' } };
export const BALANCES = ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ'];

export function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function consentBody(data: Record<string, unknown> = {}) {
  return { data: { loggedUser: PF, permissions: BALANCES, expirationDateTime: inDays(90), ...data } };
}

export interface BrResult {
  status: number;
  headers: Headers;
  body: any;
  interactionId: string | null;
}

export async function br(
  server: TestServer,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; raw?: string; headers?: Record<string, string>; interactionId?: string | null; unspecified?: boolean } = {},
): Promise<BrResult> {
  const headers: Record<string, string> = {};
  const sent = options.interactionId === null ? undefined : (options.interactionId ?? randomUUID());
  if (sent !== undefined) headers['x-fapi-interaction-id'] = sent;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) body = options.raw;
  Object.assign(headers, options.headers);
  const res = await fetch(`${server.url}${BASE}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const parsed = text === '' ? undefined : JSON.parse(text);
  assert.notEqual(res.status, 500, `${method} ${path} answered 500: ${text}`);
  if (!options.unspecified) validateResponse(OFB_SPEC, `${BASE}${path}`, method, res.status, parsed ?? '');
  const interactionId = res.headers.get('x-fapi-interaction-id');
  assert.ok(interactionId, `${method} ${path}: no x-fapi-interaction-id`);
  if (sent !== undefined && /^[0-9a-f-]{36}$/i.test(sent)) assert.equal(interactionId, sent);
  return { status: res.status, headers: res.headers, body: parsed, interactionId };
}

export async function consentsToken(server: TestServer, client: TestClient): Promise<string> {
  const res = await clientCredentialsToken(server, client, 'consents');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return String((res.json as { access_token: string }).access_token);
}

export function assertErrors(res: BrResult, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.ok(Array.isArray(res.body?.errors) && res.body.errors.length > 0, JSON.stringify(res.body));
  assert.ok(res.body.errors.every((e: { code: string }) => e.code === code), `${code} expected: ${JSON.stringify(res.body.errors)}`);
  assert.match(res.body.meta.requestDateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
}

/**
 * Pushes the authorization request of `consent:{consentId}` (PAR, PKCE S256) as the TPP does; returns the
 * flow to follow (the authorize link with the request_uri) and the PAR answer.
 */
export async function pushConsentAuthorization(
  server: TestServer,
  tpp: TestClient,
  consentId: string,
  ccToken: string,
  scope = `openid consent:${consentId} accounts resources`,
): Promise<StartedFlow & { par: { status: number; json: Record<string, unknown> } }> {
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  const auth = await clientAuth(tpp, server.issuer);
  const par = await postForm(
    `${server.issuer}/par`,
    { client_id: tpp.clientId, response_type: 'code', scope, redirect_uri: tpp.redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', ...auth.form },
    auth.headers,
  );
  const link = new URL(`${server.issuer}/authorize`);
  link.searchParams.set('client_id', tpp.clientId);
  link.searchParams.set('request_uri', String(par.json.request_uri ?? ''));
  return { consentId, authorisationId: '', link, state, verifier, ccToken, par: { status: par.status, json: par.json } };
}
