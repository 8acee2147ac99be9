import type { Context } from 'koa';

/** The error catalogue of the retrieve/persist and validate APIs: `{ code, message, description }` with the status. */
export const FS_ERRORS = {
  unauthorized: { status: 401, message: 'Authentication required' },
  forbidden: { status: 403, message: 'This caller may not use this endpoint' },
  invalid_request: { status: 400, message: 'The request is invalid' },
  session_data_key_invalid: { status: 404, message: 'The sessionDataKey is unknown, expired or already used' },
  consent_unavailable: { status: 409, message: 'The consent cannot be authorised (unknown, changed or no longer awaiting authorisation)' },
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
