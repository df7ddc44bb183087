// features/heal-ranges in a brick graph (posix → locks → heal-ranges → index) over a real
// brick directory: ranges recorded only while AFR's counters are non-zero, driven with the
// XATTROPs stock's pre-op and post-op send; dropped when the counters return to zero;
// written on entering xattrop/ and then on FSYNC; clean and unclean restarts; damaged records;
// the contract value; hostile requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile, open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ptrValue, type DictValue, type GfxDict } from '../../../src/protocol/dict.js';
import { ROOT_GFID, gfidToString, randomGfid } from '../../../src/protocol/gfid.js';
import { OpenFd } from '../../../src/xlator/index.js';
import {
  HEAL_RANGES_KEY,
  decodeHealRanges,
  type HealRanges,
} from '../../../src/xlators/heal-ranges/contract.js';
import { decodeRecord } from '../../../src/xlators/heal-ranges/store.js';
import {
  decodeReadCounts,
  encodeIoRanges,
  READ_VECTOR_KEY,
  WRITE_VECTOR_KEY,
} from '../../../src/protocol/vector-io.js';
import { brickStack } from '../brick-stack.js';
import { fails } from '../posix/helpers.js';

const i32 = (...v: number[]) => {
  const out = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => out.writeInt32BE(x | 0, i * 4));
  return out;
};
const Z = i32(0, 0, 0);
const DATA = i32(1, 0, 0);
const UNDO = i32(-1, 0, 0);

async function rangesBrick(extra: Record<string, string> = {}) {
  const stack = await brickStack({
    prefix: 'ranges',
    above: (dir) => {
      const watch = {
        'xattrop-pending-watchlist': 'trusted.afr.v-',
        'xattrop-dirty-watchlist': 'trusted.afr.dirty',
        'index-base': `${dir}/.glusterfs/indices`,
      };
      return [
        { name: 'b-locks', type: 'features/locks' },
        { name: 'b-ranges', type: 'features/heal-ranges', options: { ...watch, ...extra } },
        { name: 'b-index', type: 'features/index', options: watch },
      ];
    },
  });
  const call = stack.call;
  const rangesDir = join(stack.dir, '.glusterfs', 'indices', 'ranges');
  const b = {
    ...stack,
    rangesDir,
    /** [F]XATTROP ADD_ARRAY as AFR sends it: dirty plus the three pending keys. */
    xattrop(fd: OpenFd, dirty: Buffer | null, pending: Buffer[], flags = 0) {
      const dict = new Map<string, DictValue>(
        pending.map((v, i) => [`trusted.afr.v-client-${i}`, ptrValue(v)]),
      );
      if (dirty) dict.set('trusted.afr.dirty', ptrValue(dirty));
      return call('FXATTROP', { gfid: fd.gfid, fd, flags, dict, xdata: null });
    },
    preOp(fd: OpenFd) {
      return b.xattrop(fd, DATA, [Z, Z, Z]);
    },
    /** Post-op; `down` lists the bricks charged (stock: only now, after the writes). */
    postOp(fd: OpenFd, down: number[] = []) {
      return b.xattrop(
        fd,
        UNDO,
        [0, 1, 2].map((i) => (down.includes(i) ? DATA : Z)),
      );
    },
    write(fd: OpenFd, offset: number, length: number) {
      const payload = Buffer.alloc(length, 0x61);
      return call('WRITE', { gfid: fd.gfid, fd, offset, size: length, flag: 0, xdata: null, payload });
    },
    async ranges(gfid: Buffer): Promise<HealRanges> {
      const r = await call('GETXATTR', { gfid, namelen: 1, name: HEAL_RANGES_KEY, xdata: null });
      const v = (r.dict as Map<string, { value: Buffer }>).get(HEAL_RANGES_KEY)!;
      assert.equal(r.opRet, v.value.length);
      return decodeHealRanges(v.value);
    },
    onDisk: async (gfid: Buffer) => {
      const f = await readFile(join(rangesDir, gfidToString(gfid))).catch(() => null);
      return f && decodeRecord(f);
    },
  };
  return b;
}

const R = (...pairs: [number, number][]) => pairs.map(([offset, length]) => ({ offset, length }));
const noRecord = (p: Promise<unknown>) => fails(p, 'ENODATA');

test('all bricks up: a record lives from pre-op to post-op, holding the writes; writes outside it are not kept', async () => {
  const b = await rangesBrick();
  try {
    const { gfid, fd } = await b.create('f1');
    await b.write(fd, 0, 4096); // counters zero: not recorded
    await noRecord(b.ranges(gfid));
    await b.preOp(fd);
    assert.deepEqual(await b.ranges(gfid), { complete: true, ranges: [] });
    await b.write(fd, 8192, 4096);
    await b.write(fd, 12288, 100);
    assert.deepEqual(await b.ranges(gfid), { complete: true, ranges: R([8192, 4196]) });
    assert.equal(await b.onDisk(gfid), null, 'dirty only: nothing written yet');
    await b.postOp(fd);
    await noRecord(b.ranges(gfid));
    await b.write(fd, 0, 1);
    await noRecord(b.ranges(gfid));
  } finally {
    await b.close();
  }
});

test('stock-like outage: writes under dirty are kept when the post-op charges the down brick; on disk at once; dropped when a heal zeroes the counters', async () => {
  const b = await rangesBrick();
  try {
    const { gfid, fd } = await b.create('f1');
    await b.preOp(fd);
    await b.write(fd, 0, 4096);
    await b.write(fd, 1 << 20, 4096);
    await b.postOp(fd, [2]); // dirty back to 0, client-2 +1
    const expect = { complete: true, ranges: R([0, 4096], [1 << 20, 4096]) };
    assert.deepEqual(await b.ranges(gfid), expect);
    assert.deepEqual(await b.onDisk(gfid), { ...expect, seal: null }, 'written when it entered xattrop/');
    // The next transaction while r3 is still down (eager lock: one pre-op, writes, post-op).
    await b.preOp(fd);
    await b.write(fd, 4096, 10);
    await b.call('FTRUNCATE', { gfid, fd, offset: 3 << 20, xdata: null });
    await b.postOp(fd, [2]);
    assert.deepEqual((await b.ranges(gfid)).ranges, R([0, 4106], [1 << 20, 2 << 20]));
    // A heal (ours or stock's shd) resets client-2; nothing else is non-zero: dropped.
    await b.xattrop(fd, null, [Z, Z, i32(-2, 0, 0)]);
    await noRecord(b.ranges(gfid));
    assert.equal(await b.onDisk(gfid), null, 'the file is gone too');
    assert.deepEqual(await readdir(b.rangesDir), []);
  } finally {
    await b.close();
  }
});

test('a heal zeroing pending while a client still has dirty set keeps the record until the client post-op', async () => {
  const b = await rangesBrick();
  try {
    const { gfid, fd } = await b.create('f1');
    await b.xattrop(fd, null, [Z, Z, DATA]); // pending only (e.g. charged at pre-op)
    await b.preOp(fd);
    await b.write(fd, 100, 10);
    await b.xattrop(fd, null, [Z, Z, UNDO]); // heal resets client-2
    assert.deepEqual((await b.ranges(gfid)).ranges, R([100, 10]));
    await b.write(fd, 200, 10);
    await b.postOp(fd);
    await noRecord(b.ranges(gfid));
    // Unwatched keys and other xattrop ops neither start nor end a record.
    await b.call('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map([['trusted.other', ptrValue(DATA)]]),
      xdata: null,
    });
    await b.xattrop(fd, i32(5, 0, 0), [Z, Z, Z], 4);
    await noRecord(b.ranges(gfid));
  } finally {
    await b.close();
  }
});

test('DISCARD, ZEROFILL, FALLOCATE and TRUNCATE record their ranges; appends where they land', async () => {
  const b = await rangesBrick();
  try {
    const { gfid, fd } = await b.create('f1');
    await b.write(fd, 0, 1000); // size 1000, not recorded
    await b.preOp(fd);
    await b.call('DISCARD', { gfid, fd, offset: 0, size: 10, xdata: null });
    await b.call('ZEROFILL', { gfid, fd, offset: 20, size: 10, xdata: null });
    await b.call('FALLOCATE', { gfid, fd, flags: 1, offset: 40, size: 10, xdata: null });
    await b.call('TRUNCATE', { gfid, offset: 500, xdata: null }); // shrink: [500, 1000)
    await b.write(fd, 2000, 10); // past EOF: only the write (replayed, it makes the same hole)
    assert.deepEqual((await b.ranges(gfid)).ranges, R([0, 10], [20, 10], [40, 10], [500, 500], [2000, 10]));
    await b.call('FTRUNCATE', { gfid, fd, offset: 3000, xdata: null }); // grow: [2010, 3000)
    assert.deepEqual((await b.ranges(gfid)).ranges, R([0, 10], [20, 10], [40, 10], [500, 500], [2000, 1000]));
    const appending = new OpenFd(gfid, 0o2002, false);
    await b.call('OPEN', { gfid, flags: 0o2002, xdata: null, fd: appending });
    await b.write(appending, 0, 5); // O_APPEND: lands at 3000
    assert.deepEqual((await b.ranges(gfid)).ranges, R([0, 10], [20, 10], [40, 10], [500, 500], [2000, 1005]));
  } finally {
    await b.close();
  }
});

test('FSYNC keeps the record on disk current once the inode is in xattrop/ (not before); a clean restart keeps it complete', async () => {
  const b = await rangesBrick();
  try {
    const { gfid, fd } = await b.create('f1');
    await b.preOp(fd);
    await b.write(fd, 0, 512);
    await b.call('FSYNC', { gfid, fd, data: 1, xdata: null });
    assert.equal(await b.onDisk(gfid), null, 'dirty only: written when a post-op charges a brick');
    await b.postOp(fd, [2]);
    assert.deepEqual(await b.onDisk(gfid), { complete: true, ranges: R([0, 512]), seal: null });
    await b.preOp(fd);
    await b.write(fd, 1024, 512);
    assert.deepEqual((await b.onDisk(gfid))!.ranges, R([0, 512]));
    await b.call('FSYNC', { gfid, fd, data: 0, xdata: null });
    assert.deepEqual(await b.onDisk(gfid), { complete: true, ranges: R([0, 512], [1024, 512]), seal: null });
    await b.write(fd, 4096, 1); // not synced: the clean stop writes it
    await b.restart();
    assert.ok(!(await readdir(b.rangesDir)).includes('clean-shutdown'), 'the marker is taken at start');
    assert.deepEqual(await b.ranges(gfid), { complete: true, ranges: R([0, 512], [1024, 512], [4096, 1]) });
    // Still tracked after the restart: the client's post-op leaves client-2 set, the heal drops it.
    const fd2 = new OpenFd(gfid, 2, false);
    await b.call('OPEN', { gfid, flags: 2, xdata: null, fd: fd2 });
    await b.postOp(fd2);
    assert.equal((await b.ranges(gfid)).complete, true);
    await b.xattrop(fd2, null, [Z, Z, UNDO]);
    await noRecord(b.ranges(gfid));
    assert.deepEqual(await readdir(b.rangesDir), []);
  } finally {
    await b.close();
  }
});

test('an unclean restart damages every record, including ones never written and ones written complete', async () => {
  const b = await rangesBrick();
  try {
    const one = await b.create('f1');
    const two = await b.create('f2');
    await b.preOp(one.fd);
    await b.write(one.fd, 0, 10); // dirty only, only in memory
    await b.preOp(two.fd);
    await b.write(two.fd, 0, 10);
    await b.postOp(two.fd, [1]); // on disk, complete
    await b.crash();
    assert.deepEqual(await b.ranges(one.gfid), { complete: false, ranges: [] });
    assert.deepEqual(await b.ranges(two.gfid), { complete: false, ranges: [] });
    // A clean stop now keeps them damaged (what the crash lost stays lost).
    await b.restart();
    assert.deepEqual(await b.ranges(two.gfid), { complete: false, ranges: [] });
    // Writes do not repair a damaged record; zero counters drop it.
    const fd = new OpenFd(two.gfid, 2, false);
    await b.call('OPEN', { gfid: two.gfid, flags: 2, xdata: null, fd });
    await b.write(fd, 100, 10);
    assert.deepEqual(await b.ranges(two.gfid), { complete: false, ranges: [] });
    await b.xattrop(fd, null, [Z, UNDO, Z]);
    await noRecord(b.ranges(two.gfid));
  } finally {
    await b.close();
  }
});

test('a record failing its checksum, or whose file changed while the brick was stopped, is damaged', async () => {
  const b = await rangesBrick();
  try {
    const one = await b.create('f1');
    const two = await b.create('f2');
    const three = await b.create('f3');
    for (const f of [one, two, three]) {
      await b.preOp(f.fd);
      await b.write(f.fd, 0, 10);
      await b.postOp(f.fd, [2]);
    }
    // Stopped cleanly; meanwhile f1's record is corrupted and f2 is written by someone else
    // (stock glusterfsd serving the same brick).
    await b.stop();
    const path = join(b.rangesDir, gfidToString(one.gfid));
    const bytes = await readFile(path);
    bytes[40]! ^= 1;
    await writeFile(path, bytes);
    const other = await openFile(join(b.dir, 'f2'), 'r+');
    await other.write(Buffer.from('x'), 0, 1, 5000);
    await other.close();
    await b.start();
    assert.deepEqual(await b.ranges(one.gfid), { complete: false, ranges: [] });
    assert.deepEqual(await b.ranges(two.gfid), { complete: false, ranges: [] });
    assert.deepEqual(await b.ranges(three.gfid), { complete: true, ranges: R([0, 10]) });
  } finally {
    await b.close();
  }
});

test('limits: past max-ranges-per-inode the gaps merge; past max-ranges-total records turn damaged', async () => {
  const b = await rangesBrick({ 'max-ranges-per-inode': '8', 'max-ranges-total': '12' });
  try {
    const one = await b.create('f1');
    await b.preOp(one.fd);
    for (let i = 0; i < 20; i++) await b.write(one.fd, i * 1000, 10);
    const r = await b.ranges(one.gfid);
    assert.ok(r.complete && r.ranges.length <= 8, `${r.ranges.length} ranges`);
    for (let i = 0; i < 20; i++)
      assert.ok(r.ranges.some((x) => x.offset <= i * 1000 && x.offset + x.length >= i * 1000 + 10));
    const two = await b.create('f2');
    await b.preOp(two.fd);
    for (let i = 0; i < 8; i++) await b.write(two.fd, i * 1000, 10);
    assert.equal((await b.ranges(two.gfid)).complete, false);
    assert.equal((await b.ranges(one.gfid)).complete, true);
  } finally {
    await b.close();
  }
});

test('hostile: the key cannot be set or removed, is never listed, and is refused on directories and unknown gfids (ESTALE, as posix)', async () => {
  const b = await rangesBrick();
  try {
    const { gfid, fd } = await b.create('f1');
    await b.preOp(fd);
    const value = ptrValue(Buffer.from('0101000000000000', 'hex'));
    const set: GfxDict = new Map([[HEAL_RANGES_KEY, value]]);
    await fails(b.call('SETXATTR', { gfid, flags: 0, dict: set, xdata: null }), 'EPERM');
    await fails(b.call('FSETXATTR', { gfid, fd, flags: 0, dict: set, xdata: null }), 'EPERM');
    await fails(b.call('REMOVEXATTR', { gfid, name: HEAL_RANGES_KEY, xdata: null }), 'EPERM');
    await fails(b.call('FREMOVEXATTR', { gfid, fd, name: HEAL_RANGES_KEY, xdata: null }), 'EPERM');
    const all = await b.call('GETXATTR', { gfid, namelen: 0, name: '', xdata: null });
    assert.ok(![...(all.dict as Map<string, unknown>).keys()].includes(HEAL_RANGES_KEY));
    const viaFd = await b.call('FGETXATTR', { gfid, fd, namelen: 1, name: HEAL_RANGES_KEY, xdata: null });
    assert.ok((viaFd.dict as Map<string, unknown>).has(HEAL_RANGES_KEY));
    // The root directory, even while indexed, has no changed ranges.
    await b.call('XATTROP', {
      gfid: ROOT_GFID,
      flags: 0,
      dict: new Map([['trusted.afr.dirty', ptrValue(i32(0, 0, 1))]]),
      xdata: null,
    });
    await noRecord(b.call('GETXATTR', { gfid: ROOT_GFID, namelen: 1, name: HEAL_RANGES_KEY, xdata: null }));
    await fails(
      b.call('GETXATTR', { gfid: randomGfid(), namelen: 1, name: HEAL_RANGES_KEY, xdata: null }),
      'ESTALE',
    );
    // Malformed counters (odd lengths) are posix's to refuse; the record stays consistent.
    await b
      .call('FXATTROP', {
        gfid,
        fd,
        flags: 0,
        dict: new Map([['trusted.afr.dirty', ptrValue(Buffer.alloc(5, 1))]]),
        xdata: null,
      })
      .catch(() => undefined);
    assert.equal((await b.ranges(gfid)).complete, true);
  } finally {
    await b.close();
  }
});

test('vectored READ and WRITE: ranges read and written in one call, each recorded; the probe; malformed vectors refused', async () => {
  const b = await rangesBrick();
  const vec = (key: string, ranges: { offset: number; length: number }[]) =>
    new Map([[key, ptrValue(encodeIoRanges(ranges))]]);
  try {
    const { gfid, fd } = await b.create('v1');
    await b.write(fd, 0, 64 * 1024);
    await b.preOp(fd);
    await b.postOp(fd, [2]); // brick 2 charged: the record keeps what is written now
    const ranges = R([4096, 4096], [20480, 100], [40960, 4096]);
    const payload = Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(100, 2), Buffer.alloc(4096, 3)]);
    const w = await b.call('WRITE', {
      gfid,
      fd,
      offset: 4096,
      size: payload.length,
      flag: 0,
      xdata: vec(WRITE_VECTOR_KEY, ranges),
      payload: [payload.subarray(0, 5000), payload.subarray(5000)],
    });
    assert.equal(w.opRet, payload.length);
    assert.ok(w.xdata.has(WRITE_VECTOR_KEY), 'the reply says the vector was served');
    assert.deepEqual(await b.ranges(gfid), { complete: true, ranges: ranges });
    const file = await readFile(join(b.dir, 'v1'));
    assert.ok(file.subarray(4096, 8192).equals(Buffer.alloc(4096, 1)));
    assert.ok(file.subarray(8192, 20480).equals(Buffer.alloc(12288, 0x61)), 'between the ranges untouched');
    assert.ok(file.subarray(20480, 20580).equals(Buffer.alloc(100, 2)));
    assert.ok(file.subarray(40960, 45056).equals(Buffer.alloc(4096, 3)));

    // Read back, the last range running past EOF (64 KiB): short there, counts say so.
    const read = (xdata: GfxDict, offset = 4096, size = 4096) =>
      b.call('READ', { gfid, fd, offset, size, flag: 0, xdata });
    const r = await read(vec(READ_VECTOR_KEY, R([4096, 4096], [20480, 100], [63 * 1024, 4096])));
    const counts = decodeReadCounts((r.xdata.get(READ_VECTOR_KEY) as { value: Buffer }).value, 3);
    assert.deepEqual(counts, [4096, 100, 1024]);
    const got = Buffer.concat(Array.isArray(r.payload) ? r.payload : [r.payload]);
    assert.equal(r.opRet, got.length);
    assert.ok(
      got.equals(
        Buffer.concat([file.subarray(4096, 8192), file.subarray(20480, 20580), file.subarray(64512)]),
      ),
    );
    // The probe: no ranges, no data, the reply key.
    const probe = await read(vec(READ_VECTOR_KEY, []), 0, 0);
    assert.equal(probe.opRet, 0);
    assert.ok(probe.xdata.has(READ_VECTOR_KEY));
    // A plain READ has no reply key.
    assert.equal((await read(null)).xdata?.has(READ_VECTOR_KEY) ?? false, false);

    // Malformed: truncated, too many ranges, an empty range, payload and ranges disagreeing.
    const raw = (key: string, v: Buffer) => new Map([[key, ptrValue(v)]]);
    await fails(read(raw(READ_VECTOR_KEY, Buffer.alloc(2))), 'EINVAL');
    const many = R(...Array.from({ length: 257 }, (_, k) => [k * 8192, 1] as [number, number]));
    await fails(read(vec(READ_VECTOR_KEY, many)), 'EINVAL');
    await fails(read(vec(READ_VECTOR_KEY, R([0, 0]))), 'EINVAL');
    await fails(
      b.call('WRITE', {
        gfid,
        fd,
        offset: 0,
        size: 10,
        flag: 0,
        xdata: vec(WRITE_VECTOR_KEY, R([0, 5], [100, 6])),
        payload: Buffer.alloc(10),
      }),
      'EINVAL',
    );
    const after = await readFile(join(b.dir, 'v1'));
    assert.ok(after.equals(file), 'refused vectors changed nothing');
  } finally {
    await b.close();
  }
});
