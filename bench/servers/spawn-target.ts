/**
 * Starts a bench target (bench/servers/flow-targets.ts) in its own process and waits for its `READY
 * <origin> <json>` line; later stdout lines go to whoever waits in `lines` (the seeding replies).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Target {
  child: ChildProcess;
  origin: string;
  issuer: string;
  /** flows run against it so far (each Assent flow stores a consent) */
  flowsStarted: number;
  /** waiting for the target's next stdout line after READY */
  lines: Array<(line: string) => void>;
}

export function startTarget(kind: 'assent' | 'bare', store: 'memory' | 'redis'): Promise<Target> {
  const child = spawn(process.execPath, ['bench/servers/flow-targets.ts', kind, store], { env: process.env, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let target: Target | undefined;
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      let newline: number;
      while ((newline = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, newline);
        out = out.slice(newline + 1);
        const m = /^READY (\S+) (.+)$/.exec(line);
        if (m && !target) {
          target = { child, origin: m[1]!, issuer: (JSON.parse(m[2]!) as { issuer: string }).issuer, flowsStarted: 0, lines: [] };
          resolve(target);
        } else if (target) target.lines.shift()?.(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`bench target ${kind}/${store} exited with ${code}`)));
  });
}

export async function stopTarget(target: Target): Promise<void> {
  await new Promise<void>((resolve) => {
    target.child.once('exit', () => resolve());
    target.child.kill('SIGTERM');
  });
}

/** RSS of a child in MB (Linux): VmRSS now, VmHWM the peak so far */
export function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}
