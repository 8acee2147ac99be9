/**
 * The consent application service: what the dialects, the approval path and the sweeper call. It runs
 * the pure domain functions against the repository — compute the change from the consent the caller has
 * just read, apply it as one conditional update, and only when another writer got there first re-read and
 * recompute — and triggers the side effects of a consent leaving `valid` (its tokens are revoked).
 * Ownership is checked here, once, for every dialect: another client's consent is indistinguishable from
 * an unknown one.
 */
import type { ConsentCreationCheck } from '../steps/hooks.ts';
import { randomUUID } from 'node:crypto';
import type { ConsentRepository, ConsentQuery, ConsentSortField, ConsentPage } from '../consent/repository.ts';
import type { Actor, Authorisation, Consent, ConsentChange, GrantedAccount, Rejection } from '../consent/types.ts';
import { applyChange } from '../consent/change.ts';
import { ConsentNotFound, ConsentRefused, ConsentStateConflict, ConsentValidationError, AuthorisationNotFound } from '../consent/errors.ts';
import {
  approve as approveChange,
  createConsent,
  deny as denyChange,
  expire,
  extendValidity as extendChange,
  findAuthorisation,
  isExpiredNow,
  revokeByPsu as revokeChange,
  selectScaMethod as selectChange,
  startAuthorisation as startChange,
  sweep as sweepChange,
  terminateByTpp as terminateChange,
  transition,
  type NewConsent,
} from '../consent/state.ts';
import { isActive, regimeOf, tokensOutlive } from '../consent/regimes/index.ts';
import { currentRequest } from '../http/request-context.ts';
import type { ConsentFence } from '../storage/consent-fence.ts';
import { RememberedConsents } from './remembered-consents.ts';

export interface ConsentEffects {
  /**
   * called after a consent that had a grant left its active status (revoked, terminated, expired): revoke
   * its tokens. Not for an end its regime lets the tokens outlive (a consumed payment consent).
   */
  consentEnded(consent: Consent): Promise<void>;
}

export interface ConsentServiceOptions {
  receivedTimeoutSeconds: number;
  /** the SCA method used when an authorisation is created implicitly (consent_id requests) */
  defaultScaMethodId: string;
  now?: () => Date;
  /** run before a new consent is stored (e.g. the pre_process_consent_creation extension) */
  creationChecks?: readonly ConsentCreationCheck[];
}

const MAX_ATTEMPTS = 5;
/** back-off step between attempts after a lost race (attempt n waits n × this) */
const RETRY_DELAY_MS = 15;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ConsentService {
  readonly #repo: ConsentRepository;
  readonly #options: ConsentServiceOptions;
  #effects: ConsentEffects = { consentEnded: async () => undefined };
  #fence: ConsentFence | undefined;
  /** copies `get` may answer from while the fence confirms them (setFence's `rememberedConsents`) */
  #remembered: RememberedConsents | undefined;

  constructor(repo: ConsentRepository, options: ConsentServiceOptions) {
    this.#repo = repo;
    this.#options = options;
  }

  /** wired after the OAuth service exists (it needs the consents for token claims) */
  setEffects(effects: ConsentEffects): void {
    this.#effects = effects;
  }

  /**
   * Every write then holds the consent's fence, so no instance acts on a copy it remembers meanwhile.
   * `rememberedConsents` > 0: this service also remembers up to that many consents it created, stored or
   * read, and `get` answers from a copy when the fence confirms its revision is current: one fence round
   * trip instead of a repository read (worth it when the repository is MongoDB and the fence Redis). A
   * writer that computed from a copy is still checked by the repository's conditional update, exactly as
   * one that computed from a read. `remembered`: that memory itself, shared with the instance's other
   * users of copies (AccessValidator), so each consent is kept once per instance.
   */
  setFence(fence: ConsentFence, options: { rememberedConsents?: number; remembered?: RememberedConsents } = {}): void {
    this.#fence = fence;
    this.#remembered = options.remembered ?? (options.rememberedConsents ? new RememberedConsents(options.rememberedConsents) : undefined);
  }

  /** the copies `get` answers from (undefined: every read goes to the repository) */
  get remembered(): RememberedConsents | undefined {
    return this.#remembered;
  }

  /** the remembered copy of `id` when the fence says it is current (a fence that cannot answer: none) */
  async #currentCopy(id: string): Promise<Consent | undefined> {
    const copy = this.#remembered?.get(id);
    if (!copy || !this.#fence) return undefined;
    if (await this.#fence.isCurrent(id, copy.revision).catch(() => false)) return copy;
    this.#remembered!.forget(id);
    return undefined;
  }

  /** the repository's consent; remembered when the fence confirms it is current */
  async #read(id: string): Promise<Consent | null> {
    const consent = await this.#repo.findById(id);
    if (consent && this.#remembered && this.#fence) {
      if (await this.#fence.register(id, consent.revision).catch(() => false)) this.#remembered.remember(consent);
    }
    return consent;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #ctx(actor?: Actor, reason?: string, by?: string) {
    const requestId = currentRequest()?.requestId;
    return {
      now: this.#now(),
      ...(actor ? { actor } : {}),
      ...(reason ? { reason } : {}),
      ...(requestId ? { requestId } : {}),
      ...(by ? { by } : {}),
    };
  }

  /**
   * `idPrefix`: ids in the dialect's form, e.g. `urn:assent:` (Open Finance Brasil consent URNs); `id`: this
   * id (a consent derived from something else, created once: a second create is ConsentAlreadyExists)
   */
  async create(input: NewConsent, options: { idPrefix?: string; id?: string } = {}): Promise<Consent> {
    const type = input.type ?? 'accounts';
    for (const check of this.#options.creationChecks ?? []) {
      if (check.consentTypes && !check.consentTypes.includes(type)) continue;
      try {
        await check.run({ ...input, type });
      } catch (err) {
        // a refusal by the bank's rules, told apart from the dialect's own validation
        throw err instanceof ConsentValidationError && !(err instanceof ConsentRefused) ? new ConsentRefused(err.issues) : err;
      }
    }
    const newId = () => options.id ?? `${options.idPrefix ?? ''}${randomUUID()}`;
    const consent = createConsent(input, { ...this.#ctx('TPP'), newId });
    const fence = this.#fence;
    if (this.#remembered && fence && options.id === undefined) {
      // a fresh random id: nothing else can have fenced it, so its first revision is registered beside the insert
      const [, registered] = await Promise.all([this.#repo.create(consent), fence.register(consent.id, consent.revision).catch(() => false)]);
      if (registered) this.#remembered.remember(consent);
    } else {
      await this.#repo.create(consent);
    }
    return consent;
  }

  /** The consent, with an expiry that has passed recorded first (so every reader sees `expired`). */
  async get(id: string): Promise<Consent | null> {
    const consent = (await this.#currentCopy(id)) ?? (await this.#read(id));
    if (!consent) return null;
    if (isExpiredNow(consent, this.#now())) {
      return this.#update(consent, (c) => (isExpiredNow(c, this.#now()) ? expire(c, this.#ctx('system')) : null));
    }
    return consent;
  }

  /** The consent if `clientId` owns it; otherwise ConsentNotFound, exactly as for an unknown id. */
  async getOwned(id: string, clientId: string): Promise<Consent> {
    const consent = await this.get(id);
    if (!consent || consent.clientId !== clientId) throw new ConsentNotFound(id);
    return consent;
  }

  async findByGrantId(grantId: string): Promise<Consent | null> {
    return this.#repo.findByGrantId(grantId);
  }

  /** the back-office's search keys on a consent (ConsentRepository.addSearchKeys) */
  addSearchKeys(id: string, keys: readonly string[], max: number): Promise<'added' | 'not-found' | 'too-many'> {
    return this.#fencedWrite(id, () => this.#repo.addSearchKeys(id, keys, max));
  }

  removeSearchKeys(id: string, keys: readonly string[]): Promise<boolean> {
    return this.#fencedWrite(id, () => this.#repo.removeSearchKeys(id, keys));
  }

  /**
   * A stored write that is not a ConsentChange (search keys, which may move the revision on): held in the
   * fence like a change, and the consent read again afterwards, so the revision it now has is published
   * and no instance answers from the copy before it. A write that threw stays held, as in #update.
   */
  async #fencedWrite<T>(id: string, write: () => Promise<T>): Promise<T> {
    const fence = this.#fence;
    if (!fence) return write();
    await fence.hold(id);
    const result = await write();
    this.#remembered?.forget(id);
    const now = await this.#repo.findById(id).catch(() => null);
    await fence.release(id, now ? now.revision : null).catch(() => undefined);
    if (now) this.#remembered?.remember(now);
    return result;
  }

  heldSearchKeys(id: string, keys: readonly string[]): Promise<boolean[] | null> {
    return this.#repo.heldSearchKeys(id, keys);
  }

  query(filter: ConsentQuery, options: { sort: ConsentSortField; direction: 'asc' | 'desc'; skip: number; limit: number }): Promise<ConsentPage> {
    return this.#repo.query(filter, options);
  }

  /*
   * The write methods below take the consent the caller has just read (through get / getOwned, so expiry
   * is applied): it is the first attempt's input, and a stale one only costs a retry.
   */

  /**
   * The token endpoint revoked this grant because its code or refresh token was presented again (a
   * replay, a lost race, or a retry after an exchange that failed once the code was consumed): the TPP
   * can hold no usable token for the consent any more, so an active consent is ended by the bank
   * (Berlin Group revokedByPsu, actor ASPSP; Open Finance Brasil data sharing REJECTED, ASPSP
   * INTERNAL_SECURITY_REASON; a payment consent REJECTED with its regime's code)
   * with the reason in its history. Null when no consent has this grant or it is not active. Also used,
   * with its own `reason`, when an approval never reached the TPP (the grant's code was never delivered).
   */
  async endForRevokedGrant(grantId: string, reason = 'authorization never completed: its code or refresh token was presented again and its tokens were revoked'): Promise<Consent | null> {
    const consent = await this.#repo.findByGrantId(grantId);
    if (!consent || !isActive(consent.status)) return null;
    return this.revokeByPsu(consent, {
      actor: 'ASPSP',
      reason,
      // the Open Finance Brasil data-sharing code; other regimes record their own default
      ...(regimeOf(consent.type).id === 'br-data-sharing' ? { rejection: { rejectedBy: 'ASPSP' as const, reason: { code: 'INTERNAL_SECURITY_REASON' } } } : {}),
    });
  }

  /** TPP DELETE (the regime says where it leads: Berlin Group valid → terminatedByTpp, received → rejected); an ended consent stays as it is. */
  async terminateByTpp(consent: Consent, clientId: string): Promise<Consent> {
    this.#assertOwner(consent, clientId);
    return this.#update(consent, (c) => terminateChange(c, this.#ctx('TPP', undefined, clientId)));
  }

  /**
   * The customer (or the bank on their behalf) withdraws the consent. `psuId`: the customer must be this
   * one; `by`: the back-office client acting for them, recorded in the history.
   */
  /** `rejection`: recorded instead of the regime's default, where the regime records one (Open Finance Brasil). */
  async revokeByPsu(consent: Consent, options: { actor: 'PSU' | 'ASPSP'; reason?: string; psuId?: string; by?: string; rejection?: Rejection }): Promise<Consent> {
    if (options.psuId !== undefined && consent.psuId !== options.psuId) throw new ConsentNotFound(consent.id);
    return this.#update(consent, (c) => revokeChange(c, this.#ctx(options.actor, options.reason ?? 'revoked by the customer', options.by), options.rejection));
  }

  /**
   * The payment of a payment consent was accepted: AUTHORISED → CONSUMED in one conditional update, with
   * `details` (the payment's id) in the same write. Of any number of concurrent calls, on any instance,
   * exactly one succeeds; the others fail with ConsentStateConflict (or ConsentExpired past its window).
   */
  async consume(consent: Consent, clientId: string, details: Record<string, unknown>): Promise<Consent> {
    this.#assertOwner(consent, clientId);
    return this.#update(consent, (c) =>
      transition(c, 'consume', this.#ctx('TPP', 'payment accepted', clientId), { actor: 'TPP', set: { details: { ...(c.details ?? {}), ...details } } }),
    );
  }

  /** A longer validity for the TPP's active consent (see extendValidity). */
  async extend(consent: Consent, clientId: string, extension: (current: Consent) => { expiresAt: Date; validUntil: string; details: Record<string, unknown> }): Promise<Consent> {
    this.#assertOwner(consent, clientId);
    return this.#update(consent, (c) => extendChange(c, extension(c), this.#ctx('TPP', undefined, clientId)));
  }

  async startAuthorisation(consent: Consent, clientId: string): Promise<{ consent: Consent; authorisation: Authorisation }> {
    this.#assertOwner(consent, clientId);
    let created: Authorisation | undefined;
    const stored = await this.#update(consent, (c) => {
      const { change, authorisation } = startChange(c, { ...this.#ctx('TPP'), newId: randomUUID });
      created = authorisation;
      return change;
    });
    return { consent: stored, authorisation: created! };
  }

  async selectScaMethod(consent: Consent, clientId: string, authorisationId: string, scaMethodId: string): Promise<{ consent: Consent; authorisation: Authorisation }> {
    this.#assertOwner(consent, clientId);
    findAuthorisation(consent, authorisationId);
    const stored = await this.#update(consent, (c) => selectChange(c, { authorisationId, scaMethodId }, this.#ctx('TPP')));
    return { consent: stored, authorisation: findAuthorisation(stored, authorisationId) };
  }

  #assertOwner(consent: Consent, clientId: string): void {
    if (consent.clientId !== clientId) throw new ConsentNotFound(consent.id);
  }

  /**
   * The PSU approved. Without a named authorisation (a `consent_id` request), one is created, given the
   * default SCA method and finalised in the same single update.
   */
  async approve(
    consent: Consent,
    input: { psuId: string; authorisationId?: string; grantedAccounts: GrantedAccount[]; grantId: string; details?: Record<string, unknown> },
  ): Promise<Consent> {
    return this.#update(consent, (c) => {
      const { base, authorisationId } = this.#withAuthorisation(c, input.authorisationId);
      const approval = { authorisationId, psuId: input.psuId, grantedAccounts: input.grantedAccounts, grantId: input.grantId, ...(input.details ? { details: input.details } : {}) };
      const change = approveChange(base.consent, approval, this.#ctx('PSU'));
      return base.merge(change);
    });
  }

  /** `rejection`: what the consent records instead of its regime's default (e.g. the bank refusing a customer). */
  async deny(consent: Consent, input: { psuId: string; authorisationId?: string; reason?: string; actor?: Actor; rejection?: Rejection }): Promise<Consent> {
    return this.#update(consent, (c) => {
      const { base, authorisationId } = this.#withAuthorisation(c, input.authorisationId);
      const decision = { authorisationId, ...(input.rejection ? { rejection: input.rejection } : {}) };
      const change = denyChange(base.consent, decision, this.#ctx(input.actor ?? 'PSU', input.reason ?? 'denied by the customer'));
      return base.merge(change);
    });
  }

  /** Expires what is past its validity and rejects what stayed awaiting too long. Returns how many changed. */
  async sweep(limit = 500): Promise<number> {
    return (await this.sweepBatch(limit)).changed;
  }

  /**
   * One bounded batch of the sweep: at most `limit` due consents read and moved. `examined` < `limit`
   * means nothing more was due when the batch was read (src/application/sweeper.ts stops there).
   */
  async sweepBatch(limit: number): Promise<{ examined: number; changed: number }> {
    const now = this.#now();
    const receivedBefore = new Date(now.getTime() - this.#options.receivedTimeoutSeconds * 1000);
    await this.#repo.housekeeping();
    const due = await this.#repo.findDue(now, receivedBefore, limit);
    let changed = 0;
    for (const consent of due) {
      try {
        const before = consent.status;
        const after = await this.#update(consent, (c) => sweepChange(c, receivedBefore, this.#ctx('system')));
        if (after.status !== before) changed++;
      } catch (err) {
        if (!(err instanceof ConsentStateConflict) && !(err instanceof ConsentNotFound)) throw err;
      }
    }
    return { examined: due.length, changed };
  }

  /**
   * Builds the authorisation an approval or denial moves: the named one, an open one in
   * scaMethodSelected, or a new implicit one (started → scaMethodSelected), folded into the same change.
   */
  #withAuthorisation(consent: Consent, authorisationId: string | undefined) {
    const ctx = this.#ctx('PSU');
    let working = consent;
    const pre: ConsentChange[] = [];
    let id = authorisationId;
    if (id === undefined) {
      const { change, authorisation } = startChange(working, { ...ctx, newId: randomUUID });
      pre.push(change);
      working = applyChange(working, change);
      id = authorisation.id;
    } else if (!working.authorisations.some((a) => a.id === id)) {
      throw new AuthorisationNotFound(consent.id, id);
    }
    const current = findAuthorisation(working, id);
    if (current.scaStatus === 'started' || current.scaStatus === 'psuAuthenticated') {
      const change = selectChange(working, { authorisationId: id, scaMethodId: current.scaMethodId ?? this.#options.defaultScaMethodId }, ctx);
      pre.push(change);
      working = applyChange(working, change);
    }
    const expect = { status: consent.status, revision: consent.revision };
    return {
      authorisationId: id,
      base: {
        consent: working,
        /** one change from the original state: the earlier steps' fields, then the final step's */
        merge(final: ConsentChange): ConsentChange {
          const set = Object.assign({}, ...pre.map((p) => p.set), final.set) as ConsentChange['set'];
          const history = [...pre.flatMap((p) => p.history ?? []), ...(final.history ?? [])];
          return { id: consent.id, expect, set, ...(history.length ? { history } : {}) };
        },
      },
    };
  }

  /**
   * Computes from `read`, applies; on a lost race re-reads and computes again (the domain then decides
   * whether the intent still makes sense). `compute` returning null means "nothing to do".
   */
  async #update(read: Consent, compute: (consent: Consent) => ConsentChange | null): Promise<Consent> {
    const id = read.id;
    const fence = this.#fence;
    // held from the first write attempt until the outcome is known; a write that threw stays held (see ConsentFence)
    let held = false;
    const release = async (revision: number | null) => {
      if (!held || !fence) return;
      held = false;
      await fence.release(id, revision).catch(() => undefined); // not released: stays held until the entry expires (safe)
    };
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        // a lost race means another writer's change is landing right now (its claim is in, its update may
        // not be yet): give it a moment before reading again, so the loser computes from the winner's state
        if (attempt > 0) await sleep(RETRY_DELAY_MS * attempt);
        const current = attempt === 0 ? read : await this.#read(id);
        if (!current) throw new ConsentNotFound(id);
        const change = compute(current);
        if (!change) return current;
        if (fence && !held) {
          await fence.hold(id);
          held = true;
        }
        let stored: Consent | null;
        try {
          stored = await this.#repo.apply(change, current);
        } catch (err) {
          held = false; // outcome unknown: keep the hold
          throw err;
        }
        if (stored) {
          await release(stored.revision);
          this.#remembered?.remember(stored);
          if (isActive(current.status) && !isActive(stored.status) && !tokensOutlive(stored.status) && stored.grantId) await this.#effects.consentEnded(stored);
          return stored;
        }
      }
      throw new ConsentStateConflict(id, read.status, 'update', { lostRace: true, message: `consent ${id} changed concurrently; try again` });
    } finally {
      await release(null);
    }
  }
}
