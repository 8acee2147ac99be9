/**
 * Orders and runs steps. Built once at startup: duplicate ids or priorities are a startup error, so two
 * plugins can never silently fight over the same slot.
 */
import type { ConsentType } from '../consent/types.ts';
import type { PersistContext, PersistStep, RetrievalContext, RetrievalStep } from './contracts.ts';
import { checkPersistOutput, checkRetrievalOutput } from './output.ts';

export class StepConfigError extends Error {
  override name = 'StepConfigError';
}

interface AnyStep<C> {
  id: string;
  priority: number;
  consentTypes?: readonly ConsentType[];
  run(ctx: C): void | Promise<void>;
}

export class StepPipeline<C extends { consent: { type: ConsentType } }> {
  readonly kind: string;
  readonly steps: ReadonlyArray<AnyStep<C>>;
  readonly #check: ((ctx: C, stepId: string) => void) | undefined;

  /** `check` validates what each step left in the context (throws naming the step and the field) */
  constructor(kind: string, steps: ReadonlyArray<AnyStep<C>>, check?: (ctx: C, stepId: string) => void) {
    this.kind = kind;
    this.#check = check;
    const ids = new Map<string, number>();
    const priorities = new Map<number, string>();
    for (const step of steps) {
      if (ids.has(step.id)) throw new StepConfigError(`${kind} steps: duplicate id "${step.id}"`);
      ids.set(step.id, step.priority);
      const holder = priorities.get(step.priority);
      if (holder) throw new StepConfigError(`${kind} steps: "${step.id}" and "${holder}" both have priority ${step.priority}`);
      priorities.set(step.priority, step.id);
    }
    this.steps = [...steps].sort((a, b) => a.priority - b.priority);
  }

  /** runs every step that applies to the consent's type, in order; the first throw stops the run */
  async run(ctx: C): Promise<void> {
    for (const step of this.steps) {
      if (step.consentTypes && !step.consentTypes.includes(ctx.consent.type)) continue;
      await step.run(ctx);
      this.#check?.(ctx, step.id);
    }
  }

  ids(): string[] {
    return this.steps.map((s) => s.id);
  }
}

export type RetrievalPipeline = StepPipeline<RetrievalContext>;
export type PersistPipeline = StepPipeline<PersistContext>;

export function retrievalPipeline(steps: readonly RetrievalStep[]): RetrievalPipeline {
  return new StepPipeline<RetrievalContext>('retrieval', steps, checkRetrievalOutput);
}

export function persistPipeline(steps: readonly PersistStep[]): PersistPipeline {
  return new StepPipeline<PersistContext>('persist', steps, checkPersistOutput);
}
