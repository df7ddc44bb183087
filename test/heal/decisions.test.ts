// The pure parts of heal: the changed-ranges record's codec and copy plan, and the
// split-brain policies' choices (ties refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeHealRanges,
  encodeHealRanges,
  pickSource,
  batchPieces,
  piecesToCopy,
  wholeFilePieces,
  type ByteRange,
} from '../../src/heal/index.js';
import { prng } from '../support/fsx.js';
import type { BrickState } from '../../src/heal/index.js';
import { zeroIatt } from '../../src/protocol/iatt.js';

test('heal-ranges record: round trip; incomplete, other versions, unsorted or truncated records are unusable', () => {
  const ranges = [
    { offset: 0n, length: 10n },
    { offset: 300_000n, length: 4096n },
  ];
  assert.deepEqual(decodeHealRanges(encodeHealRanges(ranges)), ranges);
  assert.equal(decodeHealRanges(encodeHealRanges(ranges, false)), undefined, 'not complete');
  const v2 = encodeHealRanges(ranges);
  v2[0] = 2;
  assert.equal(decodeHealRanges(v2), undefined, 'unknown version');
  assert.equal(decodeHealRanges(encodeHealRanges(ranges).subarray(0, 20)), undefined, 'truncated');
  assert.equal(decodeHealRanges(encodeHealRanges([...ranges].reverse())), undefined, 'unsorted');
  assert.equal(decodeHealRanges(undefined), undefined);
  assert.deepEqual(decodeHealRanges(encodeHealRanges([])), []);
});

const r = (offset: number, length: number): ByteRange => ({ offset: BigInt(offset), length: BigInt(length) });
const C = 131072;
const plan = (ranges: ByteRange[], size: number, maxGap = 16384) =>
  piecesToCopy(ranges, BigInt(size), { maxPiece: C, maxGap }).map((p) => [
    Number(p.offset),
    Number(p.length),
  ]);

test('pieces to copy: exactly the recorded ranges, cut at EOF, merged when they touch or overlap', () => {
  assert.deepEqual(plan([r(300_000, 4096)], 1_000_000), [[300_000, 4096]]);
  assert.deepEqual(plan([r(0, 4096), r(4096, 4096)], 1_000_000), [[0, 8192]], 'adjacent');
  assert.deepEqual(plan([r(4096, 8192), r(0, 8192)], 1_000_000), [[0, 12288]], 'overlapping, unsorted');
  assert.deepEqual(plan([r(900_000, 500_000)], 1_000_000), [[900_000, 100_000]], 'cut at EOF');
  assert.deepEqual(plan([r(2_000_000, 10)], 1_000_000), [], 'wholly past EOF (a truncate since)');
  assert.deepEqual(plan([r(1_000_000, 4096)], 1_000_000), [], 'starting at EOF');
  assert.deepEqual(plan([r(5000, 0)], 1_000_000), [], 'zero-length');
  assert.deepEqual(plan([], 1_000_000), [], 'an empty record: nothing to copy');
  assert.deepEqual(plan([r(999_424, 4096)], 1_000_000), [[999_424, 576]], 'the last, partial block');
  assert.deepEqual(
    plan([r(0, 300_000)], 1_000_000),
    [
      [0, C],
      [C, C],
      [2 * C, 300_000 - 2 * C],
    ],
    'a long range in pieces of at most one chunk',
  );
});

test('pieces to copy: small gaps bridged only while bytes stay within 2× the changed bytes and one piece', () => {
  assert.deepEqual(plan([r(0, 4096), r(12_288, 4096)], 1 << 20), [[0, 16_384]], '8 KiB gap, 8 KiB changed');
  assert.deepEqual(
    plan([r(0, 4096), r(13_000, 4096)], 1 << 20),
    [
      [0, 4096],
      [13_000, 4096],
    ],
    'the gap exceeds the changed bytes',
  );
  assert.deepEqual(
    plan([r(0, 65_536), r(100_000, 65_536)], 1 << 20),
    [
      [0, 65_536],
      [100_000, 65_536],
    ],
    'a gap above maxGap',
  );
  assert.deepEqual(
    plan([r(0, 100_000), r(110_000, 100_000)], 1 << 20, 65_536),
    [
      [0, 100_000],
      [110_000, 100_000],
    ],
    'bridging would make a piece longer than a chunk',
  );
  // Smallest gaps first: 1000 then 2000 fit the budget (4 × 1000 changed), 5000 no longer does.
  assert.deepEqual(plan([r(0, 1000), r(3000, 1000), r(5000, 1000), r(11_000, 1000)], 1 << 20), [
    [0, 6000],
    [11_000, 1000],
  ]);
  const rand = prng(3);
  const writes = Array.from({ length: 2600 }, () => r(Math.floor(rand() * 262_144) * 4096, 4096));
  const sorted = [...new Map(writes.map((w) => [w.offset, w])).values()].sort((a, b) =>
    a.offset < b.offset ? -1 : 1,
  );
  const changed = sorted.length * 4096;
  const pieces = plan(sorted, 1 << 30);
  const bytes = pieces.reduce((n, [, l]) => n + l!, 0);
  assert.ok(bytes >= changed && bytes <= 2 * changed, `${bytes} bytes for ${changed} changed`);
  assert.ok(pieces.length <= sorted.length && pieces.every(([, l]) => l! <= C));
});

test('batches: nearby pieces under one lock, bounded in bytes, count and span', () => {
  const o = { maxBytes: C, maxPieces: 3, maxSpan: 1 << 20 };
  const spans = (pieces: ByteRange[]) => batchPieces(pieces, o).map((b) => b.map((p) => Number(p.offset)));
  assert.deepEqual(spans([r(0, 4096), r(10_000, 4096), r(20_000, 4096), r(30_000, 4096)]), [
    [0, 10_000, 20_000],
    [30_000],
  ]);
  assert.deepEqual(spans([r(0, 4096), r(1 << 20, 4096)]), [[0], [1 << 20]], 'past the span');
  assert.deepEqual(spans([r(0, 100_000), r(200_000, 40_000)]), [[0], [200_000]], 'past the bytes');
  assert.deepEqual(spans([]), []);
  assert.deepEqual(
    batchPieces(wholeFilePieces(300_000n, C), o).map((b) => b.length),
    [1, 1, 1],
    'whole chunks: one per batch',
  );
});

test('whole-file pieces (no record): every chunk, the last one partial', () => {
  assert.deepEqual(
    wholeFilePieces(300_000n, C).map((p) => [Number(p.offset), Number(p.length)]),
    [
      [0, C],
      [C, C],
      [2 * C, 300_000 - 2 * C],
    ],
  );
  assert.deepEqual(wholeFilePieces(0n, C), []);
});

const brick = (size: number, mtime: number): BrickState => ({
  ok: true,
  stat: { ...zeroIatt(), size, mtime, ctime: mtime },
});

test('split-brain policies: bigger-file, latest-mtime, majority, source-brick; ties pick nothing', () => {
  const states = [brick(3000, 10), brick(2000, 20), brick(2000, 20)];
  assert.equal(pickSource({ kind: 'bigger-file' }, states, [0, 1, 2]), 0);
  assert.equal(
    typeof pickSource({ kind: 'latest-mtime' }, states, [0, 1, 2]),
    'string',
    'bricks 1 and 2 tie',
  );
  assert.equal(pickSource({ kind: 'latest-mtime' }, states, [0, 1]), 1);
  assert.equal(pickSource({ kind: 'majority' }, states, [0, 1, 2]), 1);
  assert.equal(pickSource({ kind: 'source-brick', brick: 2 }, states, [0, 1, 2]), 2);
  assert.equal(typeof pickSource({ kind: 'source-brick', brick: 2 }, states, [0, 1]), 'string');
  assert.equal(
    typeof pickSource({ kind: 'majority' }, [brick(1, 1), brick(2, 2), brick(3, 3)], [0, 1, 2]),
    'string',
  );
});
