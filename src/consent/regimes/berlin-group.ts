/**
 * Berlin Group NextGenPSD2 consentStatus (account information consents).
 *
 *   createConsent
 *        │
 *        ▼
 *    received ──approve──────────────────────► valid ──revokeByPsu─────► revokedByPsu
 *        │                                       ├───terminateByTpp──► terminatedByTpp
 *        │                                       └───expire──────────► expired
 *        ├──deny | terminateByTpp | rejectStale──► rejected
 *        └──expire───────────────────────────────► expired
 *
 *   awaiting: received · active: valid · ended: rejected, revokedByPsu, terminatedByTpp, expired
 */
import { defineRegime } from '../regime.ts';
import { validateAccountConsentRequest } from '../validation.ts';

export const BERLIN_GROUP_STATUSES = ['received', 'rejected', 'valid', 'revokedByPsu', 'expired', 'terminatedByTpp'] as const;

export const berlinGroup = defineRegime({
  id: 'berlin-group',
  statuses: BERLIN_GROUP_STATUSES,
  initial: 'received',
  moves: {
    approve: { received: { to: 'valid' } },
    deny: { received: { to: 'rejected' } },
    terminateByTpp: { received: { to: 'rejected' }, valid: { to: 'terminatedByTpp' } },
    revokeByPsu: { valid: { to: 'revokedByPsu' } },
    expire: { received: { to: 'expired' }, valid: { to: 'expired' } },
    rejectStale: { received: { to: 'rejected' } },
  },
  awaiting: ['received'],
  active: ['valid'],
  ended: ['rejected', 'revokedByPsu', 'terminatedByTpp', 'expired'],
  expired: ['expired'],
  // `payments`: Berlin Group payment consents share this vocabulary; no API creates them yet
  consentTypes: { accounts: { validate: validateAccountConsentRequest }, payments: {} },
});
