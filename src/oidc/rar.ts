/**
 * Rich Authorization Requests (RFC 9396) with one type, `account_information`: a TPP may describe the
 * access it wants in `authorization_details` instead of (or as well as) naming a consent it created first.
 *
 *   request:  authorization_details=[{ "type": "account_information", "access": {…}, "recurringIndicator": true,
 *             "validUntil": "2027-01-31", "frequencyPerDay": 4, "combinedServiceIndicator": false }]
 *             (the Berlin Group consent request's fields, under the same rules; `locations` optional)
 *   consent:  without a consent reference, Assent creates the consent from the details when the customer
 *             reaches the approval page (one per interaction); with one, the details must describe that
 *             consent exactly, or the request is refused (invalid_authorization_details)
 *   tokens:   the code, access and refresh tokens and introspection carry the enriched details: the
 *             consent id, its terms, and the accounts the customer chose (resource ids and what each
 *             allows, no IBANs), so a resource server can decide locally.
 *
 * Discovery advertises `authorization_details_types_supported: ["account_information"]`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { validateAccountConsentRequest, type AccountConsentRequest, type ConsentRequestOptions } from '../consent/validation.ts';
import type { Consent } from '../consent/types.ts';

export const ACCOUNT_INFORMATION = 'account_information';

/** the detail's own fields (RFC 9396 common `locations`), the rest is the consent request, checked by the domain */
const detailSchema = z
  .object({
    type: z.literal(ACCOUNT_INFORMATION),
    locations: z.array(z.url()).max(10).optional(),
    access: z.unknown(),
    recurringIndicator: z.unknown(),
    validUntil: z.unknown(),
    frequencyPerDay: z.unknown(),
    combinedServiceIndicator: z.unknown().optional(),
  })
  .strict();

export type DetailCheck = { ok: true; value: AccountConsentRequest } | { ok: false; message: string };

/** One `account_information` detail → the consent request it asks for, or what is wrong with it. */
export function parseAccountInformation(detail: unknown, options: ConsentRequestOptions): DetailCheck {
  const shape = detailSchema.safeParse(detail);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    return { ok: false, message: `${issue.path.join('.') || 'detail'}: ${issue.message}` };
  }
  const { type: _type, locations: _locations, ...request } = shape.data;
  const result = validateAccountConsentRequest({ combinedServiceIndicator: false, ...request }, options);
  if (!result.ok) {
    const issue = result.error.issues[0]!;
    return { ok: false, message: `${issue.path || 'detail'}: ${issue.message}` };
  }
  return { ok: true, value: result.value };
}

/** The `account_information` details of a request's parameters (already parsed by oidc-provider's checks). */
export function accountInformationDetails(params: Readonly<Record<string, unknown>>): unknown[] {
  const raw = params.authorization_details;
  if (typeof raw !== 'string') return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    const list = Array.isArray(parsed) ? parsed : [];
    return list.filter((d) => (d as { type?: unknown })?.type === ACCOUNT_INFORMATION);
  } catch {
    return [];
  }
}

/** Whether the consent is what the request describes (a consent named together with details). */
export function consentMatches(consent: Consent, request: AccountConsentRequest): boolean {
  return (
    consent.type === 'accounts' &&
    JSON.stringify(sorted(consent.access)) === JSON.stringify(sorted(request.access)) &&
    consent.recurringIndicator === request.recurringIndicator &&
    consent.validUntil === request.validUntil &&
    consent.frequencyPerDay === request.frequencyPerDay &&
    consent.combinedServiceIndicator === request.combinedServiceIndicator
  );
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)]));
  }
  return value;
}

/** The consent created for an interaction's details: one id per client and interaction, so reloads find it. */
export function consentIdForInteraction(clientId: string, interactionUid: string): string {
  const h = createHash('sha256').update(`rar\0${clientId}\0${interactionUid}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The details a token carries: the consent as approved, with the accounts the customer chose by resource
 * id (tokens sit in Redis as they are: no IBANs or other account identifiers in them).
 */
export function enrichedDetails(consent: Consent): Record<string, unknown>[] {
  return [
    {
      type: ACCOUNT_INFORMATION,
      consentId: consent.id,
      recurringIndicator: consent.recurringIndicator,
      validUntil: consent.validUntil,
      frequencyPerDay: consent.frequencyPerDay,
      combinedServiceIndicator: consent.combinedServiceIndicator,
      accounts: (consent.grantedAccounts ?? []).map((a) => ({ resourceId: a.accountId, ...(a.currency ? { currency: a.currency } : {}), access: a.access })),
    },
  ];
}

export interface RarDeps {
  /** the rules a consent request is held to (clock, validity and frequency bounds) */
  requestOptions(): ConsentRequestOptions;
  findByGrantId(grantId: string): Promise<Consent | null>;
}

/** oidc-provider's `features.richAuthorizationRequests`. */
export function richAuthorizationRequests(deps: RarDeps) {
  const fromGrant = async (grantId: unknown) => {
    const consent = typeof grantId === 'string' ? await deps.findByGrantId(grantId) : null;
    return consent ? enrichedDetails(consent) : [];
  };
  return {
    enabled: true,
    types: {
      [ACCOUNT_INFORMATION]: {
        validate(ctx: KoaContextWithOIDC, detail: unknown) {
          const details = accountInformationDetails(ctx.oidc.params as Record<string, unknown>);
          if (details.length > 1) throw new errors.InvalidAuthorizationDetails('at most one account_information detail per request');
          const checked = parseAccountInformation(detail, deps.requestOptions());
          if (!checked.ok) throw new errors.InvalidAuthorizationDetails(`account_information: ${checked.message}`);
        },
      },
    },
    // the code and every token carry what the consent grants now (not what was asked)
    authorizationDetailsForGrantSource: async (_ctx: KoaContextWithOIDC, source: { grantId?: string }) => fromGrant(source.grantId),
    authorizationDetailsForAccessToken: async (_ctx: KoaContextWithOIDC, token: { grantId?: string }, source: { rar?: unknown[] } | undefined) =>
      source?.rar ?? fromGrant(token.grantId),
    authorizationDetailsForIntrospection: async (_ctx: KoaContextWithOIDC, token: { rar?: unknown[] }) => token.rar ?? [],
  };
}
