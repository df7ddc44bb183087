// The pure parts of heal: the changed-ranges record's codec and chunk plan, and the
// split-brain policies' choices (ties refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunksToHeal, decodeHealRanges, encodeHealRanges, pickSource } from '../../src/heal/index.js';
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

test('chunks to heal: the 128 KiB chunks the ranges touch below EOF; every chunk without a record', () => {
  const C = 131072;
  assert.deepEqual(chunksToHeal([{ offset: 300_000n, length: 4096n }], 1_000_000n, C), [262144n]);
  assert.deepEqual(
    chunksToHeal(
      [
        { offset: 131_000n, length: 200n },
        { offset: 131_300n, length: 10n },
      ],
      1_000_000n,
      C,
    ),
    [0n, 131072n],
  );
  assert.deepEqual(chunksToHeal([{ offset: 900_000n, length: 500_000n }], 1_000_000n, C), [786432n, 917504n]);
  assert.deepEqual(chunksToHeal(undefined, 300_000n, C), [0n, 131072n, 262144n]);
  assert.deepEqual(chunksToHeal([{ offset: 2_000_000n, length: 10n }], 1_000_000n, C), [], 'past EOF');
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
