/**
 * O_DIRECT needs block-aligned memory. Node's fs passes a Buffer's memory straight to
 * pread/pwrite, so it can do O_DIRECT IO only with memory from allocAligned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  allocAligned,
  carveAligned,
  carveAlignedUnsafe,
  carveEndAligned,
  carveEndAlignedUnsafe,
  isDirectAligned,
  preadv,
  pwritev,
} from '../../src/sys/index.js';
import { directIoParent, tempDir } from './helpers.js';

const parent = directIoParent();
const skip = parent === undefined && 'no filesystem here accepts O_DIRECT (tmpfs?)';

test('allocAligned: zeroed, aligned slices, argument checks', () => {
  const buffer = allocAligned(8192);
  assert.equal(buffer.length, 8192);
  assert.ok(buffer.every((b) => b === 0));
  assert.equal(allocAligned(0).length, 0);
  assert.equal(allocAligned(100, 512).length, 100);
  assert.throws(() => allocAligned(-1), TypeError);
  assert.throws(() => allocAligned(4096, 3000), TypeError);
  assert.throws(() => allocAligned(4096, 0), TypeError);
  assert.throws(() => allocAligned(1.5), TypeError);
  assert.throws(() => allocAligned('4096' as unknown as number), TypeError);
});

test('O_DIRECT: aligned memory reads and writes; an ordinary Buffer gets EINVAL', { skip }, (t) => {
  const dir = tempDir(parent);
  const fd = openSync(join(dir, 'direct'), constants.O_CREAT | constants.O_RDWR | constants.O_DIRECT, 0o600);
  t.after(() => closeSync(fd));

  const out = allocAligned(4096);
  out.fill(0x5a);
  assert.equal(writeSync(fd, out, 0, 4096, 0), 4096);
  const back = allocAligned(4096);
  assert.equal(readSync(fd, back, 0, 4096, 0), 4096);
  assert.ok(back.every((b) => b === 0x5a));

  // An ordinary Buffer, one byte in so that its address is certainly odd: Node's allocator
  // gives no block alignment, and a heap Buffer that happened to be aligned would prove nothing.
  const ordinary = Buffer.alloc(4097).subarray(1);
  assert.throws(() => writeSync(fd, ordinary, 0, 4096, 0), { code: 'EINVAL' });
  assert.throws(() => readSync(fd, ordinary, 0, 4096, 0), { code: 'EINVAL' });
});

test('O_DIRECT through pwritev/preadv with aligned slices', { skip }, async (t) => {
  const dir = tempDir(parent);
  const fd = openSync(join(dir, 'directv'), constants.O_CREAT | constants.O_RDWR | constants.O_DIRECT, 0o600);
  t.after(() => closeSync(fd));
  const block = allocAligned(3 * 4096);
  block.fill(1, 0, 4096).fill(2, 4096, 8192).fill(3, 8192);
  const parts = [block.subarray(0, 4096), block.subarray(4096, 8192), block.subarray(8192)];
  assert.equal(await pwritev(fd, parts, 4096), 3 * 4096);
  const back = allocAligned(2 * 4096);
  assert.equal(await preadv(fd, [back.subarray(4096), back.subarray(0, 4096)], 8192), 8192);
  assert.ok(back.subarray(4096).every((b) => b === 2));
  assert.ok(back.subarray(0, 4096).every((b) => b === 3));
  await assert.rejects(pwritev(fd, [Buffer.alloc(4097).subarray(1)], 0), { code: 'EINVAL', errno: 22 });
});

test('carveAligned: zeroed, disjoint, aligned regions that O_DIRECT accepts', { skip }, async (t) => {
  const dir = tempDir(parent);
  const fd = openSync(join(dir, 'carved'), constants.O_CREAT | constants.O_RDWR | constants.O_DIRECT, 0o600);
  t.after(() => closeSync(fd));
  const regions = [1, 4096, 5000, 8192, 300_000].map((n) => carveAligned(n));
  assert.deepEqual(
    regions.map((r) => r.length),
    [1, 4096, 5000, 8192, 300_000],
  );
  for (const r of regions) assert.ok(r.every((b) => b === 0));
  // Disjoint: filling one region leaves every other one zero.
  regions[2]!.fill(7);
  assert.ok(regions[1]!.every((b) => b === 0) && regions[3]!.every((b) => b === 0));
  // Each region, the oversized one included, works as O_DIRECT memory.
  for (const n of [4096, 8192]) {
    const out = carveAligned(n).fill(0x33);
    assert.equal(await pwritev(fd, [out], 0), n);
    const back = carveAligned(n);
    assert.equal(await preadv(fd, [back], 0), n);
    assert.ok(back.every((b) => b === 0x33));
  }
  const big = carveAligned(300_000 - (300_000 % 4096));
  assert.equal(await pwritev(fd, [big], 0), big.length);
  // Many small regions in a row cross slab boundaries without overlapping.
  const many = Array.from({ length: 600 }, () => carveAligned(4096));
  many.forEach((r, i) => r.writeUInt32BE(i));
  assert.ok(many.every((r, i) => r.readUInt32BE(0) === i));
  assert.equal(await pwritev(fd, [many[599]!], 4096), 4096);
});

test(
  'carveEndAligned: the block-multiple tail starts aligned; isDirectAligned tells',
  { skip },
  async (t) => {
    const dir = tempDir(parent);
    const fd = openSync(join(dir, 'tail'), constants.O_CREAT | constants.O_RDWR | constants.O_DIRECT, 0o600);
    t.after(() => closeSync(fd));
    // A WRITE record: a header of odd length, then the payload (small, and past the slab limit).
    for (const payload of [4096, 131_072, 512 * 1024]) {
      const record = carveEndAligned(172 + payload);
      assert.equal(record.length, 172 + payload);
      assert.ok(record.every((b) => b === 0));
      const tail = record.subarray(172).fill(0x42);
      assert.ok(isDirectAligned(tail));
      assert.ok(!isDirectAligned(record));
      assert.equal(await pwritev(fd, [tail], 0), payload);
    }
    assert.ok(isDirectAligned(carveAligned(100)));
    assert.ok(isDirectAligned(allocAligned(8192).subarray(4096)));
    assert.ok(!isDirectAligned(allocAligned(8192).subarray(512)));
    assert.ok(!isDirectAligned(allocAligned(8192, 512)));
    // Node's own memory is never taken for aligned, whatever its address.
    assert.ok(!isDirectAligned(Buffer.alloc(8192)));
  },
);

test(
  'carve*Unsafe: disjoint aligned regions, not zero-filled, that O_DIRECT accepts',
  { skip },
  async (t) => {
    const dir = tempDir(parent);
    const fd = openSync(join(dir, 'raw'), constants.O_CREAT | constants.O_RDWR | constants.O_DIRECT, 0o600);
    t.after(() => closeSync(fd));
    // Across slab boundaries and past the slab limit: each region is its own, and aligned.
    const regions = [1, 4096, 5000, 131_072, 300_000, ...Array.from({ length: 20 }, () => 135_168)].map((n) =>
      carveAlignedUnsafe(n),
    );
    regions.forEach((r, i) => r.fill(i));
    regions.forEach((r, i) => assert.ok(r.every((b) => b === i) && isDirectAligned(r)));
    const out = regions[3]!;
    assert.equal(await pwritev(fd, [out], 0), out.length);
    const back = carveAlignedUnsafe(out.length);
    assert.equal(await preadv(fd, [back], 0), out.length);
    assert.ok(back.equals(out));
    // A WRITE record: header of odd length, payload tail aligned, small and past the slab limit.
    for (const payload of [4096, 131_072, 512 * 1024]) {
      const record = carveEndAlignedUnsafe(172 + payload);
      assert.equal(record.length, 172 + payload);
      const tail = record.subarray(172).fill(0x42);
      assert.ok(isDirectAligned(tail) && !isDirectAligned(record));
      assert.equal(await pwritev(fd, [tail], 0), payload);
    }
  },
);

test('slab memory comes back zeroed after its Buffers are collected and it is reused', { skip }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) {
    // Dirty a few slabs' worth, drop them, and let the collector hand their blocks back.
    for (let i = 0; i < 40; i++) carveAligned(256 * 1024).fill(0xee);
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const fresh = Array.from({ length: 40 }, () => carveAligned(256 * 1024));
    assert.ok(fresh.every((r) => r.every((b) => b === 0)));
  }
});
