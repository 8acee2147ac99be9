/**
 * Consent access validation: what a bank's resource server asks before it serves a TPP's account
 * information request. One path for every caller (the validation API, the reference AIS API):
 *
 *   token → consent (owned by the token's client) → status → grant on the account → usage counter
 *
 * The rules are the domain's (consent/access-check.ts); this service brings the token lookup, the
 * consent read and the counters. A counter store that cannot answer is UsageUnavailable: the caller
 * fails closed, never "valid".
 *
 * The hot path reads no consent from the repository: with a ConsentFence, a consent read once is kept in
 * memory (per instance, bounded), and a remembered copy is used only through the fence's atomic "count
 * if this revision is still current and no writer holds it" (one Redis script). Every consent write holds
 * the fence (ConsentService), so a revocation on any instance is refused on every instance from the moment
 * it is stored. The remembered copy only ever says "valid": any other outcome is decided again from the
 * repository (which also records an expiry), so what the TPP is told is what is stored.
 */
import type { Consent } from '../consent/types.ts';
import { checkAccess, outcomeCode, resourceOfPath, usageRule, type AccessOutcome, type ResourceRequest, type UsageRule } from '../consent/access-check.ts';
import { bankDay, type UsageCounter } from '../consent/usage.ts';
import { TokenError, type AccessTokenInfo } from '../oidc/oauth.ts';
import type { ConsentService } from './consents.ts';
import type { AccessCheck } from '../steps/hooks.ts';
import type { ConsentFence } from '../storage/consent-fence.ts';
import { RememberedConsents } from './remembered-consents.ts';

export type AccessSubject = { accessToken: string } | { consentId: string; clientId: string };

export interface AccessRequest {
  subject: AccessSubject;
  method: string;
  /** the path the TPP called, e.g. /psd2/accountinformation/v1/accounts/{id}/balances (a query is ignored) */
  path: string;
  /** the account the request addresses, when the caller knows it (must agree with the path's) */
  accountId?: string;
  /** the customer is present (the TPP sent PSU-IP-Address) */
  psuPresent: boolean;
}

export interface AccessDecision {
  outcome: AccessOutcome;
  isValid: boolean;
  httpCode: number;
  errorCode: string | null;
  consent?: Consent;
  /** accesses left today on this resource under this rule (absent when no consent was found) */
  remainingToday?: number;
}

export interface TokenLookup {
  describeUserToken(value: string): Promise<AccessTokenInfo>;
}

export interface AccessValidatorOptions {
  timeZone: string;
  now?: () => Date;
  /** how many consents the validator remembers when not given a memory (default 10,000; the oldest is forgotten first) */
  rememberedConsents?: number;
}

export class AccessValidator {
  readonly #consents: ConsentService;
  readonly #tokens: TokenLookup;
  readonly #usage: UsageCounter;
  readonly #options: AccessValidatorOptions;
  readonly #fence: ConsentFence | undefined;
  /** consents read from the repository whose revision the fence confirmed (insertion order: oldest first) */
  readonly #remembered: RememberedConsents;
  #day: { from: number; day: string; endsAt: Date } | undefined;

  readonly #checks: readonly AccessCheck[];

  /**
   * Without `fence` every validation reads the consent from the repository. `remembered`: the instance's
   * memory of consents, shared with ConsentService (one copy per consent per instance); without it the
   * validator keeps its own of `options.rememberedConsents`.
   */
  constructor(
    deps: { consents: ConsentService; tokens: TokenLookup; usage: UsageCounter; checks?: readonly AccessCheck[]; fence?: ConsentFence; remembered?: RememberedConsents },
    options: AccessValidatorOptions,
  ) {
    this.#checks = deps.checks ?? [];
    this.#consents = deps.consents;
    this.#tokens = deps.tokens;
    this.#usage = deps.usage;
    this.#fence = deps.fence;
    this.#options = options;
    this.#remembered = deps.remembered ?? new RememberedConsents(options.rememberedConsents ?? 10_000);
  }

  /** the copies the fast path answers from */
  get remembered(): RememberedConsents {
    return this.#remembered;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** bankDay, computed once per day (Intl is slow on the hot path) */
  #bankDay(now: Date): { day: string; endsAt: Date } {
    const d = this.#day;
    if (d && now.getTime() >= d.from && now.getTime() < d.endsAt.getTime()) return d;
    const computed = bankDay(now, this.#options.timeZone);
    this.#day = { from: now.getTime(), ...computed };
    return computed;
  }

  #remember(consent: Consent): void {
    this.#remembered.remember(consent);
  }

  /**
   * The decision from a remembered copy, when it is `valid` and the fence confirms the copy is current;
   * undefined sends the caller to the repository.
   */
  async #fromRemembered(consent: Consent, clientId: string, grantId: string | undefined, request: AccessRequest, fence: ConsentFence): Promise<AccessDecision | undefined> {
    if (consent.clientId !== clientId || (grantId !== undefined && consent.grantId !== grantId)) return undefined;
    const resource = resourceFor(request);
    const now = this.#now();
    if (!resource || checkAccess(consent, resource, now) !== 'valid') return undefined;
    const refused = await this.#bankChecks(consent, request);
    if (refused) return refused;
    const rule = usageRule(consent, request.psuPresent);
    const bucket = this.#bucket(consent, rule, now);
    const path = resourceKey(request.path);
    let used: number;
    if (rule.counted) {
      const count = await fence.incrementIfCurrent(consent.id, consent.revision, bucket.day, path, bucket.endsAt);
      if (count === undefined) return this.#forget(consent.id);
      if (count > rule.limit) return decision('accessExceeded', consent, 0);
      used = count;
    } else {
      const usage = await fence.usageIfCurrent(consent.id, consent.revision, bucket.day);
      if (usage === undefined) return this.#forget(consent.id);
      used = usage[path] ?? 0;
    }
    return decision('valid', consent, Math.max(0, rule.limit - used));
  }

  /** The bank's own checks (extensions): they see only what Assent allowed, before it is counted. */
  async #bankChecks(consent: Consent, request: AccessRequest): Promise<AccessDecision | undefined> {
    for (const check of this.#checks) {
      if (check.consentTypes && !check.consentTypes.includes(consent.type)) continue;
      const answer = await check.run({
        consent,
        method: request.method,
        resourcePath: request.path,
        ...(request.accountId !== undefined ? { accountId: request.accountId } : {}),
        psuPresent: request.psuPresent,
      });
      if (!answer.allowed) return decision(answer.outcome, consent);
    }
    return undefined;
  }

  #forget(consentId: string): undefined {
    this.#remembered.forget(consentId);
    return undefined;
  }

  #bucket(consent: Consent, rule: UsageRule, now: Date): { day: string; endsAt: Date } {
    return rule.counted && rule.period === 'lifetime' ? { day: 'lifetime', endsAt: consent.expiresAt } : this.#bankDay(now);
  }

  async validate(request: AccessRequest): Promise<AccessDecision> {
    let consentId: string;
    let clientId: string;
    let grantId: string | undefined;
    if ('accessToken' in request.subject) {
      const token = await this.#tokens.describeUserToken(request.subject.accessToken).catch((err: unknown) => {
        if (err instanceof TokenError) return undefined;
        throw err;
      });
      if (!token) return decision('tokenInvalid');
      if (!token.consentId) return decision('consentInvalid');
      ({ consentId, clientId, grantId } = token);
    } else {
      ({ consentId, clientId } = request.subject);
    }

    const fence = this.#fence;
    const remembered = fence && this.#remembered.get(consentId);
    if (remembered) {
      const fast = await this.#fromRemembered(remembered, clientId, grantId, request, fence);
      if (fast) return fast;
    }

    const consent = await this.#consents.get(consentId);
    if (!consent || consent.clientId !== clientId) return decision('consentUnknown');
    // a token from a grant the consent no longer has (revoked, replaced) does not speak for it
    if (grantId !== undefined && consent.grantId !== grantId) return decision('tokenInvalid', consent);

    const resource = resourceFor(request);
    if (!resource) return decision('serviceInvalid', consent);
    const now = this.#now();
    const outcome = checkAccess(consent, resource, now);
    if (outcome !== 'valid') return decision(outcome, consent);
    const refused = await this.#bankChecks(consent, request);
    if (refused) return refused;

    const rule = usageRule(consent, request.psuPresent);
    const bucket = this.#bucket(consent, rule, now);
    const path = resourceKey(request.path);
    // remember the consent when the fence confirms this revision is current (beside the count, not after it)
    const registered = fence?.register(consent.id, consent.revision).then(
      (current) => current && this.#remember(consent),
      () => undefined,
    );
    let used: number;
    try {
      if (rule.counted) {
        used = await this.#usage.increment(consent.id, bucket.day, path, bucket.endsAt);
        if (used > rule.limit) return decision('accessExceeded', consent, 0);
      } else {
        used = (await this.#usage.usage(consent.id, bucket.day))[path] ?? 0;
      }
    } finally {
      await registered;
    }
    return decision('valid', consent, Math.max(0, rule.limit - used));
  }

  /** today's accesses of a consent per resource path (and, for a one-off consent, over its life) */
  async usage(consent: Consent): Promise<{ day: string; timeZone: string; accesses: Record<string, number> }> {
    const { day } = bankDay(this.#now(), this.#options.timeZone);
    const accesses = await this.#usage.usage(consent.id, consent.recurringIndicator ? day : 'lifetime');
    return { day: consent.recurringIndicator ? day : 'lifetime', timeZone: this.#options.timeZone, accesses };
  }
}

function decision(outcome: AccessOutcome, consent?: Consent, remainingToday?: number): AccessDecision {
  const code = outcomeCode(consent?.type, outcome);
  return {
    outcome,
    isValid: outcome === 'valid',
    ...code,
    ...(consent ? { consent } : {}),
    ...(remainingToday !== undefined ? { remainingToday } : {}),
  };
}

/** Account information is read-only: GET on a known resource path; a given account id must match the path's. */
function resourceFor(request: AccessRequest): ResourceRequest | undefined {
  if (request.method.toUpperCase() !== 'GET') return undefined;
  const resource = resourceOfPath(request.path);
  if (!resource) return undefined;
  if (request.accountId !== undefined && resource.accountId !== undefined && request.accountId !== resource.accountId) return undefined;
  if (request.accountId !== undefined && resource.accountId === undefined) return { ...resource, accountId: request.accountId };
  return resource;
}

/** xs2a counts per request URI without its query: `/accounts/a1/transactions?dateFrom=…` is one resource */
function resourceKey(path: string): string {
  return path.split('?')[0]!.replace(/\/+$/, '') || '/';
}
