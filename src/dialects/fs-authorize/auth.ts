/**
 * How the bank's own systems authenticate to the /api/fs/consent/* endpoints: HTTP Basic with the
 * `internalApi` credentials (compared in constant time), or — for the validation API — a
 * client_credentials token of an internal client (urn:assent:internal) carrying the route's scope.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { TokenError, type OAuthService } from '../../oidc/oauth.ts';

export interface BasicCredentials {
  username: string;
  password: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether an Authorization header carries exactly these Basic credentials. */
export function basicCredentialsMatch(header: string, credentials: BasicCredentials | undefined): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const sep = decoded.indexOf(':');
  return (
    credentials !== undefined &&
    sep > 0 &&
    timingSafeEqual(digest(decoded.slice(0, sep)), digest(credentials.username)) &&
    timingSafeEqual(digest(decoded.slice(sep + 1)), digest(credentials.password))
  );
}

export function basicAuth(credentials: BasicCredentials | undefined, deny: (ctx: Context) => void) {
  return async (ctx: Context, next: Next) => {
    if (!basicCredentialsMatch(ctx.get('authorization'), credentials)) {
      ctx.set('WWW-Authenticate', 'Basic realm="assent-internal"');
      return deny(ctx);
    }
    await next();
  };
}

export type InternalCaller = { ok: true; via: 'basic' | 'token'; clientId?: string } | { ok: false; status: 401 | 403; description: string };

/**
 * Basic credentials, or a Bearer/DPoP token an internal client got with client_credentials and `scope`.
 * A TPP's token (or a user token) is 403: it is a valid token, just not one that may ask this.
 */
export async function internalCaller(ctx: Context, oauth: OAuthService, credentials: BasicCredentials | undefined, scope: string): Promise<InternalCaller> {
  const authorization = ctx.get('authorization');
  if (/^Basic /i.test(authorization)) {
    return basicCredentialsMatch(authorization, credentials)
      ? { ok: true, via: 'basic' }
      : { ok: false, status: 401, description: 'the Basic credentials are wrong' };
  }
  try {
    const dpop = ctx.get('dpop');
    const info = await oauth.verifyAccessToken({ authorization, ...(dpop ? { dpop } : {}), method: ctx.method, url: ctx.href }, scope);
    if (info.kind !== 'client_credentials') return { ok: false, status: 403, description: 'a client_credentials token of an internal client is required' };
    const client = await oauth.client(info.clientId);
    if (!client?.internal) return { ok: false, status: 403, description: 'the access token does not belong to one of the bank’s internal clients' };
    return { ok: true, via: 'token', clientId: info.clientId };
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    if (err.problem === 'insufficient_scope') return { ok: false, status: 403, description: err.message };
    return { ok: false, status: 401, description: err.message };
  }
}
