/**
 * Starts and stops real store processes for tests: Debian's redis-server and FerretDB (SQLite backend),
 * each on a free loopback port with its own data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RunningService {
  readonly url: string;
  readonly port: number;
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

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function launch(bin: string, args: string[], name: string): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startFerretDb({ dir, port }: StartOptions): Promise<RunningService> {
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  const debugPort = await freePort();
  const child = launch(
    FERRETDB_BIN,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
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
