import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etaIoDone, etaRunning, fioArgs, parseFioJson } from '../../src/peers/fio.js';
import { percentiles } from '../../src/bench/client-load.js';
import { parseSize } from '../../src/bench/model.js';
import { parseGuestConsole } from '../../src/bench/guest.js';
import { parseQemuBench, qemuBenchArgs, qemuBenchDone } from '../../src/peers/qemu.js';
import { parseBenchArgs } from '../../src/cli/commands/bench.js';
import { shardVolumeOptions } from '../../src/bench/env.js';

/** Trimmed fio 3.33 JSON (no group_reporting): 4 jobs of a 128k seq read. */
const FIO_JSON = `note: both iodepth >= 1 and synchronous I/O engine are selected, queue depth will be capped at 1
{
  "fio version" : "fio-3.33",
  "jobs" : [
    { "jobname" : "bench", "groupid" : 0, "error" : 0,
      "read" : { "io_kbytes" : 262144, "bw" : 15769, "iops" : 123.2, "clat_ns" : { "mean" : 8000000.0 } },
      "write" : { "io_kbytes" : 0, "bw" : 0, "iops" : 0.0, "clat_ns" : { "mean" : 0.0 } } },
    { "jobname" : "bench", "groupid" : 0, "error" : 0,
      "read" : { "io_kbytes" : 262144, "bw" : 17488, "iops" : 136.6, "clat_ns" : { "mean" : 7000000.0 } },
      "write" : { "io_kbytes" : 0, "bw" : 0, "iops" : 0.0, "clat_ns" : { "mean" : 0.0 } } },
    { "jobname" : "bench", "groupid" : 0, "error" : 0,
      "read" : { "io_kbytes" : 262144, "bw" : 16000, "iops" : 125.0, "clat_ns" : { "mean" : 8000000.0 } },
      "write" : { "io_kbytes" : 0, "bw" : 0, "iops" : 0.0, "clat_ns" : { "mean" : 0.0 } } },
    { "jobname" : "bench", "groupid" : 0, "error" : 0,
      "read" : { "io_kbytes" : 262144, "bw" : 13819, "iops" : 108.0, "clat_ns" : { "mean" : 9000000.0 } },
      "write" : { "io_kbytes" : 0, "bw" : 0, "iops" : 0.0, "clat_ns" : { "mean" : 0.0 } } }
  ]
}`;

test('fio JSON: aggregate is the sum of the jobs, per-file figures kept in order', () => {
  const r = parseFioJson(FIO_JSON, 'read');
  assert.equal(r.aggregateKiBps, 15769 + 17488 + 16000 + 13819);
  assert.deepEqual(r.perJobKiBps, [15769, 17488, 16000, 13819]);
  assert.ok(Math.abs(r.iops - 492.8) < 1e-9);
  assert.equal(r.meanLatUs, 8000);
  assert.equal(parseFioJson(FIO_JSON, 'write').aggregateKiBps, 0);
});

test('fio JSON: errors and empty output are refused', () => {
  assert.throws(() => parseFioJson('fio: engine gfapi not loadable', 'read'), /no JSON/);
  assert.throws(() => parseFioJson('{"jobs":[]}', 'read'), /no jobs/);
  const failed = JSON.stringify({
    jobs: [{ jobname: 'x', error: 5, read: { bw: 0, iops: 0 }, write: { bw: 0, iops: 0 } }],
  });
  assert.throws(() => parseFioJson(failed, 'read'), /error 5/);
});

test('fio ETA lines: IO is done once every job is finishing, exited or reaped', () => {
  assert.equal(etaIoDone('Jobs: 4 (f=0)'), false);
  assert.equal(etaIoDone('Jobs: 4 (f=0): [W(4)][60.0%][eta 00m:02s]'), false);
  assert.equal(etaIoDone('Jobs: 4 (f=4): [W(3),f(1)][100.0%][w=602MiB/s][eta 00m:00s]'), false);
  assert.equal(etaIoDone('Jobs: 4 (f=0): [f(4)][100.0%][eta 00m:00s]   '), true);
  assert.equal(etaIoDone('Jobs: 2 (f=0): [f(2),_(2)][100.0%][eta 00m:00s]'), true);
  assert.equal(etaIoDone('Jobs: 1 (f=0): [E(1)][100.0%][eta 00m:00s]'), true);
});

test('fio arguments: gfapi jobs name volume and brick, file jobs a directory', () => {
  const g = fioArgs(
    {
      rw: 'randread',
      bs: '4k',
      ioengine: 'gfapi_async',
      iodepth: 4,
      jobs: 4,
      size: '32M',
      runtime: 2,
      volume: 'v',
      host: '127.0.0.3',
    },
    '/tmp/o.json',
  );
  for (const a of [
    '--ioengine=gfapi_async',
    '--volume=v',
    '--brick=127.0.0.3',
    '--direct=1',
    '--numjobs=4',
    '--iodepth=4',
    '--time_based',
    '--runtime=2',
    '--output=/tmp/o.json',
  ])
    assert.ok(g.includes(a), a);
  const f = fioArgs(
    {
      rw: 'write',
      bs: '1M',
      ioengine: 'psync',
      iodepth: 1,
      jobs: 4,
      size: '8M',
      runtime: 0,
      directory: '/d',
    },
    '/o',
  );
  assert.ok(f.includes('--directory=/d'));
  assert.ok(!f.includes('--time_based'));
  assert.throws(() =>
    fioArgs({ rw: 'read', bs: '4k', ioengine: 'gfapi', iodepth: 1, jobs: 1, size: '1M', runtime: 1 }, '/o'),
  );
});

test('qemu-img bench output: bandwidth from count × size ÷ time', () => {
  const out =
    'Sending 1000 write requests, 131072 bytes each, 4 in parallel (starting at offset 0, step size 131072)\nRun completed in 0.500 seconds.\n';
  assert.equal(qemuBenchDone(out), true);
  assert.equal(qemuBenchDone(out.split('\n')[0]!), false);
  const r = parseQemuBench(out);
  assert.equal(r.count, 1000);
  assert.equal(r.bytes, 131072);
  assert.equal(r.depth, 4);
  assert.equal(r.kibps, (1000 * 128) / 0.5);
  assert.equal(r.iops, 2000);
  assert.throws(() => parseQemuBench('qemu-img: Could not open image'), /unexpected/);
  assert.deepEqual(
    qemuBenchArgs({ image: 'gluster://h/v/f', write: true, bytes: 131072, depth: 4, count: 10 }),
    ['bench', '-f', 'raw', '-t', 'none', '-d', '4', '-s', '131072', '-c', '10', '-w', 'gluster://h/v/f'],
  );
});

test('sizes: k/m/g suffixes are binary', () => {
  assert.equal(parseSize('128k'), 131072);
  assert.equal(parseSize('256M'), 256 << 20);
  assert.equal(parseSize('1G'), 1 << 30);
  assert.equal(parseSize('4096'), 4096);
  assert.throws(() => parseSize('12q'));
});

test('guest console: fio JSON between markers, per disk and direction', () => {
  const job = (bw: number) =>
    `{"jobs":[${[0, 1, 2, 3].map(() => `{"jobname":"g","error":0,"read":{"bw":${bw},"iops":1},"write":{"bw":${bw * 2},"iops":1}}`).join(',')}]}`;
  const text = [
    '[    0.000000] Linux version 6.1.0',
    'GUEST-BEGIN',
    'GUEST-FIO base read',
    job(100),
    'GUEST-FIO-END',
    'GUEST-FIO base write',
    'fio: some warning',
    job(50),
    'GUEST-FIO-END',
    'GUEST-FIO native-stock read',
    job(10),
    'GUEST-FIO-END',
    'GUEST-END',
  ].join('\r\n');
  const r = parseGuestConsole(text);
  assert.deepEqual([...r.keys()], ['base', 'native-stock']);
  assert.equal(r.get('base')!.get('read')!.aggregateKiBps, 400);
  assert.equal(r.get('base')!.get('write')!.aggregateKiBps, 400);
  assert.deepEqual(r.get('native-stock')!.get('read')!.perJobKiBps, [10, 10, 10, 10]);
  assert.equal(r.get('native-stock')!.get('write'), undefined);
});

test('fio JSON: clat percentiles in µs keyed as asked, from the group (group_reporting)', () => {
  const doc = JSON.stringify({
    jobs: [
      {
        jobname: 'bench',
        error: 0,
        read: {
          bw: 4000,
          iops: 1000,
          clat_ns: {
            mean: 900000,
            percentile: { '50.000000': 700416, '99.000000': 5013504, '99.900000': 12910592 },
          },
        },
        write: { bw: 0, iops: 0 },
      },
    ],
  });
  const r = parseFioJson(doc, 'read');
  assert.deepEqual(r.clatUs, { '50': 700.416, '99': 5013.504, '99.9': 12910.592 });
  assert.equal(r.meanLatUs, 900);
  assert.deepEqual(parseFioJson(FIO_JSON, 'read').clatUs, {}); // no percentiles asked
});

test('fio arguments: percentiles group the jobs; nbd options stay before the first job', () => {
  const a = fioArgs(
    {
      rw: 'randwrite',
      bs: '4k',
      ioengine: 'nbd',
      iodepth: 4,
      jobs: 4,
      size: '32M',
      runtime: 2,
      nbdUris: ['nbd://h:1/v/bench.0', 'nbd://h:1/v/bench.1'],
      percentiles: [50, 99, 99.9],
    },
    '/o',
  );
  const firstJob = a.indexOf('--name=bench0');
  assert.ok(
    a.indexOf('--percentile_list=50:99:99.9') >= 0 && a.indexOf('--percentile_list=50:99:99.9') < firstJob,
  );
  assert.ok(a.indexOf('--group_reporting') >= 0 && a.indexOf('--group_reporting') < firstJob);
  assert.ok(a.includes('--uri=nbd://h:1/v/bench.1'));
  const plain = fioArgs(
    { rw: 'read', bs: '4k', ioengine: 'psync', iodepth: 1, jobs: 4, size: '1M', runtime: 1, directory: '/d' },
    '/o',
  );
  assert.ok(!plain.includes('--group_reporting'));
});

test('fio ETA lines: IO is under way once every job runs (or, before states show, has its file open)', () => {
  assert.equal(etaRunning('Jobs: 4 (f=4): [r(4)][45.0%][r=20.1MiB/s][r=5140 IOPS][eta 00m:01s]'), true);
  assert.equal(etaRunning('Jobs: 2 (f=2): [R(1),W(1)][-.-%][eta 00m:00s]'), true);
  assert.equal(etaRunning('Jobs: 4 (f=4)'), true); // fio's first second prints no states
  assert.equal(etaRunning('Jobs: 4 (f=2)'), false); // still opening
  assert.equal(etaRunning('Jobs: 4 (f=0)'), false);
  assert.equal(etaRunning('Jobs: 4 (f=3): [r(3),f(1)][100.0%][eta 00m:00s]'), false); // one finishing
  assert.equal(etaRunning('Jobs: 4 (f=0): [f(4)][100.0%][eta 00m:00s]'), false);
  // A line the pipe cut: every file still open, so the jobs are still doing IO.
  assert.equal(etaRunning('Jobs: 4 (f=4): [r(4)][4'), true);
  assert.equal(etaRunning('Jobs: 4 (f=0): [f(2'), false);
  assert.equal(etaRunning(''), false);
});

test('client-load percentiles: nearest rank over the samples', () => {
  const xs = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000 … 1
  assert.deepEqual(percentiles(xs, [50, 99, 99.9]), { '50': 500, '99': 990, '99.9': 999 });
  assert.deepEqual(percentiles(Float64Array.of(7), [50, 99.9]), { '50': 7, '99.9': 7 });
  assert.equal(xs[0], 1000); // the samples are left in place
});

test("bench arguments: --quick presets, --shard SIZE shards volume bench with stock's range", () => {
  const plain = parseBenchArgs(['--quick']);
  assert.equal(plain.options.shard, undefined, 'no shard unless asked');
  assert.deepEqual([plain.options.repeat, plain.options.size, plain.options.runtime], [1, '32M', 2]);
  const sharded = parseBenchArgs([
    '--quick',
    '--shard',
    '64MB',
    '--size',
    '256M',
    '--rows',
    'native-gfapi,fuse',
    '--workloads',
    'seq-read,rand-write',
    '--json',
    'out.json',
  ]);
  assert.equal(sharded.options.shard, '64MB');
  assert.equal(sharded.options.size, '256M');
  assert.deepEqual(sharded.options.rows, ['native-gfapi', 'fuse']);
  assert.deepEqual(sharded.options.workloads, ['seq-read', 'rand-write']);
  assert.equal(sharded.json, 'out.json');
  assert.deepEqual(shardVolumeOptions('64MB'), {
    'features.shard': 'on',
    'features.shard-block-size': '64MB',
  });
  assert.deepEqual(shardVolumeOptions('4m'), { 'features.shard': 'on', 'features.shard-block-size': '4MB' });
  assert.throws(() => parseBenchArgs(['--shard', '1MB']), /4MB to 4TB/);
  assert.throws(() => parseBenchArgs(['--shard', 'big']), /not a size/);
  assert.throws(() => parseBenchArgs(['--shard', '64MB', '--guest']), /not with --guest/);
  assert.throws(() => parseBenchArgs(['--rows', 'nope']), /--rows: unknown nope/);
  assert.throws(() => parseBenchArgs(['--repeat', '0']), /--repeat/);
});
