/**
 * The consent and authorisation state machines: pure functions from (consent, intent, context) to the
 * ConsentChange a repository applies atomically. No I/O; ids and the clock come in through the context.
 *
 * Consent status: each consent type belongs to a regime (./regime.ts) with its own vocabulary and graph,
 * drawn in its file: Berlin Group in ./regimes/berlin-group.ts (received → valid → …), Open Finance
 * Brasil in ./regimes/brazil-data-sharing.ts (AWAITING_AUTHORISATION → AUTHORISED → REJECTED). The rules
 * below hold for every regime:
 *
 *   Ended statuses never change. Ending an ended consent again (terminateByTpp, revokeByPsu, expire,
 *   rejectStale, sweep) is a no-op: null, no second history entry. An open (awaiting or active) consent
 *   past expiresAt reads as what `expire` leads to (effectiveStatus): ending it records the expiry (actor
 *   system), and every other intent fails with ConsentExpired, as does any intent on an expired status.
 *   An intent the regime has no move for, from the consent's status, is a ConsentStateConflict.
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
 *   Final: finalised, failed, exempted. Authorisations change only while the consent is received; when
 *   the consent ends (deleted, rejected, expired, revoked), its open authorisations fail in the same change.
 */
import { termMonths } from './term.ts';
import { endOfDate, isoDate } from './dates.ts';
import {
  AuthorisationNotFound,
  AuthorisationStateConflict,
  ConsentExpired,
  ConsentStateConflict,
  PsuMismatch,
} from './errors.ts';
import { isActive, isAwaiting, isEnded, isExpiredStatus, regimeOf } from './regimes/index.ts';
import type { CoreIntent } from './regime.ts';
import type {
  AccountAccess,
  Actor,
  Authorisation,
  Consent,
  ConsentChange,
  ConsentStatus,
  ConsentType,
  GrantedAccount,
  Rejection,
  ScaStatus,
  StatusChange,
} from './types.ts';

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

/** Whether the regime of `type` has a move from `from` to `to`. */
export function canTransition(type: ConsentType, from: ConsentStatus, to: ConsentStatus): boolean {
  return regimeOf(type).transitions[from]?.includes(to) ?? false;
}

export function canTransitionSca(from: ScaStatus, to: ScaStatus): boolean {
  return SCA_TRANSITIONS[from].includes(to);
}

/** Ended: the status never changes again (whatever the regime). */
export function isFinal(status: ConsentStatus): boolean {
  return isEnded(status);
}

export function isFinalSca(status: ScaStatus): boolean {
  return SCA_TRANSITIONS[status].length === 0;
}

/** The status as callers must see it: an open consent past `expiresAt` is what its expiry leads to. */
export function effectiveStatus(consent: Pick<Consent, 'type' | 'status' | 'expiresAt'>, now: Date): ConsentStatus {
  if (!isExpiredNow(consent, now)) return consent.status;
  return regimeOf(consent.type).moves.expire[consent.status]?.to ?? consent.status;
}

/** Open (awaiting or active) and past `expiresAt`: the clock has ended it, recorded or not. */
export function isExpiredNow(consent: Pick<Consent, 'status' | 'expiresAt'>, now: Date): boolean {
  return !isFinal(consent.status) && isPastExpiry(consent, now);
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
  const type = input.type ?? 'accounts';
  const initial = regimeOf(type).initial;
  const expiresAt = new Date((input.expiresAt ?? endOfDate(input.validUntil)).getTime());
  const consent: Consent = {
    id: ctx.newId(),
    clientId: input.clientId,
    type,
    access: structuredClone(input.access),
    recurringIndicator: input.recurringIndicator,
    validUntil: input.validUntil,
    expiresAt,
    termMonths: termMonths(ctx.now, expiresAt),
    frequencyPerDay: input.frequencyPerDay,
    combinedServiceIndicator: input.combinedServiceIndicator,
    status: initial,
    lastActionDate: isoDate(ctx.now),
    createdAt: ctx.now,
    updatedAt: ctx.now,
    history: [historyEntry(null, initial, ctx, 'TPP')],
    authorisations: [],
    revision: 0,
  };
  if (input.psuId !== undefined) consent.psuId = input.psuId;
  if (input.psuIpAddress !== undefined) consent.psuIpAddress = input.psuIpAddress;
  if (input.details !== undefined) consent.details = structuredClone(input.details);
  return consent;
}

/**
 * TPP DELETE (Berlin Group: valid → terminatedByTpp, received → rejected). Null when the consent has
 * already ended (DELETE is idempotent); records the expiry when expiresAt has passed.
 */
export function terminateByTpp(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  return endingMove(consent, 'terminateByTpp', ctx, 'TPP');
}

/** The PSU withdraws a granted consent (Berlin Group: valid → revokedByPsu). Null when it has already ended. */
/** `rejection`: what the consent records instead of its regime's default (e.g. the bank revoking for security). */
export function revokeByPsu(consent: Consent, ctx: ChangeContext, rejection?: Rejection): ConsentChange | null {
  return endingMove(consent, 'revokeByPsu', ctx, 'PSU', undefined, rejection && regimeOf(consent.type).moves.revokeByPsu?.[consent.status]?.rejection ? { rejection: structuredClone(rejection) } : {});
}

/** An open consent → its regime's expiry once `expiresAt` has passed. Null when it has already ended. */
export function expire(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (!isPastExpiry(consent, ctx.now)) {
    throw new ConsentStateConflict(consent.id, consent.status, 'expire', {
      message: `consent ${consent.id} is valid until ${consent.expiresAt.toISOString()}`,
    });
  }
  return expiryChange(consent, ctx);
}

/** A consent never authorised in time: awaiting → rejected (actor system). Null when it has already ended. */
export function rejectStale(consent: Consent, ctx: ChangeContext): ConsentChange | null {
  return endingMove(consent, 'rejectStale', ctx, 'system', 'not authorised in time');
}

/**
 * What the sweeper does with a consent from `findDue`: expire it when past `expiresAt`, reject it when still
 * awaiting and created before `receivedBefore`, otherwise nothing (null).
 */
export function sweep(consent: Consent, receivedBefore: Date, ctx: ChangeContext): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (isPastExpiry(consent, ctx.now)) return expiryChange(consent, ctx);
  if (isAwaiting(consent.status) && consent.createdAt.getTime() < receivedBefore.getTime()) {
    return rejectStale(consent, ctx);
  }
  return null;
}

export interface Approval {
  authorisationId: string;
  psuId: string;
  grantedAccounts: GrantedAccount[];
  grantId: string;
  /** fields added to the consent's `details` (e.g. the debtor account a payment consent's customer chose) */
  details?: Record<string, unknown>;
}

/**
 * The PSU approves (awaiting → active) with the PSU, the chosen accounts and the grant, and the authorisation
 * scaMethodSelected → finalised, in one change.
 */
export function approve(consent: Consent, approval: Approval, ctx: ChangeContext): ConsentChange {
  requireAwaiting(consent, 'approve', ctx.now);
  if (consent.psuId !== undefined && consent.psuId !== approval.psuId) throw new PsuMismatch(consent.id);
  const authorisations = moveAuthorisation(consent, approval.authorisationId, 'finalised', 'approve', ctx, 'PSU');
  // a regime with a usage window (a payment consent: 60 minutes to be consumed) starts it now
  const window = regimeOf(consent.type).activeWindowSeconds;
  return statusChange(consent, 'approve', ctx, 'PSU', {
    psuId: approval.psuId,
    grantedAccounts: structuredClone(approval.grantedAccounts),
    grantId: approval.grantId,
    authorisations,
    ...(window !== undefined ? expiry(consent, new Date(ctx.now.getTime() + window * 1000)) : {}),
    ...(approval.details ? { details: { ...structuredClone(consent.details ?? {}), ...structuredClone(approval.details) } } : {}),
  });
}

/**
 * The PSU refuses (or SCA fails for good, or the bank refuses the customer): awaiting → rejected and the
 * authorisation → failed, in one change. `rejection` replaces the regime's default one (regimes that record it).
 */
export function deny(
  consent: Consent,
  decision: { authorisationId: string; rejection?: Rejection },
  ctx: ChangeContext,
): ConsentChange {
  requireAwaiting(consent, 'deny', ctx.now);
  const authorisations = moveAuthorisation(consent, decision.authorisationId, 'failed', 'deny', ctx, 'PSU');
  return statusChange(consent, 'deny', ctx, 'PSU', { authorisations, ...(decision.rejection ? { rejection: structuredClone(decision.rejection) } : {}) });
}

/**
 * A regime's own intent (one of its `moves`, e.g. a payment consent's `consume`) on an open consent: the
 * move from the current status, as one change with `set`. Fails like the core intents do: ConsentExpired
 * past expiry, ConsentStateConflict when the regime has no such move.
 */
export function transition(
  consent: Consent,
  intent: string,
  ctx: ChangeContext,
  options: { actor: Actor; set?: Omit<ConsentChange['set'], 'updatedAt' | 'status'>; reason?: string },
): ConsentChange {
  if (isExpiredNow(consent, ctx.now) || isExpiredStatus(consent.status)) {
    throw new ConsentExpired(consent.id, consent.status, intent, consent.expiresAt);
  }
  return statusChange(consent, intent, ctx, options.actor, options.set ?? {}, options.reason);
}

/**
 * A longer validity for an active consent (Open Finance Brasil extends): new expiresAt / validUntil and
 * the type's details (its record of extensions), no status change. ConsentExpired once it has expired,
 * ConsentStateConflict when it is not active.
 */
export function extendValidity(
  consent: Consent,
  extension: { expiresAt: Date; validUntil: string; details: Record<string, unknown> },
  ctx: ChangeContext,
): ConsentChange {
  if (isExpiredNow(consent, ctx.now) || isExpiredStatus(consent.status)) {
    throw new ConsentExpired(consent.id, consent.status, 'extendValidity', consent.expiresAt);
  }
  if (!isActive(consent.status)) throw new ConsentStateConflict(consent.id, consent.status, 'extendValidity');
  return fieldChange(consent, ctx, {
    ...expiry(consent, extension.expiresAt),
    validUntil: extension.validUntil,
    details: structuredClone(extension.details),
  });
}

/** A new expiry, with the term it gives the consent (./term.ts): the two always change together. */
function expiry(consent: Pick<Consent, 'createdAt'>, expiresAt: Date): { expiresAt: Date; termMonths: number } {
  return { expiresAt: new Date(expiresAt.getTime()), termMonths: termMonths(consent.createdAt, expiresAt) };
}

/** A new authorisation sub-resource in scaStatus `started`; only while the consent is awaiting. */
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
  if (isExpiredNow(consent, now) || isExpiredStatus(consent.status)) {
    throw new ConsentExpired(consent.id, consent.status, intent, consent.expiresAt);
  }
  if (!isAwaiting(consent.status)) throw new ConsentStateConflict(consent.id, consent.status, intent);
}

/** An intent that ends an open consent: null when it has ended already, the expiry when it is due. */
function endingMove(
  consent: Consent,
  intent: CoreIntent,
  ctx: ChangeContext,
  defaultActor: Actor,
  defaultReason?: string,
  set: Omit<ConsentChange['set'], 'updatedAt'> = {},
): ConsentChange | null {
  if (isFinal(consent.status)) return null;
  if (isPastExpiry(consent, ctx.now)) return expiryChange(consent, ctx);
  return statusChange(consent, intent, ctx, defaultActor, set, defaultReason);
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

/** The regime's move for `intent` from the consent's status, with the rejection it records (unless `set` has one). */
function statusChange(
  consent: Consent,
  intent: string,
  ctx: ChangeContext,
  defaultActor: Actor,
  set: Omit<ConsentChange['set'], 'updatedAt'> = {},
  defaultReason?: string,
): ConsentChange {
  const move = regimeOf(consent.type).moves[intent]?.[consent.status];
  if (!move) throw new ConsentStateConflict(consent.id, consent.status, intent);
  const rejection = set.rejection ?? (move.rejection ? structuredClone(move.rejection) : undefined);
  // an ended consent leaves no authorisation in progress: what is still open fails with it
  const before = set.authorisations ?? consent.authorisations;
  const open = isEnded(move.to) ? before.filter((a) => !isFinalSca(a.scaStatus)) : [];
  const authorisations = open.length === 0 ? {} : {
    authorisations: before.map((a) =>
      isFinalSca(a.scaStatus)
        ? a
        : { ...a, scaStatus: 'failed' as const, updatedAt: ctx.now, history: [...a.history, scaEntry(a.scaStatus, 'failed', ctx, defaultActor)] },
    ),
  };
  return {
    ...fieldChange(consent, ctx, { ...set, status: move.to, ...(rejection ? { rejection } : {}), ...authorisations }),
    history: [historyEntry(consent.status, move.to, ctx, defaultActor, defaultReason)],
  };
}

/** The clock ended it, whoever noticed: actor system. */
function expiryChange(consent: Consent, ctx: ChangeContext): ConsentChange {
  return statusChange(consent, 'expire', { ...ctx, actor: 'system', reason: 'validUntil passed' }, 'system');
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
