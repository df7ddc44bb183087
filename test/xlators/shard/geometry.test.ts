// Pure parts of features/shard: offset → shard mapping and the two xattr formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGfid } from '../../../src/protocol/gfid.js';
import {
  blockOf,
  decodeBlockSize,
  decodeFileSize,
  encodeBlockSize,
  encodeFileSize,
  lastBlock,
  pieces,
  shardName,
} from '../../../src/xlators/shard/index.js';

const MiB = 1024 * 1024;
const BS = 4 * MiB;

test('offset → shard: block 0 is the base file, N holds [N·bs, (N+1)·bs)', () => {
  assert.equal(blockOf(0, BS), 0);
  assert.equal(blockOf(BS - 1, BS), 0);
  assert.equal(blockOf(BS, BS), 1);
  assert.equal(blockOf(10 * MiB, BS), 2);
  // Past 2^32 bytes: no 32-bit arithmetic anywhere.
  assert.equal(blockOf(5 * 1024 * MiB + 1, BS), 1280);
});

test('a range is cut at shard boundaries, offsets relative to each shard', () => {
  assert.deepEqual(pieces(BS - 100, 300, BS), [
    { block: 0, offset: BS - 100, length: 100, at: 0 },
    { block: 1, offset: 0, length: 200, at: 100 },
  ]);
  // Exactly one whole shard, and one spanning three.
  assert.deepEqual(pieces(BS, BS, BS), [{ block: 1, offset: 0, length: BS, at: 0 }]);
  const three = pieces(3 * MiB, 6 * MiB, BS);
  assert.deepEqual(
    three.map((p) => [p.block, p.offset, p.length, p.at]),
    [
      [0, 3 * MiB, MiB, 0],
      [1, 0, 4 * MiB, MiB],
      [2, 0, MiB, 5 * MiB],
    ],
  );
  assert.deepEqual(pieces(123, 0, BS), []);
});

test('the last block of a size (what truncation and deletion walk up to)', () => {
  assert.equal(lastBlock(0, BS), 0);
  assert.equal(lastBlock(1, BS), 0);
  assert.equal(lastBlock(BS, BS), 0);
  assert.equal(lastBlock(BS + 1, BS), 1);
  // Stock's 10 MiB file with 4 MiB blocks has shards .1 and .2 (reference §3.1).
  assert.equal(lastBlock(10 * MiB, BS), 2);
  // Stock's truncate to 6,000,000 keeps .1, cut to 1805696 bytes (reference §3.4).
  assert.equal(lastBlock(6_000_000, BS), 1);
  assert.equal(6_000_000 - 1 * BS, 1805696);
});

test('shard names: /.shard/<canonical base gfid>.<N>', () => {
  const g = parseGfid('ac4694bb-9cb1-4375-a4cd-670d65718ee9');
  assert.equal(shardName(g, 1), 'ac4694bb-9cb1-4375-a4cd-670d65718ee9.1');
  assert.equal(shardName(g, 12), 'ac4694bb-9cb1-4375-a4cd-670d65718ee9.12');
});

test('block-size xattr: 8 bytes big-endian', () => {
  assert.equal(encodeBlockSize(BS).toString('hex'), '0000000000400000');
  assert.equal(decodeBlockSize(Buffer.from('0000000004000000', 'hex')), 64 * MiB);
  assert.equal(decodeBlockSize(Buffer.alloc(4)), undefined);
});

test('file-size xattr: [size, 0, blocks, 0] as big-endian 64-bit words, deltas signed', () => {
  // Stock's 10 MiB file: 10485760 bytes, 20480 blocks (reference §3.2).
  const v = encodeFileSize({ size: 10 * MiB, blocks: 20480 });
  assert.equal(
    v.toString('hex'),
    '0000000000a00000' + '0000000000000000' + '0000000000005000' + '0000000000000000',
  );
  assert.deepEqual(decodeFileSize(v), { size: 10 * MiB, blocks: 20480 });
  // Stock's truncate delta: −4485760 bytes as two's complement.
  const d = encodeFileSize({ size: -4485760, blocks: -2039 });
  assert.equal(d.subarray(0, 8).toString('hex'), 'ffffffffffbb8d80');
  assert.equal(d.readBigInt64BE(16), -2039n);
  assert.equal(decodeFileSize(Buffer.alloc(8)), undefined);
});
