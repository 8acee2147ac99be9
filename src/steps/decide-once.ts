/**
 * The first decision on an interaction wins, atomically, across instances. Every path that ends an
 * authorization with a result (the approval page's approve / deny / cancel, an approval that can no
 * longer happen, the bank UI's persist call) goes through `finish`: it claims the interaction
 * (storage/decision-claims.ts) before any persist step runs, and only the holder decides and hands the
 * result to oidc-provider. A second submission — two tabs, a retry, a double click — never runs the
 * steps and never writes another result over the first: it waits for the first one's outcome and is sent
 * to the same place, or is told the request was already decided. So what the TPP is told is always the
 * result of the one decision that was stored.
 */
import type { InteractionResults } from 'oidc-provider';
import type { DecisionClaims } from '../storage/decision-claims.ts';

export type FinishOutcome =
  /** this call decided; send the browser to `returnTo` */
  | { kind: 'finished'; returnTo: string }
  /** another call decided; `returnTo` is where it sent its browser (the same request, the same result) */
  | { kind: 'followed'; returnTo: string }
  /** another call is deciding (or decided without saying where) for longer than we wait */
  | { kind: 'decided' }
  /** the call that held the decision failed without deciding: nothing was decided, the customer may retry */
  | { kind: 'failed' };

export interface Finisher {
  finishInteraction(uid: string, result: InteractionResults): Promise<string>;
  /** whether oidc-provider still holds the interaction (a resumed one is gone) */
  interactionExists(uid: string): Promise<boolean>;
}

export interface DecisionGateOptions {
  /** how long a second submission waits for the first one's outcome. Default 5 s. */
  waitMs?: number;
  /** how often it looks. Default 50 ms. */
  pollMs?: number;
  /**
   * `decide` returned `result` but handing it to oidc-provider failed (a store outage): whatever the
   * persist steps stored for it (an approved consent) will never reach the TPP and must be undone
   */
  undelivered?: (result: InteractionResults) => Promise<void>;
  /**
   * a decision that approved `grantId` and whose request never finished (its instance died or hangs
   * between storing the approval and handing it over): end what it stored, as for `undelivered`
   */
  abandoned?: (grantId: string) => Promise<void>;
  /** how long a noted decision may stay unfinished before it counts as abandoned. Default 120 s. */
  abandonAfterMs?: number;
}

export class DecisionGate {
  readonly #claims: DecisionClaims;
  readonly #oauth: Finisher;
  readonly #waitMs: number;
  readonly #pollMs: number;
  readonly #undelivered: DecisionGateOptions['undelivered'];
  readonly #abandoned: DecisionGateOptions['abandoned'];
  readonly #abandonAfterMs: number;

  constructor(claims: DecisionClaims, oauth: Finisher, { waitMs = 5_000, pollMs = 50, undelivered, abandoned, abandonAfterMs = 120_000 }: DecisionGateOptions = {}) {
    this.#undelivered = undelivered;
    this.#abandoned = abandoned;
    this.#abandonAfterMs = abandonAfterMs;
    this.#claims = claims;
    this.#oauth = oauth;
    this.#waitMs = waitMs;
    this.#pollMs = pollMs;
  }

  /**
   * Decides the interaction `uid` (expiring at `exp`, epoch seconds) with what `decide` returns, unless
   * another call holds the decision. When `decide` throws, the claim is given back (nothing was decided:
   * the customer may correct the form, or retry after an outage) and the error is rethrown.
   */
  async finish(interaction: { uid: string; exp: number }, decide: () => Promise<InteractionResults>): Promise<FinishOutcome> {
    return this.end(interaction, async () => {
      const result = await decide();
      try {
        return await this.#oauth.finishInteraction(interaction.uid, result);
      } catch (err) {
        await this.#undelivered?.(result).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Like `finish`, for an action that ends the interaction another way (e.g. "not you?" sends it back to
   * the login prompt): `act` runs only for the holder of the claim and returns where the browser goes.
   */
  async end(interaction: { uid: string; exp: number }, act: () => Promise<string>): Promise<FinishOutcome> {
    const { uid } = interaction;
    const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
    if (!(await this.#claims.claim(uid, ttl))) return this.#follow(uid);
    let returnTo: string;
    try {
      returnTo = await act();
    } catch (err) {
      await this.#claims.release(uid).catch(() => undefined);
      throw err;
    }
    await this.#claims.settle(uid, returnTo);
    return { kind: 'finished', returnTo };
  }

  /**
   * The holder of `uid`'s claim is about to store an approval of `grantId` (called when the grant is
   * issued, before the consent records it): if its request never finishes, `recoverAbandoned` finds it.
   */
  async noteGrant(uid: string, grantId: string): Promise<void> {
    await this.#claims.note(uid, grantId);
  }

  /**
   * Decisions noted longer than `abandonAfterMs` ago and never settled nor released: their request died
   * (or hangs) between storing the approval and sending the browser on. If the interaction is still there,
   * the browser never came back with the result and the TPP never got a code: `abandoned` ends what was
   * stored. If it is gone, it was resumed (the TPP got its answer) or it expired long after the grace
   * (the sweeper runs every minute): left alone. At most `limit`; how many were ended.
   */
  async recoverAbandoned(limit: number): Promise<number> {
    const stale = await this.#claims.pending(new Date(Date.now() - this.#abandonAfterMs), limit);
    let ended = 0;
    for (const { uid, grantId } of stale) {
      const claim = await this.#claims.state(uid);
      if (claim.state !== 'decided' && (await this.#oauth.interactionExists(uid))) {
        await this.#abandoned?.(grantId);
        ended++;
      }
      await this.#claims.forget(uid);
    }
    return ended;
  }

  /** whether the interaction was decided (for a request that can no longer find it) */
  async wasDecided(uid: string): Promise<boolean> {
    return (await this.#claims.state(uid)).state !== 'open';
  }

  async #follow(uid: string): Promise<FinishOutcome> {
    const until = Date.now() + this.#waitMs;
    for (;;) {
      const claim = await this.#claims.state(uid);
      if (claim.state === 'decided') return { kind: 'followed', returnTo: claim.returnTo };
      if (claim.state === 'open') return { kind: 'failed' };
      if (Date.now() >= until) return { kind: 'decided' };
      await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
    }
  }
}
