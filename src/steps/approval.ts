/**
 * Approving a consent: the one path that both the browser approval page and the WSO2-compatible
 * retrieve/persist API take. It checks the interaction is at the consent prompt with a logged-in PSU and
 * names a consent of that client awaiting authorisation, runs the retrieval steps to build the page data,
 * and runs the persist steps to store the decision, ending in the OAuth interaction result.
 */
import type { InteractionResults } from 'oidc-provider';
import type { Consent } from '../consent/types.ts';
import type { PsuDirectory, Psu, PsuAccount } from '../psu/directory.ts';
import type { InteractionInfo, OAuthService } from '../oidc/oauth.ts';
import { resolveConsentReference, type ConsentReference, type ConsentReferenceResolver } from '../oidc/consent-reference.ts';
import type { ConsentPageData, Decision, Locale, PersistContext, RetrievalContext, StepClient, StepInteraction } from './contracts.ts';
import { StepError } from './contracts.ts';
import type { PersistPipeline, RetrievalPipeline } from './pipeline.ts';
import { isAddressedTo, type ConsentDecisions } from './defaults.ts';
import { isActive, isAwaiting } from '../consent/regimes/index.ts';

export type ApprovalProblem = 'login_required' | 'consent_unavailable' | 'unknown_interaction';

/** The interaction cannot lead to an approval (any more). Never says more than the code. */
export class ApprovalError extends Error {
  override name = 'ApprovalError';
  readonly problem: ApprovalProblem;
  constructor(problem: ApprovalProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

export interface ConsentReader {
  /** the consent with its effective status (expiry applied), or null */
  get(id: string): Promise<Consent | null>;
}

export interface PendingApproval {
  interaction: InteractionInfo;
  reference: ConsentReference;
  consent: Consent;
  client: StepClient;
  psu: Psu;
  /**
   * false when the TPP named another customer (Berlin Group PSU-ID): this one may neither approve nor
   * reject it; a decision ends the authorization with access_denied and leaves the consent as it is
   */
  addressedToPsu: boolean;
}

export interface DecisionOutcome {
  approved: boolean;
  /** the consent after the decision */
  consent: Consent;
  /** what to hand oidc-provider to finish the interaction */
  result: InteractionResults;
}

/** the OAuth result for a decision on a consent addressed to another customer */
export const NOT_ADDRESSED = { error: 'access_denied', error_description: 'the consent is addressed to another customer' } as const;

const AWAITING_SCA = new Set(['received', 'started', 'psuIdentified', 'psuAuthenticated', 'scaMethodSelected']);

export interface ApprovalDeps {
  oauth: OAuthService;
  consents: ConsentReader & ConsentDecisions;
  directory: PsuDirectory;
  retrieval: RetrievalPipeline;
  persist: PersistPipeline;
  resolvers?: readonly ConsentReferenceResolver[];
  /** the consent a request describes in authorization_details without naming one (created on first use; ../oidc/rar.ts) */
  fromDetails?: (interaction: InteractionInfo) => Promise<ConsentReference | undefined>;
  /** told when an approval's grant is issued, before the consent records it (the decision gate's note) */
  onGrantIssued?: (uid: string, grantId: string) => Promise<void>;
}

/** The page data before any retrieval step ran. */
export function emptyPageData(consent: Pick<Consent, 'type'>): ConsentPageData {
  return { type: consent.type, permissions: [], allowMultipleAccounts: true, basicConsentData: {}, accounts: [], notices: [], extra: {} };
}

export class Approvals {
  readonly #deps: ApprovalDeps;

  constructor(deps: ApprovalDeps) {
    this.#deps = deps;
  }

  /** The consent this interaction asks the PSU to approve, checked again now (it may have changed since PAR). */
  async pending(interaction: InteractionInfo): Promise<PendingApproval> {
    if (interaction.prompt.name !== 'consent' || !interaction.accountId) {
      throw new ApprovalError('login_required', 'the customer has not logged in yet');
    }
    const reference = resolveConsentReference(interaction.params, this.#deps.resolvers) ?? (await this.#deps.fromDetails?.(interaction));
    if (!reference) throw new ApprovalError('consent_unavailable', 'the request names no consent');
    const consent = await this.#deps.consents.get(reference.consentId);
    if (!consent || consent.clientId !== interaction.clientId || !isAwaiting(consent.status)) {
      throw new ApprovalError('consent_unavailable', 'the consent is unknown or no longer awaiting authorisation');
    }
    if (reference.authorisationId) {
      const authorisation = consent.authorisations.find((a) => a.id === reference.authorisationId);
      if (!authorisation || !AWAITING_SCA.has(authorisation.scaStatus)) {
        throw new ApprovalError('consent_unavailable', 'the consent authorisation is unknown or finished');
      }
    }
    const [psu, client] = await Promise.all([
      this.#deps.directory.findPsu(interaction.accountId),
      this.#deps.oauth.client(interaction.clientId),
    ]);
    if (!psu || !client) throw new ApprovalError('consent_unavailable', 'the customer or the client is unknown');
    return { interaction, reference, consent, client: { clientId: client.clientId, name: client.name }, psu, addressedToPsu: isAddressedTo(consent, psu) };
  }

  /**
   * Runs the retrieval steps: what the approval page shows. `data` (default: empty page data) is filled
   * in place, so a caller that catches a step's error still has what the steps before it built.
   */
  async retrieve(pending: PendingApproval, locale: Locale, data: ConsentPageData = emptyPageData(pending.consent)): Promise<ConsentPageData> {
    const ctx: RetrievalContext = { ...this.#base(pending, locale), data };
    await this.#deps.retrieval.run(ctx);
    return data;
  }

  /**
   * Runs the persist steps for the PSU's decision. A StepError('invalid_request') is rethrown (the page
   * lets the customer correct the choice); other step errors end the authorization with that error and
   * reject the consent.
   */
  async decide(pending: PendingApproval, decision: Decision, metadata: Record<string, unknown>, locale: Locale): Promise<DecisionOutcome> {
    if (!pending.addressedToPsu) {
      // another customer's consent: no step runs, nothing is stored, the consent stays as the TPP left it
      return { approved: false, consent: pending.consent, result: NOT_ADDRESSED };
    }
    let grantId: string | undefined;
    const ctx: PersistContext = {
      ...this.#base(pending, locale),
      decision,
      metadata,
      grantedAccounts: [],
      issueGrant: async () => {
        if (grantId === undefined) {
          grantId = await this.#deps.oauth.issueGrant(pending.interaction, pending.psu.id, pending.consent.id);
          await this.#deps.onGrantIssued?.(pending.interaction.uid, grantId);
        }
        return grantId;
      },
    };
    try {
      await this.#deps.persist.run(ctx);
    } catch (err) {
      if (grantId) await this.#deps.oauth.revokeGrant(grantId);
      if (!(err instanceof StepError) || err.code !== 'access_denied') throw err;
      return this.refuse(pending, err);
    }
    const stored = ctx.stored;
    if (!stored) throw new Error('no persist step stored the decision (is assent.store-decision missing?)');
    if (decision.approved && isActive(stored.status) && grantId) {
      return { approved: true, consent: stored, result: { consent: { grantId } } };
    }
    if (grantId) await this.#deps.oauth.revokeGrant(grantId);
    return {
      approved: false,
      consent: stored,
      result: { error: 'access_denied', error_description: 'the customer did not allow access' },
    };
  }

  /**
   * A step refused the approval (StepError access_denied, in either pipeline): the consent is rejected
   * (SCA failed) with the step's description as the reason, and the TPP is to be told access_denied.
   */
  async refuse(pending: PendingApproval, err: StepError): Promise<DecisionOutcome> {
    const denied = await this.#deps.consents
      .deny(pending.consent, {
        psuId: pending.psu.id,
        ...(pending.reference.authorisationId ? { authorisationId: pending.reference.authorisationId } : {}),
        reason: err.description,
        // a rejection the step names is the bank's decision, not the customer's
        ...(err.rejection ? { rejection: err.rejection, actor: 'ASPSP' as const } : {}),
      })
      .catch(() => pending.consent);
    return { approved: false, consent: denied, result: { error: 'access_denied', error_description: err.description } };
  }

  #base(pending: PendingApproval, locale: Locale) {
    let accounts: Promise<PsuAccount[]> | undefined;
    const interaction: StepInteraction = {
      uid: pending.interaction.uid,
      params: pending.interaction.params,
      ...(pending.reference.authorisationId ? { authorisationId: pending.reference.authorisationId } : {}),
    };
    return {
      consent: pending.consent,
      client: pending.client,
      psu: pending.psu,
      interaction,
      locale,
      psuAccounts: () => (accounts ??= this.#deps.directory.listAccounts(pending.psu.id)),
    };
  }
}
