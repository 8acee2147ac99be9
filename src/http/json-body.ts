/**
 * A JSON body of at most `limit` bytes, parsed into ctx.request.body, for the dialects that read one
 * with @koa/bodyparser: anything but application/json (UTF-8) is the dialect's "unsupported media type",
 * a body past the limit its "too large" (the connection is closed: the rest was never read), anything
 * unparsable its "invalid body". Each dialect supplies its own errors.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';

export interface JsonBodyErrors {
  unsupportedMediaType(): Error;
  /** `headers` must go on the answer */
  tooLarge(headers: Record<string, string>): Error;
  invalid(): Error;
}

export function jsonBodyParser(limit: number, errors: JsonBodyErrors): Middleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonStrict: true,
    jsonLimit: limit,
    encoding: 'utf-8',
    onError: (err) => {
      throw bodyError(err, errors);
    },
  });
  return async (ctx, next) => {
    if (!isJsonContentType(ctx.get('content-type'))) throw errors.unsupportedMediaType();
    await parse(ctx, next);
  };
}

/** A raw-body / co-body failure (its status tells which) as the dialect's error. */
export function bodyError(err: unknown, errors: JsonBodyErrors): Error {
  const status = (err as { status?: unknown })?.status;
  if (status === 413) return errors.tooLarge({ Connection: 'close' });
  if (status === 415) return errors.unsupportedMediaType();
  return errors.invalid();
}

export function isJsonContentType(header: string): boolean {
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
