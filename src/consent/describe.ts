/**
 * What a consent lets its TPP see, in plain words for the customer, whatever its type: the Berlin Group
 * access items (./permissions.ts), or the Open Finance Brasil data groups (./br-permissions.ts).
 */
import { groupsOf } from './br-permissions.ts';
import { describeAccess, type Locale } from './permissions.ts';
import type { Consent } from './types.ts';

export interface ConsentItem {
  code: string;
  title: string;
  detail?: string;
}

const INCLUDES: Record<Locale, string> = { en: 'Open Finance Brasil permissions', 'pt-BR': 'Permissões do Open Finance Brasil' };

export function describeConsent(consent: Pick<Consent, 'type' | 'access' | 'details'>, locale: Locale): ConsentItem[] {
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
