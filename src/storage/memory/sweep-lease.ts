/** The sweeper lease of a single process (demo mode; see ../sweep-lease.ts): always granted. */
import type { SweepLease } from '../sweep-lease.ts';

export class LocalSweepLease implements SweepLease {
  async acquire(): Promise<boolean> {
    return true;
  }
  async renew(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
}
