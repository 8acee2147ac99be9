/**
 * Loads step plugins named in configuration (`steps.retrieval` / `steps.persist`: module specifiers,
 * resolved against the working directory when relative). A module exports its step(s) as
 * `retrievalSteps` / `persistSteps` (so one module can hold both kinds), or as `steps` or the default
 * export: one step or an array. Shapes are checked here so a broken plugin stops startup
 * with its name, not a request later.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { CONSENT_TYPES } from '../consent/types.ts';
import type { PersistStep, RetrievalStep } from './contracts.ts';
import { StepConfigError } from './pipeline.ts';

const stepShape = z.object({
  id: z.string().min(1),
  priority: z.number().finite(),
  consentTypes: z.array(z.enum(CONSENT_TYPES)).optional(),
  run: z.custom<(ctx: unknown) => unknown>((v) => typeof v === 'function', 'must be a function'),
});

function specifierUrl(specifier: string, baseDir: string): string {
  return specifier.startsWith('.') || specifier.startsWith('/') ? pathToFileURL(resolve(baseDir, specifier)).href : specifier;
}

async function loadSteps(specifiers: readonly string[], kind: string, baseDir: string, sources: Map<object, string>): Promise<unknown[]> {
  const steps: unknown[] = [];
  for (const specifier of specifiers) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(specifierUrl(specifier, baseDir))) as Record<string, unknown>;
    } catch (err) {
      throw new StepConfigError(`${kind} step module "${specifier}" could not be loaded: ${(err as Error).message}`);
    }
    const exported = (kind === 'retrieval' ? mod.retrievalSteps : mod.persistSteps) ?? mod.steps ?? mod.default;
    const list = Array.isArray(exported) ? exported : [exported];
    if (exported === undefined) throw new StepConfigError(`${kind} step module "${specifier}" exports no step (default or "steps")`);
    for (const [i, step] of list.entries()) {
      const checked = stepShape.safeParse(step);
      if (!checked.success) {
        const problem = checked.error.issues.map((issue) => `${issue.path.join('.') || '(step)'} ${issue.message}`).join('; ');
        throw new StepConfigError(`${kind} step module "${specifier}" [${i}]: ${problem}`);
      }
      steps.push(step);
      sources.set(step as object, specifier);
    }
  }
  return steps;
}

export async function loadStepPlugins(
  config: { retrieval: readonly string[]; persist: readonly string[] },
  baseDir = process.cwd(),
): Promise<{ retrieval: RetrievalStep[]; persist: PersistStep[]; sources: Map<object, string> }> {
  const sources = new Map<object, string>();
  return {
    retrieval: (await loadSteps(config.retrieval, 'retrieval', baseDir, sources)) as RetrievalStep[],
    persist: (await loadSteps(config.persist, 'persist', baseDir, sources)) as PersistStep[],
    sources,
  };
}

/** id, priority and where each step of a pipeline came from ("assent" defaults, a module, or "code"), in run order */
export function describeSteps(
  steps: ReadonlyArray<{ id: string; priority: number }>,
  sources: ReadonlyMap<object, string>,
  defaults: ReadonlySet<object>,
): Array<{ id: string; priority: number; source: string }> {
  return steps.map((step) => ({
    id: step.id,
    priority: step.priority,
    source: defaults.has(step) ? 'assent' : (sources.get(step) ?? 'code'),
  }));
}
