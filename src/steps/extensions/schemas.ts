/**
 * The bodies exchanged with a bank's HTTP extensions (WSO2's "OpenAPI-based extensions"), as zod schemas:
 * what Assent sends to each hook and what it accepts back. The same schemas produce the OpenAPI document
 * Assent serves at /api/fs/extensions/openapi.json, so the description and the checks cannot drift.
 *
 * Every call is `POST <the hook's configured URL>` with `{ requestId, hook, data }`; the answer is
 * `{ responseId, status: "SUCCESS", data }` or `{ responseId, status: "ERROR", errorMessage, … }`
 * (responseId echoes requestId). Anything else is a malformed answer: the call failed (fail closed).
 */
import { z } from 'zod';
import { CONSENT_TYPES } from '../../consent/types.ts';

import { EXTENSION_HOOKS } from '../../../config/schema.ts';

export const HOOKS = EXTENSION_HOOKS;
export type Hook = (typeof HOOKS)[number];

const accessKind = z.enum(['accounts', 'balances', 'transactions']);
const reference = z.record(z.string(), z.string()).describe('an account reference as the TPP sent it (iban, bban, pan, maskedPan, msisdn, clearingNumber, currency)');
const access = z
  .object({
    accounts: z.array(reference).optional(),
    balances: z.array(reference).optional(),
    transactions: z.array(reference).optional(),
    availableAccounts: z.string().optional(),
    availableAccountsWithBalance: z.string().optional(),
    allPsd2: z.string().optional(),
  })
  .describe("the consent's access (Berlin Group terms)");

/** What every hook is told about the consent (no personal data beyond what the bank holds anyway). */
export const consentSummary = z.object({
  id: z.string(),
  type: z.enum(CONSENT_TYPES),
  status: z.string(),
  clientId: z.string(),
  access,
  validUntil: z.string(),
  frequencyPerDay: z.number().int(),
  recurringIndicator: z.boolean(),
});

export const requestData = {
  populate_consent_authorize_screen: z.object({
    consent: consentSummary,
    client: z.object({ clientId: z.string(), name: z.string() }),
    psuId: z.string().describe("the bank's id of the logged-in customer"),
    locale: z.enum(['en', 'pt-BR']),
    accounts: z.array(z.object({ accountId: z.string(), selectable: z.boolean(), selected: z.boolean() })),
  }),
  persist_authorized_consent: z.object({
    consent: consentSummary,
    psuId: z.string(),
    approved: z.boolean(),
    selectedAccountIds: z.array(z.string()),
    grantedAccounts: z.array(z.object({ accountId: z.string(), access: z.array(accessKind) })),
    metadata: z.record(z.string(), z.unknown()),
  }),
  validate_consent_access: z.object({
    consent: consentSummary,
    method: z.string(),
    resourcePath: z.string(),
    accountId: z.string().optional(),
    psuPresent: z.boolean(),
  }),
  pre_process_consent_creation: z.object({
    clientId: z.string(),
    type: z.enum(CONSENT_TYPES),
    access,
    validUntil: z.string(),
    frequencyPerDay: z.number().int(),
    recurringIndicator: z.boolean(),
    combinedServiceIndicator: z.boolean().optional(),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "the regime's own request as the TPP sent it, validated: br-data-sharing `{ permissions, loggedUser, businessEntity? }`, br-payment the payment consent's `data` (loggedUser, businessEntity, creditor, payment, debtorAccount); absent for Berlin Group (its terms are `access` and the fields above)",
      ),
  }),
} satisfies Record<Hook, z.ZodType>;

const notice = z.strictObject({ level: z.enum(['info', 'warning']), text: z.string().min(1).max(500) });

export const responseData = {
  populate_consent_authorize_screen: z.strictObject({
    /** shown on the approval page (and in the retrieve answer) */
    notices: z.array(notice).max(10).optional(),
    allowMultipleAccounts: z.boolean().optional(),
    /** accounts the customer may not choose for this consent */
    unselectableAccountIds: z.array(z.string()).max(500).optional(),
    /** kept for custom views as `extra.extension` */
    additionalData: z.record(z.string(), z.unknown()).optional(),
  }),
  persist_authorized_consent: z.strictObject({}),
  validate_consent_access: z.strictObject({
    isValid: z.boolean(),
    /** when not valid: what the resource server tells the TPP (Berlin Group codes) */
    errorCode: z.enum(['CONSENT_INVALID', 'RESOURCE_UNKNOWN']).optional(),
  }),
  pre_process_consent_creation: z.strictObject({}),
} satisfies Record<Hook, z.ZodType>;

export type RequestData<H extends Hook> = z.infer<(typeof requestData)[H]>;
export type ResponseData<H extends Hook> = z.infer<(typeof responseData)[H]>;

export const requestEnvelope = (hook: Hook) =>
  z.object({ requestId: z.uuid(), hook: z.literal(hook), data: requestData[hook] });

const errorAnswer = z.strictObject({
  responseId: z.string(),
  status: z.literal('ERROR'),
  /** safe to show to the customer / the TPP */
  errorMessage: z.string().min(1).max(500),
  /** pre_process_consent_creation: the JSON path of the refused field (Berlin Group tppMessages path) */
  path: z.string().max(200).optional(),
});

export const responseEnvelope = (hook: Hook) =>
  z.discriminatedUnion('status', [
    z.strictObject({ responseId: z.string(), status: z.literal('SUCCESS'), data: (responseData[hook] as z.ZodType).optional() }),
    errorAnswer,
  ]);

export type ExtensionAnswer<H extends Hook> = { status: 'SUCCESS'; data: ResponseData<H> } | { status: 'ERROR'; errorMessage: string; path?: string };

const DESCRIPTIONS: Record<Hook, string> = {
  populate_consent_authorize_screen:
    'Retrieval step (before the approval page or the retrieve API answers): add notices, allow one account only, make accounts unselectable, add data for custom views.',
  persist_authorized_consent:
    'Persist step, after the selected accounts are checked and before the decision is stored: SUCCESS lets it be stored; ERROR rejects the consent (access_denied, errorMessage shown).',
  validate_consent_access:
    "Called by the consent validation API (/api/fs/consent/validate) after Assent's own checks found the access valid: isValid false refuses it with errorCode.",
  pre_process_consent_creation:
    "Called before a TPP's consent of any regime is stored: ERROR refuses the request in the dialect's format (Berlin Group 400 FORMAT_ERROR with errorMessage and path; Open Finance Brasil consents 422 ERRO_NAO_MAPEADO, payment consents 422 NAO_INFORMADO, with errorMessage as detail).",
};

/** The OpenAPI 3.1 document of the extension API a bank implements. */
export function extensionsOpenApi(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const hook of HOOKS) {
    paths[`/${hook}`] = {
      post: {
        operationId: hook,
        summary: hook,
        description: `${DESCRIPTIONS[hook]} The URL is the hook's configured one (config extensions.${hook}.url).`,
        security: [{ basic: [] }, { clientCredentials: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(requestEnvelope(hook), { io: 'input' }) } } },
        responses: {
          '200': { description: 'the answer', content: { 'application/json': { schema: z.toJSONSchema(responseEnvelope(hook), { io: 'input' }) } } },
          default: { description: 'anything else (another status, a timeout, a malformed body) fails the call: Assent fails closed' },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assent step extensions',
      version: '1',
      description:
        "The HTTP API a bank implements to run approval steps outside Assent (WSO2's OpenAPI-based extensions). Each hook is called with HTTP Basic or a client_credentials bearer token, within its timeout, with retries; when it cannot answer validly Assent fails closed.",
    },
    paths,
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        clientCredentials: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '(config extensions.<hook>.auth.tokenUrl)', scopes: {} } } },
      },
    },
  };
}
