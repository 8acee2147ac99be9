/** The error catalogue of the retrieve/persist API: `{ code, message, description }` with the status. */
export const FS_ERRORS = {
  unauthorized: { status: 401, message: 'Authentication required' },
  invalid_request: { status: 400, message: 'The request is invalid' },
  session_data_key_invalid: { status: 404, message: 'The sessionDataKey is unknown, expired or already used' },
  consent_unavailable: { status: 409, message: 'The consent cannot be authorised (unknown, changed or no longer awaiting authorisation)' },
  temporarily_unavailable: { status: 503, message: 'The decision could not be stored now; try again' },
} as const satisfies Record<string, { status: number; message: string }>;

export type FsErrorCode = keyof typeof FS_ERRORS;
