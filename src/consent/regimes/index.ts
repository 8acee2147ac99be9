/**
 * Every consent regime Assent speaks, and the questions the generic machinery asks about a status or a
 * consent type. A status means the same kind (awaiting, active, ended, expired) in every regime that has it
 * (Open Finance Brasil's data-sharing and payment consents share AWAITING_AUTHORISATION, AUTHORISED and
 * REJECTED; checked here at import), so a status alone says whether it is awaiting, active or ended.
 */
import type { Regime } from '../regime.ts';
import type { ConsentStatus, ConsentType } from '../types.ts';
import { berlinGroup } from './berlin-group.ts';
import { brazilDataSharing } from './brazil-data-sharing.ts';
import { brazilPayment } from './brazil-payment.ts';

export { berlinGroup, brazilDataSharing, brazilPayment };

export const REGIMES: readonly Regime<ConsentStatus>[] = [berlinGroup, brazilDataSharing, brazilPayment] as readonly Regime<string>[] as readonly Regime<ConsentStatus>[];

function kindOf(regime: Regime<ConsentStatus>, status: ConsentStatus): string {
  const kind = regime.awaiting.includes(status) ? 'awaiting' : regime.active.includes(status) ? 'active' : 'ended';
  return regime.expired.includes(status) ? `${kind} (expired)` : kind;
}

const BY_TYPE = new Map<ConsentType, Regime<ConsentStatus>>();
const BY_STATUS = new Map<ConsentStatus, Regime<ConsentStatus>>();
for (const regime of REGIMES) {
  for (const type of Object.keys(regime.consentTypes) as ConsentType[]) {
    if (BY_TYPE.has(type)) throw new Error(`consent type ${type} claimed by regimes ${BY_TYPE.get(type)!.id} and ${regime.id}`);
    BY_TYPE.set(type, regime);
  }
  for (const status of regime.statuses) {
    const earlier = BY_STATUS.get(status);
    if (earlier && kindOf(earlier, status) !== kindOf(regime, status)) {
      throw new Error(`status ${status} means ${kindOf(earlier, status)} in regime ${earlier.id} but ${kindOf(regime, status)} in ${regime.id}`);
    }
    if (!earlier) BY_STATUS.set(status, regime);
  }
}

/** The regime of a consent type; throws for a type no regime claims (it cannot have consents). */
export function regimeOf(type: ConsentType): Regime<ConsentStatus> {
  const regime = BY_TYPE.get(type);
  if (!regime) throw new Error(`no consent regime handles consent type ${type}`);
  return regime;
}

function regimeOfStatus(status: ConsentStatus): Regime<ConsentStatus> {
  const regime = BY_STATUS.get(status);
  if (!regime) throw new Error(`no consent regime has status ${status}`);
  return regime;
}

/** Waiting for the customer (approve, deny, authorisation steps; rejected when stale). */
export function isAwaiting(status: ConsentStatus): boolean {
  return regimeOfStatus(status).awaiting.includes(status);
}

/** Granted and usable: its tokens work. */
export function isActive(status: ConsentStatus): boolean {
  return regimeOfStatus(status).active.includes(status);
}

/** Ended, but its tokens are left to expire on their own (see RegimeDefinition.tokensOutlive). */
export function tokensOutlive(status: ConsentStatus): boolean {
  return (regimeOfStatus(status).tokensOutlive ?? []).includes(status);
}

/** Final: nothing changes it any more. */
export function isEnded(status: ConsentStatus): boolean {
  return regimeOfStatus(status).ended.includes(status);
}

/** Ended by the clock. */
export function isExpiredStatus(status: ConsentStatus): boolean {
  return regimeOfStatus(status).expired.includes(status);
}

/** Every status of every regime. */
export const CONSENT_STATUSES: readonly ConsentStatus[] = [...new Set(REGIMES.flatMap((r) => r.statuses))];

/** Every awaiting status of every regime (storage queries: the sweeper's stale consents). */
export const AWAITING_STATUSES: readonly ConsentStatus[] = [...new Set(REGIMES.flatMap((r) => r.awaiting))];
/** Every active status of every regime. */
export const ACTIVE_STATUSES: readonly ConsentStatus[] = [...new Set(REGIMES.flatMap((r) => r.active))];
/** Every ended status of every regime. */
export const ENDED_STATUSES: readonly ConsentStatus[] = [...new Set(REGIMES.flatMap((r) => r.ended))];
/** Every status of every regime that means "ended by the clock". */
export const EXPIRED_STATUSES: readonly ConsentStatus[] = [...new Set(REGIMES.flatMap((r) => r.expired))];
/** Not ended yet: what the clock can still end (the sweeper's expiry). */
export const OPEN_STATUSES: readonly ConsentStatus[] = [...AWAITING_STATUSES, ...ACTIVE_STATUSES];
