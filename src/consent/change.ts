/**
 * What a repository does with a ConsentChange, as a pure function: the memory repository uses it, and the
 * tests use it as the reference the stored result must equal.
 */
import type { Consent, ConsentChange } from './types.ts';

/** Whether the change may apply to `consent` (same id, expected status and revision). */
export function changeApplies(consent: Pick<Consent, 'id' | 'status' | 'revision'>, change: ConsentChange): boolean {
  return (
    consent.id === change.id &&
    consent.status === change.expect.status &&
    consent.revision === change.expect.revision
  );
}

/** The consent after the change (new object; `consent` is left alone). Does not check `changeApplies`. */
export function applyChange(consent: Consent, change: ConsentChange): Consent {
  const next: Consent = { ...consent, history: [...consent.history, ...(change.history ?? [])] };
  for (const [key, value] of Object.entries(change.set)) {
    // undefined in `set` means "leave as is", the same as the MongoDB repository does
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  next.revision = change.expect.revision + 1;
  return next;
}
