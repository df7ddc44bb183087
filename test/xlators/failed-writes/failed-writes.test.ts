// features/failed-writes in a brick graph (posix → locks → a switchable full disk →
// failed-writes) over a real brick directory, driven with the fops stock AFR sends around a
// WRITE that fails on this brick only: the refresh and READ that used to get the block the
// write never reached, then the post-op, unlock and heal that end the refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ptrValue, type GfxDict } from '../../../src/protocol/dict.js';
import { FopError } from '../../../src/protocol/errno.js';
import { randomGfid } from '../../../src/protocol/gfid.js';
import { FdTable, defineTranslator, type FopContext } from '../../../src/xlator/index.js';
import { AFR_DIRTY, FailedRanges, lowersDirty } from '../../../src/xlators/failed-writes/index.js';
import { encodeIoRanges, READ_VECTOR_KEY, WRITE_VECTOR_KEY } from '../../../src/protocol/vector-io.js';
import { brickStack } from '../brick-stack.js';
import { fails } from '../posix/helpers.js';

/** What the disk does to the next data fops: fail them (ENOSPC), or store only `short` bytes. */
const disk = { full: false, short: 0 };
const fullDisk = defineTranslator({
  type: 'test/full-disk',
  children: 'one',
  options: {},
  create() {
    const refuse = () => {
      if (disk.full) throw FopError.of('ENOSPC', 'test disk full');
    };
    return {
      fops: {
        WRITE(req, _ctx, next) {
          refuse();
          if (!disk.short) return next(req);
          const payload = (req as unknown as { payload: Buffer }).payload.subarray(0, disk.short);
          return next({ ...req, size: payload.length, payload } as never);
        },
        ZEROFILL: (req, _ctx, next) => (refuse(), next(req)),
        DISCARD: (req, _ctx, next) => (refuse(), next(req)),
        FALLOCATE: (req, _ctx, next) => (refuse(), next(req)),
        FTRUNCATE: (req, _ctx, next) => (refuse(), next(req)),
      },
    };
  },
});

const ctx: FopContext = {
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.from('0102030405060708', 'hex') },
  session: {
    id: 'CTX_ID:c0ffee-GRAPH_ID:0-PID:7-HOST:vm-PC_NAME:fv-client-2-RECON_NO:-0#1',
    fds: new FdTable(),
  },
};
const K = 4096;
const flock = (start = 0n) => ({ type: 1, whence: 0, start, len: 0n, pid: 0, lkOwner: Buffer.alloc(0) });
const counters = (data: number) => {
  const b = Buffer.alloc(12);
  b.writeInt32BE(data, 0);
  return b;
};

async function brick() {
  const b = await brickStack({
    prefix: 'failed-writes',
    above: () => [
      { name: 'b-locks', type: 'features/locks' },
      { name: 'b-disk', type: fullDisk.type },
      { name: 'b-failed', type: 'features/failed-writes' },
    ],
    extra: [fullDisk],
    ctx,
  });
  const call = b.call;
  const { gfid, fd } = await b.create('vm.img');
  const write = (offset: number, size: number, byte = 0xab) => {
    const payload = Buffer.alloc(size, byte);
    return call('WRITE', { gfid, fd, offset, size, flag: 0, xdata: null, payload });
  };
  const read = (offset: number, size = K) => call('READ', { gfid, fd, offset, size, flag: 0, xdata: null });
  const ranged = (fop: string) => (offset: number, size: number) =>
    call(fop, { gfid, fd, offset, size, flag: 0, xdata: null });
  const fxattrop = (dirty: number) =>
    call('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map([[AFR_DIRTY, ptrValue(counters(dirty))]]),
      xdata: null,
    });
  const finodelk = (type: number, volume = 'fv-replicate-0') =>
    call('FINODELK', { gfid, fd, cmd: 1, type, flock: flock(), volume, xdata: null });
  const vector = (key: string, ranges: { offset: number; length: number }[]) =>
    new Map([[key, ptrValue(encodeIoRanges(ranges))]]);
  return {
    write,
    read,
    /** The shd's vectored copy: one WRITE, or one READ, carrying several ranges. */
    writeRanges(ranges: { offset: number; length: number }[], byte = 0xcd) {
      const size = ranges.reduce((n, r) => n + r.length, 0);
      const payload = Buffer.alloc(size, byte);
      return call('WRITE', {
        gfid,
        fd,
        offset: 0,
        size,
        flag: 0,
        xdata: vector(WRITE_VECTOR_KEY, ranges),
        payload,
      });
    },
    readRanges: (ranges: { offset: number; length: number }[]) =>
      call('READ', { gfid, fd, offset: 0, size: 0, flag: 0, xdata: vector(READ_VECTOR_KEY, ranges) }),
    zerofill: ranged('ZEROFILL'),
    discard: ranged('DISCARD'),
    fallocate: (offset: number, size: number) =>
      call('FALLOCATE', { gfid, fd, flags: 0, offset, size, xdata: null }),
    ftruncate: (offset: number) => call('FTRUNCATE', { gfid, fd, offset, xdata: null }),
    fxattrop,
    finodelk,
    async close() {
      Object.assign(disk, { full: false, short: 0 });
      await b.close();
    },
  };
}

test('a WRITE that failed here: READs overlapping it fail EIO (AFR reads another brick), others are served', async () => {
  const b = await brick();
  try {
    await b.write(0, 4 * K, 0x11);
    disk.full = true;
    await fails(b.write(K, K, 0x22), 'ENOSPC');
    disk.full = false;
    await fails(b.read(K), 'EIO');
    await fails(b.read(0, 2 * K), 'EIO');
    await fails(b.read(2 * K - 1, 2), 'EIO');
    assert.equal((await b.read(0, K)).opRet, K, 'before the failed range');
    assert.equal((await b.read(2 * K, 2 * K)).opRet, 2 * K, 'after it');
    // Written again here (the client's next write, or the heal's copy): served again.
    await b.write(K, K, 0x22);
    assert.equal((await b.read(0, 4 * K)).opRet, 4 * K);
  } finally {
    await b.close();
  }
});

test('vectored READ and WRITE (the heal copy) count range by range', async () => {
  const b = await brick();
  try {
    await b.write(0, 16 * K, 0x11);
    disk.full = true;
    await fails(
      b.writeRanges([
        { offset: K, length: K },
        { offset: 8 * K, length: 10 },
      ]),
      'ENOSPC',
    );
    disk.full = false;
    // Every range of a failed vectored WRITE is refused, in a plain or a vectored READ.
    await fails(b.read(K), 'EIO');
    await fails(b.read(8 * K), 'EIO');
    await fails(
      b.readRanges([
        { offset: 0, length: K },
        { offset: 8 * K + 5, length: 1 },
      ]),
      'EIO',
    );
    assert.equal(
      (
        await b.readRanges([
          { offset: 0, length: K },
          { offset: 4 * K, length: K },
        ])
      ).opRet,
      2 * K,
    );
    // Written again by a vectored WRITE: served again, range by range.
    await b.writeRanges([{ offset: K, length: K }]);
    assert.equal((await b.read(0, 2 * K)).opRet, 2 * K);
    await fails(b.read(8 * K), 'EIO');
    await b.writeRanges([{ offset: 8 * K, length: 10 }]);
    assert.equal(
      (
        await b.readRanges([
          { offset: K, length: K },
          { offset: 8 * K, length: K },
        ])
      ).opRet,
      2 * K,
    );
  } finally {
    await b.close();
  }
});

test('a short WRITE refuses the tail it did not store; a partial rewrite leaves the rest refused', async () => {
  const b = await brick();
  try {
    disk.short = 1000;
    assert.equal((await b.write(0, K)).opRet, 1000);
    disk.short = 0;
    assert.equal((await b.read(0, 1000)).opRet, 1000);
    await fails(b.read(1000, 1), 'EIO');
    await b.write(1000, 1000);
    await fails(b.read(2000, 100), 'EIO');
    await b.write(2000, K - 2000);
    assert.equal((await b.read(0, K)).opRet, K);
  } finally {
    await b.close();
  }
});

test('ZEROFILL, DISCARD and FALLOCATE failures are refused; a ZEROFILL or DISCARD that succeeds ends them', async () => {
  const b = await brick();
  try {
    await b.write(0, 8 * K);
    disk.full = true;
    await fails(b.zerofill(0, K), 'ENOSPC');
    await fails(b.discard(2 * K, K), 'ENOSPC');
    await fails(b.fallocate(4 * K, K), 'ENOSPC');
    disk.full = false;
    for (const at of [0, 2 * K, 4 * K]) await fails(b.read(at), 'EIO');
    await b.zerofill(0, K);
    await b.discard(2 * K, K);
    // A successful allocation stores no data: still refused.
    await b.fallocate(4 * K, K);
    assert.equal((await b.read(0)).opRet, K);
    assert.equal((await b.read(2 * K)).opRet, K);
    await fails(b.read(4 * K), 'EIO');
  } finally {
    await b.close();
  }
});

test('the transaction ends the refusal: a post-op lowering dirty here, then the data lock released', async () => {
  const b = await brick();
  try {
    await b.write(0, 4 * K);
    // Failed on every brick alike (a symmetric error): AFR's post-op comes here too.
    await b.finodelk(1);
    await b.fxattrop(1);
    disk.full = true;
    await fails(b.write(0, K), 'ENOSPC');
    disk.full = false;
    // Released without a post-op here (the others charged this brick): still refused.
    await b.finodelk(2);
    await fails(b.read(0), 'EIO');
    // A later transaction: pre-op, post-op lowering dirty — refused until its unlock, by
    // when every post-op of that lock has landed on the other bricks.
    await b.finodelk(1);
    await b.fxattrop(1);
    await b.fxattrop(-1);
    await fails(b.read(0), 'EIO');
    // The heal's own domain does not end a data transaction.
    await b.finodelk(1, 'fv-replicate-0:self-heal');
    await b.finodelk(2, 'fv-replicate-0:self-heal');
    await fails(b.read(0), 'EIO');
    await b.finodelk(2);
    assert.equal((await b.read(0)).opRet, K);

    // A failure after the post-op, in the next lock: refused on its own.
    await b.finodelk(1);
    await b.fxattrop(-1);
    disk.full = true;
    await fails(b.write(2 * K, K), 'ENOSPC');
    disk.full = false;
    await b.finodelk(2);
    await fails(b.read(2 * K), 'EIO');
  } finally {
    await b.close();
  }
});

test('truncate: past the new size nothing is stale; a failed truncate refuses from the smaller size on', async () => {
  const b = await brick();
  try {
    await b.write(0, 8 * K);
    disk.full = true;
    await fails(b.write(6 * K, K), 'ENOSPC');
    await fails(b.ftruncate(3 * K), 'ENOSPC');
    disk.full = false;
    assert.equal((await b.read(0, 3 * K)).opRet, 3 * K);
    // The truncate that failed here left old data past 3 KiB.
    await fails(b.read(3 * K), 'EIO');
    await b.ftruncate(2 * K);
    assert.equal((await b.read(0, 8 * K)).opRet, 2 * K, 'cut here as everywhere: nothing refused');
    disk.full = true;
    await fails(b.ftruncate(10 * K), 'ENOSPC');
    disk.full = false;
    assert.equal((await b.read(0, K)).opRet, K);
    // An extension that failed here: refused from the old size on.
    await fails(b.read(2 * K), 'EIO');
  } finally {
    await b.close();
  }
});

test('the table: bounded per brick (oldest inode first) and per inode (gaps merge: refuses more, never less)', () => {
  const t = new FailedRanges({ inodes: 2, ranges: 8 });
  const [a, b, c] = [randomGfid(), randomGfid(), randomGfid()];
  t.note(a, 0, 10);
  t.note(b, 0, 10);
  t.note(c, 0, 10);
  assert.equal(t.size, 2);
  assert.equal(t.overlaps(a, 0, 1), false, 'the oldest record went');
  assert.equal(t.overlaps(c, 9, 1), true);
  assert.equal(t.overlaps(c, 10, 5), false);
  for (let i = 0; i < 20; i++) t.note(b, 100 + i * 10, 5);
  for (let i = 0; i < 20; i++) assert.equal(t.overlaps(b, 100 + i * 10, 5), true, `range ${i} still refused`);
  t.truncated(b, 100);
  assert.equal(t.overlaps(b, 100, 1000), false);
  assert.equal(t.overlaps(b, 0, 1), true);
  t.stored(b, 0, 10);
  assert.equal(t.has(b), false, 'an empty record goes');
});

test('which XATTROPs lower dirty: ADD_ARRAY and ADD_ARRAY64 with a negative data counter', () => {
  const d = (v: Buffer): GfxDict => new Map([[AFR_DIRTY, ptrValue(v)]]);
  assert.equal(lowersDirty(0, d(counters(-1))), true);
  assert.equal(lowersDirty(0, d(counters(1))), false);
  assert.equal(lowersDirty(0, d(counters(0))), false, 'a read of the counters');
  const meta = Buffer.alloc(12);
  meta.writeInt32BE(-1, 4);
  assert.equal(lowersDirty(0, d(meta)), false, 'a metadata post-op');
  const wide = Buffer.alloc(24);
  wide.writeBigInt64BE(-1n, 0);
  assert.equal(lowersDirty(1, d(wide)), true);
  assert.equal(lowersDirty(2, d(counters(-1))), false, 'not an addition');
  assert.equal(lowersDirty(0, new Map()), false);
  assert.equal(lowersDirty(0, null as unknown as GfxDict), false);
});
