/**
 * The step plugin contracts: what implementers write to shape the approval page (retrieval steps) and
 * what happens when the customer decides (persist steps). A step is a plain object checked with
 * `satisfies RetrievalStep` / `satisfies PersistStep`; steps run in ascending `priority`; `consentTypes`
 * limits a step to some consent types (absent: all). See docs/plugins.md.
 *
 * Both the browser approval page and the WSO2-compatible retrieve/persist API run these same steps.
 */
import type { Consent, ConsentType, GrantedAccount, Rejection } from '../consent/types.ts';
import type { Psu, PsuAccount } from '../psu/directory.ts';

export type Locale = 'en' | 'pt-BR';

export interface StepClient {
  clientId: string;
  /** the TPP's display name */
  name: string;
}

export interface StepInteraction {
  /** the oidc-provider interaction uid */
  uid: string;
  /** the authorization request's parameters (scope, state, redirect_uri, acr_values, consent_id, …) */
  params: Readonly<Record<string, unknown>>;
  /** the consent authorisation sub-resource named by the request (acr_values consentAuthorisationId:…) */
  authorisationId?: string;
}

/** A permission in plain words, as the page shows it (WSO2: `permissions[{uid, displayValues}]`). */
export interface DisplayPermission {
  uid: string;
  code: string;
  title: string;
  detail?: string;
  displayValues: string[];
}

/** An account offered for selection. */
export interface DisplayAccount {
  accountId: string;
  displayName: string;
  iban: string;
  currency: string;
  /** pre-selected on the page */
  selected: boolean;
  /** false: shown but cannot be chosen (e.g. not covered by the consent) */
  selectable: boolean;
}

export interface Notice {
  level: 'info' | 'warning';
  text: string;
}

/** What the approval page shows; retrieval steps fill it in. */
export interface ConsentPageData {
  type: ConsentType;
  permissions: DisplayPermission[];
  allowMultipleAccounts: boolean;
  /** label → values (WSO2 `basicConsentData`), e.g. "Expiration Date Time" → ["2026-05-01"] */
  basicConsentData: Record<string, string[]>;
  accounts: DisplayAccount[];
  notices: Notice[];
  /** free-form data for custom views and plugins; namespaced by plugin id by convention */
  extra: Record<string, unknown>;
}

interface BaseContext {
  readonly consent: Readonly<Consent>;
  readonly client: StepClient;
  readonly psu: Psu;
  readonly interaction: StepInteraction;
  readonly locale: Locale;
  /** the PSU's accounts (loaded once per pipeline run) */
  psuAccounts(): Promise<PsuAccount[]>;
}

export interface RetrievalContext extends BaseContext {
  /** the page data; steps add to it */
  readonly data: ConsentPageData;
}

export interface Decision {
  approved: boolean;
  /** the bank's account ids the customer selected */
  selectedAccountIds: string[];
}

export interface PersistContext extends BaseContext {
  readonly decision: Readonly<Decision>;
  /** free-form data sent with the decision (WSO2 `metadata`) */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** the accounts the consent will be granted for; the default validation step fills it */
  grantedAccounts: GrantedAccount[];
  /** fields a step adds to the consent's type-specific `details` on approval (e.g. a payment's debtor account) */
  detailsPatch?: Record<string, unknown>;
  /**
   * The consent after the decision was stored (set by the default store step). Steps with a higher
   * priority than the store step see the outcome here.
   */
  stored?: Consent;
  /** a NEW oidc-provider grant for this consent and PSU (created once, on first call) */
  issueGrant(): Promise<string>;
}

interface StepBase {
  /** unique, e.g. "acme.risk-notice" */
  id: string;
  /** steps run in ascending priority; must be unique within a pipeline */
  priority: number;
  /** the consent types this step applies to; absent: all */
  consentTypes?: readonly ConsentType[];
}

export interface RetrievalStep extends StepBase {
  run(ctx: RetrievalContext): void | Promise<void>;
}

export interface PersistStep extends StepBase {
  run(ctx: PersistContext): void | Promise<void>;
}

/** The errors a step may raise; each becomes the right OAuth redirect or API error. */
export const STEP_ERROR_CODES = ['access_denied', 'invalid_request', 'consent_conflict', 'temporarily_unavailable'] as const;
export type StepErrorCode = (typeof STEP_ERROR_CODES)[number];

/**
 * Thrown by a step to stop the pipeline. `access_denied` ends the authorization with that OAuth error;
 * `invalid_request` means the submitted decision is wrong (the page shows `description` and lets the
 * customer try again; the API answers 400); `consent_conflict`: the consent changed meanwhile;
 * `temporarily_unavailable`: a dependency is down.
 */
export class StepError extends Error {
  override name = 'StepError';
  readonly code: StepErrorCode;
  /** safe to show to the customer and the caller */
  readonly description: string;
  /** access_denied: what the consent records instead of its regime's default (regimes with a rejection) */
  readonly rejection?: Rejection;
  constructor(code: StepErrorCode, description: string, options: { rejection?: Rejection } = {}) {
    super(`${code}: ${description}`);
    this.code = code;
    this.description = description;
    if (options.rejection) this.rejection = options.rejection;
  }
}
