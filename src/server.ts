/**
 * A running Assent: stores opened, the consent service, provider, step pipelines and routers built, the
 * HTTP server listening and the sweeper started. `main.ts` runs one for the process; tests run one
 * in-process on a free port.
 */
import { extensionHooks } from './steps/extensions/steps.ts';
import { extensionsOpenApiRouter } from './steps/extensions/routes.ts';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { AssentConfig } from '../config/schema.ts';
import type { Logger } from './log.ts';
import { composeApp } from './app.ts';
import { openStores, type Stores } from './stores.ts';
import { apiResource, createProvider } from './oidc/provider.ts';
import { generateCookieKeys, generateEphemeralJwks } from './oidc/keys.ts';
import { OAuthService } from './oidc/oauth.ts';
import { consentBinding } from './oidc/consent-binding.ts';
import { accountInformationDetails, consentIdForInteraction, parseAccountInformation, richAuthorizationRequests } from './oidc/rar.ts';
import { ConsentAlreadyExists } from './consent/errors.ts';
import type { ConsentRequestOptions } from './consent/validation.ts';
import type { InteractionInfo } from './oidc/oauth.ts';
import { ConsentService } from './application/consents.ts';
import { RememberedConsents } from './application/remembered-consents.ts';
import { ConfigPsuDirectory, type PsuDirectory } from './psu/directory.ts';
import { Approvals } from './steps/approval.ts';
import { DecisionGate } from './steps/decide-once.ts';
import { defaultPersistSteps, defaultRetrievalSteps } from './steps/defaults.ts';
import { describeSteps, loadStepPlugins } from './steps/loader.ts';
import { persistPipeline, retrievalPipeline } from './steps/pipeline.ts';
import type { PersistStep, RetrievalStep } from './steps/contracts.ts';
import { createViews, VIEWS_DIR } from './interaction/views.ts';
import { negotiateLocale, translator } from './interaction/i18n.ts';
import { interactionRouter } from './interaction/routes.ts';
import { myConsentsRouter } from './interaction/my-consents.ts';
import { Csrf } from './interaction/csrf.ts';
import { LoginThrottle } from './interaction/login-throttle.ts';
import { SessionDataKeys } from './interaction/session-data-keys.ts';
import { fsAuthorizeRouter } from './dialects/fs-authorize/routes.ts';
import { validateRouter } from './dialects/fs-authorize/validate.ts';
import { AccessValidator } from './application/access.ts';
import { consentSigner } from './oidc/consent-jws.ts';
import { berlinGroupRouter } from './dialects/berlin-group/routes.ts';
import { backofficeRouter } from './dialects/backoffice/routes.ts';
import { brazilRouter } from './dialects/brazil/routes.ts';
import { Sweeper } from './application/sweeper.ts';
import { PaymentRecovery } from './application/pix-settlement.ts';
import { RedisSweepLease } from './storage/redis/sweep-lease.ts';
import { LocalSweepLease } from './storage/memory/sweep-lease.ts';
import { opusRouter } from './dialects/backoffice/opus-routes.ts';
import { brPaymentsRouter, paymentsApiUrl } from './dialects/br-payments/routes.ts';
import { createMessageSigner, createMessageVerifier } from './signing/signed-messages.ts';
import { RETRY_AFTER_SECONDS, headersTooLargeResponse, isStoreOutage } from './http/customer-pages.ts';
import { settlingExecutor, type PaymentExecutor } from './consent/payment-executor.ts';
import { CookieSigner } from './http/cookie-signer.ts';

export interface RunningAssent {
  config: AssentConfig;
  server: Server;
  /** the base URL the server answers on */
  url: string;
  provider: Provider;
  stores: Stores;
  consents: ConsentService;
  oauth: OAuthService;
  /** consent access validation (the validation API and the reference AIS API use it) */
  access: AccessValidator;
  /** the consent sweeper, when `consent.sweepIntervalSeconds` > 0 */
  sweeper?: Sweeper;
  /** stop accepting, finish in-flight requests (up to the shutdown timeout), stop jobs, close stores */
  close(): Promise<void>;
}

export interface StartOptions {
  /** extra steps given in code (tests, embedding); config `steps` are loaded too */
  steps?: { retrieval?: RetrievalStep[]; persist?: PersistStep[] };
  directory?: PsuDirectory;
  /** the bank's payment system for Open Finance Brasil payments; default: the demo one, settling at once */
  paymentExecutor?: PaymentExecutor;
}

export async function startAssent(config: AssentConfig, log: Logger, options: StartOptions = {}): Promise<RunningAssent> {
  // demo mode: the demo payment initiator, with a PS256 key made now (its client registers the public half)
  const demoPayer = config.mode === 'demo' ? await (await import('./demo/payments.ts')).demoPaymentsClient(config) : undefined;
  if (demoPayer && !config.clients.some((c) => c.client_id === demoPayer.client.client_id)) config = { ...config, clients: [...config.clients, demoPayer.client] };
  let jwks = config.keys.jwks as ReturnType<typeof generateEphemeralJwks> | undefined;
  if (!jwks) {
    jwks = generateEphemeralJwks();
    log.warn('EPHEMERAL SIGNING KEYS generated (demo mode): tokens and sessions do not survive a restart. Set ASSENT_JWKS_FILE.');
  }
  let cookieKeys = config.keys.cookieKeys;
  if (!cookieKeys?.length) {
    cookieKeys = generateCookieKeys();
    log.warn('EPHEMERAL COOKIE KEYS generated (demo mode). Set ASSENT_COOKIE_KEYS.');
  }
  // one signer for Koa's and oidc-provider's cookies: the secrets become KeyObjects once (./http/cookie-signer.ts)
  const cookieSigner = new CookieSigner(cookieKeys);
  if (config.mode === 'production' && new URL(config.issuer).protocol !== 'https:') {
    log.warn(
      { issuer: config.issuer },
      'INSECURE ISSUER: production is running with an http:// issuer (allowHttpIssuer). Tokens, codes and cookies travel in clear; use https.',
    );
  }
  const plugins = await loadStepPlugins(config.steps);
  const extensions = extensionHooks(config.extensions, log);
  const retrieval = retrievalPipeline([...defaultRetrievalSteps, ...extensions.retrieval, ...plugins.retrieval, ...(options.steps?.retrieval ?? [])]);

  const stores = await openStores(config, log);
  let sweeper: Sweeper | undefined;
  try {
    const consents = new ConsentService(stores.consents, {
      receivedTimeoutSeconds: config.consent.receivedTimeoutSeconds,
      defaultScaMethodId: config.consent.scaMethods[0]!.authenticationMethodId,
      creationChecks: extensions.creation,
    });
    // every consent write holds the fence, so the consents validation remembers are never used outdated;
    // with the consents in MongoDB, the service's reads answer from fenced copies too (hot path by key, no read)
    // one memory of consents per instance, shared by the service and consent validation
    const remembered = new RememberedConsents(config.consent.rememberedConsents);
    consents.setFence(stores.fence, stores.db ? { remembered } : {});
    // Rich Authorization Requests (RFC 9396): account_information details, under the Berlin Group request rules
    const requestOptions = (): ConsentRequestOptions => ({
      now: new Date(),
      maxValidityDays: config.consent.maxValidityDays,
      maxFrequencyPerDay: config.consent.maxFrequencyPerDay,
    });
    const defaultPersist = defaultPersistSteps(consents);
    const persist = persistPipeline([...defaultPersist, ...extensions.persist, ...plugins.persist, ...(options.steps?.persist ?? [])]);
    const defaults = new Set<object>([...defaultRetrievalSteps, ...defaultPersist]);
    log.info(
      {
        retrieval: describeSteps(retrieval.steps, plugins.sources, defaults),
        persist: describeSteps(persist.steps, plugins.sources, defaults),
      },
      'approval steps loaded',
    );
    const views = createViews(config.viewsDir ? [resolve(config.viewsDir), VIEWS_DIR] : VIEWS_DIR);
    // An authorization that can never complete must not leave its consent active (README, "A consent
    // whose authorization never completed"); only on error paths, never on the way to a token.
    const UNDELIVERED = 'authorization never completed: the approval could not be handed back to the TPP';
    const ABANDONED = 'authorization never completed: the request that stored the approval did not finish (its instance stopped)';
    // The failure is often a store outage (Redis holds the consent fence every write takes): tried again
    // for about half a minute, in the background.
    const endUnfinished = async (grantId: string, reason: string): Promise<void> => {
      for (const delayMs of [0, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000]) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs).unref());
        try {
          const ended = await consents.endForRevokedGrant(grantId, reason);
          if (ended) log.warn({ consentId: ended.id, status: ended.status, reason }, 'consent ended: its authorization never completed');
          return;
        } catch (err) {
          log.warn({ err: { message: (err as Error).message }, reason }, 'a consent whose authorization never completed could not be ended yet');
        }
      }
      log.error({ reason }, 'a consent whose authorization never completed could not be ended');
    };
    const provider = createProvider({
      config,
      adapter: stores.oidcAdapter,
      jwks,
      cookieKeys: cookieSigner,
      log,
      consentCheck: consentBinding(consents, undefined, { requestOptions }),
      rar: richAuthorizationRequests({ requestOptions, findByGrantId: (grantId) => consents.findByGrantId(grantId) }),
      replay: stores.replay,
      // on the token endpoint's error path only: the success path reads no consent store
      onReplayRevokedGrant: (grantId) => void endUnfinished(grantId, 'authorization never completed: its code or refresh token was presented again and its tokens were revoked'),
      onUndeliveredGrant: (grantId) => void endUnfinished(grantId, UNDELIVERED),
      renderError: async (ctx, out, error) => {
        const locale = negotiateLocale({ acceptLanguage: ctx.get('accept-language') });
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-store');
        const unavailable = out.error === 'temporarily_unavailable' || isStoreOutage(error);
        if (unavailable) {
          ctx.status = 503;
          ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
        }
        const t = translator(locale);
        ctx.body = views.render('error', {
          locale,
          message: t(unavailable ? 'error.unavailable' : 'error.unknown'),
          title: unavailable ? 'error.titleUnavailable' : 'error.titleExpired',
          requestId: ctx.get('x-request-id'),
        });
      },
    });
    const oauth = new OAuthService(provider, apiResource(config), stores.replay, cookieSigner);
    consents.setEffects({
      consentEnded: async (consent) => {
        if (consent.grantId) await oauth.revokeGrant(consent.grantId);
        log.info({ consentId: consent.id, status: consent.status }, 'consent ended; its tokens were revoked');
      },
    });
    const directory = options.directory ?? new ConfigPsuDirectory(config.customers);
    // a request that describes its consent in authorization_details: the consent, created once per interaction
    const fromDetails = async (interaction: InteractionInfo) => {
      const details = accountInformationDetails(interaction.params);
      if (details.length !== 1) return undefined;
      const described = parseAccountInformation(details[0], requestOptions());
      if (!described.ok) return undefined;
      const id = consentIdForInteraction(interaction.clientId, interaction.uid);
      if (!(await consents.get(id))) {
        await consents.create({ clientId: interaction.clientId, type: 'accounts', ...described.value }, { id }).catch((err: unknown) => {
          if (!(err instanceof ConsentAlreadyExists)) throw err;
        });
        log.info({ consentId: id, clientId: interaction.clientId }, 'consent created from authorization_details');
      }
      return { consentId: id };
    };

    const sessionDataKeys = new SessionDataKeys(stores.oidcAdapter);
    const access = new AccessValidator({ consents, tokens: oauth, usage: stores.usage, checks: extensions.access, fence: stores.fence, remembered }, { timeZone: config.consent.bankTimeZone });
    const sign = await consentSigner(jwks, config.issuer);
    const decisions = new DecisionGate(stores.decisionClaims, oauth, {
      undelivered: async (result) => {
        const grantId = (result as { consent?: { grantId?: unknown } }).consent?.grantId;
        if (typeof grantId !== 'string') return;
        void endUnfinished(grantId, UNDELIVERED);
        await oauth.revokeGrant(grantId).catch(() => undefined);
      },
      // found by the sweeper (recoverAbandoned): the request that stored the approval never finished
      abandoned: async (grantId) => {
        await oauth.revokeGrant(grantId).catch(() => undefined);
        await endUnfinished(grantId, ABANDONED);
      },
      abandonAfterMs: config.consent.abandonedApprovalSeconds * 1000,
    });
    const approvals = new Approvals({ oauth, consents, directory, retrieval, persist, fromDetails, onGrantIssued: (uid, grantId) => decisions.noteGrant(uid, grantId) });

    // Open Finance Brasil signed messages: TPPs' verified against their registered keys, ours signed with
    // the PS256 key the provider publishes at /jwks
    const messageSigner = await createMessageSigner({ jwks, organisationId: config.brPayments.organisationId }).catch((err: Error) => {
      log.warn({ error: err.message }, 'the Open Finance Brasil Payments API is not served: the signing JWKS has no PS256 key');
      return undefined;
    });
    const messageVerifier = createMessageVerifier({
      audience: paymentsApiUrl(config),
      clockSkewSeconds: config.brPayments.clockSkewSeconds,
      replay: stores.replay,
    });

    const csrf = new Csrf(cookieKeys[0]!);
    const throttle = new LoginThrottle(stores.loginAttempts, config.authentication.throttle, { secret: cookieKeys[0]!, log });
    const routers: Router[] = [
      berlinGroupRouter({ consents, oauth, config, log, rateLimiter: stores.rateLimiter }),
      backofficeRouter({ consents, oauth, config, log, usage: access }),
      brazilRouter({ consents, oauth, config, log, rateLimiter: stores.rateLimiter }),
      opusRouter({ consents, oauth, config, log, payments: stores.payments }),
      fsAuthorizeRouter({
        oauth,
        approvals,
        decisions,
        sessionDataKeys,
        bodyLimitBytes: config.bodyLimitBytes,
        log,
        ...(config.internalApi ? { credentials: config.internalApi } : {}),
      }),
      validateRouter({
        oauth,
        access,
        sign,
        log,
        bodyLimitBytes: config.bodyLimitBytes,
        ...(config.internalApi ? { credentials: config.internalApi } : {}),
      }),
      extensionsOpenApiRouter(),
      interactionRouter({
        oauth,
        approvals,
        decisions,
        directory,
        views,
        csrf,
        log,
        throttle,
        sessionDataKeys,
        issuer: config.issuer,
        ...(config.consentPageUrl ? { consentPageUrl: config.consentPageUrl } : {}),
      }),
      myConsentsRouter({ consents, oauth, directory, views, csrf, log, throttle, secureCookies: config.issuer.startsWith('https:'), adapter: stores.oidcAdapter }),
    ];
    let paymentRecovery: PaymentRecovery | undefined;
    if (messageSigner) {
      const executor = options.paymentExecutor ?? settlingExecutor;
      // payments a crash or a failing executor left RCVD, settled by the sweeper (application/pix-settlement.ts)
      paymentRecovery = new PaymentRecovery({ consents, payments: stores.payments, executor, log, now: () => new Date() });
      if (!options.paymentExecutor && config.mode === 'production') {
        log.warn('the DEMO payment executor settles every Pix at once: pass a PaymentExecutor for the bank');
      }
      routers.push(
        brPaymentsRouter({ consents, oauth, config, log, verifier: messageVerifier, signer: messageSigner, idempotency: stores.idempotency, payments: stores.payments, executor }),
      );
    }
    if (config.ais.enabled ?? config.mode === 'demo') {
      // the reference Account Information API (src/ais/, deletable with this block and config `ais`)
      const [{ aisRouter }, { DemoAccountData }] = await Promise.all([import('./ais/routes.ts'), import('./ais/demo-data.ts')]);
      routers.push(aisRouter({ oauth, access, data: new DemoAccountData(directory), log }));
    }
    if (config.mode === 'demo') {
      const { demoTppRouter } = await import('./demo/routes.ts');
      routers.push(demoTppRouter({ config, views }));
      if (demoPayer && messageSigner) {
        const { demoPaymentsRouter } = await import('./demo/payments.ts');
        routers.push(demoPaymentsRouter({ config, views, payer: demoPayer }));
      }
    }
    const app = composeApp({ config, log, stores, provider, routers, cookieKeys: cookieSigner, views });

    const server = createServer(app.callback());
    // Node refuses oversized headers before Koa sees the request: the customer still gets a page
    server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      if (err.code === 'HPE_HEADER_OVERFLOW') socket.end(headersTooLargeResponse(views, err.rawPacket));
      else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    // longer than the idle timeout of clients and load balancers (60 s is common): the server never closes a
    // kept-alive connection just as a client reuses it (that race answers the client ECONNRESET)
    server.keepAliveTimeout = 65_000;
    // the backstop for a stalled request anywhere (the Berlin Group reader answers its own 408 first)
    server.requestTimeout = config.bodyTimeoutMs + 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;

    if (config.consent.sweepIntervalSeconds > 0) {
      sweeper = new Sweeper({
        target: consents,
        lease: stores.redis ? new RedisSweepLease(stores.redis, { prefix: config.redis.prefix }) : new LocalSweepLease(),
        log,
        intervalMs: config.consent.sweepIntervalSeconds * 1000,
        batchSize: config.consent.sweepBatchSize,
        maxBatches: config.consent.sweepMaxBatches,
        ...(stores.cleanUpClaims ? { cleanUp: stores.cleanUpClaims } : {}),
        tasks: [
          { name: 'abandoned-approvals', run: (limit: number) => decisions.recoverAbandoned(limit) },
          ...(paymentRecovery ? [{ name: 'payment-recovery', run: (limit: number) => paymentRecovery.run(limit) }] : []),
        ],
      });
      sweeper.start();
    }

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const sweeping = sweeper?.close();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        await sweeping;
        await stores.close();
      })());

    return { config, server, url, provider, stores, consents, oauth, access, ...(sweeper ? { sweeper } : {}), close };
  } catch (err) {
    await sweeper?.close();
    await stores.close();
    throw err;
  }
}
