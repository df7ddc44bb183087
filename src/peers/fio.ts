/**
 * fio: command lines for the benchmark's jobs, its JSON output, the ETA lines that tell
 * when every job has finished its IO (fio prints them while the gfapi engine's glfs_fini
 * still runs, ~10 s with stock libgfapi 10.3), and the runner that ties them together.
 */
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './process.js';

/** One fio run: `jobs` files (`bench.0` … `bench.N-1`), one job each. */
export interface FioSpec {
  rw: 'read' | 'write' | 'randread' | 'randwrite';
  /** Block size as fio takes it ("128k", "4k"). */
  bs: string;
  ioengine: 'psync' | 'libaio' | 'gfapi' | 'gfapi_async' | 'nbd';
  iodepth: number;
  jobs: number;
  /** Size of each file ("256M"). */
  size: string;
  /** Seconds of IO (time_based); 0 means one pass over `size`. */
  runtime: number;
  /** For file engines: the directory holding the files. */
  directory?: string;
  /** For the gfapi engines: volume and volfile-server host (fio always uses port 24007). */
  volume?: string;
  host?: string;
  /** For the nbd engine: one export URI per job (then `jobs` is their count). */
  nbdUris?: string[];
  /**
   * Completion latency percentiles to report (`--percentile_list`, e.g. [50, 99, 99.9]); the
   * jobs are then reported as one group, so the percentiles cover every job's IO together.
   */
  percentiles?: readonly number[];
}

/** The fio arguments for `spec`; JSON goes to `output`, ETA lines to stdout. */
export function fioArgs(spec: FioSpec, output: string): string[] {
  const args = [
    `--ioengine=${spec.ioengine}`,
    `--rw=${spec.rw}`,
    `--bs=${spec.bs}`,
    `--iodepth=${spec.iodepth}`,
    `--size=${spec.size}`,
    '--direct=1',
    // One file per job, the same names on every row, so reads find what the layout wrote.
    '--filename_format=bench.$jobnum',
    // Random jobs must not stop early because they ran out of fresh blocks.
    '--norandommap',
    '--randrepeat=0',
    '--output-format=json',
    `--output=${output}`,
    '--eta=always',
    '--eta-newline=1',
    '--eta-interval=250ms',
  ];
  if (spec.runtime > 0) args.push('--time_based', `--runtime=${spec.runtime}`);
  if (spec.percentiles?.length)
    args.push(`--percentile_list=${spec.percentiles.join(':')}`, '--group_reporting');
  if (spec.ioengine === 'nbd') {
    // Options before the first --name are global; each job gets its own export.
    if (!spec.nbdUris?.length) throw new Error('the nbd engine needs export URIs');
    spec.nbdUris.forEach((uri, i) => args.push(`--name=bench${i}`, `--uri=${uri}`));
    return args;
  }
  args.push('--name=bench', `--numjobs=${spec.jobs}`);
  if (spec.ioengine === 'gfapi' || spec.ioengine === 'gfapi_async') {
    if (!spec.volume || !spec.host) throw new Error('gfapi engines need volume and host');
    args.push(`--volume=${spec.volume}`, `--brick=${spec.host}`);
  } else {
    if (!spec.directory) throw new Error('file engines need a directory');
    args.push(`--directory=${spec.directory}`);
  }
  return args;
}

export interface FioResult {
  /** Sum of the jobs' bandwidths, KiB/s (fio's `bw`, what the seed calls kB/s). */
  aggregateKiBps: number;
  /** Each job's (each file's) bandwidth, KiB/s, in job order. */
  perJobKiBps: number[];
  /** Sum of the jobs' IOPS. */
  iops: number;
  /** Mean completion latency over the jobs, microseconds. */
  meanLatUs: number;
  /**
   * Completion latency percentiles, microseconds, keyed by percentile as asked ("50", "99",
   * "99.9"); with `percentiles` set (one group), else those of the first job.
   */
  clatUs: Record<string, number>;
}

interface FioSide {
  bw: number;
  iops: number;
  io_kbytes?: number;
  clat_ns?: { mean?: number; percentile?: Record<string, number> };
  lat_ns?: { mean?: number };
}
interface FioJob {
  jobname?: string;
  error?: number;
  read: FioSide;
  write: FioSide;
}

/**
 * Parses fio's `--output-format=json` (without group_reporting: one entry per job). Text
 * before the first `{` (warnings fio prints to the same stream) is skipped.
 */
export function parseFioJson(text: string, direction: 'read' | 'write'): FioResult {
  const start = text.indexOf('{');
  if (start < 0) throw new Error('fio output holds no JSON');
  const doc = JSON.parse(text.slice(start)) as { jobs?: FioJob[] };
  const jobs = doc.jobs ?? [];
  if (jobs.length === 0) throw new Error('fio JSON has no jobs');
  const failed = jobs.find((j) => j.error);
  if (failed) throw new Error(`fio job ${failed.jobname ?? '?'} failed with error ${failed.error}`);
  const sides = jobs.map((j) => (direction === 'read' ? j.read : j.write));
  const perJobKiBps = sides.map((s) => s.bw);
  const lat = sides.map((s) => s.clat_ns?.mean ?? s.lat_ns?.mean ?? 0);
  // fio keys percentiles as "%f" ("99.900000"); Number() gives back the asked 99.9.
  const clatUs: Record<string, number> = {};
  for (const [p, ns] of Object.entries(sides[0]!.clat_ns?.percentile ?? {}))
    clatUs[String(Number(p))] = ns / 1000;
  return {
    aggregateKiBps: perJobKiBps.reduce((a, b) => a + b, 0),
    perJobKiBps,
    iops: sides.reduce((a, s) => a + s.iops, 0),
    meanLatUs: lat.reduce((a, b) => a + b, 0) / lat.length / 1000,
    clatUs,
  };
}

/**
 * True when an ETA line (`Jobs: 4 (f=0): [f(4)][100.0%][eta 00m:00s]`) shows every job
 * past its IO: finishing (f), exited (E) or reaped (_).
 */
export function etaIoDone(line: string): boolean {
  const m = /^Jobs: \d+ \(f=\d+\): \[([^\]]*)\]/.exec(line.trim());
  if (!m) return false;
  const states = m[1]!.replace(/\(\d+\)|,/g, '');
  return states.length > 0 && /^[fE_]+$/.test(states);
}

/**
 * True when an ETA line shows every job doing IO: its states all running (R/r seq/rand read,
 * W/w write, M/m mixed), or — fio's first second prints no states — every job's file open
 * (`Jobs: 4 (f=4)`; f counts open files, and jobs open theirs just before their IO starts).
 */
export function etaRunning(line: string): boolean {
  const m = /^Jobs: (\d+) \(f=(\d+)\)(?:: \[([^\]]*)\])?/.exec(line.trim());
  if (!m) return false;
  if (m[3] === undefined) return Number(m[2]) > 0 && m[1] === m[2];
  const states = m[3].replace(/\(\d+\)|,/g, '');
  return states.length > 0 && /^[RrWwMm]+$/.test(states);
}

export interface FioRun {
  /** fio's PID (its jobs are child processes). */
  pid: number;
  /** Resolves when every job is past its IO (the process may still be closing). */
  ioDone: Promise<number>;
  /** Resolves with the parsed figures once fio has exited. */
  result: Promise<FioResult>;
}

let runs = 0;

/**
 * Starts fio on `spec` (JSON to a file in `scratch`, ETA lines watched for the end of IO);
 * it is tracked, so an aborted benchmark kills it by PID.
 */
export function startFio(
  spec: FioSpec,
  opts: { scratch?: string; cwd?: string; onEta?: (lines: string[]) => void } = {},
): FioRun {
  const out = join(opts.scratch ?? tmpdir(), `fio-${process.pid}-${runs++}.json`);
  const t = track('fio', fioArgs(spec, out), {
    cwd: opts.cwd ?? opts.scratch ?? tmpdir(),
    done: (stdout) => {
      const last = stdout
        .slice(-600)
        .split(/[\r\n]+/)
        .slice(-3);
      opts.onEta?.(last);
      return last.some(etaIoDone);
    },
  });
  const direction = spec.rw.endsWith('read') ? 'read' : 'write';
  const result = t.exit.then(
    async () => {
      try {
        return parseFioJson(await readFile(out, 'utf8'), direction);
      } finally {
        await rm(out, { force: true });
      }
    },
    async (e: unknown) => {
      await rm(out, { force: true });
      throw e;
    },
  );
  result.catch(() => undefined);
  return { pid: t.pid, ioDone: t.ioDone, result };
}

/** Runs fio on `spec` to its end; resolves its figures. */
export function runFio(spec: FioSpec, opts: { scratch?: string; cwd?: string } = {}): Promise<FioResult> {
  return startFio(spec, opts).result;
}

/** Writes `bench.0` … `bench.<files-1>` (`size` each) in `dir` with 1 MiB direct writes. */
export async function layoutFiles(dir: string, size: string, files: number): Promise<void> {
  await runFio(
    { rw: 'write', bs: '1M', ioengine: 'psync', iodepth: 1, jobs: files, size, runtime: 0, directory: dir },
    { scratch: dir },
  );
}
