/**
 * The small interface through which the rest of Assent uses oidc-provider: verify an access token at
 * our own APIs (bearer or DPoP), create a grant for one consent, revoke a grant's tokens, read and finish
 * interactions, describe clients. Everything else about oidc-provider stays in src/oidc/.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { CookieKeys } from '../http/cookie-signer.ts';
import * as jose from 'jose';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { ReplayStore } from '../storage/replay-store.ts';
import { MemoryReplayStore } from '../storage/memory/replay-store.ts';
import type { MessageSender } from '../signing/signed-messages.ts';
import { GRANT_CONSENT_ID } from './provider.ts';

export interface AccessTokenInfo {
  /** the token's client */
  clientId: string;
  scopes: Set<string>;
  /** 'client_credentials' tokens act for the TPP itself; 'user' tokens for a PSU under a consent */
  kind: 'client_credentials' | 'user';
  /** the PSU (user tokens) */
  accountId?: string;
  consentId?: string;
  grantId?: string;
}

export type TokenProblem = 'missing' | 'invalid' | 'expired' | 'insufficient_scope' | 'invalid_dpop_proof';

export class TokenError extends Error {
  override name = 'TokenError';
  readonly problem: TokenProblem;
  constructor(problem: TokenProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

export interface ClientInfo {
  clientId: string;
  name: string;
  redirectUris: string[];
  internal: boolean;
  /** the client's registered home page (`client_uri`), if any */
  uri?: string;
}

export interface InteractionInfo {
  uid: string;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, unknown>;
  clientId: string;
  /** the PSU, once logged in */
  accountId?: string;
  returnTo: string;
  /** epoch seconds */
  exp: number;
}

interface StoredToken {
  clientId: string;
  scope?: string;
  accountId?: string;
  grantId?: string;
  jkt?: string;
  'x5t#S256'?: string;
  extra?: Record<string, unknown>;
  isExpired?: boolean;
}

interface StoredInteraction {
  uid: string;
  prompt: InteractionInfo['prompt'];
  params: Record<string, unknown>;
  session?: { accountId?: string; uid?: string; cookie?: string };
  returnTo: string;
  exp: number;
  lastSubmission?: InteractionResults;
  result?: InteractionResults;
  save(ttl: number): Promise<string>;
}

/** a browser request, as Koa gives it (oidc-provider reads its session cookie) */
export interface BrowserRequest {
  req: IncomingMessage;
  res: ServerResponse;
  secure: boolean;
}

interface BrowserSession {
  accountId?: string;
  destroy(): Promise<void>;
}

const DPOP_MAX_AGE_S = 300;
const DPOP_ALGS = ['ES256', 'PS256', 'EdDSA'];

export class OAuthService {
  readonly #provider: Provider;
  readonly #resource: string;
  /** DPoP proof jti replay protection (Redis: across instances; memory in demo mode) */
  readonly #replay: ReplayStore;
  /** the provider's cookie signer, to resume an interaction for a cookie-less browser */
  readonly #cookieKeys: CookieKeys | undefined;

  constructor(provider: Provider, resource: string, replay: ReplayStore = new MemoryReplayStore(), cookieKeys?: CookieKeys) {
    this.#provider = provider;
    this.#resource = resource;
    this.#replay = replay;
    this.#cookieKeys = cookieKeys;
  }

  get provider(): Provider {
    return this.#provider;
  }

  /**
   * Checks the `Authorization` header of a request to one of our APIs: the token exists, is not expired,
   * is for our API, and — when sender-constrained with DPoP — comes with a valid proof for this request.
   */
  async verifyAccessToken(
    request: { authorization?: string; dpop?: string; method: string; url: string },
    requiredScope: string | null,
  ): Promise<AccessTokenInfo> {
    const header = request.authorization ?? '';
    const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match) throw new TokenError('missing', 'an access token is required (Authorization: Bearer or DPoP)');
    const scheme = match[1]!.toLowerCase();
    const value = match[2]!;

    // expired tokens are found too (kept a while after expiry, see single-use.ts) to answer "expired"
    const cc = (await this.#provider.ClientCredentials.find(value, { ignoreExpiration: true })) as unknown as StoredToken | undefined;
    const at = cc ? undefined : ((await this.#provider.AccessToken.find(value, { ignoreExpiration: true })) as unknown as StoredToken | undefined);
    const token = cc ?? at;
    this.#assertUsable(token);

    if (token.jkt) {
      if (scheme !== 'dpop') throw new TokenError('invalid', 'this access token is DPoP-bound: use the DPoP scheme');
      await this.#checkDpopProof(request, value, token.jkt);
    } else if (scheme !== 'bearer') {
      throw new TokenError('invalid', 'this access token is not DPoP-bound: use the Bearer scheme');
    }

    const info = toTokenInfo(token, cc ? 'client_credentials' : 'user');
    if (requiredScope !== null && !info.scopes.has(requiredScope)) throw new TokenError('insufficient_scope', `the access token lacks the scope ${requiredScope}`);
    return info;
  }

  /**
   * A PSU's access token as a resource server forwards it (the validation API): active, for our API.
   * The sender constraint (DPoP / mTLS) is the forwarding gateway's to check. Throws TokenError.
   */
  async describeUserToken(value: string): Promise<AccessTokenInfo> {
    const token = (await this.#provider.AccessToken.find(value, { ignoreExpiration: true })) as unknown as StoredToken | undefined;
    this.#assertUsable(token);
    return toTokenInfo(token, 'user');
  }

  #assertUsable(token: StoredToken | undefined): asserts token is StoredToken {
    if (!token) throw new TokenError('invalid', 'the access token is unknown, expired or revoked');
    if (token.isExpired) throw new TokenError('expired', 'the access token has expired');
    const aud = (token as { aud?: string | string[] }).aud;
    if (aud !== undefined && !(Array.isArray(aud) ? aud.includes(this.#resource) : aud === this.#resource)) {
      throw new TokenError('invalid', 'the access token is not for this API');
    }
  }

  async #checkDpopProof(request: { dpop?: string; method: string; url: string }, accessToken: string, jkt: string): Promise<void> {
    if (!request.dpop) throw new TokenError('invalid_dpop_proof', 'a DPoP proof is required');
    let payload: jose.JWTPayload;
    let header: jose.JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jose.jwtVerify(request.dpop, jose.EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: DPOP_ALGS,
        maxTokenAge: DPOP_MAX_AGE_S,
        clockTolerance: 5,
      }));
    } catch {
      throw new TokenError('invalid_dpop_proof', 'the DPoP proof is invalid');
    }
    const thumbprint = await jose.calculateJwkThumbprint(header.jwk as jose.JWK);
    const url = new URL(request.url);
    const htu = `${url.origin}${url.pathname}`;
    const ath = createHash('sha256').update(accessToken).digest('base64url');
    if (thumbprint !== jkt || payload.htm !== request.method || payload.htu !== htu || payload.ath !== ath || typeof payload.jti !== 'string') {
      throw new TokenError('invalid_dpop_proof', 'the DPoP proof does not match this request or key');
    }
    // remembered as long as the proof could be accepted (its age limit, plus the clock tolerance)
    if (!(await this.#replay.firstUse(`dpop-api:${jkt}:${payload.jti}`, DPOP_MAX_AGE_S + 5))) {
      throw new TokenError('invalid_dpop_proof', 'the DPoP proof was already used');
    }
  }

  /** The OIDC scopes (openid, offline_access) the customer granted under a grant; empty when it is gone. */
  async grantedOidcScopes(grantId: string): Promise<Set<string>> {
    const grant = await this.#provider.Grant.find(grantId);
    return new Set((grant?.getOIDCScope() ?? '').split(' ').filter(Boolean));
  }

  /**
   * Creates a NEW grant covering what the interaction asked for, for the consent `consentId`. The grant
   * carries the consent id (GRANT_CONSENT_ID in ./provider.ts), so the token endpoint names the consent
   * in its tokens without reading it from the consent store.
   */
  async issueGrant(interaction: InteractionInfo, accountId: string, consentId?: string): Promise<string> {
    const grant = new this.#provider.Grant({ accountId, clientId: interaction.clientId });
    if (consentId !== undefined) (grant as unknown as Record<string, unknown>)[GRANT_CONSENT_ID] = consentId;
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    return grant.save();
  }

  /** Revokes everything issued under a grant: access tokens, refresh tokens, unused codes, the grant. */
  async revokeGrant(grantId: string): Promise<void> {
    const p = this.#provider;
    await Promise.all([
      p.AccessToken.revokeByGrantId(grantId),
      p.RefreshToken.revokeByGrantId(grantId),
      p.AuthorizationCode.revokeByGrantId(grantId),
      p.Grant.adapter.destroy(grantId),
    ]);
  }

  /** The interaction behind this browser request (via its interaction cookie); throws when there is none. */
  async interactionFromRequest(req: IncomingMessage, res: ServerResponse): Promise<InteractionInfo> {
    const interaction = (await this.#provider.interactionDetails(req, res)) as unknown as StoredInteraction & { params: { client_id?: string } };
    return toInfo(interaction);
  }

  /** The interaction with this uid (no cookie: the internal API path), or undefined when unknown/expired. */
  async interactionByUid(uid: string): Promise<InteractionInfo | undefined> {
    const interaction = (await this.#provider.Interaction.find(uid)) as unknown as StoredInteraction | undefined;
    return interaction ? toInfo(interaction) : undefined;
  }

  /** Stores the interaction's result (as oidc-provider's interactionResult does) and returns where to resume. */
  async finishInteraction(uid: string, result: InteractionResults): Promise<string> {
    const interaction = (await this.#provider.Interaction.find(uid)) as unknown as StoredInteraction | undefined;
    if (!interaction) throw new Error('interaction not found');
    interaction.result = 'error' in result ? result : { ...interaction.lastSubmission, ...result };
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    return interaction.returnTo;
  }

  /** whether oidc-provider still holds interaction `uid` (resuming it, or its expiry, removes it) */
  async interactionExists(uid: string): Promise<boolean> {
    return (await this.#provider.Interaction.find(uid)) !== undefined;
  }

  /**
   * Resumes a finished interaction on the browser's behalf and returns where oidc-provider sends the
   * browser next: for a decided consent, the TPP's redirect URI with `code`, `state` and `iss` (or the
   * error). For a bank UI that cannot forward Assent's cookies (WSO2 persist): oidc-provider's resume
   * endpoint recognises the browser by two cookies, the interaction's resume cookie (the interaction uid)
   * and the session cookie (the session id, which the interaction recorded when it began); both are
   * signed with the provider's cookie keys. Assent holds all three, so it presents exactly what the
   * browser would, and oidc-provider runs its own resume (single-use interaction, code issuance, grant
   * checks) unchanged. Undefined when the interaction is gone or resuming answers no redirect.
   *
   * The request goes to `returnTo`, i.e. through the issuer URL: the server must reach its own issuer.
   */
  async resumeOnBehalf(uid: string): Promise<string | undefined> {
    const interaction = (await this.#provider.Interaction.find(uid)) as unknown as StoredInteraction | undefined;
    const signer = this.#cookieKeys;
    if (!interaction?.result || !signer) return undefined;
    const cookies: Array<[string, string]> = [[this.#provider.cookieName('resume'), uid]];
    if (interaction.session?.cookie) cookies.push([this.#provider.cookieName('session'), interaction.session.cookie]);
    const header = cookies.flatMap(([name, value]) => [`${name}=${value}`, `${name}.sig=${signer.sign(`${name}=${value}`)}`]).join('; ');
    try {
      const res = await fetch(interaction.returnTo, { headers: { cookie: header }, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
      return location ? new URL(location, interaction.returnTo).href : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Finishes the login prompt of `uid` with `accountId`. When this browser's session holds another
   * customer, that session is ended first (server side), so the new login starts a session of its own.
   */
  async finishLogin(browser: BrowserRequest, uid: string, accountId: string): Promise<string> {
    const session = await this.#browserSession(browser);
    if (session?.accountId && session.accountId !== accountId) await this.#endSession(session, uid);
    return this.finishInteraction(uid, { login: { accountId } });
  }

  /**
   * "Not you?": ends this browser's session on the server and sends the authorization of interaction `uid`
   * back to its login prompt (the same request: same client, same consent). Returns where to resume.
   */
  async restartLogin(browser: BrowserRequest, uid: string): Promise<string> {
    const session = await this.#browserSession(browser);
    if (session) await this.#endSession(session, uid);
    const interaction = (await this.#provider.Interaction.find(uid)) as unknown as StoredInteraction | undefined;
    if (!interaction) throw new Error('interaction not found');
    delete interaction.result;
    delete interaction.session;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    return interaction.returnTo;
  }

  async #browserSession(browser: BrowserRequest): Promise<BrowserSession | undefined> {
    const session = (await this.#provider.Session.get(browser as never)) as unknown as BrowserSession;
    return session.accountId ? session : undefined;
  }

  /** destroys the session and unbinds the interaction from it (oidc-provider checks the binding on resume) */
  async #endSession(session: BrowserSession, uid: string): Promise<void> {
    await session.destroy();
    const interaction = (await this.#provider.Interaction.find(uid)) as unknown as StoredInteraction | undefined;
    if (interaction?.session) {
      delete interaction.session;
      await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    }
  }

  /**
   * What the signed-message verifier needs of a client: its organisation id (`urn:assent:organisation_id`)
   * and its registered keys (`jwks` or `jwks_uri`). Undefined for an unknown client.
   */
  async messageSender(clientId: string): Promise<MessageSender | undefined> {
    const client = (await this.#provider.Client.find(clientId)) as unknown as { metadata(): Record<string, unknown> } | undefined;
    if (!client) return undefined;
    const metadata = client.metadata();
    const organisationId = metadata['urn:assent:organisation_id'];
    const jwks = metadata.jwks as MessageSender['jwks'];
    const jwksUri = metadata.jwks_uri;
    return {
      clientId,
      ...(typeof organisationId === 'string' ? { organisationId } : {}),
      ...(jwks && Array.isArray(jwks.keys) ? { jwks } : {}),
      ...(typeof jwksUri === 'string' ? { jwksUri } : {}),
    };
  }

  async client(clientId: string): Promise<ClientInfo | undefined> {
    const client = (await this.#provider.Client.find(clientId)) as unknown as
      | { clientId: string; clientName?: string; clientUri?: string; redirectUris?: string[]; 'urn:assent:internal'?: boolean }
      | undefined;
    if (!client) return undefined;
    return {
      clientId: client.clientId,
      name: client.clientName ?? client.clientId,
      redirectUris: client.redirectUris ?? [],
      internal: client['urn:assent:internal'] === true,
      ...(client.clientUri ? { uri: client.clientUri } : {}),
    };
  }
}

function toTokenInfo(token: StoredToken, kind: AccessTokenInfo['kind']): AccessTokenInfo {
  const consentId = token.extra?.consent_id;
  return {
    clientId: token.clientId,
    scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)),
    kind,
    ...(token.accountId ? { accountId: token.accountId } : {}),
    ...(typeof consentId === 'string' ? { consentId } : {}),
    ...(token.grantId ? { grantId: token.grantId } : {}),
  };
}

function toInfo(interaction: StoredInteraction): InteractionInfo {
  const clientId = String(interaction.params.client_id ?? '');
  return {
    uid: interaction.uid,
    prompt: interaction.prompt,
    params: interaction.params,
    clientId,
    ...(interaction.session?.accountId ? { accountId: interaction.session.accountId } : {}),
    returnTo: interaction.returnTo,
    exp: interaction.exp,
  };
}
