// The range set (merge, adjacency, coarsening), the records' memory bounds, the contract
// encoding the self-heal daemon reads, and the on-disk record format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FopError } from '../../../src/protocol/errno.js';
import { decodeHealRanges, encodeHealRanges } from '../../../src/xlators/heal-ranges/contract.js';
import { RangeSet, type ByteRange } from '../../../src/xlators/heal-ranges/range-set.js';
import { RangeRecords } from '../../../src/xlators/heal-ranges/records.js';
import { decodeRecord, encodeRecord } from '../../../src/xlators/heal-ranges/store.js';

const pairs = (s: RangeSet) => s.toArray().map((r) => [r.offset, r.offset + r.length]);

test('RangeSet: overlapping and adjacent ranges merge; disjoint ones stay sorted', () => {
  const s = new RangeSet();
  assert.equal(s.add(100, 10), 1);
  assert.equal(s.add(0, 10), 1);
  assert.equal(s.add(50, 10), 1);
  assert.deepEqual(pairs(s), [
    [0, 10],
    [50, 60],
    [100, 110],
  ]);
  assert.equal(s.add(10, 5), 0, 'adjacent on the left merges');
  assert.equal(s.add(45, 5), 0, 'adjacent on the right merges');
  assert.equal(s.add(55, 50), -1, 'one range bridging two');
  assert.deepEqual(pairs(s), [
    [0, 15],
    [45, 110],
  ]);
  assert.equal(s.add(0, 200), -1, 'a range covering everything');
  assert.deepEqual(pairs(s), [[0, 200]]);
  assert.equal(s.add(20, 0), 0, 'empty ranges add nothing');
  assert.equal(s.add(5, 3), 0, 'inside an existing range');
  assert.equal(s.bytes, 200);
});

test('RangeSet: random adds equal a byte map', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const s = new RangeSet();
  const bytes = new Uint8Array(4096);
  for (let i = 0; i < 500; i++) {
    const off = rnd(4000);
    const len = 1 + rnd(40);
    s.add(off, len);
    bytes.fill(1, off, off + len);
  }
  const expect: number[][] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (!bytes[i]) continue;
    const last = expect.at(-1);
    if (last && last[1] === i) last[1] = i + 1;
    else expect.push([i, i + 1]);
  }
  assert.deepEqual(pairs(s), expect);
});

test('RangeSet: random adds, removes and overlap queries equal a byte map', () => {
  let seed = 11;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const s = new RangeSet();
  const bytes = new Uint8Array(4096);
  for (let i = 0; i < 2000; i++) {
    const off = rnd(4000);
    const len = 1 + rnd(60);
    if (rnd(2)) {
      s.add(off, len);
      bytes.fill(1, off, off + len);
    } else {
      s.remove(off, len);
      bytes.fill(0, off, off + len);
    }
    const q = rnd(4000);
    const qlen = 1 + rnd(30);
    assert.equal(s.overlaps(q, qlen), bytes.subarray(q, q + qlen).includes(1), `overlaps(${q}, ${qlen})`);
  }
  const expect: number[][] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (!bytes[i]) continue;
    const last = expect.at(-1);
    if (last && last[1] === i) last[1] = i + 1;
    else expect.push([i, i + 1]);
  }
  assert.deepEqual(pairs(s), expect);
  // Removing from the middle splits a range; touching edges are not overlaps.
  const t = RangeSet.from([{ offset: 10, length: 20 }]);
  assert.equal(t.remove(15, 5), 1);
  assert.deepEqual(pairs(t), [
    [10, 15],
    [20, 30],
  ]);
  assert.equal(t.overlaps(15, 5), false);
  assert.equal(t.overlaps(30, 1), false);
  assert.equal(t.overlaps(29, 1), true);
  assert.equal(t.remove(0, 100), -2);
});

test('RangeSet.coarsen merges the smallest gaps first and never loses a byte', () => {
  const s = RangeSet.from([
    { offset: 0, length: 10 },
    { offset: 11, length: 1 }, // gap 1
    { offset: 100, length: 1 }, // gap 88
    { offset: 105, length: 1 }, // gap 4
    { offset: 1000, length: 1 }, // gap 894
  ]);
  assert.equal(s.coarsen(3), 2);
  assert.deepEqual(pairs(s), [
    [0, 12],
    [100, 106],
    [1000, 1001],
  ]);
  assert.equal(s.coarsen(5), 0, 'already within the target');
  assert.equal(s.coarsen(1), 2);
  assert.deepEqual(pairs(s), [[0, 1001]]);
  // Equal gaps: exactly as many merges as needed, left to right.
  const t = RangeSet.from([0, 10, 20, 30].map((o) => ({ offset: o, length: 5 })));
  t.coarsen(2);
  assert.deepEqual(pairs(t), [
    [0, 25],
    [30, 35],
  ]);
});

test('RangeRecords: per-inode coarsening, a global limit that damages, drops give memory back', () => {
  const r = new RangeRecords({ perInode: 8, total: 20 });
  r.ensure('a');
  for (let i = 0; i < 9; i++) r.note('a', i * 100, 10);
  const a = r.get('a')!;
  assert.equal(a.ranges!.count, 7, 'coarsened to 7/8 of the limit');
  assert.equal(r.totalRanges, 7);
  for (let i = 0; i < 9; i++)
    assert.ok(a.ranges!.toArray().some((x) => x.offset <= i * 100 && x.offset + x.length >= i * 100 + 10));
  r.note('nobody', 0, 10); // no record: nothing kept
  assert.equal(r.get('nobody'), undefined);
  r.ensure('b');
  for (let i = 0; i < 8; i++) r.note('b', i * 100, 10);
  assert.equal(r.totalRanges, 15);
  r.ensure('c');
  for (let i = 0; i < 6; i++) r.note('c', i * 100, 10);
  const c = r.get('c')!;
  assert.equal(c.ranges, null, 'c pushed the total past 20: damaged, its ranges freed');
  assert.equal(r.totalRanges, 15);
  const v = c.version;
  r.note('c', 0, 1);
  assert.equal(c.ranges, null, 'damage is sticky');
  assert.equal(c.version, v);
  r.drop('b');
  assert.equal(r.totalRanges, 7);
  r.drop('c');
  r.ensure('c');
  r.note('c', 0, 1);
  assert.equal(r.get('c')!.ranges!.count, 1, 'a new record after a drop starts complete');
});

test('contract: version 1, flags, count, big-endian (offset, length) pairs', () => {
  const ranges: ByteRange[] = [
    { offset: 0, length: 4096 },
    { offset: 2 ** 40, length: 2 ** 33 },
  ];
  const b = encodeHealRanges({ complete: true, ranges });
  assert.equal(b.toString('hex', 0, 8), '0101000000000002');
  assert.equal(b.toString('hex', 8, 24), '00000000000000000000000000001000');
  assert.equal(b.toString('hex', 24, 40), '00000100000000000000000200000000');
  assert.deepEqual(decodeHealRanges(b), { complete: true, ranges });
  const damaged = encodeHealRanges({ complete: false, ranges: [] });
  assert.equal(damaged.toString('hex'), '0100000000000000');
  assert.deepEqual(decodeHealRanges(damaged), { complete: false, ranges: [] });
  const bad = (buf: Buffer) =>
    assert.throws(
      () => decodeHealRanges(buf),
      (e: unknown) => e instanceof FopError && e.code === 'EINVAL',
    );
  bad(Buffer.alloc(4));
  bad(Buffer.from('0201000000000000', 'hex'));
  bad(b.subarray(0, 30));
  const unsorted = encodeHealRanges({ complete: true, ranges: [...ranges].reverse() });
  bad(unsorted);
  const adjacent = encodeHealRanges({
    complete: true,
    ranges: [
      { offset: 0, length: 10 },
      { offset: 10, length: 1 },
    ],
  });
  bad(adjacent);
});

test('record file: round trip, seal, and every torn or flipped byte reads as damaged', () => {
  const rec = {
    complete: true,
    ranges: [
      { offset: 0, length: 10 },
      { offset: 4096, length: 8192 },
    ],
    seal: { ctimeSec: 1_700_000_000, ctimeNsec: 123_456_789, size: 1 << 30 },
  };
  const b = encodeRecord(rec);
  assert.deepEqual(decodeRecord(b), rec);
  assert.deepEqual(decodeRecord(encodeRecord({ ...rec, seal: null, complete: false })), {
    ...rec,
    seal: null,
    complete: false,
  });
  for (let i = 0; i < b.length; i++) {
    const flipped = Buffer.from(b);
    flipped[i]! ^= 0x20;
    assert.equal(decodeRecord(flipped), null, `byte ${i} flipped`);
  }
  for (const len of [0, 10, 31, 32, b.length - 1]) assert.equal(decodeRecord(b.subarray(0, len)), null);
  assert.deepEqual(decodeRecord(Buffer.concat([b, Buffer.alloc(4000)])), rec, 'zero padding is allowed');
  assert.equal(decodeRecord(Buffer.concat([b, Buffer.alloc(10), Buffer.from([1])])), null, 'but only zeros');
});
