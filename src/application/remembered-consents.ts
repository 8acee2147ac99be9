/**
 * The consents one instance keeps in memory, at most `max` (the least recently remembered is forgotten
 * first). A remembered copy is never trusted by itself: its users ask the consent fence whether its
 * revision is still the current one (src/storage/consent-fence.ts). Copies are frozen: a caller cannot
 * change what the next request is answered from.
 */
import { deepFreeze } from '../consent/freeze.ts';
import type { Consent } from '../consent/types.ts';

export class RememberedConsents {
  readonly #copies = new Map<string, Consent>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(id: string): Consent | undefined {
    return this.#copies.get(id);
  }

  remember(consent: Consent): void {
    if (this.#max <= 0) return;
    this.#copies.delete(consent.id);
    this.#copies.set(consent.id, deepFreeze(consent));
    if (this.#copies.size > this.#max) this.#copies.delete(this.#copies.keys().next().value!);
  }

  forget(id: string): void {
    this.#copies.delete(id);
  }

  get size(): number {
    return this.#copies.size;
  }
}
