/**
 * Which accounts a persist body selects, as WSO2's default persist step reads them: `accountIds`,
 * `paymentAccount` and `cofAccount` in the body, and in `requestParameters` (the bank UI's form) the same
 * keys plus any key that is a permission uid from retrieve, whose values are the chosen accounts. A value
 * names an account by its id or by its display name, among the customer's accounts only.
 */
import type { ConsentPageData } from '../../steps/contracts.ts';
import { FsError } from './errors.ts';

const ACCOUNT_KEYS = ['accountIds', 'accounts', 'paymentAccount', 'cofAccount'] as const;

export interface SelectionInput {
  accountIds?: string[] | undefined;
  paymentAccount?: string | undefined;
  cofAccount?: string | undefined;
  requestParameters?: Record<string, string[]> | undefined;
}

/** The permission uid the retrieve answer groups the consent's permissions under. */
export const permissionGroupUid = (consentId: string) => consentId;

/** The selected accounts' ids; FsError(invalid_request) for a name that is no account of the customer's. */
export function selectedAccountIds(body: SelectionInput, data: ConsentPageData, consentId: string): string[] {
  const params = body.requestParameters ?? {};
  const permissionUids = new Set([permissionGroupUid(consentId), ...data.permissions.map((p) => p.uid)]);
  const named: string[] = [
    ...(body.accountIds ?? []),
    ...(body.paymentAccount !== undefined ? [body.paymentAccount] : []),
    ...(body.cofAccount !== undefined ? [body.cofAccount] : []),
    ...ACCOUNT_KEYS.flatMap((k) => params[k] ?? []),
    ...Object.entries(params).flatMap(([k, v]) => (permissionUids.has(k) ? v : [])),
  ];
  const ids = new Set<string>();
  for (const raw of named) {
    const name = raw.trim();
    if (name === '') continue;
    const byId = data.accounts.find((a) => a.accountId === name);
    const byName = byId ? [byId] : data.accounts.filter((a) => a.displayName === name);
    if (byName.length !== 1) {
      throw new FsError('invalid_request', byName.length === 0 ? 'One of the selected accounts is not available.' : 'An account display name is ambiguous; send account ids.');
    }
    // an account the page would not offer (a retrieval step made it unselectable) cannot be chosen here either
    if (!byName[0]!.selectable) throw new FsError('invalid_request', 'One of the selected accounts is not available for this request.');
    ids.add(byName[0]!.accountId);
  }
  if (!data.allowMultipleAccounts && ids.size > 1) throw new FsError('invalid_request', 'Only one account may be selected for this consent.');
  return [...ids];
}
