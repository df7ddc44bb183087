/**
 * `glusterts bench`: the seed's FIO matrix on this machine. Sets up Base, glusterts and
 * stock GlusterFS 10.3 (see env.ts), then for each repeat, workload and row measures the
 * row's systems in turn — the order flips every repeat so drift hits both — and prints the
 * seed-format tables with ratios to Base.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  setupEnv,
  shardVolumeOptions,
  STOCK_TRIMMED_OPTIONS,
  TRIMMED_VOLUME,
  VOLUME,
  type BenchEnv,
} from './env.js';
import { machineInfo, type MachineInfo } from './machine.js';
import {
  FILES,
  LATENCY_DEPTHS,
  PERCENTILES,
  QEMU_DEPTH,
  RANDOM_BS,
  RANDOM_DEPTH_PER_FILE,
  WORKLOADS,
  parseSize,
  type Sample,
  type SystemId,
  type WorkloadId,
} from './model.js';
import {
  buildTables,
  evaluateGoals,
  renderCpuTable,
  renderGoals,
  renderTables,
  type Goal,
  type Table,
} from './report.js';
import { ROWS, type Figures, type Row, type RowContext } from './rows.js';
import { GLUSTERD_PORT, glusterUri, killTracked, peerMissing } from '../peers/index.js';
import { renderSvg } from './svg.js';
import { GUEST_ROWS, layoutImage, prepareGuest, runGuest, type GuestDisk } from './guest.js';

export interface BenchOptions {
  bs: string;
  repeat: number;
  /** Size of each of the 4 files. */
  size: string;
  /** Seconds per fio run. */
  runtime: number;
  rows: string[];
  workloads: WorkloadId[];
  systems: Exclude<SystemId, 'local'>[];
  /** Parent of the scratch directory (must not be tmpfs: O_DIRECT). */
  dir: string;
  stockHost: string;
  glustertsHost: string;
  quick: boolean;
  keep: boolean;
  /** Shard the default volume of both systems with this block size (`--shard`). */
  shard?: string;
  /** Run the guest variant instead of the host matrix. */
  guest?: { accel: 'kvm' | 'tcg'; cache: string };
  log: (msg: string) => void;
}

export const QUICK: Pick<BenchOptions, 'repeat' | 'size' | 'runtime'> = {
  repeat: 1,
  size: '32M',
  runtime: 2,
};
export const FULL: Pick<BenchOptions, 'repeat' | 'size' | 'runtime'> = {
  repeat: 3,
  size: '256M',
  runtime: 10,
};

export interface BenchResult {
  version: 1;
  started: string;
  finished: string;
  durationS: number;
  options: {
    bs: string;
    repeat: number;
    size: string;
    runtime: number;
    rows: string[];
    workloads: string[];
    systems: string[];
    quick: boolean;
    files: number;
    queueDepth: { sequential: number; random: number; qemuImgBench: number; latency: number[] };
    percentiles: number[];
    randomBs: string;
    stockHost: string;
    glustertsHost: string;
    /** The default volume's shard block size, when sharded. */
    shard?: string;
  };
  machine: MachineInfo;
  loadavgAfter: number[];
  stockTrimmedOptions: Readonly<Record<string, string>>;
  volfiles: Record<string, string>;
  notes: string[];
  samples: Sample[];
  tables: Table[];
  goals: Goal[];
}

/** Checks the rows' peers; returns the rows that can run and notes for those that cannot. */
export function selectRows(ids: readonly string[]): { rows: Row[]; notes: string[] } {
  const notes: string[] = [];
  const rows: Row[] = [];
  for (const id of ids) {
    const row = ROWS.find((r) => r.id === id);
    if (!row) throw new Error(`unknown row ${id}; rows: ${ROWS.map((r) => r.id).join(', ')}`);
    const why = row.needs.map((n) => (n === 'stdbuf' ? '' : peerMissing(n))).find(Boolean);
    if (why) notes.push(`row ${id} left out: ${why}`);
    else rows.push(row);
  }
  return { rows, notes };
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  if (opts.guest) return runGuestBench(opts, opts.guest);
  const started = new Date();
  const { rows, notes } = selectRows(opts.rows);
  const workloads = WORKLOADS.filter((w) => opts.workloads.includes(w.id));
  const needSystems = new Set(rows.flatMap((r) => r.systems.filter((s) => s !== 'local')));
  const systems = opts.systems.filter((s) => needSystems.has(s));
  mkdirSync(opts.dir, { recursive: true });
  const work = mkdtempSync(join(opts.dir, 'glusterts-bench-'));
  const machine = machineInfo(work);
  const samples: Sample[] = [];
  const volumeOptions = opts.shard === undefined ? undefined : shardVolumeOptions(opts.shard);
  if (volumeOptions)
    notes.push(
      `volume ${VOLUME} of both systems sharded: ${Object.entries(volumeOptions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} (${TRIMMED_VOLUME} is not)`,
    );
  let env: BenchEnv | undefined;
  let aborted: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    aborted = `stopped by ${sig}`;
    killTracked();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    env = await setupEnv({
      work,
      systems,
      size: opts.size,
      needBase: true,
      needFuse: rows.some((r) => r.uses.fuse),
      needTrimmed: rows.some((r) => r.uses.trimmed),
      needNbd: rows.some((r) => r.uses.nbd),
      stockHost: opts.stockHost,
      glustertsHost: opts.glustertsHost,
      ...(volumeOptions ? { volumeOptions } : {}),
      log: opts.log,
    });
    const scratch = join(work, 'scratch');
    mkdirSync(scratch, { recursive: true });
    // Last rate per row/system/workload, and the guess for a first run: 0.4× Base.
    const lastRate = new Map<string, number>();
    const GUESS_TO_BASE = 0.4;
    const ctx: RowContext = {
      env,
      bs: opts.bs,
      bsBytes: parseSize(opts.bs),
      size: opts.size,
      sizeBytes: parseSize(opts.size),
      runtime: opts.runtime,
      scratch,
      expectKiBps: (row, system, w) => {
        const own = lastRate.get(`${row}/${system}/${w}`);
        const base = lastRate.get(`base/local/${w}`);
        return own ?? (base === undefined ? undefined : base * GUESS_TO_BASE);
      },
    };
    // Results of measurements whose tools are still closing; a failure is kept and
    // rethrown at the next drain, never left as an unhandled rejection.
    const pending: Promise<void>[] = [];
    const failures: unknown[] = [];
    const drain = async () => {
      await Promise.all(pending.splice(0));
      if (failures.length) throw failures[0];
    };
    for (let repeat = 0; repeat < opts.repeat; repeat++) {
      const order: SystemId[] =
        repeat % 2 === 0 ? ['local', 'stock', 'glusterts'] : ['local', 'glusterts', 'stock'];
      for (const w of workloads) {
        for (const row of rows) {
          if (!row.workloads.includes(w.id)) continue;
          // Latency runs: each depth on both systems in turn, so the pairs compared run close in time.
          for (const depth of w.kind === 'clat' ? LATENCY_DEPTHS : [undefined]) {
            for (const system of order) {
              if (!row.systems.includes(system) || (system !== 'local' && !systems.includes(system)))
                continue;
              if (aborted) throw new Error(aborted);
              const at = new Date().toISOString();
              opts.log(
                `repeat ${repeat + 1}/${opts.repeat} ${w.id} ${row.id} ${system}${depth ? ` depth ${depth}` : ''}`,
              );
              const record = (f: Figures) => {
                samples.push({
                  row: row.id,
                  system,
                  workload: w.id,
                  repeat,
                  at,
                  ...(depth ? { depth } : {}),
                  ...f,
                });
                if (f.aggregateKiBps !== undefined && w.kind === 'bw')
                  lastRate.set(`${row.id}/${system}/${w.id}`, f.aggregateKiBps);
              };
              // Latency is wall time: nothing else may run. Base sizes qemu-img bench runs.
              if (w.kind === 'latency' || row.id === 'base') await drain();
              const m = row.measure(ctx, w, system, depth);
              if (w.kind === 'latency' || row.id === 'base') record(await m.result);
              else {
                await m.ioDone;
                pending.push(m.result.then(record, (e: unknown) => void failures.push(e)));
              }
            }
          }
        }
        await drain();
      }
    }
    await drain();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    killTracked();
    await env?.stop();
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
    else notes.push(`scratch kept in ${work}`);
  }
  const tables = buildTables(samples, rows, opts.bs);
  const finished = new Date();
  return resultRecord({
    started,
    finished,
    opts,
    rows: rows.map((r) => r.id),
    workloads: workloads.map((w) => w.id),
    systems,
    machine,
    env,
    notes,
    samples,
    tables,
  });
}

export function describeRun(r: BenchResult): string {
  const m = r.machine;
  return (
    `${m.cpuModel}, ${m.cores} cores, kernel ${m.kernel}, Node ${m.node}, ${m.fio}, ${m.qemu.replace(/ Copyright.*/, '')}, ${m.glusterfs}; ` +
    `bricks and Base on ${m.filesystem}; ${r.options.repeat} repeat(s), ${r.options.runtime} s per fio run, ${FILES} files × ${r.options.size}; ` +
    `load ${m.loadavg.join(' ')} before, ${r.loadavgAfter.join(' ')} after; ${r.durationS} s in all`
  );
}

export function renderReport(r: BenchResult): string {
  const out = [`glusterts bench — ${describeRun(r)}`, ''];
  out.push(renderTables(r.tables));
  out.push(renderCpuTable(r.tables));
  out.push(renderGoals(r.goals));
  if (r.notes.length) out.push(...r.notes.map((n) => `note: ${n}`), '');
  return out.join('\n');
}

export function writeOutputs(r: BenchResult, json?: string, svg?: string): void {
  if (json) writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  if (svg) writeFileSync(svg, renderSvg(r.tables, describeRun(r)));
}

/**
 * The guest variant: one VM per repeat with a virtio disk (cache=none) per row and system,
 * fio seq read and write on each inside the guest (4 jobs on 4 regions of the disk).
 */
async function runGuestBench(
  opts: BenchOptions,
  guest: { accel: 'kvm' | 'tcg'; cache: string },
): Promise<BenchResult> {
  const started = new Date();
  const notes: string[] = [
    `guest: ${guest.accel.toUpperCase()}, 2 vCPUs, 1 GiB, Debian kernel, busybox + fio initramfs`,
  ];
  const image = prepareGuest(guest.cache, opts.log);
  mkdirSync(opts.dir, { recursive: true });
  const work = mkdtempSync(join(opts.dir, 'glusterts-bench-'));
  const machine = machineInfo(work);
  const samples: Sample[] = [];
  const bytes = parseSize(opts.size) * FILES;
  let env: BenchEnv | undefined;
  try {
    env = await setupEnv({
      work,
      systems: opts.systems,
      size: '1M',
      needBase: true,
      needFuse: true,
      needTrimmed: false,
      needNbd: true,
      stockHost: opts.stockHost,
      glustertsHost: opts.glustertsHost,
      log: opts.log,
    });
    const disks: (GuestDisk & { row: string; system: SystemId })[] = [];
    await layoutImage(env.baseDir, 'guest.img', bytes);
    disks.push({ label: 'base', file: join(env.baseDir, 'guest.img'), row: 'base', system: 'local' });
    for (const system of opts.systems) {
      const t = env.targets[system]!;
      opts.log(`laying out ${system}'s guest.img`);
      await layoutImage(t.mount, 'guest.img', bytes);
      disks.push({ label: `fuse-${system}`, file: join(t.mount, 'guest.img'), row: 'guest-fuse', system });
      disks.push({
        label: `native-${system}`,
        file: glusterUri({ host: t.host, port: GLUSTERD_PORT, volume: t.volume }, 'guest.img'),
        row: 'guest-native',
        system,
      });
      disks.push({
        label: `nbd-${system}`,
        file: `${t.nbd}/${t.volume}/guest.img`,
        row: 'guest-nbd',
        system,
      });
    }
    for (let repeat = 0; repeat < opts.repeat; repeat++) {
      opts.log(`repeat ${repeat + 1}/${opts.repeat}: booting the guest with ${disks.length} disks`);
      const at = new Date().toISOString();
      const run = await runGuest(image, disks, {
        bs: opts.bs,
        size: opts.size,
        runtime: opts.runtime,
        accel: guest.accel,
      });
      notes.push(`guest run ${repeat + 1}: ${Math.round(run.wallMs / 1000)} s from boot to power-off`);
      for (const d of disks) {
        for (const rw of ['read', 'write'] as const) {
          const r = run.results.get(d.label)?.get(rw);
          if (!r) {
            notes.push(`no ${rw} result for disk ${d.label}`);
            continue;
          }
          samples.push({
            row: d.row,
            system: d.system,
            workload: rw === 'read' ? 'seq-read' : 'seq-write',
            repeat,
            at,
            tool: `fio in the guest: psync ${rw} bs=${opts.bs} numjobs=${FILES} direct=1 on /dev/vdX`,
            aggregateKiBps: r.aggregateKiBps,
            perFileKiBps: r.perJobKiBps,
            iops: r.iops,
          });
        }
      }
    }
  } finally {
    killTracked();
    await env?.stop();
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  }
  const tables = buildTables(samples, GUEST_ROWS, opts.bs);
  for (const t of tables) t.title = `${t.title}, fio inside the guest (virtio, cache=none)`;
  const finished = new Date();
  return resultRecord({
    started,
    finished,
    opts,
    rows: GUEST_ROWS.map((r) => r.id),
    workloads: ['seq-read', 'seq-write'],
    systems: opts.systems,
    machine,
    env,
    notes,
    samples,
    tables,
  });
}

/** The JSON record of a run, host or guest: what was asked, where it ran, what came out. */
function resultRecord(r: {
  started: Date;
  finished: Date;
  opts: BenchOptions;
  rows: string[];
  workloads: string[];
  systems: BenchResult['options']['systems'];
  machine: BenchResult['machine'];
  env: { volfiles?: BenchResult['volfiles'] } | undefined;
  notes: string[];
  samples: BenchResult['samples'];
  tables: BenchResult['tables'];
}): BenchResult {
  const { opts } = r;
  return {
    version: 1,
    started: r.started.toISOString(),
    finished: r.finished.toISOString(),
    durationS: Math.round((r.finished.getTime() - r.started.getTime()) / 1000),
    options: {
      bs: opts.bs,
      repeat: opts.repeat,
      size: opts.size,
      runtime: opts.runtime,
      rows: r.rows,
      workloads: r.workloads,
      systems: r.systems,
      quick: opts.quick,
      files: FILES,
      queueDepth: {
        sequential: 1,
        random: RANDOM_DEPTH_PER_FILE,
        qemuImgBench: QEMU_DEPTH,
        latency: [...LATENCY_DEPTHS],
      },
      percentiles: [...PERCENTILES],
      randomBs: RANDOM_BS,
      stockHost: opts.stockHost,
      glustertsHost: opts.glustertsHost,
      ...(opts.shard === undefined ? {} : { shard: opts.shard }),
    },
    machine: r.machine,
    loadavgAfter: machineInfo(opts.dir).loadavg,
    stockTrimmedOptions: STOCK_TRIMMED_OPTIONS,
    volfiles: r.env?.volfiles ?? {},
    notes: r.notes,
    samples: r.samples,
    tables: r.tables,
    goals: evaluateGoals(r.tables),
  };
}
