/**
 * Child processes for measurements. A measurement is over when the tool says its IO is
 * done (`done(stdout)`), which can be long before the process exits: stock libgfapi spends
 * ~10 s in glfs_fini. The harness starts the next measurement then, and collects the exit
 * (and the results a tool writes at exit) later; the finishing process only sleeps.
 */
import { spawn } from 'node:child_process';

export interface Tracked {
  pid: number;
  /** Resolves when `done` first matched (or at exit), with ms since start. */
  ioDone: Promise<number>;
  /** Resolves at exit; rejects on a non-zero status. */
  exit: Promise<Exited>;
}

export interface Exited {
  stdout: string;
  stderr: string;
  /** ms from spawn to the first `done` match (= wallMs when it never matched). */
  doneMs: number;
  wallMs: number;
}

const live = new Set<number>();
let hooked = false;

/** Kills (SIGKILL, by PID) every measurement process still running. */
export function killAll(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  live.clear();
}

export function track(
  file: string,
  args: string[],
  opts: { cwd?: string; done?: (stdout: string) => boolean; timeoutMs?: number } = {},
): Tracked {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
  }
  const t0 = performance.now();
  const child = spawn(file, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? 0;
  if (pid) live.add(pid);
  let stdout = '';
  let stderr = '';
  let doneMs: number | undefined;
  let markDone: (ms: number) => void = () => undefined;
  const ioDone = new Promise<number>((ok) => (markDone = ok));
  const check = () => {
    if (doneMs === undefined && opts.done?.(stdout)) {
      doneMs = performance.now() - t0;
      markDone(doneMs);
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    // ETA lines repeat every 250 ms: keep only the tail once done is known to be false.
    if (stdout.length > 1 << 20) stdout = stdout.slice(-65536);
    check();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
  const exit = new Promise<Exited>((ok, fail) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      live.delete(pid);
      markDone(performance.now() - t0);
      fail(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(pid);
      const wallMs = performance.now() - t0;
      doneMs ??= wallMs;
      markDone(doneMs);
      if (code === 0) ok({ stdout, stderr, doneMs, wallMs });
      else
        fail(
          new Error(
            `${file} ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim().slice(-800) || stdout.slice(-400)}`,
          ),
        );
    });
  });
  // A failing exit is reported through `exit`; don't let an unawaited one crash the process.
  exit.catch(() => undefined);
  return { pid, ioDone, exit };
}

/** Runs to completion; resolves stdout. */
export async function runToEnd(file: string, args: string[], cwd?: string): Promise<string> {
  return (await track(file, args, cwd ? { cwd } : {}).exit).stdout;
}
