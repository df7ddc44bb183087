/**
 * Process control for driving real peers: run a program to its end, start a long-running
 * one and wait until it says it is ready, wait for a port or a condition, and stop by PID
 * (SIGTERM, then SIGKILL). Nothing here ever kills by name: other users of the machine run
 * the same programs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns something other than undefined; fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 5000,
  everyMs = 20,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** True while a process with this PID exists (zombies included; see isZombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` has exited but was not reaped yet (or is gone): it holds nothing anymore. */
export function isZombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM a PID, wait up to `graceMs` for it to end, then SIGKILL. */
export async function killPid(pid: number, graceMs = 3000): Promise<void> {
  if (!pid || pid <= 1 || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!alive(pid) || isZombie(pid)) return;
    await sleep(25);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid) && !isZombie(pid); i++) await sleep(20);
}

/** True when host:port accepts a TCP connection within `timeoutMs`. */
export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function waitForPort(host: string, port: number, ms = 15_000): Promise<true> {
  return waitFor(
    `${host}:${port} to accept connections`,
    async () => (await portOpen(host, port)) || undefined,
    ms,
    50,
  );
}

const SEARCH_PATH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** Absolute path of an executable on PATH (plus the sbin dirs), or undefined. */
export function which(prog: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  for (const d of dirs) {
    const p = join(d, prog);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export interface Ran {
  /** Exit status; -1 when the program could not start or was killed. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never rejects (the status is in the result). */
export function runCommand(file: string, args: string[], timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a program to its end; resolves its stdout, rejects on a non-zero status. */
export async function run(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await runCommand(file, args, timeoutMs);
  if (r.code !== 0)
    throw new Error(
      `${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-800) || r.stdout.slice(-400)}`,
    );
  return r.stdout;
}

// ---------------------------------------------------------------------------------------
// Long-running children

export interface Service {
  child: ChildProcess;
  pid: number;
  /** What `ready` matched, when it is a pattern. */
  match: RegExpExecArray | undefined;
  /** What the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns a long-running program and resolves once its output matches `ready` (or, with
 * `ready` a function, once that resolves true). Fails, killing the child, when it exits
 * first or `timeoutMs` passes.
 */
export async function startService(
  file: string,
  args: string[],
  ready: RegExp | (() => Promise<boolean>),
  opts: { timeoutMs?: number; what?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Service> {
  const what = opts.what ?? file;
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const pid = child.pid ?? 0;
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  let exitCode: number | string | null = null;
  const exited = new Promise<void>((ok) =>
    child.once('close', (code, signal) => {
      exitCode = code ?? signal;
      ok();
    }),
  );
  child.once('error', (e) => (out += `\n${e.message}`));
  const running = () => child.exitCode === null && child.signalCode === null && exitCode === null;
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (running()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
  const until = Date.now() + (opts.timeoutMs ?? 30_000);
  let match: RegExpExecArray | undefined;
  for (;;) {
    if (ready instanceof RegExp) {
      match = ready.exec(out) ?? undefined;
      if (match) break;
    } else if (await ready()) break;
    if (!running() || Date.now() > until) {
      const why = running()
        ? `not ready after ${opts.timeoutMs ?? 30_000} ms`
        : `exited with ${exitCode ?? child.exitCode}`;
      child.kill('SIGKILL');
      throw new Error(`${what} ${why}:\n${out.trim().slice(-2000)}`);
    }
    await sleep(50);
  }
  return { child, pid, match, output: () => out, stop };
}

// ---------------------------------------------------------------------------------------
// Measured children

/**
 * A measurement is over when the tool says its IO is done (`done(stdout)`), which can be
 * long before the process exits: stock libgfapi spends ~10 s in glfs_fini. The bench starts
 * the next measurement then and collects the exit (and what the tool writes at exit) later.
 */
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

const tracked = new Set<number>();
let hooked = false;

/** Kills (SIGKILL, by PID) every tracked process still running. */
export function killTracked(): void {
  for (const pid of tracked) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  tracked.clear();
}

export function track(
  file: string,
  args: string[],
  opts: { cwd?: string; done?: (stdout: string) => boolean; timeoutMs?: number } = {},
): Tracked {
  if (!hooked) {
    hooked = true;
    process.on('exit', killTracked);
  }
  const t0 = performance.now();
  const child = spawn(file, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? 0;
  if (pid) tracked.add(pid);
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
      tracked.delete(pid);
      markDone(performance.now() - t0);
      fail(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      tracked.delete(pid);
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

/** Runs to completion as a tracked process (killed with the others on abort); resolves stdout. */
export async function runTracked(file: string, args: string[], cwd?: string): Promise<string> {
  return (await track(file, args, cwd ? { cwd } : {}).exit).stdout;
}
