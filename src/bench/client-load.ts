/**
 * The `client` row's load: the glusterts TypeScript client library (full client stack)
 * running a workload the way fio's jobs do — one file per stream, `depth` requests in
 * flight per file, O_DIRECT, for `runtime` seconds — in a process of its own, so it is
 * measured like fio and qemu-img are.
 *
 *   node dist/src/bench/client-load.js '{"host":…,"volume":…,"write":false,…}'
 *
 * Prints `io done` when the IO is over (before closing), then one JSON line of figures.
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
}

export interface ClientLoadResult {
  /** Bytes moved per file. */
  perFileBytes: number[];
  ops: number;
  seconds: number;
}

export const IO_DONE = 'io done';

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
    const t0 = performance.now();
    const deadline = t0 + load.runtime * 1000;
    await Promise.all(
      handles.flatMap((file, i) =>
        Array.from({ length: load.depth }, async (_, lane) => {
          let block = lane;
          while (performance.now() < deadline) {
            const at = (load.random ? nextRandom() % blocks : block++ % blocks) * load.bs;
            if (load.write) await file.pwrite(payload, at);
            else await file.pread(load.bs, at);
            perFileBytes[i]! += load.bs;
            ops++;
          }
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(IO_DONE);
    await Promise.all(handles.map((h) => h.close()));
    return { perFileBytes, ops, seconds };
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
