/**
 * Brick supervision: one OS process per brick.
 *
 * `start` spawns the brick program (`--volfile FILE --brick-name PATH --mgmt HOST:PORT`,
 * the contract of src/brick/main.ts) in its own process group, with stdout and stderr
 * appended to its log file. `stop` sends SIGTERM and SIGKILL after a grace period. A
 * brick that dies while it should be running is started again after a backoff that
 * doubles up to a ceiling and resets once the brick has stayed up for a while. A brick that
 * exits refusing its configuration (status EXIT_CONFIG) is not restarted: it stays down,
 * with the reason it logged, until it is started again (volume start force, or stop + start).
 *
 * Each spawn gets a fresh sign-in token in its environment (GLUSTERTS_SIGNIN_TOKEN); the
 * daemon accepts portmap SIGNIN/SIGNOUT for a brick only with its current token, so no other
 * process can claim or withdraw a brick's port (docs/security.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { CONFIG_ERROR_PREFIX, EXIT_CONFIG, SIGNIN_TOKEN_ENV } from '../protocol/index.js';

export interface BrickSpec {
  /** The brick path: the supervisor's key and the brick's `--brick-name`. */
  brickPath: string;
  volfile: string;
  logFile: string;
  /** Where the running process's pid is kept, so a later daemon can find an orphan. */
  pidFile?: string;
  /** argv prefix of this process instead of the supervisor's (the self-heal daemon). */
  command?: readonly string[];
}

export interface SupervisorOptions {
  /** argv prefix of the brick program; the contract's arguments are appended. */
  command: readonly string[];
  /** `HOST:PORT` of the daemon, passed as `--mgmt`. */
  mgmt: string;
  stopGraceMs?: number;
  restartMinMs?: number;
  restartMaxMs?: number;
  /** A brick that stays up this long gets the minimum backoff again. */
  stableMs?: number;
  /** A brick process exited (before any restart is scheduled). */
  onExit?: (brickPath: string, pid: number, expected: boolean) => void;
  log?: (message: string) => void;
}

interface Supervised {
  spec: BrickSpec;
  child: ChildProcess | undefined;
  /** false once stop() was asked: exits are expected and never restarted. */
  wanted: boolean;
  backoffMs: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  restarts: number;
  exited: Promise<void>;
  /** The running process's sign-in token. */
  token: Buffer;
  /** Why the brick stopped for good: it refused its configuration. */
  failed: string | undefined;
}

export interface BrickProcessInfo {
  brickPath: string;
  pid: number | undefined;
  restarts: number;
  failed?: string;
}

export class BrickSupervisor {
  private readonly bricks = new Map<string, Supervised>();
  private readonly o: Required<Omit<SupervisorOptions, 'onExit'>> & Pick<SupervisorOptions, 'onExit'>;

  constructor(options: SupervisorOptions) {
    this.o = {
      stopGraceMs: 5000,
      restartMinMs: 1000,
      restartMaxMs: 30_000,
      stableMs: 10_000,
      log: (m) => console.error(`glusterts mgmt: ${m}`),
      ...options,
    };
  }

  info(brickPath: string): BrickProcessInfo | undefined {
    const s = this.bricks.get(brickPath);
    return (
      s && { brickPath, pid: s.child?.pid, restarts: s.restarts, ...(s.failed ? { failed: s.failed } : {}) }
    );
  }

  /** Why a supervised brick is down for good (it refused its configuration), if it is. */
  failure(brickPath: string): string | undefined {
    return this.bricks.get(brickPath)?.failed;
  }

  /** The token the brick's current process was given (tests that sign in for a stub). */
  signinToken(brickPath: string): string | undefined {
    return this.bricks.get(brickPath)?.token.toString('hex');
  }

  /** True if `token` is the one this brick's current process was started with. */
  tokenMatches(brickPath: string, token: Buffer): boolean {
    const s = this.bricks.get(brickPath);
    return !!s && token.length === s.token.length && timingSafeEqual(token, s.token);
  }

  /** The pid of the running process for this brick, if any. */
  pid(brickPath: string): number | undefined {
    const child = this.bricks.get(brickPath)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  isSupervised(brickPath: string): boolean {
    return this.bricks.get(brickPath)?.wanted ?? false;
  }

  /**
   * Starts supervising a brick (no-op if it already is and runs). `now`: a brick waiting
   * out its restart backoff is started at once, with the backoff reset.
   */
  start(spec: BrickSpec, { now = false }: { now?: boolean } = {}): void {
    const existing = this.bricks.get(spec.brickPath);
    if (existing?.wanted) {
      // Asked again after refusing its configuration: the volfile may be fixed now.
      if (existing.failed !== undefined) {
        existing.spec = spec;
        existing.backoffMs = this.o.restartMinMs;
        this.spawn(existing);
        return;
      }
      if (now && existing.restartTimer) {
        clearTimeout(existing.restartTimer);
        existing.backoffMs = this.o.restartMinMs;
        existing.spec = spec;
        this.spawn(existing);
      }
      return;
    }
    if (existing) existing.wanted = true;
    const s: Supervised = existing ?? {
      spec,
      child: undefined,
      wanted: true,
      backoffMs: this.o.restartMinMs,
      startedAt: 0,
      restartTimer: undefined,
      restarts: 0,
      exited: Promise.resolve(),
      token: Buffer.alloc(0),
      failed: undefined,
    };
    s.spec = spec;
    this.bricks.set(spec.brickPath, s);
    if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) this.spawn(s);
  }

  private spawn(s: Supervised): void {
    s.restartTimer = undefined;
    s.failed = undefined;
    s.token = randomBytes(32);
    const log = openSync(s.spec.logFile, 'a', 0o640);
    const args = ['--volfile', s.spec.volfile, '--brick-name', s.spec.brickPath, '--mgmt', this.o.mgmt];
    const command = s.spec.command ?? this.o.command;
    writeSync(log, `--- ${new Date().toISOString()} starting ${[...command, ...args].join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(command[0]!, [...command.slice(1), ...args], {
        stdio: ['ignore', log, log],
        detached: true,
        env: { ...process.env, [SIGNIN_TOKEN_ENV]: s.token.toString('hex') },
      });
    } finally {
      closeSync(log);
    }
    s.child = child;
    s.startedAt = Date.now();
    if (s.spec.pidFile && child.pid !== undefined) writeFileSync(s.spec.pidFile, `${child.pid}\n`);
    s.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: string | null) => {
        if (done) return;
        done = true;
        this.onChildExit(s, child, code, signal);
        resolve();
      };
      child.once('error', (err) => {
        this.o.log(`brick ${s.spec.brickPath}: ${err.message}`);
        // A program that could not be spawned never emits 'exit'.
        if (child.pid === undefined) finish(null, null);
      });
      child.once('exit', finish);
    });
  }

  private onChildExit(s: Supervised, child: ChildProcess, code: number | null, signal: string | null): void {
    if (s.child !== child) return;
    if (s.spec.pidFile) rmSync(s.spec.pidFile, { force: true });
    const expected = !s.wanted;
    this.o.onExit?.(s.spec.brickPath, child.pid ?? 0, expected);
    if (expected) return;
    if (code === EXIT_CONFIG) {
      s.failed = configurationRefusal(s.spec.logFile) ?? 'the brick refused its configuration';
      this.o.log(
        `brick ${s.spec.brickPath} (pid ${child.pid}) refused its configuration; not restarting it: ${s.failed}`,
      );
      return;
    }
    if (Date.now() - s.startedAt >= this.o.stableMs) s.backoffMs = this.o.restartMinMs;
    const delay = s.backoffMs;
    s.backoffMs = Math.min(s.backoffMs * 2, this.o.restartMaxMs);
    this.o.log(
      `brick ${s.spec.brickPath} (pid ${child.pid}) died (${signal ?? `exit ${code}`}); restarting in ${delay} ms`,
    );
    s.restarts++;
    s.restartTimer = setTimeout(() => {
      if (s.wanted) this.spawn(s);
    }, delay);
  }

  /** Stops a brick: SIGTERM, then SIGKILL after the grace period. Resolves once it exited. */
  async stop(brickPath: string): Promise<void> {
    const s = this.bricks.get(brickPath);
    if (!s) return;
    s.wanted = false;
    if (s.restartTimer) clearTimeout(s.restartTimer);
    s.restartTimer = undefined;
    const child = s.child;
    if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.o.stopGraceMs);
      await s.exited;
      clearTimeout(timer);
    }
    if (!s.wanted) this.bricks.delete(brickPath);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.bricks.keys()].map((b) => this.stop(b)));
  }
}

/** The reason a brick logged for refusing its configuration: its last such line. */
function configurationRefusal(logFile: string): string | undefined {
  try {
    const fd = openSync(logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const tail = Buffer.alloc(Math.min(size, 16 * 1024));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      const line = tail
        .toString('utf8')
        .split('\n')
        .filter((l) => l.startsWith(CONFIG_ERROR_PREFIX))
        .at(-1);
      return line?.slice(CONFIG_ERROR_PREFIX.length);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
