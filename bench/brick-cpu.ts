/**
 * CPU cost per IO of one brick: fio's gfapi engines (stock libgfapi 10.3, full client
 * stack) against a single-brick volume served by glusterts (`glusterts up`) and by a
 * private stock GlusterFS 10.3, the two measured alternately in one run.
 *
 * On a shared 2-core machine wall-clock throughput is noisy; CPU time is steadier. fio
 * prints a JSON status every second (`--status-interval=1`); at each one this script reads
 * the user+sys time of the brick process and of fio from /proc/PID/stat, and the brick's
 * read/write system calls and context switches. The window runs from the second status with
 * IO done (the first second warms up) to the first one `--seconds` later, so start-up
 * (glfs_init, opens) and stock libgfapi's ~10 s glfs_fini stay outside it: fio is killed
 * (by PID) as soon as the window closes.
 *
 *   node dist/bench/brick-cpu.js [--seconds 4] [--repeat 2] [--size 64M] [--json out.json]
 *       [--workloads rand-write,rand-read,seq-write,seq-read] [--systems glusterts,stock]
 *   node dist/bench/brick-cpu.js --systems glusterts,base,stock --base /var/tmp/old
 *       (base: a second glusterts whose brick is the build in /var/tmp/old — a copy of an
 *       earlier checkout's dist/ and build/ — to measure a change before/after in one run;
 *       --base-env K=V, repeatable, adds to the base brick's environment, e.g. --base /work/x
 *       --base-env GLUSTERTS_IO_URING=0 compares a switch in one build)
 *   node dist/bench/brick-cpu.js --profile DIR --systems glusterts --workloads rand-write
 *       (the glusterts brick runs under V8's CPU profiler, profiled-brick.ts; the
 *       brick-PID.cpuprofile lands in DIR; summarise it with cpuprofile-top.js)
 *
 * How much CPU an IO costs depends on the IO rate (at a high rate one wakeup serves several
 * requests), and on this machine the rate follows the shared virtual disk's mood. `--rate-iops
 * N` caps fio at N IOPS in all (N/4 per job), below what every system sustains, so the
 * systems are compared doing the same work per second; 0 (the default) runs flat out.
 *
 * Run it inside a network namespace of its own: it binds 127.0.0.2, .3 (and .4) on 24007.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  median,
  runFio,
  sleep,
  startGlusterts,
  startStockGluster,
  type FioSpec,
} from '../src/peers/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    repeat: { type: 'string', default: '2' },
    size: { type: 'string', default: '64M' },
    workloads: { type: 'string', default: 'rand-write,rand-read,seq-write,seq-read' },
    systems: { type: 'string', default: 'glusterts,stock' },
    dir: { type: 'string', default: '/var/tmp' },
    'stock-host': { type: 'string', default: '127.0.0.2' },
    'glusterts-host': { type: 'string', default: '127.0.0.3' },
    'base-host': { type: 'string', default: '127.0.0.4' },
    base: { type: 'string' },
    'base-env': { type: 'string', multiple: true },
    'rate-iops': { type: 'string', default: '0' },
    json: { type: 'string' },
    profile: { type: 'string' },
  },
});

/** `base`: glusterts again, its bricks running another build's brick program (`--base`). */
type System = 'glusterts' | 'stock' | 'base';
const VOLUME = 'bench';
const FILES = 4;

interface Workload {
  name: string;
  rw: FioSpec['rw'];
  bs: string;
  ioengine: 'gfapi' | 'gfapi_async';
  iodepth: number;
}
/** The shapes of `glusterts bench`: 4 files, one job each; random IO 4 × 4 in flight. */
const WORKLOADS: Record<string, Workload> = {
  'rand-write': {
    name: 'rand write 4k qd16',
    rw: 'randwrite',
    bs: '4k',
    ioengine: 'gfapi_async',
    iodepth: 4,
  },
  'rand-read': { name: 'rand read 4k qd16', rw: 'randread', bs: '4k', ioengine: 'gfapi_async', iodepth: 4 },
  'seq-write': { name: 'seq write 128k qd4', rw: 'write', bs: '128k', ioengine: 'gfapi', iodepth: 1 },
  'seq-read': { name: 'seq read 128k qd4', rw: 'read', bs: '128k', ioengine: 'gfapi', iodepth: 1 },
};

interface Target {
  system: System;
  host: string;
  brickPid(): number;
  stop(): Promise<void>;
}

/** One measurement: what the window saw. */
export interface Sample {
  system: System;
  workload: string;
  iops: number;
  mibps: number;
  /** Brick and fio CPU (user+sys) per IO, microseconds. */
  brickUsPerIo: number;
  fioUsPerIo: number;
  /** The brick's read/write-type system calls and context switches per IO. */
  brickSyscallsPerIo: number;
  brickSwitchesPerIo: number;
  /** Brick CPU as a share of one core over the window. */
  brickCores: number;
  ios: number;
  windowMs: number;
}

const TICK_US = 1e6 / 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux.

/**
 * A process's counters: user+sys of every thread, living or exited (µs); its read- and
 * write-type system calls (/proc/PID/io syscr + syscw: read, recv, pread, write, send, writev,
 * pwrite …); and the context switches of its living threads. Syscalls and switches do not
 * depend on how fast the CPU runs, so they stay steady when the machine is busy.
 */
interface Counters {
  cpuUs: number;
  rwSyscalls: number;
  switches: number;
}

function counters(pid: number): Counters {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  let switches = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      switches += field(status, 'voluntary_ctxt_switches') + field(status, 'nonvoluntary_ctxt_switches');
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return {
    cpuUs: (Number(f[11]) + Number(f[12])) * TICK_US,
    rwSyscalls: field(io, 'syscr') + field(io, 'syscw'),
    switches,
  };
}

/** The brick process `glusterts up` (PID `upPid`) supervises. */
function glustertsBrickPid(upPid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== upPid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('--volfile')) return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  throw new Error(`no brick process under glusterts up (pid ${upPid})`);
}

interface Status {
  ios: number;
  bytes: number;
  fioMs: number;
  brick: Counters;
  fioUs: number;
}

/** Sums every job's read and write IO so far in one fio JSON status document. */
function progress(doc: string): { ios: number; bytes: number; ms: number } {
  const d = JSON.parse(doc) as {
    timestamp_ms: number;
    jobs: { read: { total_ios: number; io_bytes: number }; write: { total_ios: number; io_bytes: number } }[];
  };
  let ios = 0;
  let bytes = 0;
  for (const j of d.jobs) {
    ios += j.read.total_ios + j.write.total_ios;
    bytes += j.read.io_bytes + j.write.io_bytes;
  }
  return { ios, bytes, ms: d.timestamp_ms };
}

/** Runs fio on `target` until the window of `seconds` closes, then kills it. */
async function measure(target: Target, w: Workload, seconds: number): Promise<Sample> {
  const brickPid = target.brickPid();
  const args = [
    `--ioengine=${w.ioengine}`,
    `--rw=${w.rw}`,
    `--bs=${w.bs}`,
    `--iodepth=${w.iodepth}`,
    `--size=${values.size}`,
    '--direct=1',
    '--filename_format=bench.$jobnum',
    '--norandommap',
    '--randrepeat=0',
    '--time_based',
    `--runtime=${seconds + 30}`,
    // Threads, not forked jobs: one PID holds all of fio's CPU time.
    '--thread',
    '--output-format=json',
    '--status-interval=1',
    '--name=bench',
    `--numjobs=${FILES}`,
    `--volume=${VOLUME}`,
    `--brick=${target.host}`,
  ];
  const rate = Number(values['rate-iops']);
  if (rate > 0) args.push(`--rate_iops=${Math.ceil(rate / FILES)}`);
  const fio = spawn('fio', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const fioPid = fio.pid ?? 0;
  let stderr = '';
  fio.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const statuses: Status[] = [];
  let seen = 0;
  let text = '';
  const exited = new Promise<void>((resolve) => fio.once('close', () => resolve()));
  const windowDone = new Promise<{ first: Status; last: Status }>((resolve, reject) => {
    fio.once('close', (code) =>
      reject(new Error(`fio exited (${code}) before the window closed: ${stderr}`)),
    );
    fio.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      // Each status is a JSON document whose closing brace starts a line.
      for (let end = text.indexOf('\n}\n'); end >= 0; end = text.indexOf('\n}\n')) {
        const brick = counters(brickPid);
        const fioUs = counters(fioPid).cpuUs;
        const doc = text.slice(text.indexOf('{'), end + 2);
        text = text.slice(end + 3);
        const p = progress(doc);
        // The first second of IO warms the JIT and the connections up; the window starts after it.
        if (p.ios === 0 || ++seen < 2) continue;
        const s = { ios: p.ios, bytes: p.bytes, fioMs: p.ms, brick, fioUs };
        statuses.push(s);
        if (s.fioMs - statuses[0]!.fioMs >= seconds * 1000 - 100) resolve({ first: statuses[0]!, last: s });
      }
    });
  });
  try {
    const { first, last } = await windowDone;
    const ios = last.ios - first.ios;
    const ms = last.fioMs - first.fioMs;
    return {
      system: target.system,
      workload: w.name,
      iops: (ios * 1000) / ms,
      mibps: ((last.bytes - first.bytes) * 1000) / ms / 2 ** 20,
      brickUsPerIo: (last.brick.cpuUs - first.brick.cpuUs) / ios,
      fioUsPerIo: (last.fioUs - first.fioUs) / ios,
      brickSyscallsPerIo: (last.brick.rwSyscalls - first.brick.rwSyscalls) / ios,
      brickSwitchesPerIo: (last.brick.switches - first.brick.switches) / ios,
      brickCores: (last.brick.cpuUs - first.brick.cpuUs) / 1000 / ms,
      ios,
      windowMs: ms,
    };
  } finally {
    // SIGKILL: on SIGTERM fio would still sit in libgfapi's ~10 s glfs_fini.
    try {
      process.kill(fioPid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited;
    // Let the brick drop the connection and release the fds before the next run.
    await sleep(500);
  }
}

function baseDir(): string {
  if (!values.base) throw new Error('--systems base needs --base DIR (a build holding dist/ and build/)');
  return values.base;
}

async function startTarget(system: System, dir: string, profileDir: string | undefined): Promise<Target> {
  if (system === 'stock') {
    const g = await startStockGluster({ host: values['stock-host']!, volume: VOLUME, dir });
    return { system, host: g.host, brickPid: () => g.brickPid(0), stop: () => g.stop() };
  }
  const baseEnv: NodeJS.ProcessEnv | undefined =
    system === 'base'
      ? {
          ...process.env,
          ...Object.fromEntries((values['base-env'] ?? []).map((kv) => kv.split(/=(.*)/s).slice(0, 2))),
          GLUSTERTS_BRICK_PROGRAM: join(baseDir(), 'dist', 'src', 'brick', 'main.js'),
        }
      : undefined;
  const start = (env = baseEnv) =>
    startGlusterts({
      host: system === 'base' ? values['base-host']! : values['glusterts-host']!,
      volume: VOLUME,
      data: dir,
      args: ['--nbd-port', 'off'],
      ...(env ? { env } : {}),
    });
  let g = await start();
  if (profileDir && system === 'glusterts') {
    // Lay the files out unprofiled, then restart on the same data under the profiler.
    await layout(g.host);
    await g.stop();
    g = await start({
      ...process.env,
      GLUSTERTS_BRICK_PROGRAM: new URL('./profiled-brick.js', import.meta.url).pathname,
      GLUSTERTS_BRICK_PROFILE_DIR: profileDir,
    });
  }
  const up = g;
  return {
    system,
    host: up.host,
    brickPid: () => glustertsBrickPid(up.child.pid ?? 0),
    stop: () => up.stop(),
  };
}

/** Writes bench.0 … bench.3 through gfapi so reads read data. */
function layout(host: string): Promise<unknown> {
  return runFio({
    rw: 'write',
    bs: '1M',
    ioengine: 'gfapi',
    iodepth: 1,
    jobs: FILES,
    size: values.size!,
    runtime: 0,
    volume: VOLUME,
    host,
  });
}

function table(
  samples: readonly Sample[],
  systems: readonly System[],
  workloads: readonly Workload[],
): string {
  const med = (sys: System, wl: string, f: (s: Sample) => number) =>
    median(samples.filter((s) => s.system === sys && s.workload === wl).map(f));
  const cols = systems.flatMap((s) => [
    `${s} IOPS`,
    `${s} MiB/s`,
    `${s} brick µs/IO`,
    `${s} fio µs/IO`,
    `${s} brick syscalls/IO`,
    `${s} brick switches/IO`,
  ]);
  const ratios = (['stock', 'base'] as const).filter((s) => systems.includes(s));
  if (systems.includes('glusterts')) for (const s of ratios) cols.push(`brick µs/IO glusterts/${s}`);
  const lines = [`| workload | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`];
  for (const w of workloads) {
    const cells = systems.flatMap((s) => [
      med(s, w.name, (x) => x.iops).toFixed(0),
      med(s, w.name, (x) => x.mibps).toFixed(1),
      med(s, w.name, (x) => x.brickUsPerIo).toFixed(1),
      med(s, w.name, (x) => x.fioUsPerIo).toFixed(1),
      med(s, w.name, (x) => x.brickSyscallsPerIo).toFixed(2),
      med(s, w.name, (x) => x.brickSwitchesPerIo).toFixed(2),
    ]);
    if (systems.includes('glusterts')) {
      for (const s of ratios) {
        const r = med('glusterts', w.name, (x) => x.brickUsPerIo) / med(s, w.name, (x) => x.brickUsPerIo);
        cells.push(`${r.toFixed(2)}×`);
      }
    }
    lines.push(`| ${w.name} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const systems = values.systems!.split(',') as System[];
  const workloads = values.workloads!.split(',').map((n) => {
    const w = WORKLOADS[n];
    if (!w) throw new Error(`unknown workload ${n} (${Object.keys(WORKLOADS).join(', ')})`);
    return w;
  });
  const seconds = Number(values.seconds);
  const repeat = Number(values.repeat);
  const profileDir = values.profile;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // The bricks get O_DIRECT opens: tmpfs takes them since Linux 6.6 (--dir /dev/shm).
  const work = mkdtempSync(join(values.dir!, 'glusterts-brick-cpu-'));
  const targets: Target[] = [];
  const stopAll = async () => {
    for (const t of targets.splice(0)) await t.stop().catch((e: unknown) => console.error(e));
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const samples: Sample[] = [];
  try {
    for (const system of systems) {
      const dir = join(work, system);
      mkdirSync(dir, { recursive: true });
      const t = await startTarget(system, dir, profileDir);
      targets.push(t);
      if (!(profileDir && system === 'glusterts')) await layout(t.host);
    }
    for (let r = 0; r < repeat; r++) {
      for (const w of workloads) {
        // The order flips every repeat, so drift in the machine hits both systems.
        const order = r % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          const s = await measure(t, w, seconds);
          samples.push(s);
          console.error(
            `${s.system} ${s.workload}: ${s.iops.toFixed(0)} IOPS, ${s.mibps.toFixed(1)} MiB/s, ` +
              `brick ${s.brickUsPerIo.toFixed(1)} µs/IO (${(s.brickCores * 100).toFixed(0)}% of a core), ` +
              `fio ${s.fioUsPerIo.toFixed(1)} µs/IO; brick rw syscalls ${s.brickSyscallsPerIo.toFixed(2)}/IO, ` +
              `context switches ${s.brickSwitchesPerIo.toFixed(2)}/IO`,
          );
        }
      }
    }
  } finally {
    await stopAll();
  }
  console.log(table(samples, systems, workloads));
  if (values.json)
    writeFileSync(values.json, JSON.stringify({ seconds, repeat, size: values.size, samples }, null, 2));
  if (profileDir) console.log(`profiles: ${readdirSync(profileDir).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
