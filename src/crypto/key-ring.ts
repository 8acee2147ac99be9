/**
 * The key ring: a rotating set of named AES-256 encryption keys plus ONE blind-index HMAC key.
 *
 * Why two kinds: an encrypted value names its key id, so old values keep decrypting after a new key
 * becomes `current`. A blind index names no key and must be recomputed identically at query time, so
 * its key cannot rotate with the encryption keys without breaking every equality search; changing it
 * means recomputing every stored index (a migration, not a config edit).
 *
 * Configuration text (JSON, usually from a secret store or an environment variable):
 *
 *   { "current": "k2",
 *     "encryptionKeys": { "k1": "<base64 of 32 bytes>", "k2": "<base64 of 32 bytes>" },
 *     "blindIndexKey": "<base64 of 32 bytes>" }
 *
 * Rotation: add a new key, make it `current`, let `reencrypt` / `needsRotation` move old values over,
 * then drop the old key. Key bytes live only in KeyObjects held in private fields; JSON, toString and
 * util.inspect of a ring show ids only.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { z } from 'zod';
import { KeyRingError } from './errors.ts';

export const KEY_BYTES = 32;

/** Key ids appear inside stored values (`enc:v1:<kid>:…`), so they avoid the format's separators. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Strict base64 (standard or url alphabet, padding optional): Buffer.from(…, 'base64') silently skips
 * junk characters, which would let a truncated or mangled secret through as a shorter key.
 */
function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  const canonical = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  return bytes.toString('base64').replace(/=+$/, '') === canonical ? bytes : null;
}

/** A message about a key that says what is wrong with it without repeating any of it. */
function keyProblem(label: string, text: string): string | null {
  const bytes = decodeBase64(text.trim());
  if (bytes === null) return `${label} is not valid base64 (expected ${KEY_BYTES} random bytes in base64)`;
  if (bytes.length !== KEY_BYTES) {
    return `${label} must be ${KEY_BYTES} bytes (256 bits) in base64, but it decodes to ${bytes.length} bytes`;
  }
  return null;
}

/**
 * The configuration schema (zod v4). It checks shape and content but does not transform, so it can be
 * embedded in the application's config schema as is; `keyRingFromConfig` turns it into a KeyRing.
 */
export const KeyRingConfigSchema = z
  .strictObject({
    /** the id of the encryption key used for new values; must be one of `encryptionKeys` */
    current: z.string({
      error: (issue) =>
        issue.input === undefined
          ? 'current is required: the id of the encryption key that encrypts new values'
          : 'current must be a key id (string)',
    }),
    /** key id → base64 of 32 random bytes; keep retired keys here until no value uses them */
    encryptionKeys: z.record(z.string(), z.string({ error: 'must be a base64 string of 32 bytes' }), {
      error: (issue) =>
        issue.input === undefined
          ? 'encryptionKeys is required: an object of key id → base64 key'
          : 'encryptionKeys must be an object of key id → base64 key',
    }),
    /** base64 of 32 random bytes; never rotates with the encryption keys (see the module comment) */
    blindIndexKey: z.string({
      error: (issue) =>
        issue.input === undefined ? 'blindIndexKey is required: base64 of 32 random bytes' : 'blindIndexKey must be a base64 string',
    }),
  })
  .superRefine((config, ctx) => {
    const ids = Object.keys(config.encryptionKeys);
    if (ids.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['encryptionKeys'], message: 'encryptionKeys must hold at least one key' });
    }
    const seen = new Map<string, string>();
    for (const [kid, text] of Object.entries(config.encryptionKeys)) {
      if (!KEY_ID_PATTERN.test(kid)) {
        ctx.addIssue({
          code: 'custom',
          path: ['encryptionKeys', kid],
          message: `key id "${kid}" may only use letters, digits, "_" and "-" (1 to 32 characters)`,
        });
      }
      const problem = keyProblem(`encryption key "${kid}"`, text);
      if (problem) {
        ctx.addIssue({ code: 'custom', path: ['encryptionKeys', kid], message: problem });
        continue;
      }
      // The same secret under two ids would make a "rotation" that changes nothing.
      const canonical = decodeBase64(text.trim())!.toString('hex');
      const twin = seen.get(canonical);
      if (twin !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['encryptionKeys', kid],
          message: `encryption keys "${twin}" and "${kid}" are the same key; each id needs its own random key`,
        });
      }
      seen.set(canonical, kid);
    }
    const biProblem = keyProblem('blindIndexKey', config.blindIndexKey);
    if (biProblem) {
      ctx.addIssue({ code: 'custom', path: ['blindIndexKey'], message: biProblem });
    } else {
      // One key for both AES-GCM and HMAC would tie two independent security arguments together.
      const twin = seen.get(decodeBase64(config.blindIndexKey.trim())!.toString('hex'));
      if (twin !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['blindIndexKey'],
          message: `blindIndexKey must differ from the encryption keys (it equals "${twin}")`,
        });
      }
    }
    if (ids.length > 0 && !Object.hasOwn(config.encryptionKeys, config.current)) {
      ctx.addIssue({
        code: 'custom',
        path: ['current'],
        message: `current key "${config.current}" is not one of the encryption keys (${ids.map((id) => `"${id}"`).join(', ')})`,
      });
    }
  });

export type KeyRingConfig = z.infer<typeof KeyRingConfigSchema>;

/**
 * A public, non-secret name for the blind-index key, derived from it (HMAC of a constant, 48 bits):
 * a repository can record which key built its indexes and notice at startup that the key changed.
 */
function blindIndexKeyIdOf(key: KeyObject): string {
  return 'bi-' + createHmac('sha256', key).update('assent:blind-index:key-id:v1').digest().subarray(0, 6).toString('base64url');
}

export class KeyRing {
  /** the id of the key that encrypts new values */
  readonly current: string;
  /** derived from the blind-index key; see blindIndexKeyIdOf */
  readonly blindIndexKeyId: string;
  readonly #encryptionKeys: ReadonlyMap<string, KeyObject>;
  readonly #blindIndexKey: KeyObject;

  /** Prefer keyRingFromConfig, parseKeyRing or generateKeyRing, which validate the key material. */
  constructor(current: string, encryptionKeys: ReadonlyMap<string, KeyObject>, blindIndexKey: KeyObject) {
    if (!encryptionKeys.has(current)) {
      throw new KeyRingError([{ path: 'current', message: `current key "${current}" is not one of the encryption keys` }]);
    }
    for (const [kid, key] of encryptionKeys) {
      if (!KEY_ID_PATTERN.test(kid) || key.type !== 'secret' || key.symmetricKeySize !== KEY_BYTES) {
        throw new KeyRingError([{ path: `encryptionKeys.${kid}`, message: `encryption key "${kid}" must be a ${KEY_BYTES}-byte secret key with a valid id` }]);
      }
    }
    if (blindIndexKey.type !== 'secret' || blindIndexKey.symmetricKeySize !== KEY_BYTES) {
      throw new KeyRingError([{ path: 'blindIndexKey', message: `blindIndexKey must be a ${KEY_BYTES}-byte secret key` }]);
    }
    this.current = current;
    this.#encryptionKeys = new Map(encryptionKeys);
    this.#blindIndexKey = blindIndexKey;
    this.blindIndexKeyId = blindIndexKeyIdOf(blindIndexKey);
  }

  /** every encryption key id, in configuration order */
  get encryptionKeyIds(): string[] {
    return [...this.#encryptionKeys.keys()];
  }

  hasEncryptionKey(kid: string): boolean {
    return this.#encryptionKeys.has(kid);
  }

  /** the key for `kid`, or undefined when the ring does not hold it */
  encryptionKey(kid: string): KeyObject | undefined {
    return this.#encryptionKeys.get(kid);
  }

  currentEncryptionKey(): KeyObject {
    return this.#encryptionKeys.get(this.current)!;
  }

  blindIndexKey(): KeyObject {
    return this.#blindIndexKey;
  }

  /** ids only: a ring that ends up in a log line or an API response must not leak keys */
  toJSON(): { current: string; encryptionKeyIds: string[]; blindIndexKeyId: string } {
    return { current: this.current, encryptionKeyIds: this.encryptionKeyIds, blindIndexKeyId: this.blindIndexKeyId };
  }

  toString(): string {
    return `KeyRing(current=${this.current}, encryptionKeys=${this.encryptionKeyIds.join(',')}, blindIndexKey=${this.blindIndexKeyId})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Validates `input` against KeyRingConfigSchema and builds the ring; throws KeyRingError listing every problem. */
export function keyRingFromConfig(input: unknown): KeyRing {
  const result = KeyRingConfigSchema.safeParse(input);
  if (!result.success) {
    // Only path and message are kept: they are ours or zod's, and neither repeats the input.
    throw new KeyRingError(result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));
  }
  const config = result.data;
  const keys = new Map<string, KeyObject>();
  for (const [kid, text] of Object.entries(config.encryptionKeys)) keys.set(kid, secretKeyFrom(text));
  return new KeyRing(config.current, keys, secretKeyFrom(config.blindIndexKey));
}

/** Parses configuration text (JSON) into a ring; see the module comment for the format. */
export function parseKeyRing(text: string): KeyRing {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text around the error, which may be key material: not kept, no cause.
    throw new KeyRingError([{ path: '', message: 'key ring configuration is not valid JSON' }]);
  }
  return keyRingFromConfig(input);
}

/**
 * A fresh configuration with random keys, e.g. for a script that prints one to put in a secret store.
 * This is the only function that hands out key material, by design: it has never been anyone's key yet.
 */
export function generateKeyRingConfig(kid = 'k1'): KeyRingConfig {
  return {
    current: kid,
    encryptionKeys: { [kid]: randomBytes(KEY_BYTES).toString('base64') },
    blindIndexKey: randomBytes(KEY_BYTES).toString('base64'),
  };
}

/**
 * An ephemeral ring for demo mode and tests: random keys that live as long as the process.
 * Anything it encrypts into a persistent store is unreadable after a restart.
 */
export function generateKeyRing(kid = 'k1'): KeyRing {
  return keyRingFromConfig(generateKeyRingConfig(kid));
}

function secretKeyFrom(text: string): KeyObject {
  const bytes = decodeBase64(text.trim())!;
  const key = createSecretKey(bytes);
  bytes.fill(0); // createSecretKey copied it; do not leave a second copy for the GC to keep around
  return key;
}
