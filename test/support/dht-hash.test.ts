// The test helper's DHT hash against the vectors computed with stock libglusterfs 10.3
// (docs/distribute.md), and the layout helpers against the layouts stock wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhtNameHash, dmHash, layoutOwner, layoutProblem, parseLayout } from './dht-hash.js';

const VECTORS: [string | Buffer, number][] = [
  ['', 0x884774a2],
  ['a', 0x3a17e4e6],
  ['ab', 0xc3af40d9],
  ['abc', 0xba8bd29a],
  ['abcd', 0xd89627f6],
  ['abcde', 0x0a45ccec],
  ['file1', 0xa787fa82],
  ['file2', 0xa7b6b0e5],
  ['file3', 0x1c366097],
  ['dir1', 0x7e4d63a8],
  ['moved1', 0x38677a6f],
  ['top.txt', 0x7dc1e429],
  ['testfile', 0xee2adc7b],
  ['hello.txt', 0xe68d61cc],
  ['0123456789abcde', 0x9fc1c536],
  ['0123456789abcdef', 0x6ecb5ada],
  ['0123456789abcdef0', 0x795ef9c7],
  ['a-much-longer-file-name-for-testing-hash.dat', 0x3e5587fa],
  ['x'.repeat(255), 0x8ca66f57],
  ['/', 0x8619bd58],
  ['/dir1', 0xc8cb193d],
  ['.', 0xd3d143b3],
  ['..', 0xe1696c98],
  [Buffer.from('c3a974c3a9', 'hex'), 0xa2e5c9e9],
  [Buffer.from('ff', 'hex'), 0xee42408a],
  [Buffer.from('8078', 'hex'), 0x621a40ae],
  // Full paths DHT hashes to pick a directory's first subvolume (docs/distribute.md, Layouts).
  ['/dir3', 0xd381cf12],
  ['/dir1/sub', 0x46235125],
  ['/.shard', 0xd539e092],
];

test('dmHash matches gf_dm_hashfn on the stock test vectors (signed tail bytes, all lengths)', () => {
  for (const [input, want] of VECTORS) {
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    assert.equal(dmHash(bytes), want, `hash of ${JSON.stringify(bytes.toString('latin1'))}`);
  }
});

test('dhtNameHash hashes rsync temp names as their target (default rsync-hash-regex)', () => {
  assert.equal(dhtNameHash('.file5.tmp'), dmHash(Buffer.from('file5')));
  assert.equal(dhtNameHash('.file7.AAAA'), dhtNameHash('.file7.BBBB'));
  assert.equal(dhtNameHash('file1'), 0xa787fa82);
  assert.equal(dhtNameHash('.hidden'), dmHash(Buffer.from('.hidden')), 'no extension: the whole name');
});

test('layout helpers: stock 4-brick root layout is sound; holes, overlaps and search', () => {
  const stock = [
    '0000000100000000000000003ffffffe',
    '00000001000000003fffffff7ffffffd',
    '00000001000000007ffffffebffffffc',
    '0000000100000000bffffffdffffffff',
  ].map((h) => parseLayout(Buffer.from(h, 'hex')));
  assert.equal(layoutProblem(stock), '');
  assert.equal(layoutOwner(stock, 0xa787fa82), 2, 'file1 lands on the 0x7ffffffe brick (OBS)');
  assert.notEqual(layoutProblem(stock.slice(1)), '', 'a hole at the start');
  assert.notEqual(layoutProblem([...stock, stock[0]!]), '', 'an overlap');
  const none = parseLayout(Buffer.alloc(16));
  assert.equal(layoutProblem([...stock, none]), '', 'zero ranges take no part');
  assert.throws(() => parseLayout(Buffer.alloc(12)));
});
