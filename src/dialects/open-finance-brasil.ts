/**
 * What the two Open Finance Brasil dialects (consents v3 in ./brazil, payments v4 in ./br-payments) share:
 * the consent id form and "the caller's consent of this regime, else not found".
 */
import type { Context } from 'koa';
import type { ConsentService } from '../application/consents.ts';
import { ConsentNotFound } from '../consent/errors.ts';
import type { Consent } from '../consent/types.ts';

/** An Open Finance Brasil consent id: a URN (`urn:<namespace>:<id>`), at most 256 characters. */
export const CONSENT_ID = /^urn:[a-zA-Z0-9][a-zA-Z0-9-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%/?#]+$/;

/**
 * The consent `id` when it belongs to `clientId` and is of `type`; anything else (a malformed id, an unknown
 * consent, another TPP's, another regime's) throws `notFound()`, so they all read alike.
 */
export async function ownedConsent(consents: ConsentService, id: string, clientId: string, type: Consent['type'], notFound: () => Error): Promise<Consent> {
  if (id.length > 256 || !CONSENT_ID.test(id)) throw notFound();
  try {
    const consent = await consents.getOwned(id, clientId);
    if (consent.type !== type) throw notFound();
    return consent;
  } catch (err) {
    if (err instanceof ConsentNotFound) throw notFound();
    throw err;
  }
}

/** A JSON (or signed) answer that is never cached. */
export function respond(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}
