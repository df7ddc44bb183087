/**
 * fio's gfapi engines (stock C libgfapi 10.3) against a glusterts volume and a stock
 * GlusterFS 10.3 volume, in one run, rows alternating between the two systems:
 *
 *   seq-read / seq-write   128 KiB blocks, 4 jobs, direct=1, ioengine=gfapi
 *   rand-read / rand-write 4 KiB blocks, iodepth 16, direct=1, ioengine=gfapi_async
 *
 * fio's gfapi engine always uses port 24007, so each system gets its own loopback
 * address: stock glusterd on 127.0.0.2, glusterts on 127.0.0.3. Both bricks live on the
 * same filesystem. Prints a table of medians with min/max and the glusterts/stock ratio;
 * --json FILE writes every sample.
 *
 *   node dist/bench/fio-gfapi.js [--repeat 3] [--runtime 10] [--size 256M] [--json out.json]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStockGluster } from '../test/support/stock-gluster.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    runtime: { type: 'string', default: '10' },
    size: { type: 'string', default: '256M' },
    json: { type: 'string' },
    rows: { type: 'string', default: 'seq-read,seq-write,rand-read,rand-write' },
  },
});
const repeat = Number(values.repeat);
const runtime = Number(values.runtime);

interface Workload {
  name: string;
  rw: string;
  bs: string;
  engine: 'gfapi' | 'gfapi_async';
  jobs: number;
  iodepth: number;
}
const ALL_WORKLOADS: Workload[] = [
  { name: 'seq-read', rw: 'read', bs: '128k', engine: 'gfapi', jobs: 4, iodepth: 1 },
  { name: 'seq-write', rw: 'write', bs: '128k', engine: 'gfapi', jobs: 4, iodepth: 1 },
  { name: 'rand-read', rw: 'randread', bs: '4k', engine: 'gfapi_async', jobs: 1, iodepth: 16 },
  { name: 'rand-write', rw: 'randwrite', bs: '4k', engine: 'gfapi_async', jobs: 1, iodepth: 16 },
];
const WORKLOADS = ALL_WORKLOADS.filter((w) => values.rows!.split(',').includes(w.name));

/** Runs one fio job against `host`/`volume`; returns aggregate KiB/s and IOPS. */
function fio(host: string, volume: string, w: Workload, dir: string): { kibps: number; iops: number } {
  const args = [
    `--name=${w.name}`,
    `--ioengine=${w.engine}`,
    `--volume=${volume}`,
    `--brick=${host}`,
    `--rw=${w.rw}`,
    `--bs=${w.bs}`,
    `--numjobs=${w.jobs}`,
    `--iodepth=${w.iodepth}`,
    '--direct=1',
    `--size=${values.size}`,
    '--time_based',
    `--runtime=${runtime}`,
    '--group_reporting',
    '--output-format=json',
    // Each job works on its own file; reads need it laid out first.
    `--filename_format=bench.$jobnum`,
  ];
  const res = spawnSync('fio', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`fio failed on ${host}: ${res.stderr}`);
  const out = JSON.parse(res.stdout.slice(res.stdout.indexOf('{'))) as {
    jobs: { read: { bw: number; iops: number }; write: { bw: number; iops: number } }[];
  };
  const job = out.jobs[0]!;
  const side = w.rw.includes('read') ? job.read : job.write;
  return { kibps: side.bw, iops: side.iops };
}

/** Lays the files out once per system so read rows read real data. */
function layout(host: string, volume: string, dir: string): void {
  const args = [
    '--name=layout',
    '--ioengine=gfapi',
    `--volume=${volume}`,
    `--brick=${host}`,
    '--rw=write',
    '--bs=1M',
    '--numjobs=4',
    `--size=${values.size}`,
    '--filename_format=bench.$jobnum',
  ];
  const res = spawnSync('fio', args, { cwd: dir, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`fio layout failed on ${host}: ${res.stderr}`);
}

async function startGlusterts(dir: string): Promise<{ stop(): Promise<void>; child: ChildProcess }> {
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [cli, 'up', '--host', '127.0.0.3', '--data', dir, '--volume', 'benchvol'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`glusterts up did not get ready: ${out}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/Ctrl-C/.test(out)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.on('exit', (code) => fail(new Error(`glusterts up exited ${code}: ${out}`)));
  });
  return {
    child,
    stop: () =>
      new Promise<void>((ok) => {
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const base = mkdtempSync(join(tmpdir(), 'glusterts-bench-'));
  const stock = await startStockGluster({ volume: 'benchvol', dir: join(base, 'stock') });
  const ours = await startGlusterts(join(base, 'glusterts'));
  const samples: Record<string, { glusterts: number[]; stock: number[] }> = {};
  try {
    layout('127.0.0.2', 'benchvol', base);
    layout('127.0.0.3', 'benchvol', base);
    for (let i = 0; i < repeat; i++) {
      for (const w of WORKLOADS) {
        const s = (samples[w.name] ??= { glusterts: [], stock: [] });
        // Alternate which system goes first, so drift in the machine hits both.
        const order = i % 2 === 0 ? (['stock', 'glusterts'] as const) : (['glusterts', 'stock'] as const);
        for (const sys of order) {
          const host = sys === 'stock' ? '127.0.0.2' : '127.0.0.3';
          s[sys].push(fio(host, 'benchvol', w, base).kibps);
        }
      }
    }
  } finally {
    await ours.stop();
    await stock.stop();
    rmSync(base, { recursive: true, force: true });
  }
  console.log(
    `fio gfapi engines, stock libgfapi 10.3 client; ${cpus().length} CPUs; ${repeat} runs × ${runtime} s; medians (min–max) in MiB/s`,
  );
  console.log('| workload | stock glusterfsd 10.3 | glusterts brick | glusterts / stock |');
  console.log('|---|---:|---:|---:|');
  const fmt = (xs: number[]) =>
    `${(median(xs) / 1024).toFixed(1)} (${(Math.min(...xs) / 1024).toFixed(1)}–${(Math.max(...xs) / 1024).toFixed(1)})`;
  for (const w of WORKLOADS) {
    const s = samples[w.name]!;
    console.log(
      `| ${w.name} ${w.bs} ${w.engine} jobs=${w.jobs} qd=${w.iodepth} | ${fmt(s.stock)} | ${fmt(s.glusterts)} | ${(median(s.glusterts) / median(s.stock)).toFixed(2)}× |`,
    );
  }
  if (values.json)
    writeFileSync(values.json, JSON.stringify({ repeat, runtime, size: values.size, samples }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
