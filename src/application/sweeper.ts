/**
 * The consent sweeper: expires consents past their validity, rejects those left awaiting too long, and
 * clears leftover claim documents (storage/mongo/consent-repository.ts). It cannot pile up:
 *
 * - single-flight per instance: the next run is scheduled only when the last one has ended, and `run()`
 *   called during a run returns that run instead of starting another;
 * - elected across instances: a run only starts while this instance holds the sweep lease (a Redis
 *   `SET NX PX`, storage/redis/sweep-lease.ts), renewed on a timer while it runs and released at its end;
 *   the other instances skip their tick. A run that loses its lease stops after the current batch;
 * - bounded: at most `batchSize` consents per batch and `maxBatches` batches per run; what is left waits
 *   for the next run. Every batch that changed something is logged, and each run's totals.
 */
import type { Logger } from '../log.ts';
import type { SweepLease } from '../storage/sweep-lease.ts';

export interface SweepTarget {
  sweepBatch(limit: number): Promise<{ examined: number; changed: number }>;
}

export interface SweeperOptions {
  target: SweepTarget;
  lease: SweepLease;
  log: Logger;
  /** pause between the end of one run and the start of the next */
  intervalMs: number;
  /** @default 100 */
  batchSize?: number;
  /** @default 20 */
  maxBatches?: number;
  /** how often the lease is renewed during a run; keep well below the lease's TTL. @default 10 s */
  renewEveryMs?: number;
  /** housekeeping after the batches (leftover claim documents); returns how many it cleared */
  cleanUp?: () => Promise<number>;
  /**
   * more work after the batches, once per run under the same lease (e.g. the payments a crash left
   * RCVD: ./pix-settlement.ts); each gets `batchSize` and returns how many things it changed
   */
  tasks?: ReadonlyArray<{ name: string; run(limit: number): Promise<number> }>;
}

export interface SweepRun {
  /** false: another instance held the lease, nothing was done */
  leader: boolean;
  batches: number;
  examined: number;
  changed: number;
  claimsCleared: number;
  /** what each task changed, by name */
  tasks: Record<string, number>;
  /** stopped before the backlog was drained (maxBatches reached, lease lost, closing) */
  more: boolean;
}

export class Sweeper {
  readonly #o: Required<Omit<SweeperOptions, 'cleanUp' | 'tasks'>> & Pick<SweeperOptions, 'cleanUp' | 'tasks'>;
  #running: Promise<SweepRun> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SweeperOptions) {
    this.#o = { batchSize: 100, maxBatches: 20, renewEveryMs: 10_000, ...options };
  }

  /** Runs every `intervalMs` (after the previous run ended) until close(). */
  start(): void {
    if (this.#closed || this.#timer) return;
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.run().finally(() => {
        if (!this.#closed) this.#schedule();
      });
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  /** One run (or the one already running). Never rejects: a failure is logged and ends the run. */
  run(): Promise<SweepRun> {
    return (this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    }));
  }

  async #run(): Promise<SweepRun> {
    const { target, lease, log, batchSize, maxBatches } = this.#o;
    const result: SweepRun = { leader: false, batches: 0, examined: 0, changed: 0, claimsCleared: 0, tasks: {}, more: false };
    let lost = false;
    let renewal: NodeJS.Timeout | undefined;
    try {
      if (this.#closed || !(await lease.acquire())) return result;
      result.leader = true;
      renewal = setInterval(() => {
        lease.renew().then(
          (held) => (lost ||= !held),
          () => (lost = true),
        );
      }, this.#o.renewEveryMs);
      renewal.unref();
      for (;;) {
        if (this.#closed || lost) {
          result.more = true;
          break;
        }
        if (result.batches >= maxBatches) {
          result.more = true;
          break;
        }
        const batch = await target.sweepBatch(batchSize);
        result.batches++;
        result.examined += batch.examined;
        result.changed += batch.changed;
        if (batch.changed > 0) {
          log.info({ batch: result.batches, examined: batch.examined, changed: batch.changed, totalChanged: result.changed }, 'consent sweep batch');
        }
        if (batch.examined < batchSize) break;
        if (!(await lease.renew())) lost = true;
      }
      if (!this.#closed && !lost && this.#o.cleanUp) result.claimsCleared = await this.#o.cleanUp();
      for (const task of this.#o.tasks ?? []) {
        if (this.#closed || lost) break;
        const changed = await task.run(batchSize);
        result.tasks[task.name] = changed;
        if (changed > 0) log.info({ task: task.name, changed }, 'sweep task');
      }
      if (result.changed > 0 || result.claimsCleared > 0 || result.more) {
        log.info({ batches: result.batches, changed: result.changed, claimsCleared: result.claimsCleared, more: result.more, leaseLost: lost }, 'consent sweep');
      }
    } catch (err) {
      log.warn({ error: (err as Error).message, batches: result.batches, changed: result.changed }, 'consent sweep failed');
    } finally {
      clearInterval(renewal);
      if (result.leader) await lease.release().catch(() => undefined);
    }
    return result;
  }

  /** Stops the timer; a run in progress ends after its current batch (awaited). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
