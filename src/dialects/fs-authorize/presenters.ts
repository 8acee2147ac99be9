/**
 * The retrieve answer in WSO2's shape (the seed's sample): one permission entry with a uid and the
 * permission names, `basicConsentData` with WSO2's labels, `application` the client id, `consumerData`
 * the customer's accounts; plus the current WSO2 contract's optional fields (`initiatedAccountsForConsent`,
 * `isReauthorization`, `consentMetadata`, `additionalData`). Assent's extras live in `additionalData`.
 */
import type { ConsentPageData } from '../../steps/contracts.ts';
import type { PendingApproval } from '../../steps/approval.ts';
import { isGlobalAccess } from '../../steps/defaults.ts';
import { permissionGroupUid } from './selection.ts';

export function retrieveResponse(pending: PendingApproval, data: ConsentPageData) {
  const c = pending.consent;
  const initiated = isGlobalAccess(c.access) ? [] : data.accounts.filter((a) => a.selectable);
  return {
    consentData: {
      permissions: [{ uid: permissionGroupUid(c.id), displayValues: [...new Set(data.permissions.flatMap((p) => p.displayValues))] }],
      allowMultipleAccounts: data.allowMultipleAccounts,
      type: data.type,
      basicConsentData: data.basicConsentData,
      initiatedAccountsForConsent: initiated.map((a) => ({ accountId: a.accountId, displayName: a.displayName })),
      isReauthorization: false,
      consentMetadata: {},
      additionalData: {
        consentId: c.id,
        validUntil: c.validUntil,
        frequencyPerDay: c.frequencyPerDay,
        recurringIndicator: c.recurringIndicator,
        permissions: data.permissions.map((p) => ({ uid: p.uid, code: p.code, title: p.title, ...(p.detail ? { detail: p.detail } : {}) })),
        notices: data.notices,
        extra: data.extra,
      },
    },
    application: pending.client.clientId,
    applicationName: pending.client.name,
    consumerData: {
      accounts: data.accounts.map((a) => ({
        accountId: a.accountId,
        displayName: a.displayName,
        selected: a.selected,
        selectable: a.selectable,
        iban: a.iban,
        currency: a.currency,
      })),
    },
    type: data.type,
  };
}
