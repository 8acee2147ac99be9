/**
 * Assent's configuration: ONE zod schema. Every option has a documented default; unknown keys and bad
 * values stop startup with a message that names the key (see ./load.ts for the file + environment sources).
 */
import { z } from 'zod';
import { isTimeZone } from '../src/consent/usage.ts';

const url = z.url({ protocol: /^https?$/ });

/** the step extension hooks (src/steps/extensions/schemas.ts HOOKS; kept literal here: config imports no step code) */
export const EXTENSION_HOOKS = ['populate_consent_authorize_screen', 'persist_authorized_consent', 'validate_consent_access', 'pre_process_consent_creation'] as const;

const extensionEndpointSchema = z
  .object({
    url,
    auth: z.discriminatedUnion('type', [
      z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string().min(1) }).strict(),
      z
        .object({ type: z.literal('client_credentials'), tokenUrl: url, clientId: z.string().min(1), clientSecret: z.string().min(1), scope: z.string().optional() })
        .strict(),
    ]),
    /** per attempt, in ms */
    timeoutMs: z.number().int().min(50).max(30_000).default(2_000),
    /** further attempts after a timeout, a network error, a 5xx or a malformed answer */
    retries: z.number().int().min(0).max(5).default(1),
    /** what a failed call does: refuse (the only policy; a consent decision never goes ahead unchecked) */
    failurePolicy: z.literal('fail_closed').default('fail_closed'),
  })
  .strict();

/** A TPP or internal OAuth client: oidc-provider client metadata, the fields Assent uses checked here. */
export const clientSchema = z
  .object({
    client_id: z.string().min(1),
    /** shown to the customer on the approval page */
    client_name: z.string().min(1).optional(),
    /** the app's home page: where a customer who comes back to an answered request is pointed */
    client_uri: url.optional(),
    client_secret: z.string().min(8).optional(),
    redirect_uris: z.array(url).default([]),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
      .default(['authorization_code', 'refresh_token', 'client_credentials']),
    response_types: z.array(z.enum(['code'])).default(['code']),
    /** space-separated scopes the client may ask for */
    scope: z.string().default('openid offline_access accountinformation'),
    token_endpoint_auth_method: z
      .enum(['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic', 'client_secret_post'])
      .default('private_key_jwt'),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
    jwks_uri: url.optional(),
    tls_client_auth_subject_dn: z.string().optional(),
    dpop_bound_access_tokens: z.boolean().optional(),
    tls_client_certificate_bound_access_tokens: z.boolean().optional(),
    require_pushed_authorization_requests: z.boolean().optional(),
    id_token_signed_response_alg: z.enum(['PS256', 'ES256', 'RS256']).optional(),
    token_endpoint_auth_signing_alg: z.enum(['PS256', 'ES256', 'RS256']).optional(),
    request_object_signing_alg: z.enum(['PS256', 'ES256', 'RS256']).optional(),
    post_logout_redirect_uris: z.array(url).optional(),
    /** an internal client (back-office apps); never a TPP */
    'urn:assent:internal': z.boolean().optional(),
    /** Open Finance Brasil: the TPP's organisation id in the directory (the `iss` of its signed messages) */
    'urn:assent:organisation_id': z.string().min(1).max(64).optional(),
    /**
     * consents this TPP may create per `consent.createRateLimit.windowSeconds` (Berlin Group POST /consents);
     * absent: `consent.createRateLimit.limit`. Not OAuth metadata: oidc-provider never sees it
     */
    'urn:assent:consent_create_limit': z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();
export type ClientConfig = z.infer<typeof clientSchema>;

export const customerAccountSchema = z
  .object({
    /** the bank's internal account id */
    accountId: z.string().min(1),
    iban: z.string().min(15),
    currency: z.string().regex(/^[A-Z]{3}$/),
    /** what the customer calls it */
    name: z.string().min(1),
    product: z.string().optional(),
  })
  .strict();

/** A customer of the demo account directory (production plugs in the bank's own). */
export const customerSchema = z
  .object({
    /** the PSU id */
    id: z.string().min(1),
    username: z.string().min(1),
    /** demo only: a plain password, compared in constant time */
    password: z.string().min(4),
    name: z.string().min(1),
    /** Brazil: CPF of the customer */
    document: z.string().optional(),
    /** Brazil: the CNPJs of the companies the customer may act for */
    companies: z.array(z.string().min(1)).optional(),
    accounts: z.array(customerAccountSchema).min(1),
  })
  .strict();
export type CustomerConfig = z.infer<typeof customerSchema>;

const jwkSchema = z.record(z.string(), z.unknown()).refine((k) => typeof k.kty === 'string', 'every key needs "kty"');

export const configSchema = z
  .object({
    /** `production` refuses to start without MongoDB, Redis, signing keys, cookie keys and encryption keys. */
    mode: z.enum(['demo', 'production']).default('demo'),
    /** `fapi2`: FAPI 2.0 Security Profile; `demo`: relaxed for a local trial. Default: fapi2 in production, demo otherwise. */
    profile: z.enum(['demo', 'fapi2']).optional(),
    /** listen port (env PORT) */
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    /** listen address (env HOST) */
    host: z.string().default('127.0.0.1'),
    /** the OAuth issuer (env ISSUER); its path is where the OAuth endpoints are mounted */
    issuer: url
      .refine((u) => new URL(u).pathname.replace(/\/+$/, '') !== '', 'needs a path (e.g. /connect): the OAuth endpoints are mounted there')
      .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not have a query or fragment')
      .default('http://localhost:3000/connect'),
    /**
     * production only: run with an `http://` issuer anyway (env ASSENT_ALLOW_HTTP_ISSUER), e.g. a closed
     * test rig. Startup then warns loudly; without it production refuses an http issuer
     * @default false
     */
    allowHttpIssuer: z.boolean().default(false),
    /** trust X-Forwarded-* from a reverse proxy (env TRUST_PROXY) */
    trustProxy: z.coerce.boolean().default(false),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    mongodb: z
      .object({
        /** env MONGODB_URI; absent: embedded in-memory store (demo mode only) */
        uri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI').optional(),
        /** env MONGODB_DATABASE */
        database: z.string().min(1).default('assent'),
      })
      .strict()
      .default({ database: 'assent' }),
    redis: z
      .object({
        /** env REDIS_URL; absent: embedded in-memory store (demo mode only) */
        url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
        /** key prefix (env REDIS_PREFIX) */
        prefix: z.string().default('assent:'),
        /**
         * how long one Redis command may take before it fails (env REDIS_COMMAND_TIMEOUT_MS): a hung Redis
         * makes a request fail fast with 503 `temporarily_unavailable` instead of holding it
         * @default 1000
         */
        commandTimeoutMs: z.number().int().min(10).max(60_000).default(1_000),
      })
      .strict()
      .default({ prefix: 'assent:', commandTimeoutMs: 1_000 }),
    /** the embedded in-memory stores used when MONGODB_URI / REDIS_URL are absent (demo mode) */
    embedded: z
      .object({
        /**
         * how long a consent that ended (revoked, rejected, expired, …) stays in the embedded consent store
         * @default 86400 (one day)
         */
        endedConsentRetentionSeconds: z.number().int().min(0).default(86_400),
        /**
         * the most consents the embedded store keeps; at the cap a new consent pushes out the oldest ended
         * one (else the oldest one), and a warning is logged
         * @default 10000
         */
        maxConsents: z.number().int().min(1).default(10_000),
      })
      .strict()
      .default({ endedConsentRetentionSeconds: 86_400, maxConsents: 10_000 }),
    keys: z
      .object({
        /** the signing JWKS (private keys) as JSON (env ASSENT_JWKS) */
        jwks: z.object({ keys: z.array(jwkSchema).min(1) }).strict().optional(),
        /** …or a file holding it (env ASSENT_JWKS_FILE) */
        jwksFile: z.string().optional(),
        /** keys that sign cookies, newest first (env ASSENT_COOKIE_KEYS, comma-separated) */
        cookieKeys: z.array(z.string().min(32, 'cookie keys need at least 32 characters')).optional(),
        /** field-encryption key ring as JSON (env ASSENT_DATA_KEYS) — see the README, "Configuration" */
        dataKeys: z.string().optional(),
        /** …or a file holding it (env ASSENT_DATA_KEYS_FILE) */
        dataKeysFile: z.string().optional(),
      })
      .strict()
      .default({}),
    /** OAuth clients (TPPs and internal apps) */
    clients: z.array(clientSchema).default([]),
    /** a JSON file with more clients (env ASSENT_CLIENTS_FILE) */
    clientsFile: z.string().optional(),
    /** demo account directory; a JSON file of customers (env ASSENT_CUSTOMERS_FILE) */
    customersFile: z.string().optional(),
    customers: z.array(customerSchema).default([]),
    ttl: z
      .object({
        accessToken: z.number().int().positive().default(600),
        clientCredentials: z.number().int().positive().default(600),
        authorizationCode: z.number().int().positive().max(600).default(60),
        refreshToken: z.number().int().positive().default(90 * 24 * 3600),
        interaction: z.number().int().positive().default(600),
        session: z.number().int().positive().default(3600),
        grant: z.number().int().positive().default(180 * 24 * 3600),
      })
      .strict()
      .default({
        accessToken: 600,
        clientCredentials: 600,
        authorizationCode: 60,
        refreshToken: 90 * 24 * 3600,
        interaction: 600,
        session: 3600,
        grant: 180 * 24 * 3600,
      }),
    consent: z
      .object({
        /** the longest a consent may be valid; a later `validUntil` (or 9999-12-31) is capped */
        maxValidityDays: z.number().int().min(1).max(3650).default(180),
        /**
         * the highest Berlin Group `frequencyPerDay` a TPP may ask for; a higher one is refused (400
         * FORMAT_ERROR on frequencyPerDay), not capped. 4 is the spec's value without a bilateral agreement
         * @default 4
         */
        maxFrequencyPerDay: z.number().int().min(1).max(10_000).default(4),
        /** a consent still `received` after this long becomes `rejected` */
        receivedTimeoutSeconds: z.number().int().min(60).default(3600),
        /** the bank's time zone (IANA name): `frequencyPerDay` counters start again at its midnight (env ASSENT_BANK_TIME_ZONE) */
        bankTimeZone: z
          .string()
          .refine(isTimeZone, 'must be an IANA time zone name, e.g. Europe/Stockholm')
          .default('UTC'),
        /**
         * consent creations (Berlin Group POST /consents) per TPP and window, shared by every instance on the same Redis; over it: 429
         * ACCESS_EXCEEDED with Retry-After. A client's `urn:assent:consent_create_limit` overrides `limit`.
         * The default (50 a second, sustained) is room for a large TPP's peak; it stops a runaway client
         * @default { limit: 3000, windowSeconds: 60 }
         */
        createRateLimit: z
          .object({
            limit: z.number().int().min(1).max(10_000_000).default(3000),
            windowSeconds: z.number().int().min(1).max(86_400).default(60),
          })
          .strict()
          .default({ limit: 3000, windowSeconds: 60 }),
        /** how often the sweeper looks for expired and stale consents (0 disables it) */
        sweepIntervalSeconds: z.number().int().min(0).default(60),
        /** consents read and moved per sweep batch @default 100 */
        sweepBatchSize: z.number().int().min(1).max(10_000).default(100),
        /** batches per sweep run at most; what is left waits for the next run @default 20 */
        sweepMaxBatches: z.number().int().min(1).max(10_000).default(20),
        /**
         * an approval stored but never handed to the TPP (its instance died between the two) is ended by
         * the sweeper once it is this old @default 120
         */
        abandonedApprovalSeconds: z.number().int().min(1).max(86_400).default(120),
        /**
         * consents each instance keeps in memory (the least recently used forgotten first); a copy is used
         * only while the consent fence in Redis confirms its revision is current, so consent reads on the
         * approval path and in consent validation cost a Redis round trip instead of a MongoDB read.
         * 0 turns it off @default 10000
         */
        rememberedConsents: z.number().int().min(0).max(1_000_000).default(10_000),
        /** the SCA methods offered to TPPs */
        scaMethods: z
          .array(
            z
              .object({
                authenticationType: z.enum(['SMS_OTP', 'CHIP_OTP', 'PHOTO_OTP', 'PUSH_OTP']),
                authenticationMethodId: z.string().min(1),
                name: z.string().optional(),
              })
              .strict(),
          )
          .min(1)
          .default([{ authenticationType: 'PUSH_OTP', authenticationMethodId: 'push-otp', name: 'Bank app' }]),
      })
      .strict()
      .default({
        maxValidityDays: 180,
        maxFrequencyPerDay: 4,
        receivedTimeoutSeconds: 3600,
        bankTimeZone: 'UTC',
        createRateLimit: { limit: 3000, windowSeconds: 60 },
        sweepIntervalSeconds: 60,
        sweepBatchSize: 100,
        sweepMaxBatches: 20,
        abandonedApprovalSeconds: 120,
        rememberedConsents: 10_000,
        scaMethods: [{ authenticationType: 'PUSH_OTP', authenticationMethodId: 'push-otp', name: 'Bank app' }],
      }),
    /** how the customer logs in (SCA) */
    authentication: z
      .object({
        /**
         * How long a login in this browser counts for the next consent authorisation, in seconds. 0: every
         * consent authorisation asks for credentials again, even with a live session (PSD2 SCA when a
         * consent is established). A bank whose SCA policy allows reuse sets how long (env ASSENT_LOGIN_REUSE_SECONDS).
         * @default 0
         */
        loginReuseSeconds: z.number().int().min(0).max(24 * 3600).default(0),
        /**
         * Login throttling (bank login and My consents), per account and per client address, shared
         * through Redis: after `freeAttempts` failures each further one blocks for an increasing delay
         * (`baseDelaySeconds`, doubling, at most `maxDelaySeconds`); at `lockoutAfter` failures the account
         * or address is locked for `lockoutSeconds`. Failures are forgotten `windowSeconds` after the last.
         */
        throttle: z
          .object({
            account: z.object({ freeAttempts: z.number().int().min(0), lockoutAfter: z.number().int().min(1) }).strict().default({ freeAttempts: 3, lockoutAfter: 10 }),
            address: z.object({ freeAttempts: z.number().int().min(0), lockoutAfter: z.number().int().min(1) }).strict().default({ freeAttempts: 20, lockoutAfter: 100 }),
            baseDelaySeconds: z.number().min(0).max(3600).default(1),
            maxDelaySeconds: z.number().min(0).max(3600).default(60),
            lockoutSeconds: z.number().int().min(1).max(24 * 3600).default(900),
            windowSeconds: z.number().int().min(1).max(24 * 3600).default(900),
          })
          .strict()
          .default({
            account: { freeAttempts: 3, lockoutAfter: 10 },
            address: { freeAttempts: 20, lockoutAfter: 100 },
            baseDelaySeconds: 1,
            maxDelaySeconds: 60,
            lockoutSeconds: 900,
            windowSeconds: 900,
          }),
      })
      .strict()
      .default({
        loginReuseSeconds: 0,
        throttle: {
          account: { freeAttempts: 3, lockoutAfter: 10 },
          address: { freeAttempts: 20, lockoutAfter: 100 },
          baseDelaySeconds: 1,
          maxDelaySeconds: 60,
          lockoutSeconds: 900,
          windowSeconds: 900,
        },
      }),
    /** HTTP Basic credentials of the bank's own UI calling /api/fs/consent/authorize/* (env ASSENT_INTERNAL_API_USER / ASSENT_INTERNAL_API_PASSWORD) */
    internalApi: z
      .object({ username: z.string().min(1), password: z.string().min(16) })
      .strict()
      .optional(),
    /**
     * The bank's own consent UI. When set, after login the browser is sent there with
     * `?sessionDataKey=…`, and that UI uses /api/fs/consent/authorize/{retrieve,persist}. Absent: Assent's page.
     */
    consentPageUrl: url.optional(),
    /**
     * A bank's own templates, searched before Assent's views/ (relative to the working directory): override
     * a page, or supply partials/consent-extra.njk to show step data (`data.extra`) on the consent page.
     */
    viewsDir: z.string().min(1).optional(),
    /** step plugins: module specifiers (relative to the working directory, or package names) */
    steps: z
      .object({ retrieval: z.array(z.string()).default([]), persist: z.array(z.string()).default([]) })
      .strict()
      .default({ retrieval: [], persist: [] }),
    /** the reference Account Information API on demo data (/psd2/accountinformation/v1); default: on in demo mode */
    ais: z
      .object({ enabled: z.boolean().optional() })
      .strict()
      .default({}),
    /** Open Finance Brasil Payments API 4.0.0 (/open-banking/payments/v4): its signed messages */
    brPayments: z
      .object({
        /**
         * Assent's organisation id in the Open Finance Brasil directory: the `iss` of the messages it signs
         * @default 'c2c8a0f3-8f5e-4d0a-9a8e-6a0d4b1f2e01' (a demo id; set the bank's own)
         */
        organisationId: z.string().min(1).max(64).default('c2c8a0f3-8f5e-4d0a-9a8e-6a0d4b1f2e01'),
        /**
         * how far a TPP message's `iat` may be from Assent's clock, either way, in seconds
         * @default 60
         */
        clockSkewSeconds: z.number().int().min(1).max(3600).default(60),
        /**
         * the API's public URL: the `aud` TPP messages must carry and the base of `links`
         * @default the issuer's origin + /open-banking/payments/v4
         */
        apiUrl: url.optional(),
      })
      .strict()
      .default({ organisationId: 'c2c8a0f3-8f5e-4d0a-9a8e-6a0d4b1f2e01', clockSkewSeconds: 60 }),
    /**
     * step extensions over HTTP (WSO2's OpenAPI-based extensions), by hook; see docs/plugins.md and the
     * document served at /api/fs/extensions/openapi.json. Each: url, auth (basic | client_credentials),
     * timeoutMs (default 2000), retries (default 1), failurePolicy (fail_closed, the only one)
     */
    extensions: z
      .object(Object.fromEntries(EXTENSION_HOOKS.map((hook) => [hook, extensionEndpointSchema.optional()])) as Record<(typeof EXTENSION_HOOKS)[number], z.ZodOptional<typeof extensionEndpointSchema>>)
      .strict()
      .default({}),
    /** largest accepted JSON body, in bytes */
    bodyLimitBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(100 * 1024),
    /**
     * how long a request body may take to arrive, in ms: a stalled body is answered 408 (Berlin Group) or
     * cut by the HTTP server (every route, Node's requestTimeout, a little later)
     */
    bodyTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    /** grace period for in-flight requests on SIGTERM */
    shutdownTimeoutMs: z.number().int().min(0).default(10_000),
  })
  .strict();

export type AssentConfigInput = z.input<typeof configSchema>;
export type AssentConfig = z.output<typeof configSchema> & { profile: 'demo' | 'fapi2' };
