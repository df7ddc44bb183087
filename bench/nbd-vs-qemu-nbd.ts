/**
 * The NBD export against qemu-nbd, serving the same image of the same glusterts volume:
 *   glusterts nbd:  fio → NBD → glusterts TypeScript client → brick
 *   qemu-nbd:       fio → NBD → QEMU block layer → gluster driver (stock C libgfapi) → brick
 * with fio's nbd engine: sequential 1 MiB read/write (queue depth 4) and 4 KiB random
 * read/write at queue depth 16; rows alternate between the two servers.
 *
 *   node dist/bench/nbd-vs-qemu-nbd.js [--repeat 3] [--runtime 8] [--size 512M]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { glusterUri, startGlusterts } from '../test/support/glusterts-up.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    runtime: { type: 'string', default: '8' },
    size: { type: 'string', default: '512M' },
  },
});
const HOST = '127.0.0.10';
const OURS = `nbd://${HOST}:10809/vms/nbd.img`;
const QEMU = `nbd://${HOST}:10810/vms/nbd.img`;

interface Row {
  name: string;
  rw: string;
  bs: string;
  depth: number;
}
const ROWS: Row[] = [
  { name: 'seq-read 1M qd4', rw: 'read', bs: '1M', depth: 4 },
  { name: 'seq-write 1M qd4', rw: 'write', bs: '1M', depth: 4 },
  { name: 'rand-read 4k qd16', rw: 'randread', bs: '4k', depth: 16 },
  { name: 'rand-write 4k qd16', rw: 'randwrite', bs: '4k', depth: 16 },
];

function fio(uri: string, row: Row, timeBased = true): number {
  const args = [
    '--name=n',
    '--ioengine=nbd',
    `--uri=${uri}`,
    `--rw=${row.rw}`,
    `--bs=${row.bs}`,
    `--iodepth=${row.depth}`,
    `--size=${values.size}`,
    ...(timeBased ? ['--time_based', `--runtime=${values.runtime}`] : []),
    '--output-format=json',
  ];
  const res = spawnSync('fio', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`fio ${uri}: ${res.stderr}`);
  const job = (
    JSON.parse(res.stdout.slice(res.stdout.indexOf('{'))) as {
      jobs: { read: { bw: number }; write: { bw: number } }[];
    }
  ).jobs[0]!;
  return (row.rw.includes('read') ? job.read.bw : job.write.bw) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const g = await startGlusterts({ host: HOST });
  let qemuNbd: ChildProcess | undefined;
  const results = new Map<string, { ours: number[]; qemu: number[] }>();
  try {
    const image = glusterUri(g, 'nbd.img');
    const mk = spawnSync('qemu-img', ['create', '-f', 'raw', image, values.size!], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`qemu-img create: ${mk.stderr}`);
    qemuNbd = spawn(
      'qemu-nbd',
      [
        '-f',
        'raw',
        '-t',
        '--shared=8',
        '--cache=none',
        '-b',
        HOST,
        '-p',
        '10810',
        '-x',
        'vms/nbd.img',
        image,
      ],
      {
        stdio: 'ignore',
      },
    );
    await new Promise((r) => setTimeout(r, 3000));
    // Fill the image once so reads read data, through our export.
    fio(OURS, { name: 'fill', rw: 'write', bs: '1M', depth: 8 }, false);
    for (let i = 0; i < Number(values.repeat); i++) {
      for (const row of ROWS) {
        const r = results.get(row.name) ?? { ours: [], qemu: [] };
        results.set(row.name, r);
        for (const side of i % 2 === 0 ? (['qemu', 'ours'] as const) : (['ours', 'qemu'] as const)) {
          r[side].push(fio(side === 'ours' ? OURS : QEMU, row));
        }
      }
    }
  } finally {
    qemuNbd?.kill('SIGTERM');
    if (qemuNbd) await new Promise((r) => qemuNbd!.once('exit', r));
    await g.stop();
    rmSync('/tmp/fio_gfapi.log', { force: true });
  }
  console.log(
    `fio nbd engine; ${cpus().length} CPUs; ${values.repeat} runs × ${values.runtime} s; MiB/s medians (min–max)`,
  );
  console.log(
    '| workload | qemu-nbd (gluster driver, C libgfapi) | glusterts NBD export | glusterts / qemu-nbd |',
  );
  console.log('|---|---:|---:|---:|');
  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  for (const row of ROWS) {
    const r = results.get(row.name)!;
    console.log(
      `| ${row.name} | ${fmt(r.qemu)} | ${fmt(r.ours)} | ${(median(r.ours) / median(r.qemu)).toFixed(2)}× |`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
