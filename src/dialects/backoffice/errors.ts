/**
 * The back-office dialect's error catalogue and renderer: the one place that decides which HTTP status and
 * code a caller sees. Token errors, domain errors, parameter problems and the dialect's own refusals all
 * pass through `renderError`; nothing else in the dialect picks a status.
 *
 * The body is the Opus "Consent BackOffice Services" ErrorResponse (Open Finance Brasil style):
 *
 *   { "errors": [{ "code": "INVALID_PARAMETER", "title": "Invalid parameter", "detail": "page-size: must be between 1 and 1000" }],
 *     "meta": { "requestDateTime": "2025-01-30T17:31:28Z" } }
 *
 * That spec defines the shape but no codes, so the codes below are ours (stable, upper snake case). A 400
 * carries one error per bad parameter or body field, each `detail` starting with the parameter's name.
 * Details never quote the caller's input (no personal data in error bodies that might be logged upstream).
 */
import { ConsentError, ConsentExpired, ConsentNotFound, ConsentStateConflict } from '../../consent/errors.ts';
import { TokenError } from '../../oidc/oauth.ts';
import { isAwaiting } from '../../consent/regimes/index.ts';

interface Entry {
  status: number;
  code: string;
  title: string;
  /** default detail */
  detail: string;
}

/** Every refusal of the dialect, by name. */
export const BO_ERRORS = {
  invalidParameter: { status: 400, code: 'INVALID_PARAMETER', title: 'Invalid parameter', detail: 'a parameter has an invalid value' },
  unknownParameter: { status: 400, code: 'UNKNOWN_PARAMETER', title: 'Unknown parameter', detail: 'a parameter is not known to this endpoint' },
  missingParameter: { status: 400, code: 'MISSING_PARAMETER', title: 'Missing parameter', detail: 'a required parameter is missing' },
  invalidBody: { status: 400, code: 'INVALID_BODY', title: 'Invalid request body', detail: 'the request body is not valid JSON' },
  unauthorized: { status: 401, code: 'UNAUTHORIZED', title: 'Unauthorized', detail: 'a valid access token is required' },
  insufficientScope: { status: 403, code: 'INSUFFICIENT_SCOPE', title: 'Forbidden', detail: 'the access token lacks the scope this operation needs' },
  forbidden: { status: 403, code: 'FORBIDDEN', title: 'Forbidden', detail: 'only the bank’s internal clients may use this API' },
  consentNotFound: { status: 404, code: 'CONSENT_NOT_FOUND', title: 'Consent not found', detail: 'no consent has this id' },
  notFound: { status: 404, code: 'NOT_FOUND', title: 'Not found', detail: 'no such resource' },
  methodNotAllowed: { status: 405, code: 'METHOD_NOT_ALLOWED', title: 'Method not allowed', detail: 'this method is not supported on this resource' },
  consentAlreadyEnded: {
    status: 409,
    code: 'CONSENT_ALREADY_ENDED',
    title: 'Consent already ended',
    detail: 'the consent has already ended (rejected, revoked or expired)',
  },
  consentNotAuthorised: {
    status: 409,
    code: 'CONSENT_NOT_AUTHORISED',
    title: 'Consent not authorised',
    detail: 'the consent is still awaiting authorisation; only an AUTHORISED consent can be revoked',
  },
  consentChanged: {
    status: 409,
    code: 'CONSENT_CHANGED_CONCURRENTLY',
    title: 'Consent changed concurrently',
    detail: 'the consent changed while the request was processed; read it again',
  },
  bodyTooLarge: { status: 413, code: 'BODY_TOO_LARGE', title: 'Payload too large', detail: 'the request body is too large' },
  unsupportedMediaType: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported media type',
    detail: 'the request body must be application/json (UTF-8)',
  },
  internal: { status: 500, code: 'INTERNAL_ERROR', title: 'Internal error', detail: 'an unexpected error occurred' },
  notImplemented: { status: 501, code: 'NOT_IMPLEMENTED', title: 'Not implemented', detail: 'this operation of the spec is not served by this server' },
} as const satisfies Record<string, Entry>;

export type BoErrorName = keyof typeof BO_ERRORS;
export type BoErrorCode = (typeof BO_ERRORS)[BoErrorName]['code'];

/** The 400 kinds a parameter problem can be. */
export type ParameterProblem = 'invalidParameter' | 'unknownParameter' | 'missingParameter' | 'invalidBody';

/** One bad parameter (query) or body field: `name` is what the detail starts with. */
export interface ParameterIssue {
  kind: ParameterProblem;
  /** the query parameter or body field (JSON path), '' for the body itself */
  name: string;
  message: string;
}

/** A refusal the dialect raises itself: one catalogue entry, optionally with a specific detail. */
export class BackofficeError extends Error {
  override name = 'BackofficeError';
  readonly kind: BoErrorName;
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  constructor(kind: BoErrorName, detail?: string, headers: Record<string, string> = {}) {
    super(detail ?? kind);
    this.kind = kind;
    this.detail = detail;
    this.headers = headers;
  }
}

/** Bad query parameters or body fields: 400 with one error per issue. */
export class ParameterError extends Error {
  override name = 'ParameterError';
  readonly issues: readonly ParameterIssue[];
  constructor(issues: readonly ParameterIssue[]) {
    super(issues.map(issueDetail).join('; ') || 'invalid request');
    this.issues = issues;
  }
}

export interface ApiError {
  code: BoErrorCode;
  title: string;
  detail: string;
}

export interface ErrorBody {
  errors: ApiError[];
  meta: { requestDateTime: string };
}

export interface RenderedError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

const DETAIL_MAX = 512;

/** Date-times as the Open Finance Brasil APIs write them: UTC, no fractional seconds. */
export function requestDateTime(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function apiError(kind: BoErrorName, detail?: string): ApiError {
  const entry: Entry = BO_ERRORS[kind];
  const text = detail ?? entry.detail;
  return {
    code: entry.code as BoErrorCode,
    title: entry.title,
    detail: text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX - 1)}…` : text,
  };
}

function render(kind: BoErrorName, detail?: string, headers: Record<string, string> = {}): RenderedError {
  return { status: BO_ERRORS[kind].status, body: { errors: [apiError(kind, detail)], meta: { requestDateTime: requestDateTime() } }, headers };
}

function issueDetail(issue: ParameterIssue): string {
  return issue.name ? `${issue.name}: ${issue.message}` : issue.message;
}

export function renderIssues(issues: readonly ParameterIssue[]): RenderedError {
  const errors = issues.length > 0 ? issues.map((i) => apiError(i.kind, issueDetail(i))) : [apiError('invalidParameter')];
  return { status: 400, body: { errors, meta: { requestDateTime: requestDateTime() } }, headers: {} };
}

const REALM = 'Bearer realm="assent-backoffice"';

/**
 * Token problems: no, unknown, expired or badly presented token → 401; a valid token without the scope
 * (a TPP's token, or a read-only back-office client on PATCH) → 403 (RFC 6750 §3.1).
 */
export function renderTokenError(err: TokenError, requiredScope?: string): RenderedError {
  if (err.problem === 'insufficient_scope') {
    const scope = requiredScope ? `, scope="${requiredScope}"` : '';
    return render('insufficientScope', err.message, { 'WWW-Authenticate': `${REALM}, error="insufficient_scope"${scope}` });
  }
  const challenge = err.problem === 'missing' ? REALM : `${REALM}, error="invalid_token"`;
  return render('unauthorized', err.message, { 'WWW-Authenticate': challenge });
}

/** Domain errors the routes let through: unknown consent → 404, a state conflict (lost race) → 409. */
export function renderDomainError(err: ConsentError): RenderedError | undefined {
  if (err instanceof ConsentNotFound) return render('consentNotFound');
  if (err instanceof ConsentExpired) return render('consentAlreadyEnded', 'the consent has expired');
  if (err instanceof ConsentStateConflict) {
    // `update` is the service giving up after repeated lost races
    if (err.lostRace || err.intent === 'update') return render('consentChanged');
    if (isAwaiting(err.status)) return render('consentNotAuthorised');
    return render('consentAlreadyEnded');
  }
  return undefined;
}

/** Any error → the response, or undefined when it is unexpected (the caller logs it and answers 500). */
export function renderError(err: unknown, requiredScope?: string): RenderedError | undefined {
  if (err instanceof BackofficeError) return render(err.kind, err.detail, { ...err.headers });
  if (err instanceof ParameterError) return renderIssues(err.issues);
  if (err instanceof TokenError) return renderTokenError(err, requiredScope);
  if (err instanceof ConsentError) return renderDomainError(err);
  return undefined;
}

export function renderInternalError(): RenderedError {
  return render('internal');
}
