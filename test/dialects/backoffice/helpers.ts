/**
 * Shared pieces of the back-office API tests: a server with the router reachable under /backoffice/v1
 * (the app's own when src/server.ts mounts it, otherwise a side app on the same running Assent: same
 * consent service, same OAuth provider and stores), an HTTP client that checks EVERY answer against our
 * served description (docs/openapi/backoffice.yaml) and the Opus Consent BackOffice spec's schemas, and a
 * seeder that writes consents through the real ConsentService and repository on a chosen clock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import type { AssentConfigInput, ClientConfig } from '../../../config/schema.ts';
import { ConsentService } from '../../../src/application/consents.ts';
import { rejectStale, type NewConsent } from '../../../src/consent/state.ts';
import type { Consent, GrantedAccount } from '../../../src/consent/types.ts';
import { backofficeRouter } from '../../../src/dialects/backoffice/routes.ts';
import { fallbackErrorHandler, securityHeaders } from '../../../src/http/errors.ts';
import { requestContext } from '../../../src/http/request-context.ts';
import { createLogger } from '../../../src/log.ts';
import type { StartOptions } from '../../../src/server.ts';
import { clientCredentialsToken, startTestServer, type TestClient, type TestServer } from '../../support/assent.ts';
import { validateResponse, validateSchema } from '../../support/openapi.ts';

/** <repo>/../shared/specs/… */
export const OPUS_SPEC = new URL('../../../../shared/specs/en-oasOOFDados.yml', import.meta.url);
export const OUR_SPEC = new URL('../../../docs/openapi/backoffice.yaml', import.meta.url);
export const BASE = '/backoffice/v1';

export const IBAN_DE = 'DE89370400440532013000';
export const IBAN_SE = 'SE4550000000058398257466';

export interface BackofficeServer extends TestServer {
  /** where requests go: http://host:port (the app's, or the side app's) */
  origin: string;
  /** the origin the API writes into its links (the issuer's) */
  linkOrigin: string;
  /** true when src/server.ts does not mount the router yet and a side app serves it */
  sideApp: boolean;
}

/**
 * Starts Assent on real stores. When the app does not serve /backoffice/v1 yet, the router is mounted on a
 * side Koa app (request context, security headers and fallback error handler as in src/app.ts) over the
 * same running Assent; its log lines go to `logs` too.
 */
export async function startBackoffice(overrides: AssentConfigInput = {}, start?: StartOptions): Promise<BackofficeServer> {
  const server = await startTestServer(overrides, start ? { start } : {});
  const linkOrigin = new URL(server.issuer).origin;
  const probe = await fetch(`${server.url}${BASE}/openapi.json`);
  await probe.arrayBuffer();
  if (probe.status === 200) return { ...server, origin: server.url, linkOrigin, sideApp: false };

  const sink = new Writable({
    write(chunk, _enc, cb) {
      server.logs.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger('info', sink);
  const app = new Koa();
  app.use(requestContext());
  app.use(securityHeaders());
  app.use(fallbackErrorHandler(log));
  const router = backofficeRouter({ consents: server.assent.consents, oauth: server.assent.oauth, config: server.assent.config, log });
  app.use(router.routes());
  app.use(router.allowedMethods());
  const side: Server = createServer(app.callback());
  await new Promise<void>((resolve) => side.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(side.address() as AddressInfo).port}`;
  return {
    ...server,
    origin,
    linkOrigin,
    sideApp: true,
    async stop() {
      await new Promise<void>((resolve) => {
        side.close(() => resolve());
        side.closeAllConnections();
      });
      await server.stop();
    },
  };
}

export interface CallOptions {
  token?: string;
  json?: unknown;
  /** a raw body, sent as is (set content-type yourself) */
  raw?: string;
  headers?: Record<string, string>;
  /** the answer is not described by our spec (an unknown path): skip validation */
  unspecified?: boolean;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * One request. `target` is a path under /backoffice/v1 (`/consents?…`), an absolute path, or a link the
 * API returned (its origin is mapped to where the API runs). Every answer must be JSON, never 500, echo a
 * request id, and conform to our description and to the Opus spec's schema for it.
 */
export async function call(server: BackofficeServer, method: string, target: string, options: CallOptions = {}): Promise<CallResult> {
  let url: string;
  if (target.startsWith('http')) {
    const given = new URL(target);
    assert.equal(given.origin, server.linkOrigin, `a link to another origin: ${target}`);
    url = `${server.origin}${given.pathname}${given.search}`;
  } else {
    url = `${server.origin}${target.startsWith(BASE) ? '' : BASE}${target}`;
  }
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  Object.assign(headers, options.headers);
  const res = await fetch(url, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  assert.notEqual(res.status, 500, `${method} ${target} answered 500: ${text}`);
  let parsed: unknown;
  if (method !== 'HEAD') {
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(`${method} ${target} → ${res.status}: the body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  assert.ok(res.headers.get('x-request-id'), `${method} ${target}: no X-Request-ID on the response`);
  const pathname = new URL(url).pathname;
  if (!options.unspecified && method !== 'HEAD') {
    validateResponse(OUR_SPEC, pathname, method, res.status, parsed);
    assertOpusShape(pathname, method, res.status, parsed);
  }
  if (pathname !== `${BASE}/openapi.json`) assert.equal(res.headers.get('cache-control'), 'no-store');
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Our bodies against the Opus Consent BackOffice schema they correspond to. */
export function assertOpusShape(pathname: string, method: string, status: number, body: unknown): void {
  let schema: string | undefined;
  if (status >= 400) schema = 'ErrorResponse';
  else if (pathname === `${BASE}/consents` || pathname === `${BASE}/consents/active`) schema = 'ResponseConsentSummaryPaginationSchema';
  else if (pathname.startsWith(`${BASE}/consents/`) && (method === 'GET' || method === 'PATCH')) schema = 'ResponseConsentDetailSchema';
  if (!schema) return;
  const errors = validateSchema(OPUS_SPEC, schema, body);
  assert.deepEqual(errors, [], `${method} ${pathname} → ${status} does not conform to the Opus ${schema}: ${JSON.stringify(body).slice(0, 500)}`);
}

/** Asserts the spec's error body: `status`, every error with `code`, and (when given) a detail naming `parameter`. */
export function assertError(res: CallResult, status: number, code: string, parameter?: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  const errors = (res.body?.errors ?? []) as Array<{ code: string; title: string; detail: string }>;
  assert.ok(errors.length > 0, `no errors: ${res.text}`);
  assert.ok(errors.some((e) => e.code === code), `expected code ${code}: ${res.text}`);
  for (const e of errors) assert.ok(e.title && e.detail, res.text);
  assert.match(res.body.meta.requestDateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  if (parameter !== undefined) {
    assert.ok(
      errors.some((e) => e.detail.startsWith(`${parameter}: `)),
      `expected a detail naming ${JSON.stringify(parameter)}, got ${JSON.stringify(errors.map((e) => e.detail))}`,
    );
  }
}

export async function tokenFor(server: TestServer, client: TestClient, scope: string): Promise<string> {
  const res = await clientCredentialsToken(server, client, scope);
  assert.equal(res.status, 200, res.text);
  return res.json.access_token as string;
}

/** Internal (bank) clients and their tokens; `scope` is what the client may ask for. */
export const internalClientConfig = (scope: string): Partial<ClientConfig> => ({
  scope,
  'urn:assent:internal': true,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
});

/** Ids of a page, in order. */
export const ids = (res: CallResult): string[] => (res.body.data as Array<{ id: string }>).map((c) => c.id);

/**
 * Writes consents through the real ConsentService and repository of a running Assent, on its own clock
 * (set `at` before each step), so that creation, approval and ending times are chosen by the test. It has
 * no effects wired: consents approved here have a made-up grant id and no tokens.
 */
export class Seeder {
  clock = new Date();
  readonly service: ConsentService;
  readonly #server: TestServer;
  readonly #scaMethodId: string;

  constructor(server: TestServer) {
    this.#server = server;
    this.#scaMethodId = server.assent.config.consent.scaMethods[0]!.authenticationMethodId;
    this.service = new ConsentService(server.assent.stores.consents, {
      receivedTimeoutSeconds: 3600,
      defaultScaMethodId: this.#scaMethodId,
      now: () => this.clock,
    });
    // a writer like any instance's: it holds the consent fence while it writes
    this.service.setFence(server.assent.stores.fence);
  }

  at(instant: string): this {
    this.clock = new Date(instant);
    return this;
  }

  create(input: Partial<NewConsent> & { clientId: string; expiresAt: Date }): Promise<Consent> {
    return this.service.create({
      type: 'accounts',
      access: { accounts: [{ iban: IBAN_DE, currency: 'EUR' }] },
      recurringIndicator: true,
      validUntil: input.expiresAt.toISOString().slice(0, 10),
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
      ...input,
    });
  }

  /** received → (authorisation started, method selected) → valid */
  async approve(consent: Consent, psuId: string, grantedAccounts: GrantedAccount[] = []): Promise<Consent> {
    const started = await this.service.startAuthorisation(consent, consent.clientId);
    const selected = await this.service.selectScaMethod(started.consent, consent.clientId, started.authorisation.id, this.#scaMethodId);
    return this.service.approve(selected.consent, { psuId, authorisationId: started.authorisation.id, grantedAccounts, grantId: `grant-${randomUUID()}` });
  }

  deny(consent: Consent, psuId: string, reason?: string): Promise<Consent> {
    return this.service.deny(consent, { psuId, ...(reason ? { reason } : {}) });
  }

  revoke(consent: Consent, actor: 'PSU' | 'ASPSP', reason?: string): Promise<Consent> {
    return this.service.revokeByPsu(consent, { actor, ...(reason ? { reason } : {}) });
  }

  terminate(consent: Consent): Promise<Consent> {
    return this.service.terminateByTpp(consent, consent.clientId);
  }

  /** Reads the consent on the seeder's clock: a passed expiry is recorded (actor system). */
  async read(consent: Consent): Promise<Consent> {
    return (await this.service.get(consent.id))!;
  }

  /** received → rejected by the authorisation timeout (actor system), as the sweeper does it. */
  async rejectStale(consent: Consent): Promise<Consent> {
    const change = rejectStale(consent, { now: this.clock });
    assert.ok(change);
    const stored = await this.#server.assent.stores.consents.apply(change);
    assert.ok(stored);
    return stored;
  }
}
