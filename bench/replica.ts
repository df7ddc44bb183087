/**
 * Replica 3 benchmarks: glusterts against stock GlusterFS 10.3, side by side in one run.
 *
 *   gfapi   fio's gfapi engines (stock libgfapi, its client-side AFR) on a replica 3 volume of
 *           three glusterts bricks (`glusterts daemon`) and of three stock glusterfsd bricks
 *           (a private stock glusterd): seq read/write 128k × 4 jobs, rand read/write 4k
 *           4 jobs × iodepth 4.
 *   nbd     the same workloads with fio's nbd engine: the glusterts NBD export (the TypeScript
 *           client's cluster/replicate) on the glusterts volume against qemu-nbd with a
 *           gluster:// image (QEMU's gluster driver, stock libgfapi's AFR) on the stock volume.
 *           One image per side; the 4 jobs work on 4 regions of it (offset_increment).
 *   faults  the longest guest-visible IO (fio's max latency) while fio writes 4k at random with
 *           verify=crc32c through the whole fault, through the same two NBD paths: SIGKILL of
 *           one brick (glusterts' daemon restarts it after 1 s; on stock, `volume start NAME
 *           force` 1 s after the kill, the same outage), and SIGSTOP of one brick for
 *           ping-timeout + 3 s, then SIGCONT. network.ping-timeout is the same on both. After
 *           each fault the run waits until `volume heal NAME info` shows 0 entries on every brick.
 *
 * Systems alternate (the order flips every repeat); figures are medians over repeats. Every
 * process is stopped by PID at the end, also on SIGINT/SIGTERM and when --timeout passes. Needs
 * root; run it in a network namespace of its own:
 *
 *   /work/tools/nsrun rbench node dist/bench/replica.js --quick
 *   node dist/bench/replica.js [--repeat 3] [--runtime 8] [--size 256M] [--parts gfapi,nbd,faults]
 *        [--workloads seq-read,seq-write,rand-read,rand-write] [--fault-repeat 2] [--json FILE]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from '../src/bench/machine.js';
import {
  alive,
  comparisonTable,
  formatSummary,
  median,
  fioArgs,
  glusterUri,
  killTracked,
  parseFioJson,
  parseVolumeStatusXml,
  peerMissing,
  run,
  sleep,
  startGlustertsDaemon,
  startGlustertsNbd,
  startQemuNbd,
  startStockGluster,
  track,
  waitFor,
  type FioSpec,
  type RunningDaemon,
  type RunningNbd,
  type Service,
  type StockGluster,
} from '../src/peers/index.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeat: { type: 'string' },
    'fault-repeat': { type: 'string' },
    runtime: { type: 'string' },
    size: { type: 'string' },
    parts: { type: 'string', default: 'gfapi,nbd,faults' },
    workloads: { type: 'string', default: 'seq-read,seq-write,rand-read,rand-write' },
    'ping-timeout': { type: 'string', default: '4' },
    'glusterts-host': { type: 'string', default: '127.0.0.71' },
    'stock-host': { type: 'string', default: '127.0.0.72' },
    dir: { type: 'string', default: '/var/tmp' },
    json: { type: 'string' },
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const QUICK = values.quick!;
const REPEAT = Number(values.repeat ?? (QUICK ? 1 : 3));
const FAULT_REPEAT = Number(values['fault-repeat'] ?? (QUICK ? 1 : 2));
const RUNTIME = Number(values.runtime ?? (QUICK ? 3 : 8));
/** Per job: each of the 4 gfapi files, each of the 4 regions of an NBD image. */
const SIZE = values.size ?? (QUICK ? '32M' : '256M');
const PARTS = values.parts!.split(',');
const PING_TIMEOUT_S = Number(values['ping-timeout']);
const G_HOST = values['glusterts-host']!;
const S_HOST = values['stock-host']!;
const VOL = 'rv';
const QEMU_NBD_PORT = 10810;
const JOBS = 4;
/** Kills (stock: `volume start force`) and SIGSTOPs hit these bricks, as in replica-faults. */
const KILLED_BRICK = 1;
const STOPPED_BRICK = 0;
/** glusterts' supervisor restarts a dead brick after 1 s; stock's brick returns as long after. */
const OUTAGE_AFTER_KILL_MS = 1000;

type System = 'glusterts' | 'stock';
interface Workload {
  name: string;
  label: string;
  rw: FioSpec['rw'];
  bs: string;
  iodepth: number;
  unit: 'MiB/s' | 'IOPS';
}
const WORKLOADS: Workload[] = [
  { name: 'seq-read', label: 'seq read 128k × 4 jobs', rw: 'read', bs: '128k', iodepth: 1, unit: 'MiB/s' },
  { name: 'seq-write', label: 'seq write 128k × 4 jobs', rw: 'write', bs: '128k', iodepth: 1, unit: 'MiB/s' },
  {
    name: 'rand-read',
    label: 'rand read 4k, 4 jobs × qd4',
    rw: 'randread',
    bs: '4k',
    iodepth: 4,
    unit: 'IOPS',
  },
  {
    name: 'rand-write',
    label: 'rand write 4k, 4 jobs × qd4',
    rw: 'randwrite',
    bs: '4k',
    iodepth: 4,
    unit: 'IOPS',
  },
].filter((w) => values.workloads!.split(',').includes(w.name)) as Workload[];

interface Sample {
  part: string;
  case: string;
  system: System;
  repeat: number;
  value: number;
  unit: string;
  loadavg: number;
  extra?: Record<string, number>;
}
const samples: Sample[] = [];
/** Fault runs that failed or hung (fio killed at its bound). */
const failures: string[] = [];
const loads: { at: string; loadavg: number[] }[] = [];
const noteLoad = (at: string) => loads.push({ at, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) });
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ---------------------------------------------------------------------------------------
// fio

let fioRuns = 0;
interface FioJobJson {
  jobname?: string;
  error?: number;
  /** With continue_on_error: errors fio went on after (here: blocks that failed verify). */
  total_err?: number;
  read: { io_bytes?: number; lat_ns?: { max?: number }; clat_ns?: { max?: number } };
  write: { io_bytes?: number; lat_ns?: { max?: number }; clat_ns?: { max?: number } };
}

/**
 * Starts fio with `args` (its JSON to a scratch file), tracked and bounded to `boundS`;
 * `ioDone` resolves when every job is past its IO (stock libgfapi then spends ~10 s in
 * glfs_fini: the next measurement need not wait for it), `json` with fio's report at exit
 * (with `tolerateExit`, also when fio exited non-zero but wrote one).
 */
function startFio(scratch: string, args: (out: string) => string[], boundS: number, tolerateExit = false) {
  const out = join(scratch, `fio-${fioRuns++}.json`);
  // nbd jobs as threads: a SIGKILL at the bound then ends all of fio (a forked job stuck on an
  // IO would outlive its parent and hold the output pipe open). Not gfapi: several libgfapi
  // instances in one process crash in glfs_init.
  const argv = args(out);
  const threads = argv.includes('--ioengine=nbd') ? ['--thread'] : [];
  const t = track('fio', [...argv, ...threads, '--eta=always', '--eta-newline=1', '--eta-interval=250ms'], {
    cwd: scratch,
    timeoutMs: boundS * 1000,
    done: (stdout) =>
      stdout
        .slice(-600)
        .split(/[\r\n]+/)
        .slice(-3)
        .some((l) => /^Jobs: \d+ \(f=\d+\): \[[fE_(),\d]+\]/.test(l.trim())),
  });
  // fio's report, also when it exits non-zero (a fault run counts verify errors and goes on).
  const json = t.exit.then(
    async () => {
      const text = await readFile(out, 'utf8');
      await rm(out, { force: true });
      return text;
    },
    async (e: unknown) => {
      const text = await readFile(out, 'utf8').catch(() => '');
      await rm(out, { force: true });
      if (!tolerateExit || !text.includes('{')) throw e;
      return text;
    },
  );
  json.catch(() => undefined);
  return { ioDone: t.ioDone, json };
}

/** fio's nbd engine: JOBS jobs on `uri`, job i on region i (`size` bytes at i × size). */
function nbdArgs(uri: string, w: Pick<Workload, 'rw' | 'bs' | 'iodepth'>, runtime: number) {
  return (out: string) => [
    '--name=nbd',
    '--ioengine=nbd',
    `--uri=${uri}`,
    `--numjobs=${JOBS}`,
    `--size=${SIZE}`,
    `--offset_increment=${SIZE}`,
    `--rw=${w.rw}`,
    `--bs=${w.bs}`,
    `--iodepth=${w.iodepth}`,
    '--direct=1',
    '--norandommap',
    '--randrepeat=0',
    ...(runtime > 0 ? ['--time_based', `--runtime=${runtime}`] : []),
    '--output-format=json',
    `--output=${out}`,
  ];
}

const figure = (w: Workload, text: string) => {
  const r = parseFioJson(text, w.rw.endsWith('read') ? 'read' : 'write');
  return w.unit === 'IOPS' ? r.iops : r.aggregateKiBps / 1024;
};

// ---------------------------------------------------------------------------------------
// The two systems

interface Systems {
  daemon: RunningDaemon;
  stock: StockGluster;
  gBricks: string[];
}

/** PID of brick i now (it changes when a brick is restarted). */
async function brickPid(sys: Systems, system: System, i: number): Promise<number> {
  if (system === 'glusterts') {
    const name = sys.gBricks[i]!.replace(/^\/+/, '').replace(/\//g, '-') + '.pid';
    return Number(readFileSync(join(sys.daemon.data, 'logs', 'bricks', name), 'utf8').trim()) || 0;
  }
  const nodes = parseVolumeStatusXml(await sys.stock.cli('volume', 'status', VOL, '--xml'));
  return nodes.find((n) => n.path === sys.stock.brickPaths[i])?.pid ?? 0;
}

/**
 * Waits until `volume heal VOL info` lists three connected bricks with 0 entries; ms waited,
 * NaN when that did not happen within `boundMs` (then the next case starts anyway).
 */
async function healed(sys: Systems, system: System, boundMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const info =
      system === 'glusterts'
        ? await sys.daemon
            .volume('heal', VOL, 'info', '--server', `${G_HOST}:${sys.daemon.port}`)
            .catch((e: Error) => e.message)
        : await sys.stock.cli('volume', 'heal', VOL, 'info').catch((e: Error) => e.message);
    const counts = [...info.matchAll(/Number of entries: (\S+)/g)].map((m) => m[1]);
    const connected = [...info.matchAll(/Status: Connected/g)].length;
    if (counts.length === 3 && connected === 3 && counts.every((c) => c === '0')) return Date.now() - t0;
    if (Date.now() - t0 > boundMs) {
      log(`${system}: heal not done after ${boundMs} ms:\n${info}`);
      return Number.NaN;
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------------------------------
// Parts

const orderOf = (i: number): System[] => (i % 2 === 0 ? ['stock', 'glusterts'] : ['glusterts', 'stock']);

/** Runs every workload REPEAT times on both systems, alternating; fills `samples`. */
async function throughput(
  part: 'gfapi' | 'nbd',
  scratch: string,
  argsFor: (system: System, w: Workload) => (out: string) => string[],
): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < REPEAT; i++) {
    for (const w of WORKLOADS) {
      for (const system of orderOf(i)) {
        log(`${part} ${w.name} ${system} (repeat ${i + 1}/${REPEAT})`);
        const load = loadavg()[0]!;
        const f = startFio(scratch, argsFor(system, w), RUNTIME + 120);
        await f.ioDone;
        // Collected later (stock's glfs_fini); a failure surfaces at Promise.all below.
        const measured = f.json.then((text) => {
          log(`  ${part} ${w.name} ${system}: ${figure(w, text).toFixed(1)} ${w.unit}`);
          samples.push({
            part,
            case: w.name,
            system,
            repeat: i,
            value: figure(w, text),
            unit: w.unit,
            loadavg: load,
          });
        });
        measured.catch(() => undefined);
        pending.push(measured);
      }
    }
  }
  await Promise.all(pending);
}

async function gfapiPart(sys: Systems, scratch: string): Promise<void> {
  const host = (s: System) => (s === 'glusterts' ? G_HOST : S_HOST);
  const spec = (s: System, w: Pick<Workload, 'rw' | 'bs' | 'iodepth'>, runtime: number): FioSpec => ({
    rw: w.rw,
    bs: w.bs,
    ioengine: w.iodepth > 1 ? 'gfapi_async' : 'gfapi',
    iodepth: w.iodepth,
    jobs: JOBS,
    size: SIZE,
    runtime,
    volume: VOL,
    host: host(s),
  });
  log('gfapi: laying out the files on both volumes');
  const fill = { rw: 'write', bs: '1M', iodepth: 1 } as const;
  await Promise.all(
    (['glusterts', 'stock'] as const).map(
      (s) => startFio(scratch, (o) => fioArgs(spec(s, fill, 0), o), 600).json,
    ),
  );
  noteLoad('gfapi start');
  await throughput('gfapi', scratch, (s, w) => (o) => fioArgs(spec(s, w, RUNTIME), o));
  noteLoad('gfapi end');
}

/** Creates `name` (raw, `bytes`) on both volumes with qemu-img (stock libgfapi), in parallel. */
async function createImages(name: string, bytes: number): Promise<void> {
  await Promise.all(
    [G_HOST, S_HOST].map((h) =>
      run(
        'qemu-img',
        ['create', '-f', 'raw', glusterUri({ host: h, port: 24007, volume: VOL }, name), String(bytes)],
        120_000,
      ),
    ),
  );
}

function sizeBytes(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

interface NbdPaths {
  ours: RunningNbd;
  qemu: Service[];
  uri(system: System, image: string): string;
}

async function nbdPaths(sys: Systems, images: string[]): Promise<NbdPaths> {
  void sys;
  const ours = await startGlustertsNbd(G_HOST, { host: G_HOST }, { volumes: [VOL] });
  const qemu: Service[] = [];
  const ports = new Map<string, number>();
  try {
    for (const [k, image] of images.entries()) {
      const port = QEMU_NBD_PORT + k;
      qemu.push(
        await startQemuNbd(
          glusterUri({ host: S_HOST, port: 24007, volume: VOL }, image),
          S_HOST,
          port,
          `${VOL}/${image}`,
        ),
      );
      ports.set(image, port);
    }
  } catch (e) {
    for (const q of qemu) await q.stop();
    await ours.stop();
    throw e;
  }
  return {
    ours,
    qemu,
    uri: (system, image) =>
      system === 'glusterts'
        ? `${ours.url}/${VOL}/${image}`
        : `nbd://${S_HOST}:${ports.get(image)}/${VOL}/${image}`,
  };
}

async function nbdPart(paths: NbdPaths, scratch: string): Promise<void> {
  log('nbd: filling both images');
  const fill = { rw: 'write', bs: '1M', iodepth: 4 } as const;
  await Promise.all(
    (['glusterts', 'stock'] as const).map(
      (s) => startFio(scratch, nbdArgs(paths.uri(s, 'nbd.img'), fill, 0), 600).json,
    ),
  );
  noteLoad('nbd start');
  await throughput('nbd', scratch, (s, w) => nbdArgs(paths.uri(s, 'nbd.img'), w, RUNTIME));
  noteLoad('nbd end');
}

interface Fault {
  name: string;
  label: string;
  /** fio's runtime; the fault starts FAULT_AT_S in. */
  runtimeS: number;
  apply(sys: Systems, system: System): Promise<void>;
}
const FAULT_AT_S = 4;
/** How long a fault case waits for `heal info` to show 0 entries before the next one. */
const HEAL_BOUND_MS = 60_000;
const FAULTS: Fault[] = [
  {
    name: 'sigkill',
    label: `SIGKILL of one brick, back after ~${OUTAGE_AFTER_KILL_MS / 1000} s`,
    runtimeS: 16,
    async apply(sys, system) {
      const pid = await brickPid(sys, system, KILLED_BRICK);
      process.kill(pid, 'SIGKILL');
      if (system === 'stock') {
        // Stock glusterd leaves a dead brick down; bring it back as glusterts' daemon does.
        // The brick daemonized, so init reaps it, which can take seconds here; until then
        // glusterd takes the zombie for a running brick and `start force` does nothing.
        await sleep(OUTAGE_AFTER_KILL_MS);
        await waitFor('the killed brick to be reaped', () => (alive(pid) ? undefined : true), 30_000, 50);
        await sys.stock.cli('volume', 'start', VOL, 'force');
      }
    },
  },
  {
    name: 'sigstop',
    label: `SIGSTOP of one brick for ${PING_TIMEOUT_S + 3} s (ping-timeout ${PING_TIMEOUT_S} s), then SIGCONT`,
    runtimeS: FAULT_AT_S + PING_TIMEOUT_S + 3 + 9,
    async apply(sys, system) {
      const pid = await brickPid(sys, system, STOPPED_BRICK);
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep((PING_TIMEOUT_S + 3) * 1000);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    },
  },
];

/** fio randwrite 4k with verify through `uri` for `runtimeS`; the longest IO in ms. */
function verifyArgs(uri: string, runtimeS: number) {
  return (out: string) => [
    '--name=verify',
    '--ioengine=nbd',
    `--uri=${uri}`,
    '--rw=randwrite',
    '--bs=4k',
    '--size=16M',
    '--direct=1',
    '--verify=crc32c',
    '--verify_backlog=64',
    // A bad block is counted (total_err) and the run goes on, so the stall is still measured;
    // any other IO error ends the job and the run.
    '--continue_on_error=verify',
    '--verify_state_save=0',
    '--time_based',
    `--runtime=${runtimeS}`,
    '--output-format=json',
    `--output=${out}`,
  ];
}

async function faultPart(sys: Systems, paths: NbdPaths, scratch: string): Promise<void> {
  noteLoad('faults start');
  for (let i = 0; i < FAULT_REPEAT; i++) {
    for (const fault of FAULTS) {
      for (const system of orderOf(i)) {
        log(`faults ${fault.name} ${system} (repeat ${i + 1}/${FAULT_REPEAT})`);
        const load = loadavg()[0]!;
        const f = startFio(
          scratch,
          verifyArgs(paths.uri(system, 'fault.img'), fault.runtimeS),
          fault.runtimeS + 120,
        );
        await sleep(FAULT_AT_S * 1000);
        await fault.apply(sys, system);
        const text = await f.json.catch((e: Error) => {
          // A hung or failed run: recorded, and the fault part ends (the system may be wedged).
          failures.push(`${fault.name} on ${system} (repeat ${i + 1}): ${e.message.slice(0, 300)}`);
          return undefined;
        });
        if (text === undefined) return;
        const jobs = (JSON.parse(text.slice(text.indexOf('{'))) as { jobs: FioJobJson[] }).jobs;
        const badBlocks = jobs.reduce((n, j) => n + (j.total_err ?? (j.error ? 1 : 0)), 0);
        const verified = jobs.every((j) => j.write.io_bytes! > 0 && j.read.io_bytes! > 0);
        if (!verified) throw new Error(`${fault.name} on ${system}: nothing written and verified`);
        const maxNs = (s: FioJobJson['read']) => s.lat_ns?.max ?? s.clat_ns?.max ?? 0;
        const stallMs = Math.max(...jobs.map((j) => Math.max(maxNs(j.write), maxNs(j.read)))) / 1e6;
        const healMs = await healed(sys, system, HEAL_BOUND_MS);
        log(
          `  longest IO ${stallMs.toFixed(0)} ms; ${badBlocks} bad blocks; heal info 0 entries ${healMs} ms after fio ended`,
        );
        samples.push({
          part: 'faults',
          case: fault.name,
          system,
          repeat: i,
          value: stallMs,
          unit: 'ms',
          loadavg: load,
          extra: { badBlocks, healWaitMs: healMs },
        });
      }
    }
  }
  noteLoad('faults end');
}

// ---------------------------------------------------------------------------------------
// Report

function report(): string {
  const out: string[] = [];
  const pick = (part: string, c: string, s: System) =>
    samples.filter((x) => x.part === part && x.case === c && x.system === s).map((x) => x.value);
  const table = (
    part: string,
    cases: { name: string; label: string }[],
    columns: Parameters<typeof comparisonTable>[0],
  ) => {
    const rows = cases
      .map((c) => ({ name: c.label, a: pick(part, c.name, 'stock'), b: pick(part, c.name, 'glusterts') }))
      .filter((r) => r.a.length && r.b.length);
    if (rows.length) out.push(comparisonTable(columns, rows), '');
  };
  const wl = WORKLOADS.map((w) => ({ name: w.name, label: `${w.label} (${w.unit})` }));
  if (PARTS.includes('gfapi')) {
    out.push(
      `fio gfapi (stock libgfapi 10.3, its AFR) on replica 3; ${REPEAT} × ${RUNTIME} s; ${JOBS} files of ${SIZE}; medians (min–max)`,
    );
    table('gfapi', wl, { a: 'stock bricks', b: 'glusterts bricks', ratio: 'glusterts / stock' });
  }
  if (PARTS.includes('nbd')) {
    out.push(
      `fio nbd on replica 3; ${REPEAT} × ${RUNTIME} s; one image, ${JOBS} regions of ${SIZE}; medians (min–max)`,
    );
    table('nbd', wl, {
      a: 'qemu-nbd, gluster driver (stock AFR), stock bricks',
      b: 'glusterts NBD export (TS replicate), glusterts bricks',
      ratio: 'glusterts / stock',
    });
  }
  if (PARTS.includes('faults')) {
    out.push(
      `longest IO (ms, fio nbd randwrite 4k verify=crc32c, qd1) through the fault; ping-timeout ${PING_TIMEOUT_S} s; ${FAULT_REPEAT} repeats; medians (min–max)`,
    );
    out.push(
      '| fault | stock bricks + qemu-nbd (gluster driver) | glusterts bricks + NBD export | glusterts / stock (lower is better) | bad blocks read, stock / glusterts | heal info 0 after fio ended (s), stock / glusterts |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const f of FAULTS) {
      const of = (s: System) =>
        samples.filter((x) => x.part === 'faults' && x.case === f.name && x.system === s);
      const [st, gt] = [of('stock'), of('glusterts')];
      if (!st.length || !gt.length) continue;
      const ms = (xs: Sample[]) => xs.map((x) => x.value);
      const sum = (xs: Sample[], k: string) => xs.reduce((n, x) => n + (x.extra?.[k] ?? 0), 0);
      const heal = (xs: Sample[]) =>
        xs
          .map((x) => x.extra?.healWaitMs ?? Number.NaN)
          .map((ms) => (Number.isNaN(ms) ? `>${HEAL_BOUND_MS / 1000}` : (ms / 1000).toFixed(1)))
          .join(', ');
      out.push(
        `| ${f.label} | ${formatSummary(ms(st), 0)} | ${formatSummary(ms(gt), 0)} | ${(median(ms(gt)) / median(ms(st))).toFixed(2)}× | ${sum(st, 'badBlocks')} / ${sum(gt, 'badBlocks')} | ${heal(st)} / ${heal(gt)} |`,
      );
    }
    out.push('');
  }
  if (failures.length) out.push(`failed runs:\n${failures.map((f) => `- ${f}`).join('\n')}`, '');
  out.push(`load average (1/5/15 min): ${loads.map((l) => `${l.at} ${l.loadavg.join('/')}`).join('; ')}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------
// Main

const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killTracked();
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    rmSync('/tmp/fio_gfapi.log', { force: true });
  })();
  return cleaning;
}
process.on('unhandledRejection', (e) => {
  log(`unhandled: ${String(e)}: stopping everything`);
  void cleanup().then(() => process.exit(1));
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log(`${sig}: stopping everything`);
    void cleanup().then(() => process.exit(130));
  });

async function main(): Promise<void> {
  for (const p of ['stock-gluster', 'fio', 'qemu-gluster']) {
    const why = peerMissing(p);
    if (why) throw new Error(why);
  }
  const boundS = Number(values.timeout ?? (QUICK ? 900 : 3600));
  setTimeout(() => {
    log(`--timeout ${boundS} s passed: stopping everything`);
    process.exitCode = 1;
    void cleanup().then(() => process.exit(1));
  }, boundS * 1000).unref();

  const t0 = Date.now();
  const dir = mkdtempSync(join(values.dir!, 'glusterts-replica-bench-'));
  if (!values.keep) cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  noteLoad('start');
  log(`scratch ${dir}; starting glusterts daemon on ${G_HOST} and stock glusterd on ${S_HOST}`);

  const options = { 'network.ping-timeout': String(PING_TIMEOUT_S) };
  const daemon = await startGlustertsDaemon({ host: G_HOST, data: join(dir, 'glusterts') });
  cleanups.push(() => daemon.stop());
  const gBricks = [0, 1, 2].map((i) => join(dir, 'glusterts-bricks', `b${i}`));
  await daemon.volume('create', VOL, 'replica', '3', ...gBricks.map((b) => `${G_HOST}:${b}`), 'force');
  for (const [k, v] of Object.entries(options)) await daemon.volume('set', VOL, k, v);
  await daemon.volume('start', VOL);
  const stock = await startStockGluster({
    host: S_HOST,
    volume: VOL,
    bricks: 3,
    replica: 3,
    dir: join(dir, 'stock'),
    volumeOptions: options,
  });
  cleanups.push(() => stock.stop());
  const sys: Systems = { daemon, stock, gBricks };

  // Whatever was measured is reported, also when a part fails.
  try {
    if (PARTS.includes('gfapi')) await gfapiPart(sys, scratch);
    if (PARTS.includes('nbd') || PARTS.includes('faults')) {
      const images = [
        ...(PARTS.includes('nbd') ? ['nbd.img'] : []),
        ...(PARTS.includes('faults') ? ['fault.img'] : []),
      ];
      log(`creating ${images.join(', ')} on both volumes`);
      for (const image of images)
        await createImages(image, image === 'nbd.img' ? JOBS * sizeBytes(SIZE) : 16 << 20);
      const paths = await nbdPaths(sys, images);
      cleanups.push(async () => {
        for (const q of paths.qemu) await q.stop();
        await paths.ours.stop();
      });
      if (PARTS.includes('nbd')) await nbdPart(paths, scratch);
      if (PARTS.includes('faults')) await faultPart(sys, paths, scratch);
    }
  } finally {
    noteLoad('end');
    writeReport(dir, t0);
  }
}

function writeReport(dir: string, t0: number): void {
  const text = report();
  console.log(text);
  console.log(`\n${Math.round((Date.now() - t0) / 1000)} s in all`);
  if (values.json) {
    const options = {
      quick: QUICK,
      repeat: REPEAT,
      faultRepeat: FAULT_REPEAT,
      runtime: RUNTIME,
      size: SIZE,
      parts: PARTS,
      pingTimeoutS: PING_TIMEOUT_S,
    };
    writeFileSync(
      values.json,
      JSON.stringify({ options, machine: machineInfo(dir), loads, samples, report: text }, null, 2),
    );
  }
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
