import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../src/bench/model.js';
import { buildTables, evaluateGoals, renderGoals, renderTables } from '../../src/bench/report.js';
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
