/**
 * Shared pieces of the Berlin Group consent API tests: a small HTTP client that sends X-Request-ID and the
 * token, and checks EVERY answer against the Open Payments NextGenPSD2 1.3.3 spec (../shared/specs) and
 * against our own served description (docs/openapi/berlin-group-consent.yaml); request bodies; counting.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { clientCredentialsToken, type TestClient, type TestServer } from '../../support/assent.ts';
import { validateResponse } from '../../support/openapi.ts';

/** <repo>/../shared/specs/… */
export const OPEN_PAYMENTS_SPEC = new URL('../../../../shared/specs/openpayments-NextGenPSD2-1.3.3.yaml', import.meta.url);
export const OUR_SPEC = new URL('../../../docs/openapi/berlin-group-consent.yaml', import.meta.url);

export const BASE = '/psd2/consent/v1';

export const IBAN_DE = 'DE89370400440532013000';
export const IBAN_SE = 'SE4550000000058398257466';

export function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** The walk-through's request: two accounts, balances and transactions on the first. */
export function consentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    access: {
      accounts: [
        { iban: IBAN_DE, currency: 'EUR' },
        { iban: IBAN_SE, currency: 'SEK' },
      ],
      balances: [{ iban: IBAN_DE, currency: 'EUR' }],
      transactions: [{ iban: IBAN_DE, currency: 'EUR' }],
    },
    recurringIndicator: true,
    validUntil: isoDay(30),
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    ...overrides,
  };
}

export interface CallOptions {
  token?: string;
  /** a JSON body (sent as application/json) */
  json?: unknown;
  /** a raw body, sent as is (set content-type yourself) */
  raw?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  /** null: send no X-Request-ID; default a fresh UUID */
  requestId?: string | null;
  /** the answer is not described by the specs (e.g. an unknown path): skip validation */
  unspecified?: boolean;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** parsed JSON, or undefined for an empty body */
  body: any;
  text: string;
  requestId: string | undefined;
}

export async function call(server: TestServer, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const requestId = options.requestId === null ? undefined : (options.requestId ?? randomUUID());
  const headers: Record<string, string> = {};
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: RequestInit["body"] | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    body = options.raw as RequestInit["body"];
  }
  Object.assign(headers, options.headers);
  const url = path.startsWith('http') ? path : `${server.url}${path.startsWith('/psd2') ? '' : BASE}${path}`;
  const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual' };
  if (body !== undefined) init.body = body;
  if (options.raw instanceof ReadableStream) init.duplex = 'half';
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(`${method} ${path} → ${res.status}: the body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  assert.notEqual(res.status, 500, `${method} ${path} answered 500: ${text}`);
  const pathname = new URL(url).pathname;
  if (!options.unspecified) {
    validateResponse(OPEN_PAYMENTS_SPEC, pathname, method, res.status, parsed ?? '');
    validateResponse(OUR_SPEC, pathname, method, res.status, parsed ?? '');
  }
  // X-Request-ID is echoed on every answer (a valid one as sent)
  const echoed = res.headers.get('x-request-id') ?? undefined;
  assert.ok(echoed, `${method} ${path} → ${res.status}: no X-Request-ID on the response`);
  if (requestId !== undefined && /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(requestId)) assert.equal(echoed, requestId);
  return { status: res.status, headers: res.headers, body: parsed, text, requestId: echoed };
}

/** Asserts a tppMessages error with `code` (and `path` when given) at `status`. */
export function assertError(res: CallResult, status: number, code: string, path?: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  const messages = (res.body?.tppMessages ?? []) as Array<{ category: string; code: string; path?: string }>;
  assert.ok(messages.length > 0, `no tppMessages: ${res.text}`);
  for (const m of messages) {
    assert.equal(m.category, 'ERROR');
    assert.equal(m.code, code, res.text);
  }
  if (path !== undefined) {
    assert.ok(
      messages.some((m) => m.path === path),
      `expected a message with path ${JSON.stringify(path)}, got ${JSON.stringify(messages.map((m) => m.path))}`,
    );
  }
}

export async function tokenFor(server: TestServer, client: TestClient, scope = 'accountinformation'): Promise<string> {
  const res = await clientCredentialsToken(server, client, scope);
  assert.equal(res.status, 200, res.text);
  return res.json.access_token as string;
}

/** Creates a consent through the API; returns its id. */
export async function createConsent(server: TestServer, token: string, overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<string> {
  const res = await call(server, 'POST', '/consents', { token, json: consentBody(overrides), headers });
  assert.equal(res.status, 201, res.text);
  return res.body.consentId as string;
}

export async function countConsents(server: TestServer, clientId: string): Promise<number> {
  const page = await server.assent.stores.consents.query({ clientId }, { sort: 'createdAt', direction: 'asc', skip: 0, limit: 1 });
  return page.total;
}
