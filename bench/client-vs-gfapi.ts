/**
 * glusterts' TypeScript client against fio's C gfapi engine (stock libgfapi 10.3), same
 * stock GlusterFS 10.3 brick, same run, rows alternating:
 *
 *   seq-read / seq-write   128 KiB and 1 MiB blocks, 4 streams (one file each), O_DIRECT
 *   rand-read / rand-write 4 KiB blocks, queue depth 16, one file, O_DIRECT
 *
 * The TypeScript side runs the workload the way fio does: each stream keeps one request
 * in flight (sequential rows) or 16 (random rows), for a fixed time. Both sides use
 * O_DIRECT files, so the brick does the same IO. Prints MiB/s medians and the ratio.
 * (The stock peers, fio and the statistics come from src/peers, like `glusterts bench`.)
 *
 *   node dist/bench/client-vs-gfapi.js [--repeat 3] [--runtime 8] [--size 256M]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Volume, O } from '../src/client/index.js';
import { comparisonTable, runFio, startStockGluster, type FioSpec } from '../src/peers/index.js';
import { parseSize } from '../src/xlator/options.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    runtime: { type: 'string', default: '8' },
    size: { type: 'string', default: '256M' },
  },
});
const repeat = Number(values.repeat);
const runtime = Number(values.runtime);
const fileSize = parseSize(values.size)!;
const HOST = '127.0.0.2';
const VOLUME = 'benchvol';

interface Row {
  name: string;
  write: boolean;
  random: boolean;
  bs: number;
  streams: number;
  depth: number;
}
const ROWS: Row[] = [
  { name: 'seq-read 128k ×4', write: false, random: false, bs: 128 << 10, streams: 4, depth: 1 },
  { name: 'seq-write 128k ×4', write: true, random: false, bs: 128 << 10, streams: 4, depth: 1 },
  { name: 'seq-read 1m ×4', write: false, random: false, bs: 1 << 20, streams: 4, depth: 1 },
  { name: 'seq-write 1m ×4', write: true, random: false, bs: 1 << 20, streams: 4, depth: 1 },
  { name: 'rand-read 4k qd16', write: false, random: true, bs: 4096, streams: 1, depth: 16 },
  { name: 'rand-write 4k qd16', write: true, random: true, bs: 4096, streams: 1, depth: 16 },
];

const gfapi = { volume: VOLUME, host: HOST, size: values.size! };

/** fio's C gfapi engines on the row's workload; MiB/s. */
async function fio(row: Row, scratch: string): Promise<number> {
  const spec: FioSpec = {
    ...gfapi,
    rw: `${row.random ? 'rand' : ''}${row.write ? 'write' : 'read'}` as FioSpec['rw'],
    bs: String(row.bs),
    ioengine: row.depth > 1 ? 'gfapi_async' : 'gfapi',
    iodepth: row.depth,
    jobs: row.streams,
    runtime,
  };
  return (await runFio(spec, { scratch })).aggregateKiBps / 1024;
}

/** The TypeScript client on the row's workload; MiB/s. */
async function ours(vol: Volume, row: Row): Promise<number> {
  const names = Array.from({ length: row.streams }, (_, i) => `/bench.${i}`);
  const handles = await Promise.all(names.map((f) => vol.open(f, O.RDWR | O.DIRECT)));
  const payload = Buffer.alloc(row.bs, 0x5a);
  const blocks = Math.floor(fileSize / row.bs);
  const deadline = performance.now() + runtime * 1000;
  let bytes = 0;
  let seed = 12345;
  const nextRandom = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  await Promise.all(
    handles.flatMap((file) =>
      Array.from({ length: row.depth }, async (_, lane) => {
        let block = lane;
        while (performance.now() < deadline) {
          const at = (row.random ? nextRandom() % blocks : block++ % blocks) * row.bs;
          if (row.write) await file.pwrite(payload, at);
          else await file.pread(row.bs, at);
          bytes += row.bs;
        }
      }),
    ),
  );
  await Promise.all(handles.map((h) => h.close()));
  return bytes / (1 << 20) / runtime;
}

async function main() {
  const dir = mkdtempSync(join('/var/tmp', 'glusterts-clientbench-'));
  const stock = await startStockGluster({ volume: VOLUME, dir: join(dir, 'stock') });
  const results = new Map<string, { fio: number[]; ours: number[] }>();
  try {
    // Lay out the files once with fio so reads read real data.
    await runFio(
      { ...gfapi, rw: 'write', bs: '1M', ioengine: 'gfapi', iodepth: 1, jobs: 4, runtime: 0 },
      { scratch: dir },
    );
    const vol = await Volume.connect({ volume: VOLUME, servers: [{ host: HOST }] });
    try {
      for (let i = 0; i < repeat; i++) {
        for (const row of ROWS) {
          const r = results.get(row.name) ?? { fio: [], ours: [] };
          results.set(row.name, r);
          // Alternate which side goes first, so drift in the machine hits both.
          if (i % 2 === 0) {
            r.fio.push(await fio(row, dir));
            r.ours.push(await ours(vol, row));
          } else {
            r.ours.push(await ours(vol, row));
            r.fio.push(await fio(row, dir));
          }
        }
      }
    } finally {
      await vol.close();
    }
  } finally {
    await stock.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync('/tmp/fio_gfapi.log', { force: true });
  }
  console.log(
    `stock GlusterFS 10.3 brick; ${cpus().length} CPUs; ${repeat} runs × ${runtime} s; O_DIRECT; MiB/s medians (min–max)`,
  );
  const columns = { a: 'fio gfapi (C libgfapi)', b: 'glusterts client (TS)', ratio: 'TS / C' };
  const rows = ROWS.map((row) => ({
    name: row.name,
    a: results.get(row.name)!.fio,
    b: results.get(row.name)!.ours,
  }));
  console.log(comparisonTable(columns, rows));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
