/**
 * Two more places a bank may hook into, beside the retrieval and persist steps (contracts.ts): before a
 * TPP's consent is stored, and when a resource server asks whether an access is allowed. Like steps
 * they are plain objects; the HTTP extensions (extensions/) are the implementations Assent ships.
 */
import type { Consent, ConsentType } from '../consent/types.ts';
import type { NewConsent } from '../consent/state.ts';

/**
 * Runs before a new consent is stored, for every regime's consents (or those of `consentTypes`). Throws
 * ConsentValidationError to refuse the request: nothing is stored, and each dialect renders the refusal
 * in its own format (Berlin Group 400 FORMAT_ERROR at the path; Open Finance Brasil consents 422
 * ERRO_NAO_MAPEADO, payment consents 422 NAO_INFORMADO). Any other throw fails the request (Berlin Group
 * 503, Open Finance Brasil 500), fail closed; ExtensionUnavailable answers Open Finance Brasil consents 504.
 */
export interface ConsentCreationCheck {
  id: string;
  /** the consent types it applies to; absent: all */
  consentTypes?: readonly ConsentType[];
  run(request: Readonly<NewConsent> & { type: ConsentType }): Promise<void>;
}

/** What an access check is asked (the validation API's question, after Assent's own checks passed). */
export interface AccessCheckRequest {
  consent: Readonly<Consent>;
  method: string;
  resourcePath: string;
  accountId?: string;
  psuPresent: boolean;
}

/**
 * Runs after Assent found an access valid and before it is counted. Answers refuse (with the outcome the
 * resource server tells the TPP) or allow; a throw makes the validation fail closed (503).
 */
export interface AccessCheck {
  id: string;
  consentTypes?: readonly ConsentType[];
  run(request: AccessCheckRequest): Promise<{ allowed: true } | { allowed: false; outcome: 'consentInvalid' | 'resourceUnknown' }>;
}
