// What stock cluster/distribute (DHT) sends to a brick, replayed against storage/posix:
// the parent-layout precondition on CREATE and MKDIR (`glusterfs.preop.parent.key`), the
// layout and mds keys of a new directory, linkto files, and the directory heal's SETATTR
// with every valid bit set. Regression tests for bugs the 3-brick e2e suite found
// (test/e2e/distribute.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DictType,
  gfuuidValue,
  intValue,
  ptrValue,
  strValue,
  type Dict,
  type DictValue,
} from '../../../src/protocol/dict.js';
import { FopError } from '../../../src/protocol/errno.js';
import { ROOT_GFID, randomGfid } from '../../../src/protocol/gfid.js';
import { zeroIatt } from '../../../src/protocol/iatt.js';
import { lgetxattr, llistxattr, lsetxattr } from '../../../src/sys/index.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { fails, lookup, makeBrick, type TestBrick } from './helpers.js';

const LAYOUT = 'trusted.glusterfs.dht';
const MDS = 'trusted.glusterfs.dht.mds';
const LINKTO = 'trusted.glusterfs.dht.linkto';
const PREOP = 'glusterfs.preop.parent.key';
const FAILED = 'glusterfs.preop.check.failed';

/** A 16-byte on-disk layout: commit hash, type 0, start, stop (big-endian). */
function layout(start: number, stop: number, commit = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(commit, 0);
  b.writeUInt32BE(start >>> 0, 8);
  b.writeUInt32BE(stop >>> 0, 12);
  return b;
}

const ROOT_LAYOUT = layout(0x55555555, 0xaaaaaaa9, 1);

/** The xdata dht_mkdir/dht_create send to the hashed subvolume. */
function dhtXdata(gfid: Buffer, parentLayout: Buffer, extra: Record<string, DictValue> = {}): Dict {
  return new Map([
    ['gfid-req', gfuuidValue(gfid)],
    [LAYOUT, ptrValue(parentLayout)],
    [PREOP, strValue(LAYOUT)],
    ...Object.entries(extra),
  ]);
}

async function withLayoutRoot(fn: (b: TestBrick) => Promise<void>): Promise<void> {
  const b = await makeBrick();
  try {
    await lsetxattr(b.dir, LAYOUT, ROOT_LAYOUT, 0);
    await fn(b);
  } finally {
    await b.close();
  }
}

async function failsWithCheckFlag(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FopError, String(e));
    assert.equal(e.code, 'EIO');
    assert.equal(e.xdata?.get(FAILED)?.type, DictType.INT);
    assert.equal(e.xdata?.get(FAILED)?.value, 1n);
    return true;
  });
}

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('MKDIR with DHT precondition: the parent layout is checked, never stored on the new directory', async () => {
  await withLayoutRoot(async (b) => {
    const gfid = randomGfid();
    await b.call('MKDIR', {
      pargfid: ROOT_GFID,
      mode: 0o755,
      umask: 0o022,
      bname: 'dir1',
      xdata: dhtXdata(gfid, ROOT_LAYOUT, { [MDS]: ptrValue(Buffer.alloc(4)) }),
    });
    const path = join(b.dir, 'dir1');
    // The bug: the parent's layout was stored as the new directory's own layout.
    assert.deepEqual((await llistxattr(path)).filter((k) => k.startsWith(LAYOUT)).sort(), [MDS]);
    assert.deepEqual(await lgetxattr(path, MDS), Buffer.alloc(4), 'the mds key is stored');
    // A stale layout (the client's view differs from the parent's xattr): EIO + the flag.
    await failsWithCheckFlag(
      b.call('MKDIR', {
        pargfid: ROOT_GFID,
        mode: 0o755,
        umask: 0o022,
        bname: 'dir2',
        xdata: dhtXdata(randomGfid(), layout(0, 0x55555554, 1)),
      }),
    );
    assert.equal(await exists(join(b.dir, 'dir2')), false, 'nothing is created');
    // A parent without any layout fails the precondition too.
    await failsWithCheckFlag(
      b.call('MKDIR', {
        pargfid: gfid,
        mode: 0o755,
        umask: 0o022,
        bname: 'sub',
        xdata: dhtXdata(randomGfid(), ROOT_LAYOUT),
      }),
    );
    // Single-subvolume DHT (pass-through) sends a layout without the precondition: stored.
    const solo = randomGfid();
    const full = layout(0, 0xffffffff);
    await b.call('MKDIR', {
      pargfid: ROOT_GFID,
      mode: 0o755,
      umask: 0o022,
      bname: 'solo',
      xdata: new Map([
        ['gfid-req', gfuuidValue(solo)],
        [LAYOUT, ptrValue(full)],
      ]),
    });
    assert.deepEqual(await lgetxattr(join(b.dir, 'solo'), LAYOUT), full);
  });
});

test('CREATE with DHT precondition: checked for new names only, the layout never lands on the file', async () => {
  await withLayoutRoot(async (b) => {
    const create = (name: string, parentLayout: Buffer, flags = 0o102) => {
      const gfid = randomGfid();
      return b.call('CREATE', {
        pargfid: ROOT_GFID,
        flags,
        mode: 0o644,
        umask: 0o022,
        bname: name,
        xdata: dhtXdata(gfid, parentLayout),
        fd: new OpenFd(gfid, flags, false),
      });
    };
    await create('file1', ROOT_LAYOUT);
    // The bug: every file DHT created carried its parent's layout xattr.
    assert.deepEqual(
      (await llistxattr(join(b.dir, 'file1'))).filter((k) => k.startsWith(LAYOUT)),
      [],
      'no layout key on a regular file',
    );
    await failsWithCheckFlag(create('file2', layout(1, 2)));
    assert.equal(await exists(join(b.dir, 'file2')), false);
    // An existing name is opened without the check (as stock), and nothing is stored.
    await create('file1', layout(1, 2));
    assert.deepEqual(
      (await llistxattr(join(b.dir, 'file1'))).filter((k) => k.startsWith(LAYOUT)),
      [],
    );
  });
});

test('linkto MKNOD: mode 01000, the linkto name stored with its NUL and returned by LOOKUP', async () => {
  await withLayoutRoot(async (b) => {
    const gfid = randomGfid();
    await b.call('MKNOD', {
      pargfid: ROOT_GFID,
      mode: 0o101000,
      dev: 0n,
      umask: 0o022,
      bname: 'moved1',
      xdata: new Map([
        [LINKTO, strValue('dv-client-1')],
        ['gfid-req', gfuuidValue(gfid)],
        ['force-replace', intValue(1)],
        ['glusterfs-internal-fop', intValue(1)],
      ]),
    });
    const path = join(b.dir, 'moved1');
    const st = await lstat(path);
    assert.equal(st.mode, 0o101000, 'S_IFREG | S_ISVTX, no permission bits');
    assert.equal(st.size, 0);
    assert.deepEqual(await lgetxattr(path, LINKTO), Buffer.from('dv-client-1\0'));
    const r = await lookup(
      b,
      ROOT_GFID,
      'moved1',
      new Map([
        [LINKTO, { type: DictType.UINT, value: 256n }],
        [LAYOUT, { type: DictType.UINT, value: 16n }],
      ]),
    );
    assert.equal(r.prestat.mode & 0o7777, 0o1000);
    assert.deepEqual(r.xdata?.get(LINKTO), ptrValue(Buffer.from('dv-client-1\0')));
    assert.equal(r.xdata?.has(LAYOUT), false);
  });
});

test('SETATTR with valid = 0xffffffff on a directory (DHT heal): size bit ignored, the rest applied', async () => {
  await withLayoutRoot(async (b) => {
    const gfid = randomGfid();
    await b.call('MKDIR', {
      pargfid: ROOT_GFID,
      mode: 0o700,
      umask: 0,
      bname: 'd',
      xdata: new Map([['gfid-req', gfuuidValue(gfid)]]),
    });
    const stbuf = {
      ...zeroIatt(),
      mode: 0o40755,
      uid: 12,
      gid: 34,
      size: 4096,
      atime: 1_000_000,
      mtime: 2_000_000,
    };
    // The bug: EISDIR, so DHT's heal of a directory's attributes always failed.
    const r = await b.call('SETATTR', { gfid, stbuf, valid: 0xffffffff, xdata: null });
    assert.equal(r.poststat.mode & 0o7777, 0o755);
    assert.deepEqual([r.poststat.uid, r.poststat.gid], [12, 34]);
    await b.call('SETATTR', {
      gfid: ROOT_GFID,
      stbuf: { ...stbuf, uid: 0, gid: 0 },
      valid: 0xffffffff,
      xdata: null,
    });
    await fails(b.call('SETATTR', { gfid: randomGfid(), stbuf, valid: 0xffffffff, xdata: null }), 'ESTALE');
  });
});

test('LOOKUP answers glusterfs.open-fd-count (UINT, every client’s fds) so DHT can drop stale linkto files', async () => {
  await withLayoutRoot(async (b) => {
    const gfid = randomGfid();
    const fd = new OpenFd(gfid, 0o2, false);
    await b.call('CREATE', {
      pargfid: ROOT_GFID,
      flags: 0o102,
      mode: 0o644,
      umask: 0o022,
      bname: 'f',
      xdata: new Map([['gfid-req', gfuuidValue(gfid)]]),
      fd,
    });
    const ask = new Map([
      ['glusterfs.open-fd-count', { type: DictType.UINT, value: 4n }],
      [LINKTO, { type: DictType.UINT, value: 256n }],
    ]) as Dict;
    const count = async () => {
      const named = await lookup(b, ROOT_GFID, 'f', ask);
      const nameless = await b.call('LOOKUP', {
        gfid,
        pargfid: Buffer.alloc(16),
        flags: 0,
        bname: '',
        xdata: ask,
      });
      assert.deepEqual(
        named.xdata?.get('glusterfs.open-fd-count'),
        nameless.xdata?.get('glusterfs.open-fd-count'),
      );
      assert.equal(named.xdata?.has(LINKTO), false, 'absent xattrs stay absent');
      return named.xdata?.get('glusterfs.open-fd-count');
    };
    assert.deepEqual(await count(), { type: DictType.UINT, value: 1n }, 'the CREATE fd');
    const other = new OpenFd(gfid, 0, false);
    await b.call('OPEN', { gfid, flags: 0, xdata: null, fd: other });
    assert.deepEqual(await count(), { type: DictType.UINT, value: 2n });
    await b.call('RELEASE', { gfid, fd, xdata: null });
    await b.call('RELEASE', { gfid, fd: other, xdata: null });
    await b.call('RELEASE', { gfid, fd: other, xdata: null });
    assert.deepEqual(await count(), { type: DictType.UINT, value: 0n }, 'released: 0, sent anyway');
    const plain = await lookup(
      b,
      ROOT_GFID,
      'f',
      new Map([[LINKTO, { type: DictType.UINT, value: 256n }]]) as Dict,
    );
    assert.equal(plain.xdata?.has('glusterfs.open-fd-count'), false, 'only when asked for');
  });
});
