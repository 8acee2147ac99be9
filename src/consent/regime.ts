/**
 * A consent regime: one status vocabulary and state machine, the rules that decide where each intent
 * leads from each status. Every consent type belongs to exactly one regime (./regimes/index.ts). The
 * generic machinery — history, the single conditional update, ownership, expiry, the sweeper, and "a
 * consent that leaves an active status revokes its tokens" — is written once (./state.ts,
 * src/application/consents.ts, storage) and asks the regime only:
 *
 * - `statuses`, `initial`: the vocabulary and where a new consent starts
 * - `moves`: for each intent, from which status it leads to which status (and, for regimes that record
 *   one, the `rejection` it records). An intent missing for a status is a ConsentStateConflict. The
 *   transition graph is exactly the union of the moves (`transitions`, derived), drawn in each regime's file.
 * - `awaiting`: waiting for the customer — approve / deny / authorisation steps are allowed, the sweeper
 *   rejects it after the authorisation timeout (`rejectStale`)
 * - `active`: granted and usable — tokens live only while the consent is active; leaving it revokes them
 * - `ended`: final, no move leaves it (checked by defineRegime)
 * - `expired`: ended statuses that mean "the clock ended it" (intents on them fail with ConsentExpired)
 * - `consentTypes` and `validate`: the consent types of the regime and the rules of their requests
 *   (the dialect calls `validate` with the request body)
 *
 * A new regime is a file in ./regimes/ with `defineRegime({...})`, its statuses added to
 * CONSENT_STATUSES (./types.ts) and its entry in REGIMES (./regimes/index.ts). Regime-specific intents
 * (e.g. a payment consent's `consume`) are extra keys of `moves`, applied with `transition()` (./state.ts).
 */
import type { ConsentType, Rejection } from './types.ts';
import type { ConsentRequestOptions } from './validation.ts';

/**
 * The rules of one consent type's request (the TPP's body): the normalised request, or why not (each
 * validator says why in its own terms: Berlin Group issues, Open Finance Brasil issues or a 422 rule).
 */
export interface ConsentTypeRules {
  validate?(body: unknown, options: ConsentRequestOptions): { ok: true; value: unknown } | { ok: false };
}

/** The intents every regime answers (some with "not from any status"). */
export const CORE_INTENTS = ['approve', 'deny', 'terminateByTpp', 'revokeByPsu', 'expire', 'rejectStale'] as const;
export type CoreIntent = (typeof CORE_INTENTS)[number];

export interface Move<S extends string> {
  to: S;
  /** recorded on the consent with the move (regimes with a rejection object: Open Finance Brasil) */
  rejection?: Rejection;
}

export type Moves<S extends string> = Record<CoreIntent, Partial<Record<S, Move<S>>>> &
  Record<string, Partial<Record<S, Move<S>>>>;

export interface RegimeDefinition<S extends string> {
  /** stable name, e.g. `berlin-group` */
  id: string;
  statuses: readonly S[];
  initial: S;
  moves: Moves<S>;
  awaiting: readonly S[];
  active: readonly S[];
  ended: readonly S[];
  expired: readonly S[];
  /** the consent types of this regime, each with its request rules */
  consentTypes: Partial<Record<ConsentType, ConsentTypeRules>>;
  /** on approval, `expiresAt` becomes approval + this many seconds (absent: it stays as created) */
  activeWindowSeconds?: number;
  /**
   * Ended statuses whose tokens are not revoked on arrival but live out their own (short) lifetime: a
   * consumed payment consent's token may still replay its payment's answer (idempotency), while the
   * status itself refuses anything new. Absent: every end revokes the consent's tokens.
   */
  tokensOutlive?: readonly S[];
}

export interface Regime<S extends string = string> extends RegimeDefinition<S> {
  /** from → the statuses any move leads to (the graph) */
  transitions: Readonly<Record<S, readonly S[]>>;
}

/**
 * Checks the definition (every status is awaiting, active or ended, exactly one of them; ended statuses
 * have no moves; moves stay in the vocabulary) and derives the transition graph. Throws at import time,
 * so a broken regime never starts.
 */
export function defineRegime<const S extends string>(definition: RegimeDefinition<S>): Regime<S> {
  const { id, statuses } = definition;
  const known = new Set<string>(statuses);
  const fail = (message: string): never => {
    throw new Error(`regime ${id}: ${message}`);
  };
  for (const status of statuses) {
    const kinds = [definition.awaiting, definition.active, definition.ended].filter((list) => list.includes(status));
    if (kinds.length !== 1) fail(`status ${status} must be exactly one of awaiting, active, ended`);
  }
  for (const status of definition.expired) if (!definition.ended.includes(status)) fail(`expired status ${status} is not ended`);
  for (const status of definition.tokensOutlive ?? []) if (!definition.ended.includes(status)) fail(`status ${status} whose tokens outlive it is not ended`);
  if (!known.has(definition.initial)) fail(`initial status ${definition.initial} is unknown`);
  const transitions = Object.fromEntries(statuses.map((s) => [s, [] as S[]])) as Record<S, S[]>;
  for (const intent of CORE_INTENTS) if (!definition.moves[intent]) fail(`intent ${intent} has no entry`);
  for (const [intent, table] of Object.entries(definition.moves)) {
    for (const [from, move] of Object.entries(table) as Array<[S, Move<S>]>) {
      if (!known.has(from) || !known.has(move.to)) fail(`${intent}: ${from} → ${move.to} leaves the vocabulary`);
      if (definition.ended.includes(from)) fail(`${intent}: ended status ${from} cannot move`);
      if (!transitions[from].includes(move.to)) transitions[from].push(move.to);
    }
  }
  return { ...definition, transitions };
}
