/** Deterministic key material for the crypto tests: recognisable bytes, so a leak is easy to spot. */
import { keyRingFromConfig, type KeyRing } from '../../src/crypto/key-ring.ts';

export const keyBytes = (fill: number, length = 32): Buffer => Buffer.alloc(length, fill);
export const b64 = (fill: number, length = 32): string => keyBytes(fill, length).toString('base64');

export const K1 = b64(0x11);
export const K2 = b64(0x22);
export const BI = b64(0x99);

/** ring A: only k1 */
export const ringA = (): KeyRing => keyRingFromConfig({ current: 'k1', encryptionKeys: { k1: K1 }, blindIndexKey: BI });
/** ring B: k1 and k2, k2 current */
export const ringB = (): KeyRing => keyRingFromConfig({ current: 'k2', encryptionKeys: { k1: K1, k2: K2 }, blindIndexKey: BI });
/** ring C: k1 retired */
export const ringC = (): KeyRing => keyRingFromConfig({ current: 'k2', encryptionKeys: { k2: K2 }, blindIndexKey: BI });

/** every spelling of a key that must never appear in a message, a JSON or an inspect output */
export function spellings(fill: number): string[] {
  const bytes = keyBytes(fill);
  return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), bytes.toString('base64').slice(0, 16)];
}
