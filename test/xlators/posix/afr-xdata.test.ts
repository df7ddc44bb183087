// What AFR and the self-heal daemon ask posix for beyond plain fops: WRITE's
// write-is-append and fd counts, LOOKUP's list-xattr, the pathinfo and gfid2path virtual
// xattrs, RCHECKSUM's zero check, and FSYNC with batch-fsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  DictType,
  intValue,
  ptrValue,
  strValue,
  uintValue,
  type DictValue,
} from '../../../src/protocol/dict.js';
import { ROOT_GFID } from '../../../src/protocol/gfid.js';
import { lgetxattr, lsetxattr } from '../../../src/sys/index.js';
import { create, fails, lookup, makeBrick, mkdir, open } from './helpers.js';

const str = (v: DictValue | undefined) => (v?.value as Buffer).toString('utf8').replace(/\0$/, '');

test('WRITE: write-is-append (atomic EOF check), open-active-fd-count and open-fd-count in the reply', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    const fd2 = await open(b, gfid);
    const asked = new Map([
      ['glusterfs.write-is-append', uintValue(4)],
      ['glusterfs.open-active-fd-count', uintValue(4)],
      ['glusterfs.open-fd-count', uintValue(4)],
      ['glusterfs.inodelk-dom-count', strValue('vol-replicate-0')],
    ]);
    const w = (offset: number, data: Buffer) =>
      b.call('WRITE', { gfid, fd, offset, size: data.length, flag: 0, xdata: asked, payload: data } as never);
    let r = await w(0, Buffer.alloc(100, 1));
    assert.deepEqual(r.xdata?.get('glusterfs.write-is-append'), uintValue(1), 'at EOF (empty file)');
    assert.deepEqual(r.xdata?.get('glusterfs.open-active-fd-count'), uintValue(2));
    assert.deepEqual(r.xdata?.get('glusterfs.open-fd-count'), uintValue(2));
    assert.equal(r.xdata?.has('glusterfs.inodelk-count'), false, 'lock counts are features/locks’ job');
    r = await w(100, Buffer.alloc(10, 2));
    assert.deepEqual(r.xdata?.get('glusterfs.write-is-append'), uintValue(1));
    r = await w(50, Buffer.alloc(10, 3));
    assert.deepEqual(r.xdata?.get('glusterfs.write-is-append'), uintValue(0), 'inside the file');
    // Concurrent appenders at the same offset: exactly one of them started at EOF.
    const rs = await Promise.all(Array.from({ length: 8 }, () => w(110, Buffer.alloc(4096, 4))));
    const appends = rs.filter((x) => x.xdata?.get('glusterfs.write-is-append')?.value === 1n).length;
    assert.equal(appends, 1);
    await b.call('RELEASE', { gfid, fd: fd2, xdata: null });
    r = await w(0, Buffer.alloc(1));
    assert.deepEqual(r.xdata?.get('glusterfs.open-active-fd-count'), uintValue(1));
    const plain = await b.call('WRITE', {
      gfid,
      fd,
      offset: 0,
      size: 1,
      flag: 0,
      xdata: null,
      payload: Buffer.alloc(1),
    } as never);
    assert.equal(plain.xdata, null, 'nothing asked, nothing added');
  } finally {
    await b.close();
  }
});

test('LOOKUP list-xattr: every stored xattr but identity, gfid2path, selinux and marker keys', async () => {
  const b = await makeBrick({ 'volume-id': '6f1b1c5e-2b7a-4b55-9a0c-0123456789ab' });
  try {
    await create(b, 'f');
    const path = join(b.dir, 'f');
    await lsetxattr(path, 'trusted.afr.dirty', Buffer.alloc(12));
    await lsetxattr(path, 'trusted.afr.v-client-1', Buffer.from('000000010000000000000000', 'hex'));
    await lsetxattr(path, 'user.x', Buffer.from('hello'));
    await lsetxattr(path, 'trusted.glusterfs.quota.size', Buffer.alloc(8));
    await lsetxattr(path, 'trusted.glusterfs.abc.xtime', Buffer.alloc(8));
    const r = await lookup(
      b,
      ROOT_GFID,
      'f',
      new Map([
        ['list-xattr', intValue(1)],
        ['trusted.afr.dirty', uintValue(12)],
      ]),
    );
    assert.deepEqual([...r.xdata!.keys()].sort(), ['trusted.afr.dirty', 'trusted.afr.v-client-1', 'user.x']);
    assert.equal(r.xdata?.get('user.x')?.type, DictType.PTR);
    // The root's volume-id and gfid are never listed.
    const root = await b.call('LOOKUP', {
      gfid: ROOT_GFID,
      pargfid: Buffer.alloc(16),
      flags: 0,
      bname: '',
      xdata: new Map([['list-xattr', intValue(1)]]),
    });
    assert.deepEqual([...root.xdata!.keys()], []);
  } finally {
    await b.close();
  }
});

test('GETXATTR trusted.glusterfs.pathinfo and glusterfs.gfid2path', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'd');
    const e = await mkdir(b, 'e', d.gfid);
    const { gfid } = await create(b, 'f2', e.gfid);
    const get = (g: Buffer, name: string) => b.call('GETXATTR', { gfid: g, namelen: 1, name, xdata: null });
    const host = hostname();
    let r = await get(ROOT_GFID, 'trusted.glusterfs.pathinfo');
    assert.equal(r.dict?.get('trusted.glusterfs.pathinfo')?.type, DictType.STR);
    assert.equal(str(r.dict?.get('trusted.glusterfs.pathinfo')), `<POSIX(${b.dir}):${host}:${b.dir}/>`);
    r = await get(gfid, 'trusted.glusterfs.pathinfo');
    assert.equal(str(r.dict?.get('trusted.glusterfs.pathinfo')), `<POSIX(${b.dir}):${host}:${b.dir}/d/e/f2>`);
    r = await get(e.gfid, 'glusterfs.gfid2path');
    assert.equal(str(r.dict?.get('glusterfs.gfid2path')), '/d/e');
    r = await get(gfid, 'glusterfs.gfid2path');
    assert.equal(str(r.dict?.get('glusterfs.gfid2path')), '/d/e/f2');
    assert.equal(str((await get(ROOT_GFID, 'glusterfs.gfid2path')).dict?.get('glusterfs.gfid2path')), '/');
    await b.call('LINK', { oldgfid: gfid, newgfid: d.gfid, newbname: 'hard', xdata: null });
    r = await get(gfid, 'glusterfs.gfid2path');
    assert.equal(str(r.dict?.get('glusterfs.gfid2path')), '/d/e/f2:/d/hard', 'every link');
    await fails(get(Buffer.alloc(16, 7), 'glusterfs.gfid2path'), 'ESTALE');
  } finally {
    await b.close();
  }
});

test('RCHECKSUM check-zero-filled → buf-has-zeroes; FSYNC with batch-fsync is a plain fsync', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    await b.call('WRITE', {
      gfid,
      fd,
      offset: 131072,
      size: 4,
      flag: 0,
      xdata: null,
      payload: Buffer.from('abcd'),
    } as never);
    const ck = (offset: number) =>
      b.call('RCHECKSUM', {
        gfid,
        fd,
        offset,
        len: 131072,
        flags: 0,
        xdata: new Map([['check-zero-filled', intValue(1)]]),
      });
    let r = await ck(0);
    assert.deepEqual(r.xdata?.get('buf-has-zeroes'), uintValue(1));
    assert.deepEqual(r.xdata?.get('fips-mode-rchecksum'), intValue(1));
    r = await ck(131072);
    assert.deepEqual(r.xdata?.get('buf-has-zeroes'), uintValue(0));
    const plain = await b.call('RCHECKSUM', { gfid, fd, offset: 0, len: 16, flags: 0, xdata: null });
    assert.equal(plain.xdata?.has('buf-has-zeroes'), false);
    const s = await b.call('FSYNC', {
      gfid,
      fd,
      data: 1,
      xdata: new Map([
        ['batch-fsync', intValue(1)],
        ['glusterfs-internal-fop', ptrValue(Buffer.from('yes\0'))],
      ]),
    });
    assert.equal(s.poststat.size, 131076);
  } finally {
    await b.close();
  }
});

test('REMOVEXATTR with an empty name and an xdata dict removes its keys (AFR metadata heal), as stock', async () => {
  const b = await makeBrick();
  try {
    const { gfid } = await create(b, 'f');
    const path = join(b.dir, 'f');
    await lsetxattr(path, 'user.a', Buffer.from('1'));
    await lsetxattr(path, 'trusted.b', Buffer.from('2'));
    await lsetxattr(path, 'user.keep', Buffer.from('3'));
    const keys = (...k: string[]) => new Map(k.map((x) => [x, ptrValue(Buffer.from('x'))] as const));
    // An internal key refuses the whole request, before anything is removed.
    await fails(b.call('REMOVEXATTR', { gfid, name: '', xdata: keys('user.a', 'trusted.gfid') }), 'EPERM');
    assert.deepEqual(await lgetxattr(path, 'user.a'), Buffer.from('1'));
    await b.call('REMOVEXATTR', { gfid, name: '', xdata: keys('user.a', 'trusted.b', 'user.absent') });
    await assert.rejects(lgetxattr(path, 'user.a'), { code: 'ENODATA' });
    await assert.rejects(lgetxattr(path, 'trusted.b'), { code: 'ENODATA' });
    assert.deepEqual(await lgetxattr(path, 'user.keep'), Buffer.from('3'));
    // An empty dict: nothing to do (what AFR sends when the sink has nothing extra).
    await b.call('REMOVEXATTR', { gfid, name: '', xdata: new Map() });
    // A named removal ignores xdata; no name and no xdata is refused.
    await b.call('REMOVEXATTR', { gfid, name: 'user.keep', xdata: keys('trusted.gfid') });
    await assert.rejects(lgetxattr(path, 'user.keep'), { code: 'ENODATA' });
    await fails(b.call('REMOVEXATTR', { gfid, name: '', xdata: null }), 'EINVAL');
  } finally {
    await b.close();
  }
});
