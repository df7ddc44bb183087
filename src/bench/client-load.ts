/**
 * The `client` row's load: the glusterts TypeScript client library (full client stack)
 * running a workload the way fio's jobs do — one file per stream, `depth` requests in
 * flight per file, O_DIRECT, for `runtime` seconds — in a process of its own, so it is
 * measured like fio and qemu-img are.
 *
 *   node dist/src/bench/client-load.js '{"host":…,"volume":…,"write":false,…}'
 *
 * Prints `io start` once connected with the files open, `io done` when the IO is over
 * (before closing), then one JSON line of figures.
 */
import { O, Volume } from '../client/index.js';

export interface ClientLoad {
  host: string;
  volume: string;
  write: boolean;
  random: boolean;
  /** Request size, bytes. */
  bs: number;
  /** Files bench.0 … bench.N-1, one stream each. */
  files: number;
  /** Requests in flight per file. */
  depth: number;
  runtime: number;
  /** Size of each file, bytes. */
  size: number;
  /** Completion latency percentiles to report (e.g. [50, 99, 99.9]). */
  percentiles?: readonly number[];
}

export interface ClientLoadResult {
  /** Bytes moved per file. */
  perFileBytes: number[];
  ops: number;
  seconds: number;
  /** Completion latency percentiles, µs, keyed as asked ("50", "99.9"). */
  clatUs?: Record<string, number>;
}

export const IO_START = 'io start';
export const IO_DONE = 'io done';

/** Nearest-rank percentiles of `samples` (sorted here), keyed by String(p). */
export function percentiles(samples: Float64Array, ps: readonly number[]): Record<string, number> {
  const sorted = samples.slice().sort();
  const out: Record<string, number> = {};
  for (const p of ps) {
    // The epsilon keeps 99.9% of 1000 at rank 999 (floating point gives 999.0000000000001).
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
    out[String(p)] = sorted[rank - 1] ?? NaN;
  }
  return out;
}

function growTo(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

async function run(load: ClientLoad): Promise<ClientLoadResult> {
  const vol = await Volume.connect({ volume: load.volume, servers: [{ host: load.host }] });
  try {
    const names = Array.from({ length: load.files }, (_, i) => `/bench.${i}`);
    const handles = await Promise.all(names.map((f) => vol.open(f, O.RDWR | O.DIRECT)));
    const payload = Buffer.alloc(load.bs, 0x5a);
    const blocks = Math.max(1, Math.floor(load.size / load.bs));
    const perFileBytes = handles.map(() => 0);
    let ops = 0;
    let seed = 12345;
    const nextRandom = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    // Completion latencies, µs, when asked for: a growing typed array, no per-IO allocation.
    let lat: Float64Array = new Float64Array(load.percentiles ? 1 << 16 : 0);
    console.log(IO_START);
    const t0 = performance.now();
    const deadline = t0 + load.runtime * 1000;
    await Promise.all(
      handles.flatMap((file, i) =>
        Array.from({ length: load.depth }, async (_, lane) => {
          let block = lane;
          while (performance.now() < deadline) {
            const at = (load.random ? nextRandom() % blocks : block++ % blocks) * load.bs;
            const started = performance.now();
            if (load.write) await file.pwrite(payload, at);
            else await file.pread(load.bs, at);
            if (load.percentiles) {
              if (ops === lat.length) lat = growTo(lat, ops * 2);
              lat[ops] = (performance.now() - started) * 1000;
            }
            perFileBytes[i]! += load.bs;
            ops++;
          }
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(IO_DONE);
    await Promise.all(handles.map((h) => h.close()));
    return {
      perFileBytes,
      ops,
      seconds,
      ...(load.percentiles ? { clatUs: percentiles(lat.subarray(0, ops), load.percentiles) } : {}),
    };
  } finally {
    await vol.close();
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  run(JSON.parse(process.argv[2] ?? '') as ClientLoad).then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(`client-load: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
