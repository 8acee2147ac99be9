/**
 * What a TPP does around the browser part of the flow: get a client_credentials token, create a consent
 * through the Berlin Group API, start an authorisation, select the SCA method and complete the scaOAuth
 * link (state, PKCE, redirect_uri); later exchange the code and introspect the tokens.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { clientAuth, clientCredentialsToken, pkce, postForm, type TestClient, type TestServer } from './assent.ts';

export async function bg(
  server: TestServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${server.url}/psd2/consent/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'x-request-id': randomUUID(),
      'psu-ip-address': '192.0.2.10',
      'x-bicfi': 'ASSEBANKXXX',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

export function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export const ALICE = {
  username: 'alice',
  password: 'alice-demo',
  salary: { accountId: 'acc-alice-salary', iban: 'SE4550000000058398257466', currency: 'SEK' },
  savings: { accountId: 'acc-alice-savings', iban: 'SE2350000000058398257474', currency: 'SEK' },
};

export function accountsBody(accounts: Array<{ iban: string; currency: string }>, extra: Record<string, unknown> = {}) {
  const ibans = accounts.map(({ iban, currency }) => ({ iban, currency }));
  return {
    access: { accounts: ibans, balances: ibans, transactions: ibans.slice(0, 1) },
    recurringIndicator: true,
    validUntil: inDays(30),
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    ...extra,
  };
}

export interface StartedFlow {
  consentId: string;
  authorisationId: string;
  /** the scaOAuth link completed with redirect_uri, state and PKCE */
  link: URL;
  state: string;
  verifier: string;
  ccToken: string;
}

/** Consent → authorisation → method → the completed scaOAuth link. */
export async function startFlow(
  server: TestServer,
  client: TestClient,
  body: unknown = accountsBody([ALICE.salary, ALICE.savings]),
  headers: Record<string, string> = {},
): Promise<StartedFlow> {
  const token = await clientCredentialsToken(server, client);
  assert.equal(token.status, 200, token.text);
  const ccToken = token.json.access_token as string;
  const created = await bg(server, ccToken, 'POST', '/consents', body, headers);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const consentId = created.body.consentId as string;
  const started = await bg(server, ccToken, 'POST', `/consents/${consentId}/authorisations`);
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const authorisationId = started.body.authorisationId as string;
  const methodId = (started.body.scaMethods as Array<{ authenticationMethodId: string }>)[0]!.authenticationMethodId;
  const selected = await bg(server, ccToken, 'PUT', `/consents/${consentId}/authorisations/${authorisationId}`, { authenticationMethodId: methodId });
  assert.equal(selected.status, 200, JSON.stringify(selected.body));
  const link = new URL((selected.body._links as Record<string, { href: string }>).scaOAuth!.href);
  const { verifier, challenge } = await pkce();
  const state = randomUUID();
  link.searchParams.set('redirect_uri', client.redirectUri);
  link.searchParams.set('state', state);
  link.searchParams.set('code_challenge', challenge);
  link.searchParams.set('code_challenge_method', 'S256');
  return { consentId, authorisationId, link, state, verifier, ccToken };
}

export async function exchangeCode(server: TestServer, client: TestClient, code: string, verifier: string) {
  const auth = await clientAuth(client, server.issuer);
  return postForm(
    `${server.issuer}/token`,
    { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: client.redirectUri, ...auth.form },
    auth.headers,
  );
}

export async function refresh(server: TestServer, client: TestClient, refreshToken: string) {
  const auth = await clientAuth(client, server.issuer);
  return postForm(`${server.issuer}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, ...auth.form }, auth.headers);
}

export async function introspect(server: TestServer, client: TestClient, token: string) {
  const auth = await clientAuth(client, server.issuer);
  const res = await postForm(`${server.issuer}/introspect`, { token, ...auth.form }, auth.headers);
  return res.json;
}

/** A fetch-based browser: a cookie jar per origin+path, manual redirects. Enough for API-level flow tests. */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /^expires=Thu, 01 Jan 1970/i.test(a.trim()) || /^max-age=0$/i.test(a.trim()));
      if (expired || value === '') this.#cookies.delete(`${name}|${path}`);
      else this.#cookies.set(`${name}|${path}`, { value, path });
    }
  }

  header(url: string): string {
    const path = new URL(url).pathname;
    return [...this.#cookies.entries()]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([key, c]) => `${key.split('|')[0]}=${c.value}`)
      .join('; ');
  }

  /** name → value of every cookie held, whatever its path (what a bank UI forwards from the browser) */
  all(): Record<string, string> {
    return Object.fromEntries([...this.#cookies.entries()].map(([key, c]) => [key.split('|')[0]!, c.value]));
  }

  /** name → value of the cookies that would be sent to `url` */
  forUrl(url: string): Record<string, string> {
    return Object.fromEntries(this.header(url).split('; ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.header(url) } });
    this.store(res.headers);
    return res;
  }
}

/** A `received` consent owned by `clientId`, stored directly through the consent service. */
export async function seedConsent(server: TestServer, clientId: string) {
  return server.assent.consents.create({
    clientId,
    access: { allPsd2: 'allAccounts' },
    recurringIndicator: true,
    validUntil: inDays(30),
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
  });
}

/** A browser (cookie jar) on the consent page of a flow, with the decision form read from the page. */
export interface ConsentPage {
  jar: CookieJar;
  /** absolute URL of the decision form */
  action: string;
  /** the form as the page pre-fills it (csrf, pre-selected accounts), without the decision */
  form: URLSearchParams;
}

/** Follows same-origin redirects with the jar; returns the final response and the first URL outside Assent, if any. */
export async function followRedirects(server: TestServer, jar: CookieJar, res: Response): Promise<{ res: Response; left?: string }> {
  while (res.status === 303 || res.status === 302) {
    const next = new URL(res.headers.get('location')!, server.url);
    if (next.origin !== new URL(server.url).origin) return { res, left: next.href };
    res = await jar.fetch(next.href);
  }
  return { res };
}

/** Logs in through Assent's own login page and stops on the consent page. */
export async function openConsentPage(server: TestServer, flow: StartedFlow, user: { username: string; password: string } = ALICE): Promise<ConsentPage> {
  const jar = new CookieJar();
  let { res } = await followRedirects(server, jar, await jar.fetch(flow.link.href));
  let html = await res.text();
  const loginAction = /action="([^"]+\/login)"/.exec(html)?.[1];
  assert.ok(loginAction, 'no login form');
  res = await jar.fetch(new URL(loginAction, server.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...user, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! }).toString(),
  });
  ({ res } = await followRedirects(server, jar, res));
  html = await res.text();
  const action = /action="([^"]+\/decision)"/.exec(html)?.[1];
  assert.ok(action, 'no consent form');
  const form = new URLSearchParams({ csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! });
  for (const m of html.matchAll(/<input[^>]*name="accounts"[^>]*>/g)) {
    if (/\schecked/.test(m[0])) form.append('accounts', /value="([^"]+)"/.exec(m[0])![1]!);
  }
  return { jar, action: new URL(action, server.url).href, form };
}

/** Sends the consent page's form with `decision`; returns the response (not followed). */
export function submitDecision(page: ConsentPage, decision: 'approve' | 'deny'): Promise<Response> {
  const form = new URLSearchParams(page.form);
  form.set('decision', decision);
  return page.jar.fetch(page.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
}

/**
 * The whole browser part over fetch, through Assent's own pages: login, then approve (with the
 * pre-selected accounts) or deny. Returns the URL the TPP is sent back to.
 */
export async function decideWithoutBrowser(
  server: TestServer,
  flow: StartedFlow,
  decision: 'approve' | 'deny' = 'approve',
  user: { username: string; password: string } = ALICE,
): Promise<URL> {
  const page = await openConsentPage(server, flow, user);
  const { res, left } = await followRedirects(server, page.jar, await submitDecision(page, decision));
  assert.ok(left, `did not get back to the TPP (last status ${res.status}): ${left ? '' : (await res.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
  return new URL(left);
}
