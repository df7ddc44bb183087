import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparisonTable, formatSummary } from '../../src/peers/stats.js';

test('formatSummary: median with the range', () => {
  assert.equal(formatSummary([3, 1, 2]), '2.0 (1.0–3.0)');
  assert.equal(formatSummary([10, 20], 0), '15 (10–20)');
});

test('comparisonTable: one line per workload, ratio of the medians b / a', () => {
  const table = comparisonTable({ a: 'C', b: 'TS', ratio: 'TS / C' }, [
    { name: 'seq-read', a: [100, 90, 110], b: [50, 55, 45] },
  ]);
  assert.equal(
    table,
    [
      '| workload | C | TS | TS / C |',
      '|---|---:|---:|---:|',
      '| seq-read | 100.0 (90.0–110.0) | 50.0 (45.0–55.0) | 0.50× |',
    ].join('\n'),
  );
});
