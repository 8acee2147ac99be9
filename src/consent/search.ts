/**
 * What a ConsentQuery means, as pure functions: the search keys a consent is found by, whether a consent
 * matches a filter, and the sort order. The memory repository runs these; the MongoDB one translates the
 * same rules into a query, and the shared contract suite holds them to the same answers.
 *
 * - every filter field is optional and they combine with AND; an empty list (`status: []`) is no filter
 * - `status` is the stored status (the sweeper moves expired consents; effectiveStatus is for readers)
 * - `createdFrom`/`expiresFrom` are inclusive, `createdTo`/`expiresTo` exclusive
 * - `iban` matches an IBAN named in `access` or in `grantedAccounts` (any spacing or case)
 * - `document` matches a Brazilian CPF/CNPJ in `details` (punctuation ignored)
 * - ties in the sort field are broken by id, in the same direction
 * - `searchKeys` is not part of a consent: each repository matches it from the keys it keeps
 */
import { ibansOf } from './account-reference.ts';
import { normaliseIban } from './iban.ts';
import type { ConsentQuery, ConsentSortField } from './repository.ts';
import { isActive, isAwaiting, isEnded, isExpiredStatus } from './regimes/index.ts';
import type { Consent } from './types.ts';
import { termMonths } from './term.ts';

/** CPF/CNPJ without punctuation, upper case (the 2026 CNPJ is alphanumeric). */
export function normaliseDocument(document: string): string {
  return document.replace(/[^0-9a-zA-Z]/g, '').toUpperCase();
}

/**
 * The customer documents of an Open Finance Brasil consent: `details.loggedUser.document.identification`
 * and `details.businessEntity.document.identification`, as that API shapes them.
 */
export function documentsOf(details: Record<string, unknown> | undefined): string[] {
  const out = new Set<string>();
  for (const holder of ['loggedUser', 'businessEntity']) {
    const identification = dig(details, holder, 'document', 'identification');
    if (typeof identification === 'string' && identification !== '') out.add(normaliseDocument(identification));
  }
  return [...out];
}

export function grantedIbansOf(consent: Pick<Consent, 'grantedAccounts'>): string[] {
  const out = new Set<string>();
  for (const account of consent.grantedAccounts ?? []) if (account.iban) out.add(normaliseIban(account.iban));
  return [...out];
}

export function matchesQuery(consent: Consent, filter: ConsentQuery): boolean {
  if (filter.clientId !== undefined && consent.clientId !== filter.clientId) return false;
  if (filter.clientIds !== undefined && !filter.clientIds.includes(consent.clientId)) return false;
  if (filter.psuId !== undefined && consent.psuId !== filter.psuId) return false;
  if (filter.type?.length && !filter.type.includes(consent.type)) return false;
  if (filter.status?.length && !filter.status.includes(consent.status)) return false;
  if (filter.paymentScheduled !== undefined) {
    const payment = (consent.details as { payment?: { scheduled?: unknown } } | undefined)?.payment;
    if (consent.type !== 'br-payment' || payment?.scheduled !== filter.paymentScheduled) return false;
  }
  if (!inRange(consent.createdAt, filter.createdFrom, filter.createdTo)) return false;
  if (!inRange(consent.expiresAt, filter.expiresFrom, filter.expiresTo)) return false;
  if (filter.termMonths !== undefined && (consent.termMonths ?? termMonths(consent.createdAt, consent.expiresAt)) !== filter.termMonths) return false;
  if (filter.iban !== undefined) {
    const iban = normaliseIban(filter.iban);
    if (!ibansOf(consent.access).includes(iban) && !grantedIbansOf(consent).includes(iban)) return false;
  }
  if (filter.document !== undefined && !documentsOf(consent.details).includes(normaliseDocument(filter.document))) {
    return false;
  }
  if (filter.documents !== undefined) {
    const held = documentsOf(consent.details);
    if (!filter.documents.every((d) => held.includes(normaliseDocument(d)))) return false;
  }
  if (filter.activeDuring !== undefined && !wasActiveDuring(consent, filter.activeDuring)) return false;
  return true;
}

/**
 * See ConsentQuery.activeDuring. For every regime: active ones until `expiresAt`; ended ones that were
 * granted until they ended — by the clock at `expiresAt` (an expired status), otherwise at `updatedAt`.
 */
export function wasActiveDuring(consent: Consent, { from, to }: { from: Date; to: Date }): boolean {
  if (consent.grantId === undefined || consent.createdAt.getTime() > to.getTime()) return false;
  if (isActive(consent.status) || isExpiredStatus(consent.status)) return consent.expiresAt.getTime() > from.getTime();
  if (isEnded(consent.status)) {
    return consent.expiresAt.getTime() > from.getTime() && consent.updatedAt.getTime() >= from.getTime();
  }
  return false;
}

export function compareConsents(
  a: Consent,
  b: Consent,
  sort: ConsentSortField,
  direction: 'asc' | 'desc',
): number {
  const sign = direction === 'asc' ? 1 : -1;
  const byField = a[sort].getTime() - b[sort].getTime();
  if (byField !== 0) return sign * Math.sign(byField);
  return sign * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether the sweeper must look at the consent (see ConsentRepository.findDue). */
export function isDue(consent: Consent, now: Date, receivedBefore: Date): boolean {
  const open = isAwaiting(consent.status) || isActive(consent.status);
  return (
    (open && consent.expiresAt.getTime() <= now.getTime()) ||
    (isAwaiting(consent.status) && consent.createdAt.getTime() < receivedBefore.getTime())
  );
}

function inRange(value: Date, from: Date | undefined, to: Date | undefined): boolean {
  if (from !== undefined && value.getTime() < from.getTime()) return false;
  if (to !== undefined && value.getTime() >= to.getTime()) return false;
  return true;
}

function dig(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
