/**
 * Who may sweep now. Every instance runs a sweeper timer; a sweep only starts while its instance holds
 * the lease, so with several instances on one Redis exactly one sweeps at a time (the others skip that
 * tick). The holder renews the lease while it sweeps and releases it when the sweep ends; an instance
 * that dies holding it loses it after `ttlMs`. Implementations: storage/redis/sweep-lease.ts (SET NX PX,
 * shared) and storage/memory/sweep-lease.ts (one process: always granted; the sweeper's own single-flight
 * keeps sweeps of one instance apart).
 */
export interface SweepLease {
  /** Takes the lease (or keeps it, when this holder has it already); false while another holder has it. */
  acquire(): Promise<boolean>;
  /** Extends the lease; false when this holder lost it (expired and taken by another). */
  renew(): Promise<boolean>;
  /** Gives the lease back if this holder still has it. */
  release(): Promise<void>;
}
