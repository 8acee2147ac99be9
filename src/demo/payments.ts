/**
 * The demo TPP's Open Finance Brasil path ("Pagar R$ 10,00"): a Brazilian payment initiator that pays a
 * bakery R$ 10,00 from the customer's account, over HTTP exactly as a real one would — a client_credentials
 * token (scope payments), a payment consent signed with its own PS256 key, the customer's authorization
 * (scope `openid payments consent:{id}`, PKCE), the code exchange, the signed PIX payment, and Assent's
 * signed answers verified with its published JWKS. Its key is generated when the server starts (demo mode
 * only, never stored); `demoPaymentsClient` registers the client with that key's public half.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import * as jose from 'jose';
import type { AssentConfig, ClientConfig } from '../../config/schema.ts';
import { brasiliaDate } from '../consent/br-payment.ts';
import { paymentsApiUrl } from '../dialects/br-payments/routes.ts';
import { negotiateLocale } from '../interaction/i18n.ts';

const CLIENT_ID = 'demo-tpp-pay';
const CLIENT_SECRET = 'demo-tpp-pay-secret';
const PENDING_TTL_MS = 10 * 60_000;
/** Carla (config/demo/customers.json): the customer the demo pays for */
const CUSTOMER_CPF = '39053344705';
const CREDITOR = { personType: 'PESSOA_JURIDICA', cpfCnpj: '11222333000181', name: 'Padaria Pão Quente Ltda' };
const CREDITOR_ACCOUNT = { ispb: '12345678', issuer: '0001', number: '1234567890', accountType: 'CACC' };
const PROXY = 'padaria@example.com';

export interface DemoPaymentsClient {
  client: ClientConfig;
  key: jose.CryptoKey;
  kid: string;
  organisationId: string;
}

/** A fresh PS256 key and the client that registers it (demo mode). */
export async function demoPaymentsClient(config: AssentConfig): Promise<DemoPaymentsClient> {
  const { privateKey, publicKey } = await jose.generateKeyPair('PS256');
  const kid = `demo-pay-${randomUUID()}`;
  const organisationId = randomUUID();
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'PS256', use: 'sig' };
  return {
    key: privateKey,
    kid,
    organisationId,
    client: {
      client_id: CLIENT_ID,
      client_name: 'Padaria Pão Quente (demo)',
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [`${new URL(config.issuer).origin}/demo-tpp/pay/callback`],
      grant_types: ['authorization_code', 'client_credentials'],
      response_types: ['code'],
      scope: 'openid payments',
      jwks: { keys: [jwk] },
      'urn:assent:organisation_id': organisationId,
    },
  };
}

interface Pending {
  verifier: string;
  consentId: string;
  expires: number;
}

export function demoPaymentsRouter({ config, views, payer }: { config: AssentConfig; views: { render(name: string, context: object): string }; payer: DemoPaymentsClient }): Router {
  const router = new Router({ prefix: '/demo-tpp/pay' });
  const issuer = config.issuer;
  const origin = new URL(issuer).origin;
  const apiUrl = paymentsApiUrl(config);
  const redirectUri = `${origin}/demo-tpp/pay/callback`;
  const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
  const assentKeys = jose.createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const pending = new Map<string, Pending>();

  function render(ctx: Context, context: object, status = 200) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = views.render('demo/pay', { locale: negotiateLocale({ acceptLanguage: ctx.get('accept-language') }), bankName: 'Padaria (demo TPP)', ...context });
  }

  async function ccToken(): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=payments',
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token as string;
  }

  /** A signed call; the answer verified (Assent's key, iss, aud = us) when it is application/jwt. */
  async function call(token: string, method: string, path: string, data?: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'x-fapi-interaction-id': randomUUID() };
    let body: string | undefined;
    if (data !== undefined) {
      headers['content-type'] = 'application/jwt';
      headers['x-idempotency-key'] = randomUUID();
      body = await new jose.SignJWT({ data })
        .setProtectedHeader({ alg: 'PS256', kid: payer.kid, typ: 'JWT' })
        .setIssuer(payer.organisationId)
        .setAudience(apiUrl)
        .setIssuedAt()
        .setJti(randomUUID())
        .sign(payer.key);
    }
    const res = await fetch(`${origin}/open-banking/payments/v4${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await res.text();
    if ((res.headers.get('content-type') ?? '').startsWith('application/jwt')) {
      const { payload } = await jose.jwtVerify(text, assentKeys, { algorithms: ['PS256'], issuer: config.brPayments.organisationId, audience: payer.organisationId });
      return { status: res.status, body: payload as Record<string, any> };
    }
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  }

  router.get('/', (ctx) => render(ctx, { start: true, issuer }));

  router.post('/', bodyParser({ enableTypes: ['form'], formLimit: '4kb' }), async (ctx) => {
    try {
      const token = await ccToken();
      const created = await call(token, 'POST', '/consents', {
        loggedUser: { document: { identification: CUSTOMER_CPF, rel: 'CPF' } },
        creditor: CREDITOR,
        payment: {
          type: 'PIX',
          date: brasiliaDate(new Date()),
          currency: 'BRL',
          amount: '10.00',
          details: { localInstrument: 'DICT', proxy: PROXY, creditorAccount: CREDITOR_ACCOUNT },
        },
      });
      if (created.status !== 201) throw new Error(`create payment consent: ${created.status} ${JSON.stringify(created.body)}`);
      const consentId = created.body.data.consentId as string;
      const state = randomBytes(16).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const now = Date.now();
      for (const [key, p] of pending) if (p.expires < now) pending.delete(key);
      pending.set(state, { verifier, consentId, expires: now + PENDING_TTL_MS });
      const link = new URL(`${issuer}/authorize`);
      link.search = new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        scope: `openid payments consent:${consentId}`,
        redirect_uri: redirectUri,
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      ctx.status = 303;
      ctx.redirect(link.href);
    } catch (err) {
      render(ctx, { problem: (err as Error).message }, 502);
    }
  });

  router.get('/callback', async (ctx) => {
    const q = ctx.query as Record<string, string | undefined>;
    const entry = q.state ? pending.get(q.state) : undefined;
    if (q.state) pending.delete(q.state);
    if (!entry || entry.expires < Date.now() || q.iss !== issuer) {
      render(ctx, { problem: 'Unknown or expired state, or an unexpected issuer: start again.' }, 400);
      return;
    }
    try {
      const token = await ccToken();
      if (q.error) {
        const consent = await call(token, 'GET', `/consents/${encodeURIComponent(entry.consentId)}`);
        render(ctx, { denied: q.error, consentId: entry.consentId, consentStatus: consent.body.data?.status, rejection: consent.body.data?.rejectionReason?.code });
        return;
      }
      const exchange = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: q.code ?? '', redirect_uri: redirectUri, code_verifier: entry.verifier }).toString(),
      });
      const tokens = (await exchange.json()) as Record<string, unknown>;
      if (!exchange.ok) throw new Error(`code exchange: ${exchange.status} ${JSON.stringify(tokens)}`);
      const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 12);
      const paid = await call(tokens.access_token as string, 'POST', '/pix/payments', [
        {
          endToEndId: `E12345678${stamp}${randomBytes(8).toString('hex').slice(0, 11)}`,
          localInstrument: 'DICT',
          payment: { amount: '10.00', currency: 'BRL' },
          creditorAccount: CREDITOR_ACCOUNT,
          proxy: PROXY,
          cnpjInitiator: CREDITOR.cpfCnpj,
          remittanceInformation: 'Pão de queijo',
        },
      ]);
      if (paid.status !== 201) throw new Error(`payment: ${paid.status} ${JSON.stringify(paid.body)}`);
      const payment = paid.body.data[0] as Record<string, any>;
      const consent = await call(token, 'GET', `/consents/${encodeURIComponent(entry.consentId)}`);
      render(ctx, {
        paid: true,
        consentId: entry.consentId,
        consentStatus: consent.body.data.status,
        paymentId: payment.paymentId,
        paymentStatus: payment.status,
        debtorAccount: payment.debtorAccount,
        payment: JSON.stringify(payment, null, 2),
      });
    } catch (err) {
      render(ctx, { problem: (err as Error).message }, 502);
    }
  });

  return router;
}
