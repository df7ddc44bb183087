/**
 * The rows of the seed's tables, as a list: each row says which systems and workloads it
 * applies to and how to measure one (row, workload, system). New rows (the glusterts
 * TypeScript client, the NBD export) are added by appending to ROWS.
 */
import { join } from 'node:path';
import {
  GLUSTERD_PORT,
  glusterUri,
  parseQemuBench,
  qemuBenchArgs,
  qemuBenchDone,
  etaRunning,
  startFio,
  track,
  type FioSpec,
} from '../peers/index.js';
import { DATA_PATH_NODE_FLAGS } from '../mgmt/node-flags.js';
import { IO_DONE, IO_START, type ClientLoad, type ClientLoadResult } from './client-load.js';
import { CpuWindow, NO_SERVER, windowFigures, type CpuSources } from './cpu.js';
import type { BenchEnv, Target } from './env.js';
import {
  FILES,
  PERCENTILES,
  QEMU_DEPTH,
  RANDOM_BS,
  RANDOM_DEPTH_PER_FILE,
  WORKLOADS,
  latencyShape,
  parseSize,
  type Sample,
  type SystemId,
  type Workload,
  type WorkloadId,
} from './model.js';

export interface RowContext {
  env: BenchEnv;
  bs: string;
  bsBytes: number;
  size: string;
  sizeBytes: number;
  runtime: number;
  /** Where tools may write result files. */
  scratch: string;
  /**
   * The rate a (row, system) is expected to reach on a workload, KiB/s: its own last
   * measurement in this run, else a guess from Base. Sizes qemu-img bench's count-based
   * runs so they last about `runtime` seconds.
   */
  expectKiBps(row: string, system: SystemId, w: WorkloadId): number | undefined;
}

export type Figures = Omit<Sample, 'row' | 'system' | 'workload' | 'repeat' | 'at'>;

export interface Measurement {
  /** Resolves when the tool's IO is over (it may still be closing, e.g. in glfs_fini). */
  ioDone: Promise<number>;
  /** Resolves when the tool has exited, with the figures. */
  result: Promise<Figures>;
}

export interface Row {
  id: string;
  /** The seed's row name (systems are appended in the tables). */
  label: string;
  systems: readonly SystemId[];
  workloads: readonly WorkloadId[];
  /** Peers (see peerMissing) the row needs. */
  needs: readonly string[];
  /** Which environment parts it needs. */
  uses: { base?: boolean; fuse?: boolean; trimmed?: boolean; nbd?: boolean };
  /** `depth`: requests in flight in all, for the latency (clat) workloads. */
  measure(ctx: RowContext, w: Workload, system: SystemId, depth?: number): Measurement;
}

const BW: WorkloadId[] = ['seq-read', 'seq-write', 'rand-read', 'rand-write'];
const QEMU: WorkloadId[] = ['seq-read', 'seq-write', 'open-close'];
const LAT: WorkloadId[] = ['lat-rand-read', 'lat-rand-write'];

function fioSpec(
  ctx: RowContext,
  w: Workload,
  engine: 'file' | 'gfapi',
  depth?: number,
): Omit<FioSpec, 'directory'> {
  const rw = (w.random ? 'rand' : '') + w.direction;
  const ioengine = engine === 'file' ? (w.random ? 'libaio' : 'psync') : w.random ? 'gfapi_async' : 'gfapi';
  const spec: Omit<FioSpec, 'directory'> = {
    rw: rw as FioSpec['rw'],
    bs: w.random ? RANDOM_BS : ctx.bs,
    ioengine,
    iodepth: w.random ? RANDOM_DEPTH_PER_FILE : 1,
    jobs: FILES,
    size: ctx.size,
    runtime: ctx.runtime,
  };
  if (w.kind !== 'clat') return spec;
  const shape = latencyShape(depth ?? 1);
  return { ...spec, jobs: shape.jobs, iodepth: shape.perJob, percentiles: PERCENTILES };
}

function fioMeasure(ctx: RowContext, spec: FioSpec, cpu: CpuSources): Measurement {
  let window: CpuWindow | undefined;
  const run = startFio(spec, {
    scratch: ctx.scratch,
    onEta: (lines) => {
      if (!etaRunning(lines.filter(Boolean).at(-1) ?? '')) return;
      window ??= new CpuWindow(run.pid, cpu);
      window.mark();
    },
  });
  const result = run.result.then((r) => {
    const cpu = window && windowFigures(window, spec.runtime, r.iops, r.aggregateKiBps);
    return {
      tool: `fio ${spec.ioengine} ${spec.rw} bs=${spec.bs} iodepth=${spec.iodepth} numjobs=${spec.jobs}${spec.percentiles ? ' group_reporting' : ''}`,
      aggregateKiBps: r.aggregateKiBps,
      perFileKiBps: r.perJobKiBps,
      iops: r.iops,
      ...(spec.percentiles ? { clatUs: r.clatUs } : {}),
      ...(cpu ? { cpu } : {}),
    };
  });
  return { ioDone: run.ioDone, result };
}

const CLIENT_LOAD = new URL('./client-load.js', import.meta.url).pathname;

/** The TypeScript client library in a process of its own, on fio's job shape. */
function clientMeasure(ctx: RowContext, w: Workload, t: Target, depth?: number): Measurement {
  const shape = w.kind === 'clat' ? latencyShape(depth ?? 1) : undefined;
  const load: ClientLoad = {
    host: t.host,
    volume: t.volume,
    write: w.direction === 'write',
    random: w.random,
    bs: w.random ? parseSize(RANDOM_BS) : ctx.bsBytes,
    files: shape?.jobs ?? FILES,
    depth: shape?.perJob ?? (w.random ? RANDOM_DEPTH_PER_FILE : 1),
    runtime: ctx.runtime,
    size: ctx.sizeBytes,
    ...(shape ? { percentiles: PERCENTILES } : {}),
  };
  let window: CpuWindow | undefined;
  const run = track(process.execPath, [...DATA_PATH_NODE_FLAGS, CLIENT_LOAD, JSON.stringify(load)], {
    done: (stdout) => {
      // Two marks: when the IO starts (connected, files open) and when it is over.
      const over = stdout.includes(IO_DONE);
      if (!window && stdout.includes(IO_START)) (window = new CpuWindow(run.pid, sources(t))).mark();
      if (over) window?.mark();
      return over;
    },
  });
  const result = run.exit.then((e) => {
    const r = JSON.parse(e.stdout.trim().split('\n').at(-1) ?? '') as ClientLoadResult;
    const perFileKiBps = r.perFileBytes.map((b) => b / 1024 / r.seconds);
    const aggregateKiBps = perFileKiBps.reduce((a, b) => a + b, 0);
    const iops = r.ops / r.seconds;
    const cpu = window && windowFigures(window, load.runtime, iops, aggregateKiBps);
    return {
      tool: `glusterts client library: ${w.random ? 'random' : 'sequential'} ${w.direction} bs=${load.bs} depth=${load.depth} files=${load.files} O_DIRECT`,
      aggregateKiBps,
      perFileKiBps,
      iops,
      ...(r.clatUs ? { clatUs: r.clatUs } : {}),
      ...(cpu ? { cpu } : {}),
    };
  });
  return { ioDone: run.ioDone, result };
}

/** qemu-img bench over one image: sequential only (qemu-img bench has no random mode). */
function qemuMeasure(
  ctx: RowContext,
  w: Workload,
  image: string,
  row: string,
  system: SystemId,
): Measurement {
  if (w.id === 'open-close') {
    // qemu-io, not qemu-img info: info prints only after it closed the image, so it cannot
    // tell open from close. stdbuf: stdout is a pipe; line buffering shows when the read ended.
    const t = track('stdbuf', ['-oL', 'qemu-io', '-f', 'raw', '-t', 'none', '-c', 'read 0 4k', image], {
      done: (s) => s.includes('bytes at offset'),
    });
    return {
      ioDone: t.ioDone,
      result: t.exit.then((e) => ({
        tool: "qemu-io -f raw -t none -c 'read 0 4k'",
        openMs: e.doneMs,
        wallMs: e.wallMs,
      })),
    };
  }
  // Size the run like fio's (`runtime` seconds at the expected rate), at least one pass.
  const rate = ctx.expectKiBps(row, system, w.id);
  const pass = Math.max(1, Math.floor(ctx.sizeBytes / ctx.bsBytes));
  const count = Math.max(pass, rate ? Math.round((rate * 1024 * ctx.runtime) / ctx.bsBytes) : 0);
  const args = qemuBenchArgs({
    image,
    write: w.direction === 'write',
    bytes: ctx.bsBytes,
    depth: QEMU_DEPTH,
    count,
  });
  const t = track('stdbuf', ['-oL', 'qemu-img', ...args], { done: qemuBenchDone });
  return {
    ioDone: t.ioDone,
    result: t.exit.then((e) => {
      const r = parseQemuBench(e.stdout);
      return {
        tool: `qemu-img bench -t none -d ${QEMU_DEPTH} -s ${ctx.bsBytes} -c ${count}${w.direction === 'write' ? ' -w' : ''}`,
        aggregateKiBps: r.kibps,
        perFileKiBps: [r.kibps],
        iops: r.iops,
      };
    }),
  };
}

/**
 * Where a row's CPU comes from besides the tool: the system's server processes, and the
 * NBD export or FUSE client the tool goes through (`via`).
 */
function sources(t: Target | undefined, via?: 'nbd' | 'fuse'): CpuSources {
  if (!t) return NO_SERVER;
  return {
    client: () => (via === 'nbd' ? [t.nbdPid] : via === 'fuse' ? [t.fusePid()] : []).filter((p) => p > 0),
    server: () => t.serverPids(),
  };
}

function target(ctx: RowContext, system: SystemId): Target {
  const t = system === 'local' ? undefined : ctx.env.targets[system];
  if (!t) throw new Error(`no ${system} target`);
  return t;
}

/** bench.0 of `volume` on the target's management port (24007: fio and QEMU know no other). */
const imageUri = (t: Target, volume: string) =>
  glusterUri({ host: t.host, port: GLUSTERD_PORT, volume }, 'bench.0');

export const ROWS: readonly Row[] = [
  {
    id: 'base',
    label: 'Base',
    systems: ['local'],
    workloads: [...BW, 'open-close', ...LAT],
    needs: ['fio', 'qemu-img', 'qemu-io', 'stdbuf'],
    uses: { base: true },
    measure: (ctx, w, _system, depth) =>
      w.kind === 'latency'
        ? qemuMeasure(ctx, w, join(ctx.env.baseDir, 'bench.0'), 'base', 'local')
        : fioMeasure(ctx, { ...fioSpec(ctx, w, 'file', depth), directory: ctx.env.baseDir }, NO_SERVER),
  },
  {
    id: 'fuse',
    label: 'FUSE mount',
    systems: ['glusterts', 'stock'],
    workloads: [...BW, 'open-close', ...LAT],
    needs: ['fio', 'qemu-img', 'qemu-io', 'stdbuf', 'stock-gluster'],
    uses: { fuse: true },
    measure: (ctx, w, system, depth) => {
      const t = target(ctx, system);
      return w.kind === 'latency'
        ? qemuMeasure(ctx, w, join(t.mount, 'bench.0'), 'fuse', system)
        : fioMeasure(ctx, { ...fioSpec(ctx, w, 'file', depth), directory: t.mount }, sources(t, 'fuse'));
    },
  },
  {
    id: 'native-gfapi',
    label: 'QEMU-GlusterFS native integration: fio gfapi',
    systems: ['glusterts', 'stock'],
    workloads: [...BW, ...LAT],
    needs: ['fio', 'stock-gluster'],
    uses: {},
    measure: (ctx, w, system, depth) => {
      const t = target(ctx, system);
      return fioMeasure(
        ctx,
        { ...fioSpec(ctx, w, 'gfapi', depth), volume: t.volume, host: t.host },
        sources(t),
      );
    },
  },
  {
    id: 'native-qemu',
    label: 'QEMU-GlusterFS native integration: QEMU block layer',
    systems: ['glusterts', 'stock'],
    workloads: QEMU,
    needs: ['qemu-gluster', 'stdbuf', 'stock-gluster'],
    uses: {},
    measure: (ctx, w, system) => {
      const t = target(ctx, system);
      return qemuMeasure(ctx, w, imageUri(t, t.volume), 'native-qemu', system);
    },
  },
  {
    id: 'trimmed-gfapi',
    label: 'native with trimmed client side xlators: fio gfapi',
    systems: ['glusterts', 'stock'],
    workloads: [...BW, ...LAT],
    needs: ['fio', 'stock-gluster'],
    uses: { trimmed: true },
    measure: (ctx, w, system, depth) => {
      const t = target(ctx, system);
      return fioMeasure(
        ctx,
        { ...fioSpec(ctx, w, 'gfapi', depth), volume: t.trimmedVolume, host: t.host },
        sources(t),
      );
    },
  },
  {
    id: 'trimmed-qemu',
    label: 'native with trimmed client side xlators: QEMU block layer',
    systems: ['glusterts', 'stock'],
    workloads: QEMU,
    needs: ['qemu-gluster', 'stdbuf', 'stock-gluster'],
    uses: { trimmed: true },
    measure: (ctx, w, system) => {
      const t = target(ctx, system);
      return qemuMeasure(ctx, w, imageUri(t, t.trimmedVolume), 'trimmed-qemu', system);
    },
  },
  {
    id: 'nbd-fio',
    label: 'NBD export (glusterts client library): fio nbd',
    systems: ['glusterts', 'stock'],
    workloads: [...BW, ...LAT],
    needs: ['fio', 'stock-gluster'],
    uses: { nbd: true },
    measure: (ctx, w, system, depth) => {
      const t = target(ctx, system);
      const spec = fioSpec(ctx, w, 'gfapi', depth);
      const nbdUris = Array.from({ length: spec.jobs }, (_, i) => `${t.nbd}/${t.volume}/bench.${i}`);
      return fioMeasure(ctx, { ...spec, ioengine: 'nbd', nbdUris }, sources(t, 'nbd'));
    },
  },
  {
    id: 'nbd-qemu',
    label: 'NBD export (glusterts client library): QEMU block layer',
    systems: ['glusterts', 'stock'],
    workloads: QEMU,
    needs: ['qemu-img', 'qemu-io', 'stdbuf', 'stock-gluster'],
    uses: { nbd: true },
    measure: (ctx, w, system) => {
      const t = target(ctx, system);
      return qemuMeasure(ctx, w, `${t.nbd}/${t.volume}/bench.0`, 'nbd-qemu', system);
    },
  },
  {
    id: 'client',
    label: 'glusterts TypeScript client library',
    systems: ['glusterts', 'stock'],
    workloads: [...BW, ...LAT],
    needs: ['stock-gluster'],
    uses: {},
    measure: (ctx, w, system, depth) => clientMeasure(ctx, w, target(ctx, system), depth),
  },
];

export const ROW_IDS: readonly string[] = ROWS.map((r) => r.id);
export { WORKLOADS };
