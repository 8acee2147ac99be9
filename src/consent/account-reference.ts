/**
 * Berlin Group account references: which identifier a reference uses, when two references mean the same
 * account, and the accounts an `access` covers.
 */
import { normaliseIban } from './iban.ts';
import type { AccountAccess, AccountReference } from './types.ts';

export const ACCOUNT_IDENTIFIERS = ['iban', 'bban', 'pan', 'maskedPan', 'msisdn'] as const;
export type AccountIdentifierKind = (typeof ACCOUNT_IDENTIFIERS)[number];

/** The identifiers a reference sets (a valid reference sets exactly one). */
export function identifiersOf(ref: AccountReference): AccountIdentifierKind[] {
  return ACCOUNT_IDENTIFIERS.filter((kind) => ref[kind] !== undefined);
}

/** The reference's identifier, or undefined when it has none or more than one. */
export function identifierOf(ref: AccountReference): { kind: AccountIdentifierKind; value: string } | undefined {
  const kinds = identifiersOf(ref);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined) return undefined;
  const value = ref[kind] as string;
  return { kind, value: kind === 'iban' ? normaliseIban(value) : value };
}

/** A stable key for the account (identifier, clearing number, currency), to compare and deduplicate references. */
export function referenceKey(ref: AccountReference): string {
  const id = identifierOf(ref);
  return `${id?.kind ?? '?'}:${id?.value ?? ''}:${ref.clearingNumber ?? ''}:${ref.currency ?? ''}`;
}

/**
 * Whether `granted` covers `wanted`: same identifier, and either the same currency or `granted` names no
 * currency (a reference without currency means every sub-account of a multi-currency account).
 */
export function covers(granted: AccountReference, wanted: AccountReference): boolean {
  const a = identifierOf(granted);
  const b = identifierOf(wanted);
  if (!a || !b || a.kind !== b.kind || a.value !== b.value) return false;
  if (granted.clearingNumber !== undefined && granted.clearingNumber !== wanted.clearingNumber) return false;
  return granted.currency === undefined || granted.currency === wanted.currency;
}

/** References in order of first appearance, without repeats. */
export function uniqueReferences(...lists: Array<readonly AccountReference[] | undefined>): AccountReference[] {
  const seen = new Set<string>();
  const out: AccountReference[] = [];
  for (const list of lists) {
    for (const ref of list ?? []) {
      const key = referenceKey(ref);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(ref);
      }
    }
  }
  return out;
}

/**
 * The accounts whose details the consent grants. Berlin Group: accounts listed under balances or
 * transactions get account access too, so this is accounts ∪ balances ∪ transactions.
 */
export function accountsInScope(access: AccountAccess): AccountReference[] {
  return uniqueReferences(access.accounts, access.balances, access.transactions);
}

/** Every IBAN the access names (electronic format, no repeats). */
export function ibansOf(access: AccountAccess): string[] {
  const ibans = new Set<string>();
  for (const ref of accountsInScope(access)) if (ref.iban !== undefined) ibans.add(normaliseIban(ref.iban));
  return [...ibans];
}
