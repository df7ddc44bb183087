/**
 * CPU time of the processes a measurement involves, from /proc/PID/stat: the tool (fio or
 * the client-load process, with its child processes: fio forks one per job), the client
 * processes it talks through (the NBD export, the FUSE client) and the system's server
 * processes (bricks and management daemon). fio's own usr_cpu/sys_cpu cannot serve: it
 * takes getrusage(RUSAGE_THREAD) of each job's thread, which leaves out libgfapi's
 * epoll threads, where the client's RPC work happens.
 *
 * A window is marked while the tool is doing IO (after start-up, before glfs_fini); the CPU
 * spent between its first and last mark, divided by the IO the tool did in that time (its
 * rate × the window's length), is the CPU per IO.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux. */
const TICK_US = 1e6 / 100;

export interface ProcStat {
  ppid: number;
  /** user + sys of every thread, living or exited, µs. */
  cpuUs: number;
}

/** Parses /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, ppid 4, utime 14, stime 15 (1-based, as proc(5) counts).
  const ppid = Number(f[1]);
  const ticks = Number(f[11]) + Number(f[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks))
    throw new Error(`not a /proc/PID/stat line: ${text}`);
  return { ppid, cpuUs: ticks * TICK_US };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

/** CPU µs of the processes, summed; a process that has gone counts 0. */
export function cpuUsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuUs ?? 0), 0);
}

/** Every process on the machine with its parent and command line (NULs as spaces). */
export function processes(): { pid: number; ppid: number; cmdline: string }[] {
  const out: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    out.push({ pid, ppid: stat.ppid, cmdline });
  }
  return out;
}

/** `root` and its descendants, from a process list. */
export function descendants(root: number, list: readonly { pid: number; ppid: number }[]): number[] {
  const found = [root];
  for (let i = 0; i < found.length; i++)
    for (const p of list) if (p.ppid === found[i] && !found.includes(p.pid)) found.push(p.pid);
  return found;
}

/** Which processes a measurement's CPU is taken from; PIDs are looked up once, at the first mark. */
export interface CpuSources {
  /** Client-side processes besides the tool (the NBD export, the FUSE client). */
  client(): number[];
  /** The system's server processes; none for Base. */
  server(): number[];
}

export const NO_SERVER: CpuSources = { client: () => [], server: () => [] };

export interface CpuFigures {
  /** CPU of the tool and the other client-side processes over the window, µs. */
  clientUs: number;
  /** CPU of the server processes over the window, µs. */
  serverUs: number;
  /** The window's length. */
  seconds: number;
}

/** Shortest window worth a figure: /proc counts in 10 ms ticks. */
const MIN_WINDOW_S = 0.4;

export class CpuWindow {
  private client: number[] = [];
  private server: number[] = [];
  private first: { at: number; client: number; server: number } | undefined;
  private last: { at: number; client: number; server: number } | undefined;

  constructor(
    private readonly toolPid: number,
    private readonly sources: CpuSources,
  ) {}

  /** Takes a sample: the first one opens the window, every later one moves its end. */
  mark(): void {
    if (!this.first) {
      // The tool's job processes exist by now: they are doing IO.
      this.client = [...descendants(this.toolPid, processes()), ...this.sources.client()];
      this.server = this.sources.server();
    }
    const s = { at: performance.now(), client: cpuUsOf(this.client), server: cpuUsOf(this.server) };
    if (!this.first) this.first = s;
    else this.last = s;
  }

  /**
   * The window's figures, or undefined when it is shorter than `minSeconds` (and never
   * shorter than MIN_WINDOW_S): a window that saw little of the IO phase says little about it.
   */
  figures(minSeconds = MIN_WINDOW_S): CpuFigures | undefined {
    const { first, last } = this;
    if (!first || !last) return undefined;
    const seconds = (last.at - first.at) / 1000;
    if (seconds < Math.max(MIN_WINDOW_S, minSeconds)) return undefined;
    return { clientUs: last.client - first.client, serverUs: last.server - first.server, seconds };
  }
}

/**
 * A window's figures joined with the IO the tool did at its mean rate (`iops`, `kibps` over
 * `runtime` seconds) in that window. The rate is the whole run's, so the window must cover at
 * least half of the run's IO phase; a window the loaded harness closed late (reading a
 * running line after the IO ended) counts no more IO than the run did.
 */
export function windowFigures(
  window: Pick<CpuWindow, 'figures'>,
  runtime: number,
  iops: number,
  kibps: number,
): (CpuFigures & { ios: number; bytes: number }) | undefined {
  const f = window.figures(runtime / 2);
  if (!f) return undefined;
  const ioSeconds = Math.min(f.seconds, runtime);
  return { ...f, ios: iops * ioSeconds, bytes: kibps * 1024 * ioSeconds };
}
