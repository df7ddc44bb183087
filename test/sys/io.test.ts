import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  fallocate,
  lseek,
  preadv,
  pwritev,
  SEEK_DATA,
  SEEK_HOLE,
  syncfs,
} from '../../src/sys/index.js';
import { expectCode, rejection, tempDir } from './helpers.js';

const dir = tempDir();
const MiB = 1 << 20;
let serial = 0;

/** A new file of `size` bytes of 0xab, fully allocated; the fd closes after the test. */
function dataFile(t: { after(fn: () => void): void }, size: number): number {
  const fd = openSync(join(dir, `f${serial++}`), 'w+');
  t.after(() => closeSync(fd));
  writeSync(fd, Buffer.alloc(size, 0xab), 0, size, 0);
  return fd;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  assert.equal(readSync(fd, buffer, 0, length, position), length);
  return buffer;
}

test('punch hole: SEEK_HOLE finds it, it reads as zeros, the size is unchanged', async (t) => {
  const fd = dataFile(t, 4 * MiB);
  assert.equal(await lseek(fd, 0, SEEK_HOLE), 4 * MiB); // only the implicit hole at EOF
  await fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB, MiB);
  assert.equal(fstatSync(fd).size, 4 * MiB);
  assert.equal(await lseek(fd, 0, SEEK_HOLE), MiB);
  assert.equal(await lseek(fd, MiB, SEEK_DATA), 2 * MiB);
  assert.ok(readAt(fd, MiB, MiB).every((b) => b === 0));
  assert.ok(readAt(fd, MiB - 4096, 4096).every((b) => b === 0xab));
  assert.ok(readAt(fd, 2 * MiB, 4096).every((b) => b === 0xab));
});

test('SEEK_DATA and SEEK_HOLE at or past EOF reject with ENXIO', async (t) => {
  const fd = dataFile(t, 8192);
  expectCode(await rejection(lseek(fd, 8192, SEEK_DATA)), 'ENXIO');
  expectCode(await rejection(lseek(fd, 1 << 30, SEEK_DATA)), 'ENXIO');
  expectCode(await rejection(lseek(fd, 8192, SEEK_HOLE)), 'ENXIO');
  const error = await rejection(lseek(fd, 9000, SEEK_DATA));
  assert.equal((error as NodeJS.ErrnoException).errno, 6);
  assert.equal((error as NodeJS.ErrnoException).syscall, 'lseek');
});

test('ZERO_RANGE zeroes in place and may extend the file', async (t) => {
  const fd = dataFile(t, 64 * 1024);
  await fallocate(fd, FALLOC_FL_ZERO_RANGE, 4096, 8192);
  assert.ok(readAt(fd, 4096, 8192).every((b) => b === 0));
  assert.ok(readAt(fd, 0, 4096).every((b) => b === 0xab));
  assert.ok(readAt(fd, 12288, 4096).every((b) => b === 0xab));
  await fallocate(fd, FALLOC_FL_ZERO_RANGE, 60 * 1024, 8192);
  assert.equal(fstatSync(fd).size, 68 * 1024);
});

test('KEEP_SIZE allocates blocks past EOF without changing the size; mode 0 extends', async (t) => {
  const fd = dataFile(t, 4096);
  const before = fstatSync(fd).blocks;
  await fallocate(fd, FALLOC_FL_KEEP_SIZE, 4096, MiB);
  const stat = fstatSync(fd);
  assert.equal(stat.size, 4096);
  assert.ok(stat.blocks >= before + MiB / 512, `blocks ${before} → ${stat.blocks}`);
  await fallocate(fd, 0, 0, 2 * MiB);
  assert.equal(fstatSync(fd).size, 2 * MiB);
});

test('fallocate with an unsupported mode combination rejects (PUNCH_HOLE without KEEP_SIZE)', async (t) => {
  const fd = dataFile(t, 4096);
  expectCode(await rejection(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096)), 'EOPNOTSUPP', 'EINVAL');
});

test('pwritev gathers in order at the position; preadv scatters the same bytes back', async (t) => {
  const fd = dataFile(t, 100);
  const parts = [Buffer.from('hello '), new Uint8Array([0x77, 0x6f]), Buffer.from('rld')];
  assert.equal(await pwritev(fd, parts, 10), 11);
  assert.equal(readAt(fd, 10, 11).toString(), 'hello world');
  assert.equal(readAt(fd, 9, 1)[0], 0xab);
  assert.equal(readAt(fd, 21, 1)[0], 0xab);

  const a = Buffer.alloc(3);
  const b = new Uint8Array(new ArrayBuffer(16), 4, 5); // a view with a byte offset
  const c = Buffer.alloc(4);
  assert.equal(await preadv(fd, [a, b, c], 11), 12);
  assert.equal(a.toString(), 'ell');
  assert.equal(Buffer.from(b).toString(), 'o wor');
  assert.equal(c.toString('latin1'), 'ld\xab\xab');
});

test('short counts are returned, not hidden: preadv across EOF and at EOF', async (t) => {
  const fd = dataFile(t, 10);
  const buffers = [Buffer.alloc(4), Buffer.alloc(4)];
  assert.equal(await preadv(fd, buffers, 6), 4);
  assert.equal(await preadv(fd, buffers, 10), 0);
  assert.equal(await preadv(fd, [], 0), 0);
});

test('preadv on a write-only fd rejects with EBADF', async () => {
  const fd = openSync(join(dir, 'wo'), 'w');
  try {
    expectCode(await rejection(preadv(fd, [Buffer.alloc(1)], 0)), 'EBADF');
  } finally {
    closeSync(fd);
  }
});

test('syncfs', async (t) => {
  await syncfs(dataFile(t, 1));
});

test('readWithStat and writeWithStat: data and stats in one hop, sync modes, errors', async () => {
  const { readWithStat, writeWithStat } = await import('../../src/sys/index.js');
  const dir = fs.mkdtempSync(join(tmpdir(), 'statio-'));
  const path = join(dir, 'f');
  const fd = fs.openSync(path, 'w+');
  try {
    const w = await writeWithStat(fd, [Buffer.from('hello '), Buffer.from('world')], 10, 1);
    assert.equal(w.bytes, 11);
    assert.equal(w.pre.size, 0n);
    assert.equal(w.post.size, 21n);
    assert.equal(Number(w.post.mode) & 0o170000, 0o100000);
    assert.equal(w.post.ino, BigInt(fs.fstatSync(fd).ino));
    const buf = Buffer.alloc(32);
    const r = await readWithStat(fd, [buf], 10);
    assert.equal(r.bytes, 11);
    assert.equal(buf.subarray(0, 11).toString(), 'hello world');
    assert.equal(r.post.size, 21n);
    assert.equal(r.post.mtimeNs, fs.fstatSync(fd, { bigint: true }).mtimeNs);
    await assert.rejects(writeWithStat(9999, [buf], 0, 0), (e: any) => e.code === 'EBADF');
    await assert.rejects(writeWithStat(fd, [buf], -1, 0), TypeError);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readRanges and writeRanges: many ranges in one hop, stats around, short only at EOF, errors', async (t) => {
  const { readRanges, writeRanges } = await import('../../src/sys/index.js');
  const fd = dataFile(t, 64 * 1024);
  const before = fstatSync(fd);
  const w = await writeRanges(fd, [
    { position: 4096, buffer: Buffer.alloc(4096, 1) },
    { position: 100, buffer: Buffer.from('abc') },
    { position: 70 * 1024, buffer: Buffer.alloc(10, 2) }, // past EOF: extends
  ]);
  assert.equal(w.pre.size, BigInt(before.size));
  assert.equal(w.post.size, BigInt(70 * 1024 + 10));
  assert.ok(readAt(fd, 4096, 4096).equals(Buffer.alloc(4096, 1)));
  assert.equal(readAt(fd, 99, 5).toString('latin1'), '\xababc\xab');
  assert.ok(readAt(fd, 70 * 1024, 10).equals(Buffer.alloc(10, 2)));

  const bufs = [Buffer.alloc(4096), Buffer.alloc(3), Buffer.alloc(100), Buffer.alloc(8)];
  const r = await readRanges(
    fd,
    [4096, 100, 70 * 1024 - 50, 80 * 1024].map((position, k) => ({ position, buffer: bufs[k]! })),
  );
  assert.deepEqual(r.bytes, [4096, 3, 60, 0], 'the third runs past EOF, the fourth starts there');
  assert.equal(r.post.size, BigInt(70 * 1024 + 10));
  assert.ok(bufs[0]!.equals(Buffer.alloc(4096, 1)));
  assert.equal(bufs[1]!.toString(), 'abc');
  assert.deepEqual((await readRanges(fd, [])).bytes, [], 'no ranges: only the stat');

  // The first failing range rejects the call: a read-only fd cannot be written.
  const ro = openSync(join(dir, `f${serial - 1}`), 'r');
  t.after(() => closeSync(ro));
  expectCode(await rejection(writeRanges(ro, [{ position: 0, buffer: Buffer.alloc(1) }])), 'EBADF');
  expectCode(await rejection(readRanges(9999, [{ position: 0, buffer: Buffer.alloc(1) }])), 'EBADF');
  // Bad arguments never reach the kernel.
  await assert.rejects(readRanges(fd, [{ position: -1, buffer: Buffer.alloc(1) }]), TypeError);
  const tooMany = Array.from({ length: 1025 }, () => ({ position: 0, buffer: Buffer.alloc(1) }));
  await assert.rejects(readRanges(fd, tooMany), TypeError);
});
