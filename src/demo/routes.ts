/**
 * The demo TPP ("Budget Buddy"): a tiny third-party app that lets a newcomer run the whole flow by
 * clicking. It talks to Assent over HTTP exactly as a real TPP would (client_credentials token → create
 * consent → start authorisation → select the SCA method → the scaOAuth link with state and PKCE → the
 * customer approves → code exchange → introspection → consent status). Demo mode only; nothing else in
 * src/ imports this folder, and deleting it breaks nothing.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AssentConfig } from '../../config/schema.ts';
import { negotiateLocale } from '../interaction/i18n.ts';

const CLIENT_ID = 'demo-tpp';
const CLIENT_SECRET = 'demo-tpp-secret';
/** the Open Finance Brasil path: the Brazilian demo client */
const BR_CLIENT_ID = 'demo-tpp-br';
const BR_CLIENT_SECRET = 'demo-tpp-br-secret';
/** the demo customers' CPFs (config/demo/customers.json) */
const BR_CUSTOMERS: Readonly<Record<string, string>> = { alice: '52998224725', bruno: '11144477735' };
const PENDING_TTL_MS = 10 * 60_000;

interface Pending {
  /** which API the consent was created with */
  kind: 'berlin-group' | 'open-finance-brasil';
  verifier: string;
  consentId: string;
  redirectUri: string;
  expires: number;
}

export interface DemoDeps {
  config: AssentConfig;
  views: { render(name: string, context: object): string };
}

const b64url = (buf: Buffer) => buf.toString('base64url');
const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
const brBasic = `Basic ${Buffer.from(`${BR_CLIENT_ID}:${BR_CLIENT_SECRET}`).toString('base64')}`;

async function json(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { raw: text.slice(0, 200) };
  }
}

export function demoTppRouter({ config, views }: DemoDeps): Router {
  const router = new Router({ prefix: '/demo-tpp' });
  const issuer = config.issuer;
  const origin = new URL(issuer).origin;
  const pending = new Map<string, Pending>();

  function render(ctx: Context, name: string, context: object, status = 200) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = views.render(name, { locale: negotiateLocale({ acceptLanguage: ctx.get('accept-language') }), bankName: 'Budget Buddy (demo TPP)', ...context });
  }

  async function ccToken(): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=accountinformation',
    });
    const body = await json(res);
    if (!res.ok) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token as string;
  }

  async function api(token: string, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    const res = await fetch(`${origin}/psd2/consent/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': randomUUID(),
        'psu-ip-address': '127.0.0.1',
        'x-bicfi': 'ASSEBANKXXX',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...extra,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await json(res) };
  }

  /** One call to the bank's account information API, with the PSU's token and the consent. */
  async function ais(accessToken: string, consentId: string, path: string, customerPresent: boolean) {
    const res = await fetch(`${origin}/psd2/accountinformation/v1${path}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        'x-request-id': randomUUID(),
        'consent-id': consentId,
        ...(customerPresent ? { 'psu-ip-address': '127.0.0.1' } : {}),
      },
    });
    return { status: res.status, body: await json(res) };
  }

  /**
   * What the app shows after connecting: the granted accounts, their balances and recent transactions
   * (read with the customer present, so not counted), then a background refresh without the customer
   * that runs into frequencyPerDay: the fifth call of the day is 429 ACCESS_EXCEEDED.
   */
  async function readAccounts(accessToken: string, consentId: string) {
    const list = await ais(accessToken, consentId, '/accounts', true);
    if (list.status !== 200) return { aisProblem: `account list: ${list.status} ${JSON.stringify(list.body)}` };
    const since = new Date(Date.now() - 14 * 86_400_000).toISOString().slice(0, 10);
    type Link = { href: string } | undefined;
    const accounts = await Promise.all(
      (list.body.accounts as Array<{ resourceId: string; iban: string; name?: string; currency: string; _links: { balances?: Link; transactions?: Link } }>).map(async (a) => {
        const id = encodeURIComponent(a.resourceId);
        const balances = a._links.balances ? await ais(accessToken, consentId, `/accounts/${id}/balances`, true) : undefined;
        const transactions = a._links.transactions
          ? await ais(accessToken, consentId, `/accounts/${id}/transactions?bookingStatus=booked&dateFrom=${since}`, true)
          : undefined;
        const booked = ((transactions?.body.transactions as { booked?: unknown[] } | undefined)?.booked ?? []) as Array<Record<string, any>>;
        return {
          id: a.resourceId,
          name: a.name ?? a.iban,
          iban: a.iban,
          balances: ((balances?.body.balances ?? []) as Array<Record<string, any>>).map((b) => ({ type: b.balanceType, amount: b.balanceAmount.amount, currency: b.balanceAmount.currency })),
          transactions: booked.slice(0, 5).map((t) => ({
            date: t.bookingDate,
            amount: t.transactionAmount.amount,
            currency: t.transactionAmount.currency,
            party: t.creditorName ?? t.debtorName ?? '',
            text: t.remittanceInformationUnstructured ?? '',
          })),
        };
      }),
    );
    const first = accounts.find((a) => a.balances.length > 0);
    const refresh = [];
    if (first) {
      for (let call = 1; call <= 5; call++) {
        const res = await ais(accessToken, consentId, `/accounts/${encodeURIComponent(first.id)}/balances`, false);
        const code = (res.body.tppMessages as Array<{ code: string }> | undefined)?.[0]?.code;
        refresh.push({ call, status: res.status, code: code ?? 'OK' });
      }
    }
    return { accounts, refresh, refreshAccount: first?.name };
  }

  router.get('/', (ctx) => {
    render(ctx, 'demo/home', { issuer });
  });

  router.post('/start', bodyParser({ enableTypes: ['form'], formLimit: '4kb' }), async (ctx) => {
    const redirectUri = `${origin}/demo-tpp/callback`;
    try {
      const token = await ccToken();
      const validUntil = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
      const created = await api(token, 'POST', '/consents', {
        access: { allPsd2: 'allAccounts' },
        recurringIndicator: true,
        validUntil,
        frequencyPerDay: 4,
        combinedServiceIndicator: false,
      }, { 'tpp-redirect-uri': redirectUri });
      if (created.status !== 201) throw new Error(`create consent: ${created.status} ${JSON.stringify(created.body)}`);
      const consentId = created.body.consentId as string;
      const started = await api(token, 'POST', `/consents/${consentId}/authorisations`);
      if (started.status !== 201) throw new Error(`start authorisation: ${started.status} ${JSON.stringify(started.body)}`);
      const authorisationId = started.body.authorisationId as string;
      const methods = started.body.scaMethods as Array<{ authenticationMethodId: string }>;
      const selected = await api(token, 'PUT', `/consents/${consentId}/authorisations/${authorisationId}`, {
        authenticationMethodId: methods[0]!.authenticationMethodId,
      });
      if (selected.status !== 200) throw new Error(`select SCA method: ${selected.status} ${JSON.stringify(selected.body)}`);
      const link = new URL(((selected.body._links as Record<string, { href: string }>).scaOAuth!).href);

      const state = b64url(randomBytes(16));
      const verifier = b64url(randomBytes(32));
      const now = Date.now();
      for (const [key, p] of pending) if (p.expires < now) pending.delete(key);
      pending.set(state, { kind: 'berlin-group', verifier, consentId, redirectUri, expires: now + PENDING_TTL_MS });
      link.searchParams.set('redirect_uri', redirectUri);
      link.searchParams.set('state', state);
      link.searchParams.set('code_challenge', b64url(createHash('sha256').update(verifier).digest()));
      link.searchParams.set('code_challenge_method', 'S256');
      ctx.status = 303;
      ctx.redirect(link.href);
    } catch (err) {
      render(ctx, 'demo/result', { ok: false, problem: (err as Error).message }, 502);
    }
  });

  /**
   * The Open Finance Brasil path: a `consents` token of the Brazilian demo client → POST
   * /open-banking/consents/v3/consents for the chosen customer's CPF → PAR with
   * `openid consent:{consentId} accounts resources` (ui_locales pt-BR) → the bank's authorize endpoint.
   */
  router.post('/start-br', bodyParser({ enableTypes: ['form'], formLimit: '4kb' }), async (ctx) => {
    const redirectUri = `${origin}/demo-tpp/callback`;
    const who = String((ctx.request.body as Record<string, unknown> | undefined)?.customer ?? 'alice');
    const cpf = BR_CUSTOMERS[who] ?? BR_CUSTOMERS.alice!;
    try {
      const token = await brToken();
      const expirationDateTime = new Date(Date.now() + 90 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const created = await brApi(token, 'POST', '/consents', {
        data: { loggedUser: { document: { identification: cpf, rel: 'CPF' } }, permissions: ['ACCOUNTS_READ', 'ACCOUNTS_BALANCES_READ', 'RESOURCES_READ'], expirationDateTime },
      });
      if (created.status !== 201) throw new Error(`create consent: ${created.status} ${JSON.stringify(created.body)}`);
      const consentId = (created.body.data as { consentId: string }).consentId;
      const state = b64url(randomBytes(16));
      const verifier = b64url(randomBytes(32));
      const par = await fetch(`${issuer}/par`, {
        method: 'POST',
        headers: { authorization: brBasic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: BR_CLIENT_ID,
          response_type: 'code',
          scope: `openid consent:${consentId} accounts resources`,
          redirect_uri: redirectUri,
          state,
          code_challenge: b64url(createHash('sha256').update(verifier).digest()),
          code_challenge_method: 'S256',
          ui_locales: 'pt-BR',
        }).toString(),
      });
      const pushed = await json(par);
      if (par.status !== 201) throw new Error(`PAR: ${par.status} ${JSON.stringify(pushed)}`);
      const now = Date.now();
      for (const [key, p] of pending) if (p.expires < now) pending.delete(key);
      pending.set(state, { kind: 'open-finance-brasil', verifier, consentId, redirectUri, expires: now + PENDING_TTL_MS });
      const link = new URL(`${issuer}/authorize`);
      link.searchParams.set('client_id', BR_CLIENT_ID);
      link.searchParams.set('request_uri', String(pushed.request_uri));
      ctx.status = 303;
      ctx.redirect(link.href);
    } catch (err) {
      render(ctx, 'demo/result', { ok: false, problem: (err as Error).message }, 502);
    }
  });

  async function brToken(): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: brBasic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=consents',
    });
    const body = await json(res);
    if (!res.ok) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token as string;
  }

  async function brApi(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${origin}/open-banking/consents/v3${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-fapi-interaction-id': randomUUID(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await json(res) };
  }

  /** The code exchanged at the token endpoint (PKCE), and the access token introspected: what the demo shows. */
  async function exchangeCode(
    authorization: string,
    entry: Pending,
    code: string | undefined,
  ): Promise<{ ok: false; tokens: Record<string, unknown> } | { ok: true; tokens: Record<string, unknown>; introspection: Record<string, unknown> }> {
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    const exchange = await fetch(`${issuer}/token`, form({ grant_type: 'authorization_code', code: code ?? '', redirect_uri: entry.redirectUri, code_verifier: entry.verifier }));
    const tokens = await json(exchange);
    if (!exchange.ok) return { ok: false, tokens };
    const introspection = await json(await fetch(`${issuer}/introspect`, form({ token: tokens.access_token as string })));
    return { ok: true, tokens, introspection };
  }

  /** The Open Finance Brasil callback: the code exchanged with the Brazilian client, the consent read back. */
  async function brCallback(ctx: Context, entry: Pending, q: Record<string, string | undefined>) {
    const token = await brToken();
    const read = async () => ((await brApi(token, 'GET', `/consents/${encodeURIComponent(entry.consentId)}`)).body.data ?? {}) as Record<string, unknown>;
    if (q.error) {
      render(ctx, 'demo/result', { ok: false, denied: true, error: q.error, consentId: entry.consentId, consentStatus: (await read()).status });
      return;
    }
    const exchanged = await exchangeCode(brBasic, entry, q.code);
    if (!exchanged.ok) {
      render(ctx, 'demo/result', { ok: false, problem: `Code exchange failed: ${JSON.stringify(exchanged.tokens)}` }, 502);
      return;
    }
    const { tokens, introspection } = exchanged;
    const data = await read();
    render(ctx, 'demo/result', {
      ok: true,
      regime: 'Open Finance Brasil',
      consentId: entry.consentId,
      consentStatus: data.status,
      consent: JSON.stringify({ data }, null, 2),
      introspection: JSON.stringify({ ...introspection }, null, 2),
      hasRefreshToken: typeof tokens.refresh_token === 'string',
      scope: tokens.scope,
    });
  }

  router.get('/callback', async (ctx) => {
    const q = ctx.query as Record<string, string | undefined>;
    const entry = q.state ? pending.get(q.state) : undefined;
    if (q.state) pending.delete(q.state);
    if (!entry || entry.expires < Date.now()) {
      render(ctx, 'demo/result', { ok: false, problem: 'Unknown or expired state: start again.' }, 400);
      return;
    }
    if (q.iss !== issuer) {
      render(ctx, 'demo/result', { ok: false, problem: `Unexpected issuer in the response (${q.iss ?? 'none'}).` }, 400);
      return;
    }
    if (entry.kind === 'open-finance-brasil') {
      await brCallback(ctx, entry, q);
      return;
    }
    const token = await ccToken();
    if (q.error) {
      const status = await api(token, 'GET', `/consents/${entry.consentId}/status`);
      render(ctx, 'demo/result', { ok: false, denied: true, error: q.error, consentId: entry.consentId, consentStatus: status.body.consentStatus });
      return;
    }
    const exchanged = await exchangeCode(basic, entry, q.code);
    if (!exchanged.ok) {
      render(ctx, 'demo/result', { ok: false, problem: `Code exchange failed: ${JSON.stringify(exchanged.tokens)}` }, 502);
      return;
    }
    const { tokens, introspection } = exchanged;
    const consent = await api(token, 'GET', `/consents/${entry.consentId}`);
    const data = await readAccounts(tokens.access_token as string, entry.consentId);
    render(ctx, 'demo/result', {
      ...data,
      ok: true,
      consentId: entry.consentId,
      consentStatus: consent.body.consentStatus,
      consent: JSON.stringify(consent.body, null, 2),
      introspection: JSON.stringify({ ...introspection }, null, 2),
      hasRefreshToken: typeof tokens.refresh_token === 'string',
      scope: tokens.scope,
    });
  });

  return router;
}
