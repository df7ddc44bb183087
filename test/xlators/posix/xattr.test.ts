// Xattr fops: GETXATTR by name and list-all, SETXATTR flags, REMOVEXATTR, fd variants,
// XATTROP arithmetic, set-ctime-mdata, and internal xattrs that clients cannot touch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DictType, ptrValue, type DictValue } from '../../../src/protocol/dict.js';
import { ROOT_GFID } from '../../../src/protocol/gfid.js';
import { lgetxattr, lsetxattr } from '../../../src/sys/index.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { create, fails, makeBrick, mkdir } from './helpers.js';

const ptr = (s: string | Buffer) => ptrValue(typeof s === 'string' ? Buffer.from(s) : s);
const bytes = (v: DictValue | undefined) => v?.value as Buffer;

test('SETXATTR/GETXATTR/REMOVEXATTR by gfid and by fd, with CREATE/REPLACE flags and ENODATA', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    await b.call('SETXATTR', {
      gfid,
      flags: 0,
      dict: new Map([
        ['user.a', ptr('one')],
        ['user.b', ptr('two')],
      ]),
      xdata: null,
    });
    const g = await b.call('GETXATTR', { gfid, namelen: 1, name: 'user.a', xdata: null });
    assert.equal(g.opRet, 3);
    assert.equal(bytes(g.dict?.get('user.a')).toString(), 'one');
    await fails(b.call('GETXATTR', { gfid, namelen: 1, name: 'user.none', xdata: null }), 'ENODATA');
    await fails(
      b.call('SETXATTR', { gfid, flags: 1, dict: new Map([['user.a', ptr('x')]]), xdata: null }),
      'EEXIST',
    );
    await fails(
      b.call('SETXATTR', { gfid, flags: 2, dict: new Map([['user.c', ptr('x')]]), xdata: null }),
      'ENODATA',
    );
    const all = await b.call('GETXATTR', { gfid, namelen: 0, name: '', xdata: null });
    assert.deepEqual([...all.dict!.keys()].sort(), ['user.a', 'user.b'], 'internal xattrs are not listed');
    assert.equal(all.opRet, 'user.a\0user.b\0'.length);
    await b.call('FSETXATTR', { gfid, fd, flags: 0, dict: new Map([['user.c', ptr('three')]]), xdata: null });
    assert.equal(
      bytes(
        (await b.call('FGETXATTR', { gfid, fd, namelen: 1, name: 'user.c', xdata: null })).dict?.get(
          'user.c',
        ),
      ).toString(),
      'three',
    );
    await b.call('REMOVEXATTR', { gfid, name: 'user.a', xdata: null });
    await b.call('FREMOVEXATTR', { gfid, fd, name: 'user.c', xdata: null });
    await fails(b.call('REMOVEXATTR', { gfid, name: 'user.a', xdata: null }), 'ENODATA');
    // Directories go through their fd.
    const d = await mkdir(b, 'd');
    await b.call('SETXATTR', {
      gfid: d.gfid,
      flags: 0,
      dict: new Map([['trusted.glusterfs.dht', ptr(Buffer.alloc(16, 1))]]),
      xdata: null,
    });
    assert.deepEqual(await lgetxattr(join(b.dir, 'd'), 'trusted.glusterfs.dht'), Buffer.alloc(16, 1));
    // Reading internal xattrs is allowed (AFR and tools do).
    const gg = await b.call('GETXATTR', { gfid, namelen: 1, name: 'trusted.gfid', xdata: null });
    assert.deepEqual(bytes(gg.dict?.get('trusted.gfid')), gfid);
  } finally {
    await b.close();
  }
});

test('internal xattrs cannot be set or removed by clients; set-ctime-mdata is accepted', async () => {
  const b = await makeBrick({ 'volume-id': '6f1b1c5e-2b7a-4b55-9a0c-0123456789ab' });
  try {
    const { gfid, fd } = await create(b, 'f');
    for (const key of [
      'trusted.gfid',
      'trusted.glusterfs.volume-id',
      'trusted.gfid2path.0123456789abcdef',
      'trusted.glusterfs.mdata',
    ]) {
      await fails(
        b.call('SETXATTR', { gfid, flags: 0, dict: new Map([[key, ptr(Buffer.alloc(16, 9))]]), xdata: null }),
        'EPERM',
      );
      await fails(
        b.call('FSETXATTR', {
          gfid,
          fd,
          flags: 0,
          dict: new Map([[key, ptr(Buffer.alloc(16, 9))]]),
          xdata: null,
        }),
        'EPERM',
      );
      await fails(b.call('REMOVEXATTR', { gfid: ROOT_GFID, name: key, xdata: null }), 'EPERM');
      await fails(b.call('FREMOVEXATTR', { gfid, fd, name: key, xdata: null }), 'EPERM');
      await fails(
        b.call('XATTROP', { gfid, flags: 0, dict: new Map([[key, ptr(Buffer.alloc(16, 9))]]), xdata: null }),
        'EPERM',
      );
    }
    // One bad key refuses the whole request: nothing is set.
    await fails(
      b.call('SETXATTR', {
        gfid,
        flags: 0,
        dict: new Map([
          ['user.ok', ptr('1')],
          ['trusted.gfid', ptr(Buffer.alloc(16))],
        ]),
        xdata: null,
      }),
      'EPERM',
    );
    await fails(b.call('GETXATTR', { gfid, namelen: 1, name: 'user.ok', xdata: null }), 'ENODATA');
    assert.deepEqual(await lgetxattr(join(b.dir, 'f'), 'trusted.gfid'), gfid, 'gfid untouched');
    const mdata: DictValue = {
      type: DictType.MDATA,
      value: { atime: 1, mtime: 2, ctime: 3, atimeNsec: 0, mtimeNsec: 0, ctimeNsec: 0 },
    };
    const r = await b.call('SETXATTR', {
      gfid,
      flags: 0,
      dict: new Map([['set-ctime-mdata', mdata]]),
      xdata: null,
    });
    assert.equal(r.xdata, null);
  } finally {
    await b.close();
  }
});

test('XATTROP: ADD_ARRAY (big-endian i32), ADD_ARRAY64, GET_AND_SET, OR/AND refused; concurrent adds do not lose updates', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    const i32 = (...v: number[]) => {
      const out = Buffer.alloc(v.length * 4);
      v.forEach((x, i) => out.writeInt32BE(x, i * 4));
      return out;
    };
    const key = 'trusted.afr.vol-client-0';
    let r = await b.call('XATTROP', {
      gfid,
      flags: 0,
      dict: new Map([[key, ptr(i32(1, 2, 3))]]),
      xdata: null,
    });
    assert.deepEqual(bytes(r.dict?.get(key)), i32(1, 2, 3));
    r = await b.call('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map([[key, ptr(i32(1, -2, 0))]]),
      xdata: null,
    });
    assert.deepEqual(bytes(r.dict?.get(key)), i32(2, 0, 3));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        b.call('XATTROP', { gfid, flags: 0, dict: new Map([[key, ptr(i32(1, 0, 0))]]), xdata: null }),
      ),
    );
    assert.deepEqual(await lgetxattr(join(b.dir, 'f'), key), i32(22, 0, 3));
    const k64 = 'trusted.ec.size';
    const v64 = Buffer.alloc(8);
    v64.writeBigInt64BE(5n);
    await b.call('XATTROP', { gfid, flags: 1, dict: new Map([[k64, ptr(v64)]]), xdata: null });
    r = await b.call('XATTROP', { gfid, flags: 1, dict: new Map([[k64, ptr(v64)]]), xdata: null });
    assert.equal(bytes(r.dict?.get(k64)).readBigInt64BE(), 10n);
    const kb = 'trusted.bits';
    // OR_ARRAY and AND_ARRAY are not implemented by stock posix either.
    await fails(
      b.call('XATTROP', { gfid, flags: 2, dict: new Map([[kb, ptr(i32(0b1010))]]), xdata: null }),
      'EINVAL',
    );
    await fails(
      b.call('XATTROP', { gfid, flags: 3, dict: new Map([[kb, ptr(i32(0b0110))]]), xdata: null }),
      'EINVAL',
    );
    r = await b.call('XATTROP', { gfid, flags: 4, dict: new Map([[kb, ptr(i32(0b0010))]]), xdata: null });
    assert.equal(r.dict?.has(kb), false, 'GET_AND_SET of an absent key: no old value');
    r = await b.call('XATTROP', { gfid, flags: 4, dict: new Map([[kb, ptr(i32(7))]]), xdata: null });
    assert.deepEqual(bytes(r.dict?.get(kb)), i32(0b0010), 'GET_AND_SET returns the old value');
    assert.deepEqual(await lgetxattr(join(b.dir, 'f'), kb), i32(7));
    await fails(
      b.call('XATTROP', { gfid, flags: 0, dict: new Map([[key, ptr(Buffer.alloc(3))]]), xdata: null }),
      'EINVAL',
    );
    await fails(
      b.call('XATTROP', { gfid, flags: 9, dict: new Map([[key, ptr(i32(1))]]), xdata: null }),
      'EINVAL',
    );
  } finally {
    await b.close();
  }
});

test('trusted.glusterfs.mdata: returned when asked for, dropped before glusterts changes the inode', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    await b.call('RELEASE', { gfid, fd, xdata: null });
    const path = join(b.dir, 'f');
    const mdata = Buffer.alloc(57, 1);
    await lsetxattr(path, 'trusted.glusterfs.mdata', mdata);
    const asked = new Map([['trusted.glusterfs.mdata', { type: DictType.INT, value: 1n } as DictValue]]);
    const l = await b.call('LOOKUP', {
      gfid: Buffer.alloc(16),
      pargfid: ROOT_GFID,
      flags: 0,
      bname: 'f',
      xdata: asked,
    });
    assert.deepEqual(bytes(l.xdata?.get('trusted.glusterfs.mdata')), mdata);
    // Reading does not drop it; opening for writing does (stock would report stale times).
    const ro = new OpenFd(gfid, 0, false);
    await b.call('OPEN', { gfid, flags: 0, xdata: null, fd: ro });
    assert.deepEqual(await lgetxattr(path, 'trusted.glusterfs.mdata'), mdata);
    const rw = new OpenFd(gfid, 2, false);
    await b.call('OPEN', { gfid, flags: 2, xdata: null, fd: rw });
    await assert.rejects(lgetxattr(path, 'trusted.glusterfs.mdata'), { code: 'ENODATA' });
  } finally {
    await b.close();
  }
});
