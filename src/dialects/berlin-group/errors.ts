/**
 * The Berlin Group dialect's error catalogue and renderer: the one place that decides which HTTP status and
 * MessageCode a TPP sees. Domain errors, token errors, validation issues and the dialect's own refusals all
 * pass through `renderError`; nothing else in the dialect picks a status.
 *
 * Codes are the Open Payments 1.3.3 MessageCode lists for AIS (MessageCode400_AIS … MessageCode429_AIS);
 * a code outside its status' list would break TPPs that validate against the spec. Bodies:
 *
 *   { "tppMessages": [{ "category": "ERROR", "code": "FORMAT_ERROR", "path": "access.accounts[0].iban", "text": "…" }] }
 *
 * The spec defines no body for 415 (no AIS code exists), so 415 goes out empty. 500 carries the
 * non-standard INTERNAL_SERVER_ERROR code without details (the spec defines no 500 body either).
 */
import { ExtensionUnavailable } from '../../steps/extensions/client.ts';
import {
  AuthorisationNotFound,
  AuthorisationStateConflict,
  ConsentError,
  ConsentExpired,
  ConsentNotFound,
  ConsentStateConflict,
  ConsentValidationError,
  type ValidationIssue,
} from '../../consent/errors.ts';
import { TokenError } from '../../oidc/oauth.ts';

/** Open Payments NextGenPSD2 1.3.3, components.schemas.MessageCode<status>_AIS. */
export const AIS_MESSAGE_CODES = {
  400: [
    'FORMAT_ERROR',
    'PARAMETER_NOT_CONSISTENT',
    'PARAMETER_NOT_SUPPORTED',
    'SERVICE_INVALID',
    'RESOURCE_UNKNOWN',
    'RESOURCE_EXPIRED',
    'RESOURCE_BLOCKED',
    'TIMESTAMP_INVALID',
    'PERIOD_INVALID',
    'SCA_METHOD_UNKNOWN',
    'CONSENT_UNKNOWN',
    'SESSIONS_NOT_SUPPORTED',
  ],
  401: [
    'CERTIFICATE_INVALID',
    'CERTIFICATE_EXPIRED',
    'CERTIFICATE_BLOCKED',
    'CERTIFICATE_REVOKE',
    'CERTIFICATE_MISSING',
    'SIGNATURE_INVALID',
    'SIGNATURE_MISSING',
    'CORPORATE_ID_INVALID',
    'PSU_CREDENTIALS_INVALID',
    'CONSENT_INVALID',
    'CONSENT_EXPIRED',
    'TOKEN_UNKNOWN',
    'TOKEN_INVALID',
    'TOKEN_EXPIRED',
  ],
  403: ['CONSENT_UNKNOWN', 'SERVICE_BLOCKED', 'RESOURCE_UNKNOWN', 'RESOURCE_EXPIRED'],
  404: ['RESOURCE_UNKNOWN'],
  405: ['SERVICE_INVALID'],
  409: ['STATUS_INVALID'],
  429: ['ACCESS_EXCEEDED'],
} as const;

type Codes = typeof AIS_MESSAGE_CODES;
export type AisMessageCode = Codes[keyof Codes][number] | 'INTERNAL_SERVER_ERROR';

interface Entry {
  status: number;
  /** absent: the response has no body (the spec defines none for the status) */
  code?: AisMessageCode;
  /** default text; kept free of ids and input so equal situations give byte-equal bodies */
  text?: string;
}

/** Every refusal of the dialect, by name. */
export const BG_ERRORS = {
  formatError: { status: 400, code: 'FORMAT_ERROR', text: 'the request is malformed' },
  scaMethodUnknown: { status: 400, code: 'SCA_METHOD_UNKNOWN', text: 'the authenticationMethodId is not one this ASPSP offers' },
  tokenInvalid: { status: 401, code: 'TOKEN_INVALID', text: 'the access token is missing or invalid' },
  tokenExpired: { status: 401, code: 'TOKEN_EXPIRED', text: 'the access token has expired' },
  consentExpired: { status: 401, code: 'CONSENT_EXPIRED', text: 'the consent has expired' },
  consentInvalid: { status: 401, code: 'CONSENT_INVALID', text: 'the consent is not valid for the addressed service or resource' },
  consentUnknown: { status: 403, code: 'CONSENT_UNKNOWN', text: 'the consent is unknown' },
  scopeMissing: { status: 403, code: 'SERVICE_BLOCKED', text: 'the access token does not allow this service' },
  authorisationUnknown: { status: 403, code: 'RESOURCE_UNKNOWN', text: 'the authorisation is unknown' },
  accountUnknown: { status: 403, code: 'RESOURCE_UNKNOWN', text: 'the account is not covered by the consent' },
  notFound: { status: 404, code: 'RESOURCE_UNKNOWN', text: 'no such resource' },
  methodNotAllowed: { status: 405, code: 'SERVICE_INVALID', text: 'this method is not supported on this resource' },
  statusInvalid: { status: 409, code: 'STATUS_INVALID', text: 'the consent or authorisation does not allow this in its current status' },
  unsupportedMediaType: { status: 415 },
  requestTimeout: { status: 408 },
  accessExceeded: { status: 429, code: 'ACCESS_EXCEEDED', text: 'too many requests; try again later' },
  internal: { status: 500, code: 'INTERNAL_SERVER_ERROR', text: 'an unexpected error occurred' },
  unavailable: { status: 503 },
} as const satisfies Record<string, Entry>;

export type BgErrorName = keyof typeof BG_ERRORS;

export interface TppMessage {
  category: 'ERROR' | 'WARNING';
  code: AisMessageCode;
  path?: string;
  text?: string;
}

/** A refusal the dialect raises itself: a catalogue entry, optionally with per-field messages. */
export class BgError extends Error {
  override name = 'BgError';
  readonly kind: BgErrorName;
  readonly details: ReadonlyArray<{ path?: string; text?: string }>;
  readonly headers: Readonly<Record<string, string>>;
  constructor(kind: BgErrorName, details: ReadonlyArray<{ path?: string; text?: string }> = [], headers: Record<string, string> = {}) {
    super(details.map((d) => (d.path ? `${d.path}: ${d.text ?? ''}` : (d.text ?? ''))).join('; ') || kind);
    this.kind = kind;
    this.details = details;
    this.headers = headers;
  }
}

/** One FORMAT_ERROR naming a field (body path or header name). */
export function formatError(path: string | undefined, text: string): BgError {
  return new BgError('formatError', [{ ...(path ? { path } : {}), text }]);
}

export interface RenderedError {
  status: number;
  /** undefined: no body */
  body?: { tppMessages: TppMessage[] };
  headers: Record<string, string>;
}

/** Open Payments 1.3.3 allows 512 characters, Berlin Group 1.3.11 500: the smaller holds for both */
const TEXT_MAX = 500;

function message(code: AisMessageCode, text: string | undefined, path?: string): TppMessage {
  return {
    category: 'ERROR',
    code,
    ...(path ? { path } : {}),
    ...(text ? { text: text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX - 1)}…` : text } : {}),
  };
}

function render(kind: BgErrorName, details: ReadonlyArray<{ path?: string; text?: string }> = [], headers: Record<string, string> = {}): RenderedError {
  const entry: Entry = BG_ERRORS[kind];
  if (!entry.code) return { status: entry.status, headers };
  const code = entry.code;
  const messages = details.length > 0 ? details.map((d) => message(code, d.text ?? entry.text, d.path)) : [message(code, entry.text)];
  return { status: entry.status, body: { tppMessages: messages }, headers };
}

/** Validation issues → one FORMAT_ERROR per issue, `path` the issue's JSON path. */
export function renderIssues(issues: readonly ValidationIssue[]): RenderedError {
  return render(
    'formatError',
    issues.map((i) => ({ ...(i.path ? { path: i.path } : {}), text: i.message })),
  );
}

const BEARER_ERROR: Record<TokenError['problem'], string | undefined> = {
  missing: undefined,
  invalid: 'invalid_token',
  expired: 'invalid_token',
  insufficient_scope: 'insufficient_scope',
  invalid_dpop_proof: 'invalid_token',
};

/**
 * Token problems: 401, TOKEN_EXPIRED for an expired token, TOKEN_INVALID for an unknown or unusable one;
 * a valid token without the service's scope is 403 (RFC 6750 insufficient_scope) with SERVICE_BLOCKED,
 * the AIS 403 code for a service this caller may not reach.
 */
export function renderTokenError(err: TokenError): RenderedError {
  const kind: BgErrorName = err.problem === 'expired' ? 'tokenExpired' : err.problem === 'insufficient_scope' ? 'scopeMissing' : 'tokenInvalid';
  const error = BEARER_ERROR[err.problem];
  const challenge = error ? `Bearer realm="psd2", error="${error}"` : 'Bearer realm="psd2"';
  return render(kind, [{ text: err.message }], { 'WWW-Authenticate': challenge });
}

/**
 * Domain errors. Unknown and foreign consents are one answer with a fixed text, so the body tells a TPP
 * nothing about consents it does not own.
 */
export function renderDomainError(err: ConsentError): RenderedError | undefined {
  if (err instanceof ConsentValidationError) return renderIssues(err.issues);
  if (err instanceof ConsentNotFound) return render('consentUnknown');
  if (err instanceof AuthorisationNotFound) return render('authorisationUnknown');
  if (err instanceof ConsentExpired) return render('consentExpired');
  if (err instanceof ConsentStateConflict) {
    const text = err.lostRace
      ? 'the consent changed concurrently; read it again'
      : err instanceof AuthorisationStateConflict
        ? `not possible while the authorisation is ${err.scaStatus}`
        : `not possible while the consent is ${err.status}`;
    return render('statusInvalid', [{ text }]);
  }
  return undefined;
}

/** Any error → the response, or undefined when it is unexpected (the caller logs it and answers 500). */
export function renderError(err: unknown): RenderedError | undefined {
  if (err instanceof BgError) return render(err.kind, err.details, { ...err.headers });
  // a bank extension that cannot answer: fail closed (503, no body as the spec defines it)
  if (err instanceof ExtensionUnavailable) return render('unavailable', [], { 'Retry-After': '1' });
  if (err instanceof TokenError) return renderTokenError(err);
  if (err instanceof ConsentError) return renderDomainError(err);
  return undefined;
}

export function renderInternalError(): RenderedError {
  return render('internal');
}
