/**
 * What a step may leave behind, checked with zod after every step: a step that writes the wrong shape
 * stops the pipeline with an error naming the step and the field (logged; the customer sees a friendly
 * error page, the API caller a server error) instead of breaking the page template later.
 */
import { z } from 'zod';
import { CONSENT_TYPES } from '../consent/types.ts';
import type { PersistContext, RetrievalContext } from './contracts.ts';

const text = z.string();

/** ConsentPageData (src/steps/contracts.ts) as the page and the retrieve API read it. */
export const consentPageDataSchema = z.object({
  type: z.enum(CONSENT_TYPES),
  permissions: z.array(
    z.object({ uid: text, code: text, title: text, detail: text.optional(), displayValues: z.array(text) }),
  ),
  allowMultipleAccounts: z.boolean(),
  basicConsentData: z.record(text, z.array(text)),
  accounts: z.array(
    z.object({ accountId: text.min(1), displayName: text, iban: text, currency: text, selected: z.boolean(), selectable: z.boolean() }),
  ),
  notices: z.array(z.object({ level: z.enum(['info', 'warning']), text })),
  extra: z.record(text, z.unknown()),
});

const grantedAccountsSchema = z.array(
  z.object({
    accountId: text.min(1),
    iban: text.optional(),
    currency: text.optional(),
    access: z.array(z.enum(['accounts', 'balances', 'transactions'])),
  }),
);

export class StepOutputError extends Error {
  override name = 'StepOutputError';
  readonly stepId: string;
  /** the first offending field, e.g. "data.accounts.0.selected" */
  readonly field: string;
  constructor(kind: string, stepId: string, field: string, problem: string) {
    super(`${kind} step "${stepId}" wrote an invalid ${field}: ${problem}`);
    this.stepId = stepId;
    this.field = field;
  }
}

function check(kind: string, stepId: string, root: string, schema: z.ZodType, value: unknown): void {
  const parsed = schema.safeParse(value);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  const field = [root, ...issue.path.map(String)].join('.');
  throw new StepOutputError(kind, stepId, field, issue.message);
}

export function checkRetrievalOutput(ctx: RetrievalContext, stepId: string): void {
  check('retrieval', stepId, 'data', consentPageDataSchema, ctx.data);
}

export function checkPersistOutput(ctx: PersistContext, stepId: string): void {
  check('persist', stepId, 'grantedAccounts', grantedAccountsSchema, ctx.grantedAccounts);
}
