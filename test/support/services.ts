/**
 * Starts and stops real store processes for tests: Debian's redis-server, PostgreSQL (a throwaway
 * cluster) and FerretDB on top of it (or on SQLite), each on a free loopback port with its own data
 * directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface RunningService {
  readonly url: string;
  readonly port: number;
  /** the server process (to pause it with SIGSTOP / SIGCONT) */
  readonly pid?: number;
  stop(): Promise<void>;
}

export const FERRETDB_BIN =
  process.env.FERRETDB_BIN ?? join(process.env.ASSENT_TOOLS_DIR ?? join(homedir(), '.cache', 'assent'), 'ferretdb-v1.24.2');

/** A port the kernel just handed out on 127.0.0.1 (free at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

function launch(bin: string, args: string[], name: string, options: { uid?: number; gid?: number } = {}): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.once('exit', (code, signal) => {
    if (code && code !== 0) process.stderr.write(`[${name}] exited with ${code ?? signal}: ${stderr}\n`);
  });
  child.once('error', (err) => process.stderr.write(`[${name}] failed to start: ${err.message}\n`));
  return child;
}

export interface StartOptions {
  /** data directory (created; removed again on stop) */
  dir: string;
  /** a fixed port, e.g. to restart a stopped server where clients expect it */
  port?: number;
}

export async function startRedis({ dir, port }: StartOptions): Promise<RunningService> {
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  const child = launch(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    'redis',
  );
  await waitForPort(p);
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    ...(child.pid ? { pid: child.pid } : {}),
    async stop() {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGCONT'); // a paused one cannot stop
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The directory holding PostgreSQL's server programs: PG_BIN if set, else where `initdb` is on PATH,
 * else the newest Debian /usr/lib/postgresql/<version>/bin.
 */
export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dirname(realpathSync(join(dir, 'initdb')));
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  throw new Error('PostgreSQL not found (initdb/postgres): run scripts/ensure-tools.sh or set PG_BIN');
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (Debian's package makes it). */
function postgresIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = process.env.ASSENT_PG_USER ?? 'postgres';
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(`running as root, PostgreSQL needs an unprivileged user "${user}" (apt-get install postgresql makes it)`);
  }
}

export interface RunningPostgres extends RunningService {
  /** a database FerretDB can use: postgres://…/postgres (it keeps each MongoDB database in its own schema) */
  readonly url: string;
}

/**
 * FerretDB 1.x pushes a filter on `_id` down as `_jsonb -> '_id' @> '"<id>"'` (the key a bind parameter),
 * which the unique btree index it creates on `(_jsonb -> '_id')` cannot serve: every lookup by `_id` scans
 * its table. This event trigger gives each table FerretDB creates (one per collection, a `_jsonb` column) a
 * GIN index on the same expression, which serves `@>`; with custom plans (`plan_cache_mode`) the bound key
 * is a constant and the planner matches it. Lookups by `_id` then cost what they cost on MongoDB: one
 * index probe, whatever the collection's size. Other filters still scan (as the README says).
 */
const ID_INDEX_TRIGGER = `
CREATE FUNCTION ferretdb_id_containment_index() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE created record;
BEGIN
  FOR created IN SELECT objid, object_identity FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = created.objid AND attname = '_jsonb' AND NOT attisdropped) THEN
      EXECUTE format('CREATE INDEX ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)', created.object_identity, '_id');
    END IF;
  END LOOP;
END $$;

CREATE EVENT TRIGGER ferretdb_id_containment ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION ferretdb_id_containment_index();
`;

/**
 * A throwaway PostgreSQL cluster on a free loopback port: initdb into a fresh temp directory (owned by the
 * unprivileged user when run as root), trust authentication on loopback only, durability off (tests and
 * benchmarks need speed, not crash safety). Removed again on stop.
 */
export async function startPostgres({ port }: { port?: number } = {}): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const identity = postgresIdentity();
  // Its own temp directory, not one under a root-only (0700) scratch dir the unprivileged user cannot enter.
  const dir = mkdtempSync(join(tmpdir(), 'assent-pg-'));
  if (identity) chownSync(dir, identity.uid, identity.gid);
  const data = join(dir, 'data');
  const run = { ...(identity ?? {}), cwd: dir, env: { ...process.env, LC_ALL: 'C', HOME: dir } };
  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'assent', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { ...run, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr || (err as Error).message}`);
  }
  try {
    // single-user mode, before the server listens: the trigger exists before FerretDB creates a table
    execFileSync(join(bin, 'postgres'), ['--single', '-j', '-D', data, 'postgres'], { ...run, input: ID_INDEX_TRIGGER, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`installing the _id index trigger failed: ${stderr || (err as Error).message}`);
  }
  const p = port ?? (await freePort());
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D', data, '-h', '127.0.0.1', '-p', String(p), '-k', dir,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=300', '-c', 'shared_buffers=128MB', '-c', 'log_min_messages=warning',
      '-c', 'logging_collector=off', '-c', 'plan_cache_mode=force_custom_plan',
    ],
    { ...run, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.once('error', (err) => process.stderr.write(`[postgres] failed to start: ${err.message}\n`));
  child.once('exit', (code, signal) => {
    if (code) process.stderr.write(`[postgres] exited with ${code ?? signal}: ${stderr}\n`);
  });
  const stop = async () => {
    await stopProcess(child, 'SIGINT'); // "fast" shutdown
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(p);
    await waitForPostgres(bin, p, run);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; postgres said: ${stderr}`);
  }
  return { url: `postgres://assent@127.0.0.1:${p}/postgres`, port: p, stop };
}

/** The port accepts connections before the server takes queries ("the database system is starting up"). */
async function waitForPostgres(bin: string, port: number, run: object, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'assent'], run);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`PostgreSQL on ${port} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface FerretDbOptions extends StartOptions {
  /** the PostgreSQL backend's URL; without it FerretDB uses its SQLite backend in `dir` */
  postgresqlUrl?: string;
}

export async function startFerretDb({ dir, port, postgresqlUrl }: FerretDbOptions): Promise<RunningService> {
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  const debugPort = await freePort();
  const child = launch(
    FERRETDB_BIN,
    [
      ...(postgresqlUrl ? ['--handler=postgresql', `--postgresql-url=${postgresqlUrl}`] : ['--handler=sqlite', `--sqlite-url=file:${dir}/`]),
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${p}`,
      `--debug-addr=127.0.0.1:${debugPort}`,
      '--telemetry=disable',
      '--log-level=error',
    ],
    'ferretdb',
  );
  await waitForPort(p);
  return {
    url: `mongodb://127.0.0.1:${p}/`,
    port: p,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
