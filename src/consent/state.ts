/**
 * The consent and authorisation state machines: pure functions from (consent, intent, context) to the
 * ConsentChange a repository applies atomically. No I/O; ids and the clock come in through the context.
 *
 * Consent status (Berlin Group consentStatus)
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
 *   Final: rejected, revokedByPsu, terminatedByTpp, expired; they never change. Ending an ended consent
 *   again (terminateByTpp, revokeByPsu, expire, rejectStale, sweep) is a no-op: null, no second history
 *   entry. A received or valid consent past expiresAt reads as expired (effectiveStatus): ending it records
 *   the expiry (actor system), and every other intent fails with ConsentExpired.
 *
 * Authorisation scaStatus (Berlin Group scaStatus)
 *
 *   startAuthorisation
 *        │
 *        ▼
 *     started ──selectScaMethod (redirect: the TPP picks the method by PUT)──┐
 *        │                                                                   ▼
 *        └──► psuIdentified ──► psuAuthenticated ──selectScaMethod──► scaMethodSelected ──approve──► finalised
 *    received ──┘
 *
 *   Every non-final status ──deny | advanceAuthorisation──► failed.
 *   Final: finalised, failed, exempted. Authorisations change only while the consent is received.
 */
import { endOfDate, isoDate } from './dates.ts';
import {
  AuthorisationNotFound,
  AuthorisationStateConflict,
  ConsentExpired,
  ConsentStateConflict,
  PsuMismatch,
} from './errors.ts';
import type {
  AccountAccess,
  Actor,
  Authorisation,
  Consent,
  ConsentChange,
  ConsentStatus,
  ConsentType,
  GrantedAccount,
  ScaStatus,
  StatusChange,
} from './types.ts';

export const CONSENT_TRANSITIONS: Readonly<Record<ConsentStatus, readonly ConsentStatus[]>> = {
  received: ['valid', 'rejected', 'expired'],
  valid: ['revokedByPsu', 'terminatedByTpp', 'expired'],
  rejected: [],
  revokedByPsu: [],
  expired: [],
  terminatedByTpp: [],
};

export const SCA_TRANSITIONS: Readonly<Record<ScaStatus, readonly ScaStatus[]>> = {
  received: ['psuIdentified', 'failed'],
  started: ['psuIdentified', 'scaMethodSelected', 'failed'],
  psuIdentified: ['psuAuthenticated', 'failed'],
  psuAuthenticated: ['scaMethodSelected', 'failed'],
  scaMethodSelected: ['finalised', 'failed'],
  finalised: [],
  failed: [],
  exempted: [],
};

export function canTransition(from: ConsentStatus, to: ConsentStatus): boolean {
  return CONSENT_TRANSITIONS[from].includes(to);
}

export function canTransitionSca(from: ScaStatus, to: ScaStatus): boolean {
  return SCA_TRANSITIONS[from].includes(to);
}

export function isFinal(status: ConsentStatus): boolean {
  return CONSENT_TRANSITIONS[status].length === 0;
}

export function isFinalSca(status: ScaStatus): boolean {
  return SCA_TRANSITIONS[status].length === 0;
}

/** The status as callers must see it: a received or valid consent past `expiresAt` is expired. */
export function effectiveStatus(consent: Pick<Consent, 'status' | 'expiresAt'>, now: Date): ConsentStatus {
  return !isFinal(consent.status) && isPastExpiry(consent, now) ? 'expired' : consent.status;
}

/** Clock, cause and trace of a change. `actor` defaults to the one the intent implies. */
export interface ChangeContext {
  now: Date;
  actor?: Actor;
  /** recorded as the history entry's `by` */
  by?: string;
  reason?: string;
  requestId?: string;
}

/** A context that can also mint ids (crypto.randomUUID in production; the domain does not call it itself). */
export interface CreateContext extends ChangeContext {
  newId(): string;
}

export interface NewConsent {
  clientId: string;
  /** default `accounts` */
  type?: ConsentType;
  access: AccountAccess;
  recurringIndicator: boolean;
  /** YYYY-MM-DD, already capped (see validation.ts) */
  validUntil: string;
  /** default: the end of `validUntil` (UTC); types with a time of expiry (Brazil) pass it */
  expiresAt?: Date;
  frequencyPerDay: number;
  combinedServiceIndicator: boolean;
  psuId?: string;
  psuIpAddress?: string;
  details?: Record<string, unknown>;
}

export function createConsent(input: NewConsent, ctx: CreateContext): Consent {
  const consent: Consent = {
    id: ctx.newId(),
    clientId: input.clientId,
    type: input.type ?? 'accounts',
    access: structuredClone(input.access),
    recurringIndicator: input.recurringIndicator,
    validUntil: input.validUntil,
    expiresAt: new Date((input.expiresAt ?? endOfDate(input.validUntil)).getTime()),
    frequencyPerDay: input.frequencyPerDay,
    combinedServiceIndicator: input.combinedServiceIndicator,
    status: 'received',
    lastActionDate: isoDate(ctx.now),
    createdAt: ctx.now,
    updatedAt: ctx.now,
    history: [historyEntry(null, 'received', ctx, 'TPP')],
    authorisations: [],
    revision: 0,
  };
  if (input.psuId !== undefined) consent.psuId = input.psuId;
  if (input.psuIpAddress !== undefined) consent.psuIpAddress = input.psuIpAddress;
  if (input.details !== undefined) consent.details = structuredClone(input.details);
  return consent;
}

/**
 * TPP DELETE: valid → terminatedByTpp, received → rejected. Null when the consent has already ended
 * (DELETE is idempotent); records the expiry when validUntil has passed.
 */
export function terminateByTpp(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (isPastExpiry(consent, ctx.now)) return expiryChange(consent, ctx);
  const to = consent.status === 'valid' ? 'terminatedByTpp' : 'rejected';
  return statusChange(consent, to, 'terminateByTpp', ctx, 'TPP');
}

/** The PSU withdraws a granted consent: valid → revokedByPsu. Null when it has already ended. */
export function revokeByPsu(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (isPastExpiry(consent, ctx.now)) return expiryChange(consent, ctx);
  return statusChange(consent, 'revokedByPsu', 'revokeByPsu', ctx, 'PSU');
}

/** received | valid → expired once `expiresAt` has passed. Null when it has already ended. */
export function expire(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (!isPastExpiry(consent, ctx.now)) {
    throw new ConsentStateConflict(consent.id, consent.status, 'expire', {
      message: `consent ${consent.id} is valid until ${consent.expiresAt.toISOString()}`,
    });
  }
  return expiryChange(consent, ctx);
}

/** A consent never authorised in time: received → rejected (actor system). Null when it has already ended. */
export function rejectStale(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (isPastExpiry(consent, ctx.now)) return expiryChange(consent, ctx);
  return statusChange(consent, 'rejected', 'rejectStale', ctx, 'system', {}, 'not authorised in time');
}

/**
 * What the sweeper does with a consent from `findDue`: expire it when past `expiresAt`, reject it when still
 * received and created before `receivedBefore`, otherwise nothing (null).
 */
export function sweep(consent: Consent, receivedBefore: Date, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (isPastExpiry(consent, ctx.now)) return expiryChange(consent, ctx);
  if (consent.status === 'received' && consent.createdAt.getTime() < receivedBefore.getTime()) {
    return rejectStale(consent, ctx);
  }
  return null;
}

export interface Approval {
  authorisationId: string;
  psuId: string;
  grantedAccounts: GrantedAccount[];
  grantId: string;
}

/**
 * The PSU approves: received → valid with the PSU, the chosen accounts and the grant, and the authorisation
 * scaMethodSelected → finalised, in one change.
 */
export function approve(consent: Consent, approval: Approval, ctx: ChangeContext): ConsentChange {
  requireAwaiting(consent, 'approve', ctx.now);
  if (consent.psuId !== undefined && consent.psuId !== approval.psuId) throw new PsuMismatch(consent.id);
  const authorisations = moveAuthorisation(consent, approval.authorisationId, 'finalised', 'approve', ctx, 'PSU');
  return statusChange(consent, 'valid', 'approve', ctx, 'PSU', {
    psuId: approval.psuId,
    grantedAccounts: structuredClone(approval.grantedAccounts),
    grantId: approval.grantId,
    authorisations,
  });
}

/** The PSU refuses (or SCA fails for good): received → rejected and the authorisation → failed, in one change. */
export function deny(consent: Consent, decision: { authorisationId: string }, ctx: ChangeContext): ConsentChange {
  requireAwaiting(consent, 'deny', ctx.now);
  const authorisations = moveAuthorisation(consent, decision.authorisationId, 'failed', 'deny', ctx, 'PSU');
  return statusChange(consent, 'rejected', 'deny', ctx, 'PSU', { authorisations });
}

/** A new authorisation sub-resource in scaStatus `started`; only while the consent is received. */
export function startAuthorisation(
  consent: Consent,
  ctx: CreateContext,
): { change: ConsentChange; authorisation: Authorisation } {
  requireAwaiting(consent, 'startAuthorisation', ctx.now);
  const authorisation: Authorisation = {
    id: ctx.newId(),
    scaStatus: 'started',
    createdAt: ctx.now,
    updatedAt: ctx.now,
    history: [scaEntry(null, 'started', ctx, 'TPP')],
  };
  return {
    change: fieldChange(consent, ctx, { authorisations: [...consent.authorisations, authorisation] }),
    authorisation,
  };
}

/** The TPP chose the SCA method: started | psuAuthenticated → scaMethodSelected. */
export function selectScaMethod(
  consent: Consent,
  selection: { authorisationId: string; scaMethodId: string },
  ctx: ChangeContext,
): ConsentChange {
  requireAwaiting(consent, 'selectScaMethod', ctx.now);
  const authorisations = moveAuthorisation(
    consent,
    selection.authorisationId,
    'scaMethodSelected',
    'selectScaMethod',
    ctx,
    'TPP',
    { scaMethodId: selection.scaMethodId },
  );
  return fieldChange(consent, ctx, { authorisations });
}

/**
 * Any other SCA step (embedded flows: psuIdentified, psuAuthenticated; or failed without rejecting the
 * consent, so the TPP may start another authorisation). `finalised` only comes with `approve`.
 */
export function advanceAuthorisation(
  consent: Consent,
  step: { authorisationId: string; to: Exclude<ScaStatus, 'finalised'> },
  ctx: ChangeContext,
): ConsentChange {
  requireAwaiting(consent, 'advanceAuthorisation', ctx.now);
  if ((step.to as ScaStatus) === 'finalised') {
    // finalising without approving would leave a finalised authorisation on a consent that is not valid
    const current = findAuthorisation(consent, step.authorisationId);
    throw new AuthorisationStateConflict(consent.id, consent.status, current.id, current.scaStatus, 'advanceAuthorisation');
  }
  const authorisations = moveAuthorisation(consent, step.authorisationId, step.to, 'advanceAuthorisation', ctx, 'PSU');
  return fieldChange(consent, ctx, { authorisations });
}

export function findAuthorisation(consent: Consent, authorisationId: string): Authorisation {
  const found = consent.authorisations.find((a) => a.id === authorisationId);
  if (!found) throw new AuthorisationNotFound(consent.id, authorisationId);
  return found;
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────────

function isPastExpiry(consent: Pick<Consent, 'expiresAt'>, now: Date): boolean {
  return now.getTime() >= consent.expiresAt.getTime();
}

/** Authorisation steps and approval need a consent still waiting for the PSU. */
function requireAwaiting(consent: Consent, intent: string, now: Date): void {
  if (effectiveStatus(consent, now) === 'expired') {
    throw new ConsentExpired(consent.id, consent.status, intent, consent.expiresAt);
  }
  if (consent.status !== 'received') throw new ConsentStateConflict(consent.id, consent.status, intent);
}

function historyEntry(
  from: ConsentStatus | null,
  to: ConsentStatus,
  ctx: ChangeContext,
  defaultActor: Actor,
  defaultReason?: string,
): StatusChange {
  const entry: StatusChange = { from, to, actor: ctx.actor ?? defaultActor, at: ctx.now };
  const reason = ctx.reason ?? defaultReason;
  if (reason !== undefined) entry.reason = reason;
  if (ctx.requestId !== undefined) entry.requestId = ctx.requestId;
  if (ctx.by !== undefined) entry.by = ctx.by;
  return entry;
}

function scaEntry(from: ScaStatus | null, to: ScaStatus, ctx: ChangeContext, defaultActor: Actor) {
  const entry: Authorisation['history'][number] = { from, to, actor: ctx.actor ?? defaultActor, at: ctx.now };
  if (ctx.requestId !== undefined) entry.requestId = ctx.requestId;
  return entry;
}

/** A change of fields other than the status (no history entry). */
function fieldChange(consent: Consent, ctx: ChangeContext, set: Omit<ConsentChange['set'], 'updatedAt'>): ConsentChange {
  return {
    id: consent.id,
    expect: { status: consent.status, revision: consent.revision },
    set: { ...set, lastActionDate: isoDate(ctx.now), updatedAt: ctx.now },
  };
}

function statusChange(
  consent: Consent,
  to: ConsentStatus,
  intent: string,
  ctx: ChangeContext,
  defaultActor: Actor,
  set: Omit<ConsentChange['set'], 'updatedAt'> = {},
  defaultReason?: string,
): ConsentChange {
  if (!canTransition(consent.status, to)) throw new ConsentStateConflict(consent.id, consent.status, intent);
  return {
    ...fieldChange(consent, ctx, { ...set, status: to }),
    history: [historyEntry(consent.status, to, ctx, defaultActor, defaultReason)],
  };
}

/** The clock ended it, whoever noticed: actor system. */
function expiryChange(consent: Consent, ctx: ChangeContext): ConsentChange {
  return statusChange(consent, 'expired', 'expire', { ...ctx, actor: 'system', reason: 'validUntil passed' }, 'system');
}

function moveAuthorisation(
  consent: Consent,
  authorisationId: string,
  to: ScaStatus,
  intent: string,
  ctx: ChangeContext,
  defaultActor: Actor,
  patch: Partial<Pick<Authorisation, 'scaMethodId'>> = {},
): Authorisation[] {
  const current = findAuthorisation(consent, authorisationId);
  if (!canTransitionSca(current.scaStatus, to)) {
    throw new AuthorisationStateConflict(consent.id, consent.status, authorisationId, current.scaStatus, intent);
  }
  const updated: Authorisation = {
    ...current,
    ...patch,
    scaStatus: to,
    updatedAt: ctx.now,
    history: [...current.history, scaEntry(current.scaStatus, to, ctx, defaultActor)],
  };
  return consent.authorisations.map((a) => (a.id === authorisationId ? updated : a));
}
