import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../src/bench/model.js';
import {
  buildTables,
  evaluateGoals,
  renderCpuTable,
  renderGoals,
  renderTables,
} from '../../src/bench/report.js';
import { median, ratio, summarize } from '../../src/peers/stats.js';

test('median, min, max over repeats; ratios', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]));
  assert.deepEqual(summarize([5, 9, 7]), { median: 7, min: 5, max: 9, n: 3 });
  assert.equal(ratio(50, 100), 0.5);
  assert.equal(ratio(50, 0), undefined);
  assert.equal(ratio(50, undefined), undefined);
});

const ROWS = [
  { id: 'base', label: 'Base' },
  { id: 'fuse', label: 'FUSE mount' },
  { id: 'native-gfapi', label: 'QEMU-GlusterFS native integration: fio gfapi' },
];

function bw(row: string, system: Sample['system'], repeat: number, perFile: number[]): Sample {
  return {
    row,
    system,
    workload: 'seq-read',
    repeat,
    tool: 'fio',
    aggregateKiBps: perFile.reduce((a, b) => a + b, 0),
    perFileKiBps: perFile,
    iops: 1,
    at: '2026-01-01T00:00:00Z',
  };
}

/** The seed's seq-read table as samples (Base, FUSE, native), twice with drift. */
const SAMPLES: Sample[] = [
  bw('base', 'local', 0, [15769, 17488, 15000, 14819]), // 63076
  bw('base', 'local', 1, [16000, 16000, 16000, 16000]), // 64000
  bw('base', 'local', 2, [15500, 15500, 15500, 15500]), // 62000
  bw('fuse', 'stock', 0, [7348, 9266, 6389, 6389]), // 29392
  bw('native-gfapi', 'stock', 0, [13402, 14909, 12649, 12649]), // 53609
  bw('native-gfapi', 'glusterts', 0, [15742, 17962, 14632, 14632]), // 62968
  {
    row: 'base',
    system: 'local',
    workload: 'open-close',
    repeat: 0,
    tool: 'qemu-io',
    openMs: 10,
    wallMs: 20,
    at: '',
  },
  {
    row: 'fuse',
    system: 'stock',
    workload: 'open-close',
    repeat: 0,
    tool: 'qemu-io',
    openMs: 30,
    wallMs: 40,
    at: '',
  },
  {
    row: 'fuse',
    system: 'glusterts',
    workload: 'open-close',
    repeat: 0,
    tool: 'qemu-io',
    openMs: 20,
    wallMs: 20,
    at: '',
  },
];

test('tables: medians over repeats, per-file min/max, ratio to Base', () => {
  const tables = buildTables(SAMPLES, ROWS, '128k');
  assert.deepEqual(
    tables.map((t) => t.workload.id),
    ['seq-read', 'open-close'],
  );
  const [seq, lat] = tables;
  assert.deepEqual(
    seq!.lines.map((l) => `${l.row}/${l.system}`),
    ['base/local', 'fuse/stock', 'native-gfapi/glusterts', 'native-gfapi/stock'],
  );
  const base = seq!.lines[0]!;
  assert.deepEqual(base.aggregate, { median: 63076, min: 62000, max: 64000, n: 3 });
  assert.equal(base.minFile!.median, 15500); // per run: 14819, 16000, 15500
  assert.equal(base.maxFile!.median, 16000); // per run: 17488, 16000, 15500
  assert.equal(base.toBase, 1);
  const fuse = seq!.lines[1]!;
  assert.equal(fuse.toBase, 29392 / 63076);
  assert.equal(fuse.minFile!.median, 6389);
  assert.equal(fuse.maxFile!.median, 9266);
  const stockFuse = lat!.lines.find((l) => l.row === 'fuse' && l.system === 'stock')!;
  assert.equal(stockFuse.toBase, 2);
  assert.equal(stockFuse.openToBase, 3);
});

test('seed-format rendering: title, header, one line per row and system', () => {
  const text = renderTables(buildTables(SAMPLES, ROWS, '128k'));
  const lines = text.split('\n');
  assert.ok(lines.includes('Seq read, 4 files with direct io, 128k blocks'));
  assert.ok(lines.includes('| | Aggregate BW (kB/s) | Min BW (kB/s) | Max BW (kB/s) | IOPS | × Base |'));
  assert.ok(lines.includes('| Base | 63076 (62000–64000) | 15500 | 16000 | 1 | 1.00× |'), text);
  assert.ok(lines.includes('| FUSE mount (stock GlusterFS 10.3) | 29392 | 6389 | 9266 | 1 | 0.47× |'), text);
  assert.ok(
    lines.includes(
      '| QEMU-GlusterFS native integration: fio gfapi (stock GlusterFS 10.3) | 53609 | 12649 | 14909 | 1 | 0.85× |',
    ),
    text,
  );
  assert.ok(lines.includes('| FUSE mount (glusterts) | 20 | 20 | 2.00× | 1.00× |'), text);
});

test('goals: native vs Base and FUSE, glusterts vs stock', () => {
  const goals = evaluateGoals(buildTables(SAMPLES, ROWS, '128k'));
  const get = (goal: string, detail: string) => goals.find((g) => g.goal === goal && g.detail === detail);
  assert.equal(get('native ≥ 0.95× Base', 'seq-read native-gfapi (stock)')!.met, false);
  assert.equal(get('native ≥ 0.95× Base', 'seq-read native-gfapi (glusterts)')!.met, true);
  const nf = get('native ≥ 2× FUSE', 'seq-read native-gfapi (stock)')!;
  assert.equal(nf.value, 53609 / 29392);
  assert.equal(nf.met, false);
  assert.equal(get('native ≥ 2× FUSE', 'seq-read native-gfapi (glusterts)'), undefined); // no glusterts FUSE line
  assert.equal(get('glusterts ≥ stock', 'seq-read native-gfapi')!.value, 62968 / 53609);
  // Latency: stock time ÷ glusterts time.
  assert.equal(get('glusterts ≥ stock', 'open-close fuse')!.value, 2);
  assert.match(renderGoals(goals), /\| glusterts ≥ stock \| seq-read native-gfapi \| 1\.17× \| yes \|/);
});

/** A latency sample: percentiles in µs, CPU over a 2 s window at `iops`. */
function lat(
  row: string,
  system: Sample['system'],
  depth: number,
  p: [number, number, number],
  iops: number,
  cpuUs: [number, number],
): Sample {
  return {
    row,
    system,
    workload: 'lat-rand-read',
    repeat: 0,
    depth,
    tool: 'fio',
    aggregateKiBps: iops * 4,
    perFileKiBps: [iops * 4],
    iops,
    clatUs: { '50': p[0], '99': p[1], '99.9': p[2] },
    cpu: { clientUs: cpuUs[0], serverUs: cpuUs[1], seconds: 2, ios: iops * 2, bytes: iops * 2 * 4096 },
    at: '',
  };
}

const LAT_SAMPLES: Sample[] = [
  lat('native-gfapi', 'stock', 1, [500, 2000, 8000], 1000, [200_000, 300_000]),
  lat('native-gfapi', 'glusterts', 1, [400, 3000, 4000], 1200, [240_000, 240_000]),
  lat('native-gfapi', 'glusterts', 16, [2000, 9000, 20000], 5000, [1_000_000, 500_000]),
  lat('native-gfapi', 'stock', 16, [2500, 9000, 10000], 4000, [800_000, 800_000]),
];

test('latency tables: a line per row, depth and system, percentiles × stock on glusterts lines', () => {
  const [t] = buildTables(LAT_SAMPLES, ROWS, '128k');
  assert.equal(t!.workload.id, 'lat-rand-read');
  assert.deepEqual(
    t!.lines.map((l) => `${l.system}/${l.depth}`),
    ['glusterts/1', 'stock/1', 'glusterts/16', 'stock/16'],
  );
  const g1 = t!.lines[0]!;
  assert.equal(g1.clat!['99.9']!.median, 4000);
  assert.equal(g1.cpu!.unit, 'IO');
  assert.equal(g1.cpu!.total.median, 480_000 / 2400);
  const text = renderTables([t!]);
  const lines = text.split('\n');
  assert.match(
    lines[0]!,
    /^Random read completion latency, 4k blocks, direct io, at queue depth 1 \(1 file\) and 16 \(4 files\)/,
  );
  assert.ok(
    lines.includes(
      '| | depth | p50 (µs) | p99 (µs) | p99.9 (µs) | IOPS | CPU µs/IO | p50 / p99 / p99.9 × stock |',
    ),
    text,
  );
  assert.ok(
    lines.includes(
      '| QEMU-GlusterFS native integration: fio gfapi (glusterts) | 1 | 400 | 3000 | 4000 | 1200 | 200 | 0.80× / 1.50× / 0.50× |',
    ),
    text,
  );
  assert.ok(
    lines.includes(
      '| QEMU-GlusterFS native integration: fio gfapi (stock GlusterFS 10.3) | 16 | 2500 | 9000 | 10000 | 4000 | 200 |  |',
    ),
    text,
  );
  // Latency tables set no goals and no ratio to Base, and the SVG leaves them out.
  assert.deepEqual(evaluateGoals([t!]), []);
  assert.equal(g1.toBase, undefined);
});

test('CPU per IO: per IO for random, per MiB for sequential; client + server; goals stock ÷ glusterts', () => {
  const withCpu = (s: Sample, clientUs: number, serverUs: number, seconds = 2): Sample => ({
    ...s,
    cpu: {
      clientUs,
      serverUs,
      seconds,
      ios: (s.iops ?? 0) * seconds,
      bytes: s.aggregateKiBps! * 1024 * seconds,
    },
  });
  const samples: Sample[] = [
    // 64000 KiB/s for 2 s = 125 MiB.
    withCpu(bw('base', 'local', 0, [16000, 16000, 16000, 16000]), 125_000, 0),
    withCpu(bw('native-gfapi', 'stock', 0, [16000, 16000, 16000, 16000]), 250_000, 250_000),
    withCpu(bw('native-gfapi', 'glusterts', 0, [16000, 16000, 16000, 16000]), 250_000, 125_000),
    bw('fuse', 'stock', 0, [1, 1, 1, 1]), // no CPU figures (e.g. a window too short)
  ];
  const tables = buildTables(samples, ROWS, '128k');
  const line = (row: string, system: string) =>
    tables[0]!.lines.find((l) => l.row === row && l.system === system)!;
  assert.deepEqual(line('native-gfapi', 'glusterts').cpu, {
    unit: 'MiB',
    total: { median: 3000, min: 3000, max: 3000, n: 1 },
    client: { median: 2000, min: 2000, max: 2000, n: 1 },
    server: { median: 1000, min: 1000, max: 1000, n: 1 },
  });
  assert.equal(line('fuse', 'stock').cpu, undefined);
  const text = renderCpuTable(tables).split('\n');
  assert.match(text[0]!, /^CPU per IO: user\+sys µs of client and server processes/);
  assert.ok(text.includes('| | seq-read µs/MiB |'), text.join('\n'));
  assert.ok(text.includes('| Base | 1000 |'), text.join('\n'));
  assert.ok(
    text.includes('| QEMU-GlusterFS native integration: fio gfapi (glusterts) | 3000 = 2000 + 1000, 0.75× |'),
    text.join('\n'),
  );
  assert.ok(
    text.includes(
      '| QEMU-GlusterFS native integration: fio gfapi (stock GlusterFS 10.3) | 4000 = 2000 + 2000 |',
    ),
    text.join('\n'),
  );
  assert.ok(!text.some((l) => l.startsWith('| FUSE')));
  const g = evaluateGoals(tables).find((x) => x.goal === 'glusterts CPU per IO ≤ stock')!;
  assert.equal(g.detail, 'seq-read native-gfapi');
  assert.equal(g.value, 4000 / 3000);
  assert.equal(g.met, true);
  assert.equal(renderCpuTable(buildTables(SAMPLES, ROWS, '128k')), ''); // no CPU figures, no table
});
