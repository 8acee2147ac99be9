/**
 * The HTTP extensions as Assent's own hook kinds (config `extensions`): each configured hook becomes a
 * step plugin over the existing contracts, so the approval page, the retrieve/persist API, consent
 * creation and the validation API all run it on their one path.
 *
 *   populate_consent_authorize_screen  RetrievalStep  priority 900 (after the default retrieval steps)
 *   persist_authorized_consent         PersistStep    priority 900 (after the accounts are checked, before
 *                                                                   assent.store-decision at 1000)
 *   pre_process_consent_creation       ConsentCreationCheck (ConsentService.create, before storing)
 *   validate_consent_access            AccessCheck    (AccessValidator, after Assent's checks, before counting)
 *
 * Fail closed: when the extension cannot answer validly (timeout, 5xx, malformed) the step throws
 * StepError('temporarily_unavailable') (persist: nothing is stored; the customer may retry), and the
 * creation and access checks throw ExtensionUnavailable (503 in the dialects).
 */
import { ConsentValidationError } from '../../consent/errors.ts';
import type { Consent } from '../../consent/types.ts';
import type { Logger } from '../../log.ts';
import { StepError, type PersistStep, type RetrievalStep } from '../contracts.ts';
import type { AccessCheck, ConsentCreationCheck } from '../hooks.ts';
import { ExtensionClient, ExtensionUnavailable, type ExtensionEndpoint } from './client.ts';
import type { Hook } from './schemas.ts';

export type ExtensionsConfig = Partial<Record<Hook, ExtensionEndpoint>>;

export const EXTENSION_PRIORITIES = { retrieval: 900, persist: 900 } as const;

export interface ExtensionHooks {
  retrieval: RetrievalStep[];
  persist: PersistStep[];
  creation: ConsentCreationCheck[];
  access: AccessCheck[];
}

function summary(consent: Readonly<Consent>) {
  return {
    id: consent.id,
    type: consent.type,
    status: consent.status,
    clientId: consent.clientId,
    access: structuredClone(consent.access) as Record<string, never>,
    validUntil: consent.validUntil,
    frequencyPerDay: consent.frequencyPerDay,
    recurringIndicator: consent.recurringIndicator,
  };
}

/** A failed call in a step: the request cannot be completed now. */
async function orUnavailable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ExtensionUnavailable) throw new StepError('temporarily_unavailable', 'The bank cannot complete this request right now. Try again in a moment.');
    throw err;
  }
}

export function extensionHooks(config: ExtensionsConfig, log: Logger): ExtensionHooks {
  const hooks: ExtensionHooks = { retrieval: [], persist: [], creation: [], access: [] };

  const screen = config.populate_consent_authorize_screen;
  if (screen) {
    const client = new ExtensionClient('populate_consent_authorize_screen', screen, log);
    hooks.retrieval.push({
      id: 'extension.populate_consent_authorize_screen',
      priority: EXTENSION_PRIORITIES.retrieval,
      async run(ctx) {
        const answer = await orUnavailable(() =>
          client.call({
            consent: summary(ctx.consent),
            client: { clientId: ctx.client.clientId, name: ctx.client.name },
            psuId: ctx.psu.id,
            locale: ctx.locale,
            accounts: ctx.data.accounts.map((a) => ({ accountId: a.accountId, selectable: a.selectable, selected: a.selected })),
          }),
        );
        if (answer.status === 'ERROR') throw new StepError('access_denied', answer.errorMessage);
        const data = answer.data;
        ctx.data.notices.push(...(data.notices ?? []));
        if (data.allowMultipleAccounts !== undefined) ctx.data.allowMultipleAccounts = data.allowMultipleAccounts;
        const unselectable = new Set(data.unselectableAccountIds ?? []);
        for (const account of ctx.data.accounts) {
          if (unselectable.has(account.accountId)) Object.assign(account, { selectable: false, selected: false });
        }
        if (data.additionalData) ctx.data.extra.extension = data.additionalData;
      },
    } satisfies RetrievalStep);
  }

  const persist = config.persist_authorized_consent;
  if (persist) {
    const client = new ExtensionClient('persist_authorized_consent', persist, log);
    hooks.persist.push({
      id: 'extension.persist_authorized_consent',
      priority: EXTENSION_PRIORITIES.persist,
      async run(ctx) {
        const answer = await orUnavailable(() =>
          client.call({
            consent: summary(ctx.consent),
            psuId: ctx.psu.id,
            approved: ctx.decision.approved,
            selectedAccountIds: [...ctx.decision.selectedAccountIds],
            grantedAccounts: ctx.grantedAccounts.map((a) => ({ accountId: a.accountId, access: [...a.access] })),
            metadata: { ...ctx.metadata },
          }),
        );
        if (answer.status === 'ERROR' && ctx.decision.approved) throw new StepError('access_denied', answer.errorMessage);
      },
    } satisfies PersistStep);
  }

  const creation = config.pre_process_consent_creation;
  if (creation) {
    const client = new ExtensionClient('pre_process_consent_creation', creation, log);
    hooks.creation.push({
      id: 'extension.pre_process_consent_creation',
      // every regime's consents: each dialect renders the refusal in its own format (../hooks.ts)
      async run(request) {
        const answer = await client.call({
          clientId: request.clientId,
          type: request.type,
          access: structuredClone(request.access) as Record<string, never>,
          validUntil: request.validUntil,
          frequencyPerDay: request.frequencyPerDay,
          recurringIndicator: request.recurringIndicator,
          combinedServiceIndicator: request.combinedServiceIndicator,
          ...(request.details ? { details: structuredClone(request.details) } : {}),
        });
        if (answer.status === 'ERROR') {
          throw new ConsentValidationError([{ path: answer.path ?? '', code: 'invalid_value', message: answer.errorMessage }]);
        }
      },
    } satisfies ConsentCreationCheck);
  }

  const access = config.validate_consent_access;
  if (access) {
    const client = new ExtensionClient('validate_consent_access', access, log);
    hooks.access.push({
      id: 'extension.validate_consent_access',
      async run(request) {
        const answer = await client.call({
          consent: summary(request.consent),
          method: request.method,
          resourcePath: request.resourcePath,
          ...(request.accountId !== undefined ? { accountId: request.accountId } : {}),
          psuPresent: request.psuPresent,
        });
        if (answer.status === 'ERROR') return { allowed: false, outcome: 'consentInvalid' };
        if (answer.data.isValid) return { allowed: true };
        return { allowed: false, outcome: answer.data.errorCode === 'RESOURCE_UNKNOWN' ? 'resourceUnknown' : 'consentInvalid' };
      },
    } satisfies AccessCheck);
  }
  return hooks;
}
