/**
 * What a consent lets its TPP see, in plain words for the customer, whatever its type: the Berlin Group
 * access items (./permissions.ts), the Open Finance Brasil data groups (./br-permissions.ts), or the one
 * payment of a payment consent.
 */
import { formatPaymentAmount, type BrPaymentConsentRequest } from './br-payment.ts';
import { groupsOf } from './br-permissions.ts';
import { describeAccess, type Locale } from './permissions.ts';
import type { Consent } from './types.ts';

export interface ConsentItem {
  code: string;
  title: string;
  detail?: string;
}

const INCLUDES: Record<Locale, string> = { en: 'Open Finance Brasil permissions', 'pt-BR': 'Permissões do Open Finance Brasil' };

const PAYMENT: Record<Locale, (amount: string, name: string) => string> = {
  en: (amount, name) => `A Pix payment of ${amount} to ${name}`,
  'pt-BR': (amount, name) => `Um pagamento Pix de ${amount} para ${name}`,
};

export function describeConsent(consent: Pick<Consent, 'type' | 'access' | 'details'>, locale: Locale): ConsentItem[] {
  if (consent.type === 'br-payment') {
    const request = consent.details as unknown as BrPaymentConsentRequest | undefined;
    if (!request?.payment) return [];
    return [{ code: 'payment', title: PAYMENT[locale](formatPaymentAmount(request.payment.amount, locale), request.creditor.name) }];
  }
  if (consent.type === 'br-data-sharing') {
    const permissions = consent.details?.permissions;
    const list = Array.isArray(permissions) ? permissions.filter((p): p is string => typeof p === 'string') : [];
    return groupsOf(list).map((group) => ({
      code: group.id,
      title: group.title[locale],
      detail: `${INCLUDES[locale]}: ${group.permissions.join(', ')}`,
    }));
  }
  return describeAccess(consent.access, locale).map((p) => ({ code: p.code, title: p.title, detail: p.detail }));
}
