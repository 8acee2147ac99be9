/**
 * Runs a command with the real stores up: starts Debian's redis-server and FerretDB on a throwaway
 * PostgreSQL cluster (Debian's postgresql), each on a free loopback port with a throwaway data directory,
 * exports REDIS_URL and MONGODB_URI, runs the command, then stops them all and removes their data.
 * When REDIS_URL or MONGODB_URI is already set, that store is used as given and not started (so a real
 * MongoDB works too). ASSENT_FERRETDB_BACKEND=sqlite runs FerretDB on SQLite instead (no PostgreSQL).
 *
 *   node scripts/test-env.ts -- node --test 'test/**\/*.test.ts'
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDb, startPostgres, startRedis, type RunningService } from '../test/support/services.ts';

const separator = process.argv.indexOf('--');
const command = separator === -1 ? process.argv.slice(2) : process.argv.slice(separator + 1);
if (command.length === 0) {
  console.error('usage: node scripts/test-env.ts -- <command> [args…]');
  process.exit(2);
}

const services: RunningService[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'assent-env-'));

async function stopAll(): Promise<void> {
  // Last started first: FerretDB before the PostgreSQL it uses.
  for (const service of services.reverse()) await service.stop().catch(() => {});
  rmSync(scratch, { recursive: true, force: true });
}

try {
  if (!process.env.REDIS_URL) {
    const redis = await startRedis({ dir: join(scratch, 'redis') });
    services.push(redis);
    process.env.REDIS_URL = redis.url;
  }
  if (!process.env.MONGODB_URI) {
    const backend = process.env.ASSENT_FERRETDB_BACKEND ?? 'postgresql';
    if (backend !== 'postgresql' && backend !== 'sqlite') throw new Error(`ASSENT_FERRETDB_BACKEND=${backend}: postgresql or sqlite`);
    let postgresqlUrl: string | undefined;
    if (backend === 'postgresql') {
      const postgres = await startPostgres();
      services.push(postgres);
      postgresqlUrl = postgres.url;
    }
    const ferret = await startFerretDb({ dir: join(scratch, 'ferretdb'), ...(postgresqlUrl ? { postgresqlUrl } : {}) });
    services.push(ferret);
    process.env.MONGODB_URI = ferret.url;
    process.env.ASSENT_FERRETDB_BACKEND = backend; // so benchmarks can name the store they ran on
  }
} catch (err) {
  console.error('[test-env] could not start the stores:', err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
}

console.error(`[test-env] REDIS_URL=${process.env.REDIS_URL} MONGODB_URI=${process.env.MONGODB_URI}`);
const [bin, ...args] = command as [string, ...string[]];
const child = spawn(bin, args, { stdio: 'inherit', env: process.env });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', async (code, signal) => {
  await stopAll();
  process.exit(code ?? (signal ? 1 : 0));
});
