/**
 * A reference Account Information API (Open Payments NextGenPSD2 1.3.3 profile), showing a bank how a
 * resource server uses Assent. Deletable: nothing else imports src/ais/.
 *
 *   GET /psd2/accountinformation/v1/accounts                              the granted accounts
 *   GET /psd2/accountinformation/v1/accounts/{account-id}                 one account
 *   GET /psd2/accountinformation/v1/accounts/{account-id}/balances        its balances
 *   GET /psd2/accountinformation/v1/accounts/{account-id}/transactions    ?bookingStatus=booked|pending|both&dateFrom&dateTo
 *
 * Every call: X-Request-ID (UUID), the PSU's access token (Bearer, or DPoP with its proof), Consent-ID
 * equal to the token's consent; then the same AccessValidator the validation API uses decides (status,
 * grant on the account and data kind, frequencyPerDay; PSU-IP-Address given = customer present). Errors
 * are Berlin Group tppMessages; when the usage counters are down the answer is 503 (fail closed).
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { AccessDecision, AccessValidator } from '../application/access.ts';
import type { AccessOutcome } from '../consent/access-check.ts';
import type { Consent, GrantedAccount } from '../consent/types.ts';
import { UsageUnavailable } from '../consent/usage.ts';
import type { Logger } from '../log.ts';
import { TokenError, type OAuthService } from '../oidc/oauth.ts';
import { BgError, formatError, type BgErrorName } from '../dialects/berlin-group/errors.ts';
import { dialectErrors, requireRequestId } from '../dialects/berlin-group/middleware.ts';
import type { AccountDataSource, AccountRecord, BalanceRecord, TransactionRecord } from './data-source.ts';

export const AIS_BASE = '/psd2/accountinformation/v1';

export interface AisDeps {
  oauth: OAuthService;
  access: AccessValidator;
  data: AccountDataSource;
  log: Logger;
  now?: () => Date;
}

const REFUSALS: Record<Exclude<AccessOutcome, 'valid'>, BgErrorName> = {
  tokenInvalid: 'tokenInvalid',
  consentUnknown: 'consentUnknown',
  consentInvalid: 'consentInvalid',
  consentExpired: 'consentExpired',
  notGranted: 'consentInvalid',
  serviceInvalid: 'methodNotAllowed',
  resourceUnknown: 'accountUnknown',
  accessExceeded: 'accessExceeded',
};

const date = z.iso.date();
const transactionQuery = z
  .object({
    bookingStatus: z.enum(['booked', 'pending', 'both']),
    dateFrom: date.optional(),
    dateTo: date.optional(),
    withBalance: z.enum(['true', 'false']).optional(),
  })
  .strict();

interface AisState {
  consent: Consent;
  psuId: string;
}

export function aisRouter(deps: AisDeps): Router {
  const { oauth, access, data } = deps;
  const now = deps.now ?? (() => new Date());
  const router = new Router({ prefix: AIS_BASE });
  router.use(dialectErrors(deps.log), requireRequestId);

  /** token → Consent-ID → the validation: the consent and PSU on ctx.state, or a refusal thrown */
  const authorise: Middleware = async (ctx, next) => {
    const authorization = ctx.get('authorization');
    const dpop = ctx.get('dpop');
    const token = await oauth
      .verifyAccessToken({ ...(authorization ? { authorization } : {}), ...(dpop ? { dpop } : {}), method: ctx.method, url: ctx.href }, 'accountinformation')
      .catch((err: unknown) => {
        if (err instanceof TokenError) throw err;
        // the token store (Redis) cannot answer: fail closed with 503, as for the usage counters
        deps.log.warn({ error: (err as Error)?.name, message: (err as Error)?.message }, 'ais: token lookup failed');
        throw new BgError('unavailable');
      });
    if (token.kind !== 'user' || !token.consentId) throw new TokenError('invalid', 'a token the customer authorised under a consent is required');
    const consentId = ctx.get('consent-id');
    if (!consentId) throw formatError('Consent-ID', 'is required');
    if (consentId !== token.consentId) throw new BgError('consentInvalid', [{ text: 'the Consent-ID is not the consent of the access token' }]);
    let decision: AccessDecision;
    try {
      decision = await access.validate({
        subject: { consentId, clientId: token.clientId },
        method: ctx.method,
        path: ctx.path,
        psuPresent: ctx.get('psu-ip-address') !== '',
      });
    } catch (err) {
      if (err instanceof UsageUnavailable) throw new BgError('unavailable');
      throw err;
    }
    if (!decision.isValid) throw new BgError(REFUSALS[decision.outcome as Exclude<AccessOutcome, 'valid'>]);
    const consent = decision.consent!;
    if (!consent.psuId) throw new BgError('consentInvalid');
    Object.assign(ctx.state, { consent, psuId: consent.psuId } satisfies AisState);
    ctx.set('Cache-Control', 'no-store');
    await next();
  };

  const state = (ctx: Context) => ctx.state as AisState;
  const granted = (ctx: Context, accountId: string) => state(ctx).consent.grantedAccounts?.find((a) => a.accountId === accountId);
  const record = async (ctx: Context): Promise<{ account: AccountRecord; grant: GrantedAccount }> => {
    const accountId = ctx.params.accountId ?? '';
    const account = (await data.accounts(state(ctx).psuId)).find((a) => a.accountId === accountId);
    const grant = granted(ctx, accountId);
    if (!account || !grant) throw new BgError('accountUnknown');
    return { account, grant };
  };

  router.get('/accounts', authorise, async (ctx) => {
    const consent = state(ctx).consent;
    const accounts = await data.accounts(state(ctx).psuId);
    ctx.body = {
      accounts: accounts.flatMap((a) => {
        const grant = granted(ctx, a.accountId);
        return grant?.access.includes('accounts') ? [accountDetails(a, grant)] : [];
      }),
    };
    deps.log.debug({ consentId: consent.id }, 'ais: account list');
  });

  router.get('/accounts/:accountId', authorise, async (ctx) => {
    const { account, grant } = await record(ctx);
    // Open Payments 1.3.3 answers the accountDetails object itself (Berlin Group 1.3.x wraps it in `account`)
    ctx.body = accountDetails(account, grant);
  });

  router.get('/accounts/:accountId/balances', authorise, async (ctx) => {
    const { account } = await record(ctx);
    ctx.body = { account: reference(account), balances: (await data.balances(state(ctx).psuId, account.accountId)).map(balance) };
  });

  router.get('/accounts/:accountId/transactions', authorise, async (ctx) => {
    const parsed = transactionQuery.safeParse(Object.fromEntries(new URLSearchParams(ctx.querystring)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw formatError(String(issue.path[0] ?? 'query'), issue.message);
    }
    const q = parsed.data;
    const today = now().toISOString().slice(0, 10);
    const dateFrom = q.dateFrom ?? new Date(now().getTime() - 90 * 86_400_000).toISOString().slice(0, 10);
    if (q.dateTo !== undefined && q.dateTo < dateFrom) throw new BgError('formatError', [{ path: 'dateTo', text: 'is before dateFrom' }]);
    const { account } = await record(ctx);
    const list = await data.transactions(state(ctx).psuId, account.accountId, { bookingStatus: q.bookingStatus, dateFrom, dateTo: q.dateTo ?? today });
    const self = `${AIS_BASE}/accounts/${encodeURIComponent(account.accountId)}`;
    const report: Record<string, unknown> = { _links: { account: { href: self } } };
    if (q.bookingStatus !== 'pending') report.booked = list.filter((t) => t.status === 'booked').map(transaction);
    if (q.bookingStatus !== 'booked') report.pending = list.filter((t) => t.status === 'pending').map(transaction);
    ctx.body = { account: reference(account), transactions: report };
  });

  return router;
}

function reference(a: AccountRecord) {
  return { iban: a.iban, currency: a.currency };
}

function accountDetails(a: AccountRecord, grant: GrantedAccount) {
  const self = `${AIS_BASE}/accounts/${encodeURIComponent(a.accountId)}`;
  return {
    resourceId: a.accountId,
    iban: a.iban,
    currency: a.currency,
    name: a.name,
    ...(a.product ? { product: a.product } : {}),
    cashAccountType: 'CACC',
    status: 'enabled',
    _links: {
      ...(grant.access.includes('balances') ? { balances: { href: `${self}/balances` } } : {}),
      ...(grant.access.includes('transactions') ? { transactions: { href: `${self}/transactions` } } : {}),
    },
  };
}

function balance(b: BalanceRecord) {
  return { balanceAmount: { currency: b.currency, amount: b.amount }, balanceType: b.balanceType, referenceDate: b.referenceDate };
}

function transaction(t: TransactionRecord) {
  const incoming = !t.amount.startsWith('-');
  return {
    transactionId: t.transactionId,
    bookingDate: t.bookingDate,
    valueDate: t.valueDate,
    transactionAmount: { currency: t.currency, amount: t.amount },
    ...(incoming ? { debtorName: t.counterpartyName } : { creditorName: t.counterpartyName }),
    remittanceInformationUnstructured: t.description,
  };
}
