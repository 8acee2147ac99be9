/**
 * A client that goes away in the middle of its request body is not a server failure: nobody is there to
 * read an answer, so the dialects log it as a client abort (info) instead of an unexpected error (500).
 * Node reports it as an `aborted` error (ECONNRESET) on the request; raw-body (@koa/bodyparser) as a
 * 400 of type `request.aborted`; our own body reader as ClientAborted.
 */
import type { Context } from 'koa';

export class ClientAborted extends Error {
  override name = 'ClientAborted';
  constructor() {
    super('the client closed the connection before the request body ended');
  }
}

export function isClientAbort(err: unknown): boolean {
  if (err instanceof ClientAborted) return true;
  const e = err as { code?: unknown; type?: unknown; message?: unknown } | null;
  return e?.type === 'request.aborted' || e?.code === 'ECONNABORTED' || (e?.code === 'ECONNRESET' && e?.message === 'aborted');
}

/** Marks the request as aborted by its client (the access log says so instead of the status). */
export function markClientAbort(ctx: Context): void {
  (ctx.state as { clientAborted?: boolean }).clientAborted = true;
}

export function wasClientAbort(ctx: Context): boolean {
  return (ctx.state as { clientAborted?: boolean }).clientAborted === true;
}
