/** What the benchmark measures: workloads, systems, samples. */

export type WorkloadId =
  'seq-read' | 'seq-write' | 'rand-read' | 'rand-write' | 'open-close' | 'lat-rand-read' | 'lat-rand-write';
export type SystemId = 'local' | 'glusterts' | 'stock';

export interface Workload {
  id: WorkloadId;
  /**
   * Bandwidth tables (seed format), open-close latency tables, or completion latency
   * percentile tables (each row at every depth of LATENCY_DEPTHS).
   */
  kind: 'bw' | 'latency' | 'clat';
  direction: 'read' | 'write';
  random: boolean;
}

export const WORKLOADS: readonly Workload[] = [
  { id: 'seq-read', kind: 'bw', direction: 'read', random: false },
  { id: 'seq-write', kind: 'bw', direction: 'write', random: false },
  { id: 'rand-read', kind: 'bw', direction: 'read', random: true },
  { id: 'rand-write', kind: 'bw', direction: 'write', random: true },
  { id: 'open-close', kind: 'latency', direction: 'read', random: false },
  { id: 'lat-rand-read', kind: 'clat', direction: 'read', random: true },
  { id: 'lat-rand-write', kind: 'clat', direction: 'write', random: true },
];

/** Workloads a run does unless told otherwise; the latency view (`--latency`) is asked for. */
export const DEFAULT_WORKLOADS: readonly WorkloadId[] = WORKLOADS.filter((w) => w.kind !== 'clat').map(
  (w) => w.id,
);

export const SYSTEM_LABELS: Readonly<Record<SystemId, string>> = {
  local: 'local',
  glusterts: 'glusterts',
  stock: 'stock GlusterFS 10.3',
};

/** Fixed shape of the runs (the seed: 4 files, direct IO). */
export const FILES = 4;
/** Queue depth per file for the random workloads (4 files × 4 = 16 in flight). */
export const RANDOM_DEPTH_PER_FILE = 4;
export const RANDOM_BS = '4k';
/** qemu-img bench's queue depth for the sequential workloads. */
export const QEMU_DEPTH = 4;
/**
 * Requests in flight for the latency workloads: 1 (one job on bench.0, one at a time) and
 * 16 (the random workloads' shape: FILES jobs × RANDOM_DEPTH_PER_FILE).
 */
export const LATENCY_DEPTHS: readonly number[] = [1, FILES * RANDOM_DEPTH_PER_FILE];
/** Completion latency percentiles the latency tables show. */
export const PERCENTILES: readonly number[] = [50, 99, 99.9];

/** Jobs (files) and per-job depth for a latency run at `depth` in flight in all. */
export function latencyShape(depth: number): { jobs: number; perJob: number } {
  return depth === 1 ? { jobs: 1, perJob: 1 } : { jobs: FILES, perJob: depth / FILES };
}

/** One measurement. Bandwidths in KiB/s (what fio and the seed print as kB/s). */
export interface Sample {
  row: string;
  system: SystemId;
  workload: WorkloadId;
  repeat: number;
  tool: string;
  aggregateKiBps?: number;
  /** Per file (per fio job); one entry for qemu-img bench's single image. */
  perFileKiBps?: number[];
  iops?: number;
  /** open-close: ms until qemu-io's 4 KiB read returned (open + one read). */
  openMs?: number;
  /** open-close: ms until qemu-io exited (open + read + close, incl. glfs_fini). */
  wallMs?: number;
  /** clat workloads: requests in flight in all (LATENCY_DEPTHS). */
  depth?: number;
  /** clat workloads: completion latency percentiles, µs, keyed "50", "99", "99.9". */
  clatUs?: Record<string, number>;
  /**
   * CPU (user+sys) spent while the tool did IO, µs: client side (the tool, plus the NBD
   * export or FUSE client it goes through) and server side (the system's brick and
   * management processes); `ios` and `bytes` are what the tool moved in that window.
   */
  cpu?: { clientUs: number; serverUs: number; seconds: number; ios: number; bytes: number };
  /** ISO time the measurement started. */
  at: string;
}

export function workloadTitle(w: Workload, bs: string): string {
  switch (w.id) {
    case 'seq-read':
      return `Seq read, ${FILES} files with direct io, ${bs} blocks`;
    case 'seq-write':
      return `Seq write, ${FILES} files with direct io, ${bs} blocks`;
    case 'rand-read':
      return `Random read, ${FILES} files with direct io, ${RANDOM_BS} blocks, queue depth ${FILES * RANDOM_DEPTH_PER_FILE} (${RANDOM_DEPTH_PER_FILE} per file)`;
    case 'rand-write':
      return `Random write, ${FILES} files with direct io, ${RANDOM_BS} blocks, queue depth ${FILES * RANDOM_DEPTH_PER_FILE} (${RANDOM_DEPTH_PER_FILE} per file)`;
    case 'open-close':
      return "Image open+close latency (qemu-io -t none -c 'read 0 4k': open = until the read returned, wall = until exit)";
    case 'lat-rand-read':
    case 'lat-rand-write':
      return `Random ${w.direction} completion latency, ${RANDOM_BS} blocks, direct io, at queue depth ${LATENCY_DEPTHS.map((d) => `${d} (${latencyShape(d).jobs} file${d === 1 ? '' : 's'})`).join(' and ')}: percentiles in µs`;
  }
}

/** "128k" → 131072; accepts k/m/g suffixes (binary) and plain bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+)([kmgKMG]?)i?[bB]?$/.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}
