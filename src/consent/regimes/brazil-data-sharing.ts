/**
 * Open Finance Brasil data-sharing consents (Consents API 3.3.1): three statuses, and a `rejection`
 * ({rejectedBy, reason.code}) that says why a consent ended.
 *
 *   createConsent
 *        │
 *        ▼
 *   AWAITING_AUTHORISATION ──approve──► AUTHORISED
 *        │                                  │
 *        │ deny            USER   CUSTOMER_MANUALLY_REJECTED
 *        │ terminateByTpp  USER   CUSTOMER_MANUALLY_REJECTED
 *        │ rejectStale     ASPSP  CONSENT_EXPIRED   (60 minutes without authorisation)
 *        │ expire          ASPSP  CONSENT_EXPIRED
 *        ▼                                  │
 *     REJECTED ◄────────────────────────────┘
 *                 revokeByPsu     USER   CUSTOMER_MANUALLY_REVOKED  (My consents, or the bank for the customer)
 *                 terminateByTpp  USER   CUSTOMER_MANUALLY_REVOKED  (DELETE: the customer revoked at the TPP)
 *                 expire          ASPSP  CONSENT_MAX_DATE_REACHED   (expirationDateTime passed)
 *
 *   awaiting: AWAITING_AUTHORISATION · active: AUTHORISED · ended: REJECTED
 *   A caller may record a more precise rejection with the move (a CPF mismatch at approval is a denial
 *   by the bank: ASPSP, INTERNAL_SECURITY_REASON).
 */
import { validateBrDataSharingRequest } from '../br-validation.ts';
import { defineRegime } from '../regime.ts';
import type { Rejection } from '../types.ts';

export const BR_DATA_SHARING_STATUSES = ['AWAITING_AUTHORISATION', 'AUTHORISED', 'REJECTED'] as const;

const rejected = (rejectedBy: Rejection['rejectedBy'], code: string) =>
  ({ to: 'REJECTED', rejection: { rejectedBy, reason: { code } } }) as const;

export const brazilDataSharing = defineRegime({
  id: 'br-data-sharing',
  statuses: BR_DATA_SHARING_STATUSES,
  initial: 'AWAITING_AUTHORISATION',
  moves: {
    approve: { AWAITING_AUTHORISATION: { to: 'AUTHORISED' } },
    deny: { AWAITING_AUTHORISATION: rejected('USER', 'CUSTOMER_MANUALLY_REJECTED') },
    terminateByTpp: {
      AWAITING_AUTHORISATION: rejected('USER', 'CUSTOMER_MANUALLY_REJECTED'),
      AUTHORISED: rejected('USER', 'CUSTOMER_MANUALLY_REVOKED'),
    },
    revokeByPsu: { AUTHORISED: rejected('USER', 'CUSTOMER_MANUALLY_REVOKED') },
    expire: {
      AWAITING_AUTHORISATION: rejected('ASPSP', 'CONSENT_EXPIRED'),
      AUTHORISED: rejected('ASPSP', 'CONSENT_MAX_DATE_REACHED'),
    },
    rejectStale: { AWAITING_AUTHORISATION: rejected('ASPSP', 'CONSENT_EXPIRED') },
  },
  awaiting: ['AWAITING_AUTHORISATION'],
  active: ['AUTHORISED'],
  ended: ['REJECTED'],
  expired: [],
  consentTypes: { 'br-data-sharing': { validate: validateBrDataSharingRequest } },
});
