/**
 * The field protector of the Redis oidc-provider adapter (see ./oidc-adapter.ts, `protector`): the same
 * data key ring as the MongoDB consent store (keys.dataKeys), with ids hashed exactly as given (no
 * normalisation: "abc " must never find "abc").
 *
 * Without keys.dataKeys (demo mode only; production refuses earlier) the ring is EPHEMERAL and shared by
 * every Assent of this process, so in-process instances on one Redis read each other's records; separate
 * processes on one Redis need a shared ASSENT_DATA_KEYS (like they need shared cookie and signing keys).
 */
import { randomBytes } from 'node:crypto';
import type { AssentConfig } from '../../../config/schema.ts';
import { createFieldProtector, type FieldProtector } from '../../crypto/field-protector.ts';
import { generateKeyRing, parseKeyRing, type KeyRing } from '../../crypto/key-ring.ts';
import { dataProtection } from '../mongo/protection.ts';

let processRing: KeyRing | undefined;

export function redisProtection(config: Pick<AssentConfig, 'mode' | 'keys'>): { protector: FieldProtector; ephemeral: boolean } {
  const { ephemeral } = dataProtection(config); // validates the ring (DataKeysError naming keys.dataKeys)
  const ring = ephemeral ? (processRing ??= generateKeyRing(`ephemeral-${randomBytes(4).toString('hex')}`)) : parseKeyRing(config.keys.dataKeys!);
  return { protector: createFieldProtector(ring, { normalisers: {}, fallback: (value) => value }), ephemeral };
}
