/**
 * IBAN checks (ISO 13616): country code, the country's length from the SWIFT IBAN registry, and the
 * mod-97 check digits. The national BBAN structure is not checked: length + mod 97 already catches typos.
 */

/** IBAN length per country (SWIFT IBAN registry). Territories that use another country's code are covered by it. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** Electronic format: no spaces, upper case (accepts the paper format `DE89 3704 …`). */
export function normaliseIban(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

/** The remainder of the IBAN's rearranged numeric form modulo 97 (1 for a valid IBAN). */
export function ibanMod97(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    // letters count as two digits (A = 10 … Z = 35)
    const value = code >= 65 && code <= 90 ? code - 55 : code - 48;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder;
}

/** Why `iban` (electronic format) is not a valid IBAN, or null when it is. */
export function ibanProblem(iban: string): string | null {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(iban)) {
    return 'must be two letters, two check digits and letters or digits';
  }
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected === undefined) return `unknown IBAN country ${iban.slice(0, 2)}`;
  if (iban.length !== expected) return `an IBAN of ${iban.slice(0, 2)} has ${expected} characters, not ${iban.length}`;
  if (ibanMod97(iban) !== 1) return 'wrong check digits';
  return null;
}

export function isValidIban(iban: string): boolean {
  return ibanProblem(normaliseIban(iban)) === null;
}

/** Paper format for people: groups of four. */
export function formatIban(iban: string): string {
  return normaliseIban(iban).replace(/(.{4})(?=.)/g, '$1 ');
}
