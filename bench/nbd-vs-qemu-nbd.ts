/**
 * The NBD export against qemu-nbd, serving the same image of the same glusterts volume:
 *   glusterts nbd:  fio → NBD → glusterts TypeScript client → brick
 *   qemu-nbd:       fio → NBD → QEMU block layer → gluster driver (stock C libgfapi) → brick
 * with fio's nbd engine: sequential 1 MiB read/write (queue depth 4) and 4 KiB random
 * read/write at queue depth 16; rows alternate between the two servers. (glusterts,
 * qemu-nbd, fio and the statistics come from src/peers, like `glusterts bench`.)
 *
 *   node dist/bench/nbd-vs-qemu-nbd.js [--repeat 3] [--runtime 8] [--size 512M]
 */
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import {
  comparisonTable,
  glusterUri,
  run,
  runFio,
  startGlusterts,
  startQemuNbd,
  type FioSpec,
  type Service,
} from '../src/peers/index.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    runtime: { type: 'string', default: '8' },
    size: { type: 'string', default: '512M' },
  },
});
const HOST = '127.0.0.10';
const EXPORT = 'vms/nbd.img';
const OURS = `nbd://${HOST}:10809/${EXPORT}`;
const QEMU = `nbd://${HOST}:10810/${EXPORT}`;

interface Row {
  name: string;
  rw: FioSpec['rw'];
  bs: string;
  depth: number;
}
const ROWS: Row[] = [
  { name: 'seq-read 1M qd4', rw: 'read', bs: '1M', depth: 4 },
  { name: 'seq-write 1M qd4', rw: 'write', bs: '1M', depth: 4 },
  { name: 'rand-read 4k qd16', rw: 'randread', bs: '4k', depth: 16 },
  { name: 'rand-write 4k qd16', rw: 'randwrite', bs: '4k', depth: 16 },
];

/** fio's nbd engine, one job on `uri`; MiB/s. `runtime` 0: one pass over the image. */
async function fio(uri: string, row: Row, runtime = Number(values.runtime)): Promise<number> {
  const spec: FioSpec = {
    rw: row.rw,
    bs: row.bs,
    ioengine: 'nbd',
    iodepth: row.depth,
    jobs: 1,
    size: values.size!,
    runtime,
    nbdUris: [uri],
  };
  return (await runFio(spec)).aggregateKiBps / 1024;
}

async function main() {
  const g = await startGlusterts({ host: HOST });
  let qemuNbd: Service | undefined;
  const results = new Map<string, { ours: number[]; qemu: number[] }>();
  try {
    const image = glusterUri(g, 'nbd.img');
    await run('qemu-img', ['create', '-f', 'raw', image, values.size!]);
    qemuNbd = await startQemuNbd(image, HOST, 10810, EXPORT);
    // Fill the image once so reads read data, through our export.
    await fio(OURS, { name: 'fill', rw: 'write', bs: '1M', depth: 8 }, 0);
    for (let i = 0; i < Number(values.repeat); i++) {
      for (const row of ROWS) {
        const r = results.get(row.name) ?? { ours: [], qemu: [] };
        results.set(row.name, r);
        for (const side of i % 2 === 0 ? (['qemu', 'ours'] as const) : (['ours', 'qemu'] as const)) {
          r[side].push(await fio(side === 'ours' ? OURS : QEMU, row));
        }
      }
    }
  } finally {
    await qemuNbd?.stop();
    await g.stop();
    rmSync('/tmp/fio_gfapi.log', { force: true });
  }
  console.log(
    `fio nbd engine; ${cpus().length} CPUs; ${values.repeat} runs × ${values.runtime} s; MiB/s medians (min–max)`,
  );
  const columns = {
    a: 'qemu-nbd (gluster driver, C libgfapi)',
    b: 'glusterts NBD export',
    ratio: 'glusterts / qemu-nbd',
  };
  const rows = ROWS.map((row) => ({
    name: row.name,
    a: results.get(row.name)!.qemu,
    b: results.get(row.name)!.ours,
  }));
  console.log(comparisonTable(columns, rows));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
