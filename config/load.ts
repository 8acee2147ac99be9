/**
 * Reads the configuration from (lowest to highest precedence) the schema defaults, an optional JSON file
 * (env ASSENT_CONFIG), environment variables, and overrides passed in code (tests). Demo mode adds the
 * demo fixtures in config/demo/. Any problem throws a ConfigError naming every offending key.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { clientSchema, configSchema, customerSchema, type AssentConfig, type AssentConfigInput } from './schema.ts';

export const CONFIG_DIR = dirname(fileURLToPath(import.meta.url));
export const DEMO_CLIENTS_FILE = join(CONFIG_DIR, 'demo', 'clients.json');
export const DEMO_CUSTOMERS_FILE = join(CONFIG_DIR, 'demo', 'customers.json');

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** Environment variable → config path. The documented list; an unknown ASSENT_* variable is an error. */
const ENV_KEYS: Record<string, { path: string[]; parse?: (v: string) => unknown }> = {
  PORT: { path: ['port'] },
  HOST: { path: ['host'] },
  ISSUER: { path: ['issuer'] },
  TRUST_PROXY: { path: ['trustProxy'], parse: (v) => v === 'true' || v === '1' },
  ASSENT_ALLOW_HTTP_ISSUER: { path: ['allowHttpIssuer'], parse: (v) => v === 'true' || v === '1' },
  LOG_LEVEL: { path: ['logLevel'] },
  MONGODB_URI: { path: ['mongodb', 'uri'] },
  MONGODB_DATABASE: { path: ['mongodb', 'database'] },
  REDIS_URL: { path: ['redis', 'url'] },
  REDIS_PREFIX: { path: ['redis', 'prefix'] },
  REDIS_COMMAND_TIMEOUT_MS: { path: ['redis', 'commandTimeoutMs'], parse: Number },
  ASSENT_MODE: { path: ['mode'] },
  ASSENT_PROFILE: { path: ['profile'] },
  ASSENT_JWKS: { path: ['keys', 'jwks'], parse: parseJson('ASSENT_JWKS') },
  ASSENT_JWKS_FILE: { path: ['keys', 'jwksFile'] },
  ASSENT_COOKIE_KEYS: { path: ['keys', 'cookieKeys'], parse: (v) => v.split(',').map((s) => s.trim()).filter(Boolean) },
  ASSENT_DATA_KEYS: { path: ['keys', 'dataKeys'] },
  ASSENT_DATA_KEYS_FILE: { path: ['keys', 'dataKeysFile'] },
  ASSENT_CLIENTS_FILE: { path: ['clientsFile'] },
  ASSENT_CUSTOMERS_FILE: { path: ['customersFile'] },
  ASSENT_INTERNAL_API_USER: { path: ['internalApi', 'username'] },
  ASSENT_INTERNAL_API_PASSWORD: { path: ['internalApi', 'password'] },
  ASSENT_MAX_CONSENT_DAYS: { path: ['consent', 'maxValidityDays'], parse: Number },
  ASSENT_MAX_FREQUENCY_PER_DAY: { path: ['consent', 'maxFrequencyPerDay'], parse: Number },
  ASSENT_BANK_TIME_ZONE: { path: ['consent', 'bankTimeZone'] },
  ASSENT_LOGIN_REUSE_SECONDS: { path: ['authentication', 'loginReuseSeconds'], parse: Number },
};
/** ASSENT_* variables that are read elsewhere and are not configuration keys */
const ENV_NOT_CONFIG = new Set(['ASSENT_CONFIG', 'ASSENT_TOOLS_DIR']);

function parseJson(name: string) {
  return (v: string) => {
    try {
      return JSON.parse(v);
    } catch {
      throw new ConfigError([`${name}: not valid JSON`]);
    }
  };
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError([`${what}: ${path} is not valid JSON`]);
  }
}

function issues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${where ? `${where}.` : ''}${k}: unknown key`).join('; ');
    }
    return `${where || '(root)'}: ${issue.message}`;
  });
}

export interface LoadOptions {
  env?: Env;
  /** highest precedence; tests use this */
  overrides?: AssentConfigInput;
}

export function loadConfig({ env = process.env, overrides }: LoadOptions = {}): AssentConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];

  if (env.ASSENT_CONFIG) Object.assign(raw, readJsonFile(resolve(env.ASSENT_CONFIG), 'ASSENT_CONFIG'));

  if (env.NODE_ENV === 'production' && !env.ASSENT_MODE) raw.mode = 'production';
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const spec = ENV_KEYS[name];
    if (spec) {
      try {
        setPath(raw, spec.path, spec.parse ? spec.parse(value) : value);
      } catch (err) {
        if (err instanceof ConfigError) problems.push(...err.problems);
        else throw err;
      }
    } else if (name.startsWith('ASSENT_') && !ENV_NOT_CONFIG.has(name)) {
      problems.push(`${name}: unknown environment variable (see the Configuration section of README.md)`);
    }
  }
  if (overrides) deepMerge(raw, overrides as Record<string, unknown>);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) problems.push(...issues('', parsed.error));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = { ...parsed.data, profile: parsed.data.profile ?? (parsed.data.mode === 'production' ? 'fapi2' : 'demo') } as AssentConfig;
  // Without an explicit issuer, follow the port (PORT=4000 npm start → http://localhost:4000/connect).
  if (!raw.issuer) config.issuer = `http://localhost:${config.port}/connect`;

  // Demo fixtures: the demo TPP and demo customers, unless the caller brought their own.
  if (config.mode === 'demo') {
    config.clientsFile ??= config.clients.length === 0 ? DEMO_CLIENTS_FILE : undefined;
    config.customersFile ??= config.customers.length === 0 ? DEMO_CUSTOMERS_FILE : undefined;
  }
  if (config.clientsFile) {
    const list = z.array(clientSchema).safeParse(readJsonFile(config.clientsFile, 'clientsFile'));
    if (!list.success) throw new ConfigError(issues(`clientsFile(${config.clientsFile})`, list.error));
    // The demo TPP lives on this server: its redirect URI follows the issuer's origin.
    const demoOrigin = new URL(config.issuer).origin;
    const clients = config.clientsFile === DEMO_CLIENTS_FILE
      ? list.data.map((c) => ({
          ...c,
          redirect_uris: [...new Set(c.redirect_uris.map((u) => u.replace(/^http:\/\/(localhost|127\.0\.0\.1):3000/, demoOrigin)))],
        }))
      : list.data;
    config.clients = [...config.clients, ...clients];
  }
  if (config.customersFile) {
    const list = z.array(customerSchema).safeParse(readJsonFile(config.customersFile, 'customersFile'));
    if (!list.success) throw new ConfigError(issues(`customersFile(${config.customersFile})`, list.error));
    config.customers = [...config.customers, ...list.data];
  }
  if (config.keys.jwksFile && !config.keys.jwks) {
    const jwks = configSchema.shape.keys.unwrap().shape.jwks.safeParse(readJsonFile(config.keys.jwksFile, 'keys.jwksFile'));
    if (!jwks.success) throw new ConfigError(issues('keys.jwksFile', jwks.error));
    config.keys.jwks = jwks.data;
  }
  if (config.keys.dataKeysFile && !config.keys.dataKeys) {
    try {
      config.keys.dataKeys = readFileSync(config.keys.dataKeysFile, 'utf8');
    } catch {
      throw new ConfigError([`keys.dataKeysFile: cannot read ${config.keys.dataKeysFile}`]);
    }
  }

  assertConsistent(config);
  return config;
}

/** Rules that span several keys. */
function assertConsistent(config: AssentConfig): void {
  const problems: string[] = [];
  if (config.mode === 'production') {
    if (!config.mongodb.uri) problems.push('mongodb.uri (MONGODB_URI): required in production');
    if (!config.redis.url) problems.push('redis.url (REDIS_URL): required in production');
    if (!config.keys.jwks) problems.push('keys.jwks (ASSENT_JWKS or ASSENT_JWKS_FILE): signing keys are required in production');
    if (!config.keys.cookieKeys?.length) problems.push('keys.cookieKeys (ASSENT_COOKIE_KEYS): required in production');
    if (!config.keys.dataKeys) problems.push('keys.dataKeys (ASSENT_DATA_KEYS or ASSENT_DATA_KEYS_FILE): field-encryption keys are required in production');
    if (config.profile !== 'fapi2') problems.push('profile: production runs the fapi2 profile');
    if (new URL(config.issuer).protocol !== 'https:' && !config.allowHttpIssuer) {
      problems.push('issuer (ISSUER): production needs an https:// issuer (ASSENT_ALLOW_HTTP_ISSUER=true runs it anyway, with a warning)');
    }
  }
  if (config.clients.length === 0) {
    problems.push('clients (ASSENT_CLIENTS_FILE): no OAuth clients are configured, so no TPP could use this server');
  }
  const ids = new Set<string>();
  config.clients.forEach((client, i) => {
    const where = `clients[${i}] (${client.client_id})`;
    if (ids.has(client.client_id)) problems.push(`${where}: duplicate client_id`);
    ids.add(client.client_id);
    const secretAuth = client.token_endpoint_auth_method.startsWith('client_secret');
    if (secretAuth && config.profile === 'fapi2') {
      problems.push(`${where}: ${client.token_endpoint_auth_method} is not allowed in the fapi2 profile (use private_key_jwt or tls_client_auth)`);
    }
    if (secretAuth && !client.client_secret) problems.push(`${where}: client_secret is required for ${client.token_endpoint_auth_method}`);
    if (client.token_endpoint_auth_method === 'private_key_jwt' && !client.jwks && !client.jwks_uri) {
      problems.push(`${where}: private_key_jwt needs jwks or jwks_uri`);
    }
    if (client.token_endpoint_auth_method === 'tls_client_auth' && !client.tls_client_auth_subject_dn) {
      problems.push(`${where}: tls_client_auth needs tls_client_auth_subject_dn`);
    }
  });
  const usernames = new Set<string>();
  for (const customer of config.customers) {
    if (usernames.has(customer.username)) problems.push(`customers: duplicate username ${customer.username}`);
    usernames.add(customer.username);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) deepMerge(current, value);
    else target[key] = value;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
