// The hash, layout assignment and directory cookies against stock GlusterFS 10.3:
// gf_dm_hashfn vectors computed with libglusterfs, and the ranges stock's DHT wrote on
// real bricks (docs/distribute.md: the name hash, layouts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assignLayout,
  decodeDirOffset,
  dmHash,
  encodeDirOffset,
  Layout,
  layoutProblem,
  NameHasher,
  statfsChunks,
} from '../../../src/xlators/distribute/index.js';

const VECTORS: [string | Buffer, number][] = [
  ['', 0x884774a2],
  ['abcd', 0xd89627f6],
  ['file1', 0xa787fa82],
  ['dir1', 0x7e4d63a8],
  ['0123456789abcdef', 0x6ecb5ada],
  ['0123456789abcdef0', 0x795ef9c7],
  ['x'.repeat(255), 0x8ca66f57],
  ['/', 0x8619bd58],
  ['/dir1', 0xc8cb193d],
  [Buffer.from('c3a974c3a9', 'hex'), 0xa2e5c9e9],
  [Buffer.from('8078', 'hex'), 0x621a40ae],
];

test('dmHash: stock gf_dm_hashfn vectors; name munging by rsync-hash-regex and extra-hash-regex', () => {
  for (const [input, want] of VECTORS) assert.equal(dmHash(Buffer.from(input)), want);
  const def = new NameHasher();
  assert.equal(def.hash('.file5.tmp'), dmHash(Buffer.from('file5')), 'rsync temp names hash as the target');
  assert.equal(def.hash('/dir1'), 0xc8cb193d, 'paths never match the default regex');
  assert.equal(
    new NameHasher({ rsyncHashRegex: 'none' }).hash('.file5.tmp'),
    dmHash(Buffer.from('.file5.tmp')),
  );
  const extra = new NameHasher({ extraHashRegex: '^(.+)\\.part[0-9]+$' });
  assert.equal(extra.hash('video.part7'), dmHash(Buffer.from('video')));
});

const hasher = new NameHasher();
const hex = (l: Layout) => l.entries.map((e) => `${e!.start.toString(16)}-${e!.stop.toString(16)}`);

test('assignLayout reproduces the ranges stock wrote: 4 bricks (/ and /dir1), 2 bricks, 3 bricks', () => {
  const four = ['dv-client-0', 'dv-client-1', 'dv-client-2', 'dv-client-3'];
  // OBS `dv` root: hash("/") % 4 = 0, so d1 starts at 0.
  const root = assignLayout({ names: four, key: '/', hasher, commit: 1, weights: [9, 9, 9, 9] });
  assert.deepEqual(hex(root), ['0-3ffffffe', '3fffffff-7ffffffd', '7ffffffe-bffffffc', 'bffffffd-ffffffff']);
  assert.deepEqual(root.diskLayout(0), Buffer.from('0000000100000000000000003ffffffe', 'hex'));
  // /dir1: hash % 4 = 1, so d2 gets 0x0 and d1 the last range.
  const dir1 = assignLayout({ names: four, key: '/dir1', hasher, commit: 0 });
  assert.deepEqual(hex(dir1), ['bffffffd-ffffffff', '0-3ffffffe', '3fffffff-7ffffffd', '7ffffffe-bffffffc']);
  // OBS `sv` (2 bricks): s1 0..7ffffffe, s2 7fffffff..ffffffff; /.shard starts on s1.
  for (const key of ['/', '/.shard']) {
    const two = assignLayout({ names: ['sv-client-0', 'sv-client-1'], key, hasher, commit: 1 });
    assert.deepEqual(hex(two), ['0-7ffffffe', '7fffffff-ffffffff'], key);
  }
  // 3 bricks: 0xffffffff / 3 is exact; the same layout the posix DHT tests replay.
  const three = assignLayout({
    names: ['tv-client-0', 'tv-client-1', 'tv-client-2'],
    key: '/',
    hasher,
    commit: 1,
  });
  assert.equal(0x8619bd58 % 3, 1);
  assert.deepEqual(hex(three), ['aaaaaaaa-ffffffff', '0-55555554', '55555555-aaaaaaa9']);
  for (const l of [root, dir1, three]) assert.equal(layoutProblem(l.entries), '');
});

test('assignLayout: strcmp order of names, weights from STATFS, subvolumes left out', () => {
  // "vol-client-10" sorts before "vol-client-2": the round goes in that order.
  const names = Array.from({ length: 11 }, (_, i) => `vol-client-${i}`);
  const l = assignLayout({ names, key: '/', hasher, commit: 1 });
  const byStart = l.entries.map((e, i) => [e!.start, names[i]!] as const).sort((a, b) => a[0] - b[0]);
  const first = 0x8619bd58 % 11;
  const sorted = [...names].sort();
  assert.deepEqual(
    byStart.map(([, n]) => n),
    sorted.map((_, k) => sorted[(first + k) % 11]),
  );
  // Weighted: a brick twice the size gets twice the range.
  const w = assignLayout({ names: ['a', 'b', 'c'], key: '/x', hasher, commit: 0, weights: [100, 200, 100] });
  const width = (i: number) => w.entries[i]!.stop - w.entries[i]!.start + 1;
  assert.ok(Math.abs(width(1) / width(0) - 2) < 1e-6 && Math.abs(width(0) / width(2) - 1) < 1e-6);
  assert.equal(layoutProblem(w.entries), '');
  // A zero weight anywhere: unweighted, as stock.
  const z = assignLayout({ names: ['a', 'b', 'c'], key: '/x', hasher, commit: 0, weights: [100, 0, 100] });
  assert.deepEqual(hex(z), hex(assignLayout({ names: ['a', 'b', 'c'], key: '/x', hasher, commit: 0 })));
  // A subvolume without the directory takes no range; the others cover everything.
  const e = assignLayout({
    names: ['a', 'b', 'c'],
    key: '/x',
    hasher,
    commit: 0,
    eligible: [true, false, true],
  });
  assert.deepEqual([e.entries[1]!.start, e.entries[1]!.stop], [0, 0]);
  assert.equal(layoutProblem(e.entries), '');
  // dht_du_info_cbk: 1 MiB chunks, rounded up.
  assert.equal(statfsChunks(4096n, 256n), 1);
  assert.equal(statfsChunks(4096n, 257n), 2);
  assert.equal(statfsChunks(4096n, 0n), 0);
});

test('Layout: search, holes, overlaps, merged commit hash', () => {
  const l = new Layout([
    { commit: 5, type: 0, start: 0, stop: 0x7fffffff },
    { commit: 5, type: 0, start: 0x80000000, stop: 0xffffffff },
    null,
  ]);
  assert.equal(l.search(0x10), 0);
  assert.equal(l.search(0xffffffff), 1);
  assert.equal(l.commit, 5);
  assert.deepEqual(l.missing, [2]);
  assert.ok(l.sound);
  const mixed = new Layout([
    { commit: 5, type: 0, start: 0, stop: 0x7fffffff },
    { commit: 7, type: 0, start: 0x80000000, stop: 0xfffffffe },
  ]);
  assert.equal(mixed.commit, 1, 'different commit hashes merge to 1');
  assert.match(mixed.problem, /hole/);
  assert.equal(mixed.search(0xffffffff), -1);
  assert.match(
    layoutProblem([
      { commit: 0, type: 0, start: 0, stop: 0xffffffff },
      { commit: 0, type: 0, start: 5, stop: 9 },
    ]),
    /overlap/,
  );
});

test('directory cookies: stock gf_itransform encoding round-trips', () => {
  for (const max of [2, 3, 4, 7, 16]) {
    for (const off of [1n, 2n, 77n, 123456789n, (1n << 40n) + 1n]) {
      for (let s = 0; s < max; s++) {
        const c = encodeDirOffset(off, s, max);
        assert.deepEqual(decodeDirOffset(c, max), { subvol: s, offset: off });
      }
    }
  }
  assert.equal(encodeDirOffset(5n, 2, 3), 17n, 'x*max + subvol');
  assert.deepEqual(decodeDirOffset(0n, 3), { subvol: 0, offset: 0n }, 'start of directory');
  // Huge offsets keep the subvolume and lose the lowest bit, as stock.
  const huge = (1n << 62n) + 12345n;
  const c = encodeDirOffset(huge, 2, 3);
  assert.equal(decodeDirOffset(c, 3).subvol, 2);
  assert.equal(decodeDirOffset(c, 3).offset, huge & ~3n);
});
