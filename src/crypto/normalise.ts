/**
 * Normalisers turn the many spellings of one value into one, before it is blind-indexed: an index only
 * matches when stored value and search term normalise to the same string. Changing a field's normaliser
 * changes its indexes, so every stored index of that field must be recomputed (like a key change).
 */
import { isIP } from 'node:net';

export type Normaliser = (value: string) => string;

/** default: Unicode NFC (the same name typed on two systems) and surrounding whitespace */
export const text: Normaliser = (value) => value.normalize('NFC').trim();

/** IBAN, BBAN: "de89 3704 0044 0532 0130 00" == "DE89370400440532013000" */
export const compact: Normaliser = (value) => value.normalize('NFKC').replace(/\s+/g, '').toUpperCase();

/** CPF, card numbers: digits only ("123.456.789-09" == "12345678909") */
export const digits: Normaliser = (value) => value.replace(/[^0-9]/g, '');

/**
 * CPF and CNPJ: letters and digits, upper case. Not digits-only because CNPJs become alphanumeric in
 * Brazil from July 2026 ("12.ABC.345/01DE-35"); for numeric documents this equals `digits`.
 */
export const taxId: Normaliser = (value) => value.normalize('NFKC').toUpperCase().replace(/[^0-9A-Z]/g, '');

/** phone numbers (MSISDN): digits and a leading "+" */
export const phone: Normaliser = (value) => {
  const trimmed = value.trim();
  return (trimmed.startsWith('+') ? '+' : '') + trimmed.replace(/[^0-9]/g, '');
};

/**
 * IP addresses: IPv6 has many spellings of one address ("0:0::1" == "::1"); the WHATWG URL parser
 * prints the canonical one. Anything that is not an IP is only trimmed and lower-cased.
 */
export const ipAddress: Normaliser = (value) => {
  const trimmed = value.trim().toLowerCase();
  if (isIP(trimmed) === 6) {
    try {
      return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
    } catch {
      return trimmed;
    }
  }
  return trimmed;
};

/**
 * The normaliser per logical field name used when a protector is given none: the names the consent
 * model uses for its personal data. Unlisted fields use `text`.
 */
export const DEFAULT_NORMALISERS: Readonly<Record<string, Normaliser>> = Object.freeze({
  iban: compact,
  bban: compact,
  pan: digits,
  maskedPan: compact,
  msisdn: phone,
  document: taxId,
  cpf: taxId,
  cnpj: taxId,
  psuIpAddress: ipAddress,
});
