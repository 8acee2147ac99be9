/**
 * The consent domain's error catalogue. Each error carries a stable `code` and the data a dialect needs to
 * render its own format (Berlin Group, back-office, Brazil); none of them knows about HTTP.
 */
import type { ConsentStatus, ScaStatus } from './types.ts';

export const CONSENT_ERROR_CODES = [
  'CONSENT_NOT_FOUND',
  'CONSENT_ALREADY_EXISTS',
  'CONSENT_STATE_CONFLICT',
  'CONSENT_EXPIRED',
  'AUTHORISATION_NOT_FOUND',
  'AUTHORISATION_STATE_CONFLICT',
  'CONSENT_VALIDATION',
  'PSU_MISMATCH',
  'GRANT_ID_IN_USE',
] as const;
export type ConsentErrorCode = (typeof CONSENT_ERROR_CODES)[number];

export abstract class ConsentError extends Error {
  abstract readonly code: ConsentErrorCode;
}

export class ConsentNotFound extends ConsentError {
  readonly code = 'CONSENT_NOT_FOUND';
  readonly consentId: string;
  constructor(consentId: string) {
    super(`consent ${consentId} not found`);
    this.name = 'ConsentNotFound';
    this.consentId = consentId;
  }
}

/** `create` with an id that is already stored. */
export class ConsentAlreadyExists extends ConsentError {
  readonly code = 'CONSENT_ALREADY_EXISTS';
  readonly consentId: string;
  constructor(consentId: string) {
    super(`consent ${consentId} already exists`);
    this.name = 'ConsentAlreadyExists';
    this.consentId = consentId;
  }
}

/**
 * The intent is not allowed from the consent's current state, or the consent changed under the caller
 * (a lost race: `status` is then what the caller last read, `lostRace` is true).
 */
export class ConsentStateConflict extends ConsentError {
  readonly code: 'CONSENT_STATE_CONFLICT' | 'CONSENT_EXPIRED' | 'AUTHORISATION_STATE_CONFLICT' =
    'CONSENT_STATE_CONFLICT';
  readonly consentId: string;
  readonly status: ConsentStatus;
  /** what was attempted: the name of the domain function (`approve`, `terminateByTpp`, …) */
  readonly intent: string;
  readonly lostRace: boolean;
  constructor(
    consentId: string,
    status: ConsentStatus,
    intent: string,
    options: { lostRace?: boolean; message?: string } = {},
  ) {
    super(
      options.message ??
        (options.lostRace
          ? `consent ${consentId} changed while ${intent} was attempted`
          : `cannot ${intent} consent ${consentId} in status ${status}`),
    );
    this.name = 'ConsentStateConflict';
    this.consentId = consentId;
    this.status = status;
    this.intent = intent;
    this.lostRace = options.lostRace ?? false;
  }
}

/** The consent's validity has ended (stored as `expired`, or `validUntil` has passed). */
export class ConsentExpired extends ConsentStateConflict {
  override readonly code = 'CONSENT_EXPIRED';
  readonly expiresAt: Date;
  constructor(consentId: string, status: ConsentStatus, intent: string, expiresAt: Date) {
    super(consentId, status, intent, { message: `consent ${consentId} expired at ${expiresAt.toISOString()}` });
    this.name = 'ConsentExpired';
    this.expiresAt = expiresAt;
  }
}

/** The SCA status of an authorisation does not allow the step. */
export class AuthorisationStateConflict extends ConsentStateConflict {
  override readonly code = 'AUTHORISATION_STATE_CONFLICT';
  readonly authorisationId: string;
  readonly scaStatus: ScaStatus;
  constructor(consentId: string, status: ConsentStatus, authorisationId: string, scaStatus: ScaStatus, intent: string) {
    super(consentId, status, intent, {
      message: `cannot ${intent} authorisation ${authorisationId} of consent ${consentId} in SCA status ${scaStatus}`,
    });
    this.name = 'AuthorisationStateConflict';
    this.authorisationId = authorisationId;
    this.scaStatus = scaStatus;
  }
}

export class AuthorisationNotFound extends ConsentError {
  readonly code = 'AUTHORISATION_NOT_FOUND';
  readonly consentId: string;
  readonly authorisationId: string;
  constructor(consentId: string, authorisationId: string) {
    super(`authorisation ${authorisationId} of consent ${consentId} not found`);
    this.name = 'AuthorisationNotFound';
    this.consentId = consentId;
    this.authorisationId = authorisationId;
  }
}

export type ValidationIssueCode = 'required' | 'unknown_field' | 'invalid_type' | 'invalid_format' | 'invalid_value';

export interface ValidationIssue {
  /** JSON path into the request body, e.g. `access.balances[0].iban`; '' for the body itself */
  path: string;
  code: ValidationIssueCode;
  message: string;
}

export class ConsentValidationError extends ConsentError {
  readonly code = 'CONSENT_VALIDATION';
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ') || 'invalid consent');
    this.name = 'ConsentValidationError';
    this.issues = issues;
  }
}

/**
 * A creation check (the bank's rules: an in-process ConsentCreationCheck or the
 * pre_process_consent_creation extension) refused the request. A ConsentValidationError, so a dialect
 * that has no separate answer for it renders it as invalid input; the Open Finance Brasil dialects answer
 * their 422 "other reason" code instead of a 400, the request being well formed.
 */
export class ConsentRefused extends ConsentValidationError {
  constructor(issues: readonly ValidationIssue[]) {
    super(issues);
    this.name = 'ConsentRefused';
  }
}

/** The consent was requested for one PSU and another one tried to approve it. */
export class PsuMismatch extends ConsentError {
  readonly code = 'PSU_MISMATCH';
  readonly consentId: string;
  constructor(consentId: string) {
    super(`consent ${consentId} belongs to another PSU`);
    this.name = 'PsuMismatch';
    this.consentId = consentId;
  }
}

/** A grant id can back one consent only. */
export class GrantIdInUse extends ConsentError {
  readonly code = 'GRANT_ID_IN_USE';
  readonly grantId: string;
  constructor(grantId: string) {
    super(`grant ${grantId} is already bound to another consent`);
    this.name = 'GrantIdInUse';
    this.grantId = grantId;
  }
}
