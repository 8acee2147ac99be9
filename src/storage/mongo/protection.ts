/**
 * The field protector of the MongoDB consent store, built from the configuration:
 *
 *   keys.dataKeys set (ASSENT_DATA_KEYS, or read from ASSENT_DATA_KEYS_FILE)  → that key ring
 *   not set, demo mode                                                         → an EPHEMERAL random ring
 *   not set, production                                                        → refused (config/load.ts already does)
 *
 * The ephemeral ring keeps demo mode honest (the database never holds personal data in clear) at the
 * price the caller must shout about: whatever it encrypts into a persistent MongoDB is unreadable after
 * a restart, and searches on it find nothing.
 */
import { randomBytes } from 'node:crypto';
import type { AssentConfig } from '../../../config/schema.ts';
import { KeyRingError } from '../../crypto/errors.ts';
import { createFieldProtector, type FieldProtector } from '../../crypto/field-protector.ts';
import { generateKeyRing, parseKeyRing, type KeyRing } from '../../crypto/key-ring.ts';

/** The data key ring is unusable. The message starts with the configuration key (`keys.dataKeys: …`). */
export class DataKeysError extends Error {
  override readonly name = 'DataKeysError';
  readonly key = 'keys.dataKeys';
  /** every problem found, each naming its place in the key ring (never key material) */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source: string) {
    super(`keys.dataKeys: ${source} is not a usable key ring: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

export interface DataProtection {
  protector: FieldProtector;
  /** the ring was generated for this process: data written with it is unreadable after a restart */
  ephemeral: boolean;
  /** ids only, for a startup log line */
  ring: ReturnType<KeyRing['toJSON']>;
}

/** Builds the protector from `config.keys.dataKeys`; throws DataKeysError when the ring is unusable. */
export function dataProtection(config: Pick<AssentConfig, 'mode' | 'keys'>): DataProtection {
  const text = config.keys.dataKeys;
  const source = config.keys.dataKeysFile ? `the key ring in ${config.keys.dataKeysFile} (ASSENT_DATA_KEYS_FILE)` : 'ASSENT_DATA_KEYS';
  if (text === undefined || text.trim() === '') {
    if (config.mode === 'production') {
      throw new DataKeysError(['required in production (ASSENT_DATA_KEYS or ASSENT_DATA_KEYS_FILE)'], 'the configuration');
    }
    // a key id of its own per process: after a restart, reads fail with "key … is not in the key ring"
    const ring = generateKeyRing(`ephemeral-${randomBytes(4).toString('hex')}`);
    return { protector: createFieldProtector(ring), ephemeral: true, ring: ring.toJSON() };
  }
  let ring: KeyRing;
  try {
    ring = parseKeyRing(text);
  } catch (err) {
    if (err instanceof KeyRingError) {
      throw new DataKeysError(err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)), source);
    }
    throw err;
  }
  return { protector: createFieldProtector(ring), ephemeral: false, ring: ring.toJSON() };
}

/** The warning to log when `dataProtection` returned an ephemeral ring and a persistent store uses it. */
export const EPHEMERAL_KEYS_WARNING =
  'EPHEMERAL DATA KEYS: no ASSENT_DATA_KEYS is configured, so personal data in MongoDB is encrypted with random keys that ' +
  'exist only in this process. Data written now cannot be read after a restart (and is not found by searches). ' +
  'Set ASSENT_DATA_KEYS or ASSENT_DATA_KEYS_FILE to a key ring (production refuses to start without one).';
