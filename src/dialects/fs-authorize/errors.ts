/**
 * The error catalogue of the retrieve/persist and validate APIs: WSO2's `{ code, message, description }`
 * with the status. Every refusal of the retrieve/persist routes, Koa's own malformed-request errors
 * included, renders through here.
 */
import type { Context } from 'koa';
import type { Logger } from '../../log.ts';
import { dialectErrorHandler, type RenderedError } from '../../http/dialect-errors.ts';
import { bodyError, type JsonBodyErrors } from '../../http/json-body.ts';

export const FS_ERRORS = {
  unauthorized: { status: 401, message: 'Authentication required' },
  forbidden: { status: 403, message: 'This caller may not use this endpoint' },
  invalid_request: { status: 400, message: 'The request is invalid' },
  session_data_key_invalid: { status: 404, message: 'The sessionDataKey is unknown, expired or already used' },
  not_found: { status: 404, message: 'No such resource' },
  method_not_allowed: { status: 405, message: 'The method is not supported on this resource' },
  consent_unavailable: { status: 409, message: 'The consent cannot be authorised (unknown, changed or no longer awaiting authorisation)' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  unsupported_media_type: { status: 415, message: 'The request body must be application/json (UTF-8)' },
  server_error: { status: 500, message: 'An unexpected error occurred' },
  temporarily_unavailable: { status: 503, message: 'The request could not be completed now; try again' },
  usage_unavailable: { status: 503, message: 'The usage counters are unavailable: access cannot be validated now' },
} as const satisfies Record<string, { status: number; message: string }>;

export type FsErrorCode = keyof typeof FS_ERRORS;

export function sendFsError(ctx: Context, code: FsErrorCode, description?: string, extra: Record<string, unknown> = {}): void {
  const entry = FS_ERRORS[code];
  ctx.status = entry.status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { code, message: entry.message, description: description ?? entry.message, ...extra };
}

/** A refusal of the dialect: one catalogue entry, optionally with a specific description. */
export class FsError extends Error {
  override name = 'FsError';
  readonly code: FsErrorCode;
  readonly description: string;
  readonly headers: Record<string, string>;
  constructor(code: FsErrorCode, description?: string, headers: Record<string, string> = {}) {
    super(description ?? FS_ERRORS[code].message);
    this.code = code;
    this.description = description ?? FS_ERRORS[code].message;
    this.headers = headers;
  }
}

export function renderFsError(code: FsErrorCode, description?: string, headers: Record<string, string> = {}): RenderedError {
  const entry = FS_ERRORS[code];
  return { status: entry.status, headers, body: { code, message: entry.message, description: description ?? entry.message } };
}

/** How a malformed JSON body is refused. */
export const FS_BODY_ERRORS: JsonBodyErrors = {
  unsupportedMediaType: () => new FsError('unsupported_media_type'),
  tooLarge: (headers) => new FsError('payload_too_large', undefined, headers),
  invalid: () => new FsError('invalid_request', 'the body is not a valid JSON object'),
};

/** Renders every error of the routes it wraps; anything unexpected is logged and answered 500 without details. */
export function fsErrors(log: Logger) {
  return dialectErrorHandler(log, {
    dialect: 'fs-authorize',
    render: (err) => (err instanceof FsError ? renderFsError(err.code, err.description, err.headers) : undefined),
    badRequest: (err) => {
      const e = bodyError(err, FS_BODY_ERRORS) as FsError;
      return renderFsError(e.code, e.description, e.headers);
    },
    internal: () => renderFsError('server_error'),
  });
}
