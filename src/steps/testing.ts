/**
 * Helpers for implementers to unit-test their steps without a server: build a retrieval or persist
 * context around a sample consent, PSU and accounts, run one step (or a whole pipeline), and inspect the
 * page data or the persist context afterwards.
 *
 *   const { data } = await runRetrievalStep(myStep, { consent: { frequencyPerDay: 20 } });
 *   assert.equal(data.notices[0]?.level, 'warning');
 */
import type { Consent } from '../consent/types.ts';
import type { Psu, PsuAccount } from '../psu/directory.ts';
import type { ConsentPageData, Decision, Locale, PersistContext, PersistStep, RetrievalContext, RetrievalStep, StepClient } from './contracts.ts';
import { checkPersistOutput, checkRetrievalOutput } from './output.ts';

/** pipelines and the default steps, to run a step together with those it depends on */
export { retrievalPipeline, persistPipeline } from './pipeline.ts';
export { accountsStep, permissionsStep, basicDataStep, validateAccountsStep, psuMatchStep } from './defaults.ts';

export const SAMPLE_ACCOUNTS: PsuAccount[] = [
  { accountId: 'acc-1', iban: 'SE4550000000058398257466', currency: 'SEK', name: 'Salary account' },
  { accountId: 'acc-2', iban: 'DE89370400440532013000', currency: 'EUR', name: 'Euro account' },
];

export function sampleConsent(overrides: Partial<Consent> = {}): Consent {
  const now = new Date();
  return {
    id: 'consent-1',
    clientId: 'tpp-1',
    type: 'accounts',
    access: { accounts: [{ iban: SAMPLE_ACCOUNTS[0]!.iban, currency: 'SEK' }], balances: [{ iban: SAMPLE_ACCOUNTS[0]!.iban, currency: 'SEK' }] },
    recurringIndicator: true,
    validUntil: new Date(now.getTime() + 30 * 86_400_000).toISOString().slice(0, 10),
    expiresAt: new Date(now.getTime() + 31 * 86_400_000),
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    status: 'received',
    lastActionDate: now.toISOString().slice(0, 10),
    createdAt: now,
    updatedAt: now,
    history: [{ from: null, to: 'received', actor: 'TPP', at: now }],
    authorisations: [],
    revision: 0,
    ...overrides,
  };
}

export interface SampleOptions {
  consent?: Partial<Consent>;
  client?: StepClient;
  psu?: Psu;
  accounts?: PsuAccount[];
  locale?: Locale;
  params?: Record<string, unknown>;
}

function base(options: SampleOptions) {
  const accounts = options.accounts ?? SAMPLE_ACCOUNTS;
  return {
    consent: sampleConsent(options.consent),
    client: options.client ?? { clientId: 'tpp-1', name: 'Sample TPP' },
    psu: options.psu ?? { id: 'psu-1', name: 'Sam Sample' },
    interaction: { uid: 'interaction-1', params: options.params ?? {} },
    locale: options.locale ?? 'en',
    psuAccounts: async () => accounts.map((a) => ({ ...a })),
  };
}

export function emptyPageData(type: Consent['type'] = 'accounts'): ConsentPageData {
  return { type, permissions: [], allowMultipleAccounts: true, basicConsentData: {}, accounts: [], notices: [], extra: {} };
}

export function retrievalContext(options: SampleOptions = {}): RetrievalContext {
  const b = base(options);
  return { ...b, data: emptyPageData(b.consent.type) };
}

export function persistContext(options: SampleOptions & { decision?: Decision; metadata?: Record<string, unknown> } = {}): PersistContext & { grantsIssued: number } {
  let grants = 0;
  const ctx = {
    ...base(options),
    decision: options.decision ?? { approved: true, selectedAccountIds: ['acc-1'] },
    metadata: options.metadata ?? {},
    grantedAccounts: [],
    issueGrant: async () => `grant-${++grants}`,
    get grantsIssued() {
      return grants;
    },
  };
  return ctx;
}

/**
 * Runs one retrieval step (ignoring its consentTypes filter) and returns the context; throws a
 * StepOutputError, as the server would, when the step leaves page data of the wrong shape.
 */
export async function runRetrievalStep(step: RetrievalStep, options: SampleOptions = {}): Promise<RetrievalContext> {
  const ctx = retrievalContext(options);
  await step.run(ctx);
  checkRetrievalOutput(ctx, step.id);
  return ctx;
}

/** Runs one persist step and returns the context (decision, grantedAccounts, stored…). */
export async function runPersistStep(
  step: PersistStep,
  options: SampleOptions & { decision?: Decision; metadata?: Record<string, unknown> } = {},
): Promise<PersistContext & { grantsIssued: number }> {
  const ctx = persistContext(options);
  await step.run(ctx);
  checkPersistOutput(ctx, step.id);
  return ctx;
}
