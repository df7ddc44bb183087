// The brick layout at start-up and for new inodes: root gfid, volume-id, the handle store,
// handles for files, directories and symlinks, gfid2path with stock's xxh64 naming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readlink, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT_GFID, gfidToString, randomGfid } from '../../../src/protocol/gfid.js';
import { lgetxattr, llistxattr } from '../../../src/sys/index.js';
import { xxh64Hex, weakChecksum } from '../../../src/xlators/posix/checksums.js';
import { create, makeBrick, mkdir, req } from './helpers.js';

const VOLID = '6f1b1c5e-2b7a-4b55-9a0c-0123456789ab';

test('xxh64 and adler32-from-0 match their reference values', () => {
  assert.equal(xxh64Hex(''), 'ef46db3751d8e999');
  assert.equal(xxh64Hex('a'), 'd24ec4f1a98c6e5b');
  assert.equal(xxh64Hex('abc'), '44bc2cf5ad770999');
  // ≥ 32 bytes takes the four-lane path.
  assert.equal(xxh64Hex('Nobody inspects the spammish repetition'), 'fbcea83c8a378bf1');
  // adler32 seeded with 0: for "abc" a = 294, b = 97 + 195 + 294 = 586.
  assert.equal(weakChecksum(Buffer.from('abc')), (586 << 16) | 294);
});

test('init lays out a fresh brick like stock and is idempotent; a foreign volume-id is refused', async () => {
  const b = await makeBrick({ 'volume-id': VOLID });
  try {
    assert.equal((await lgetxattr(b.dir, 'trusted.gfid')).toString('hex'), ROOT_GFID.toString('hex'));
    assert.equal(gfidToString(await lgetxattr(b.dir, 'trusted.glusterfs.volume-id')), VOLID);
    const hidden = join(b.dir, '.glusterfs');
    assert.equal((await stat(hidden)).mode & 0o777, 0o600);
    const names = await readdir(hidden);
    for (const d of ['00', 'ff', 'indices', 'changelogs', 'unlink', 'landfill'])
      assert.ok(names.includes(d), d);
    assert.equal(await readlink(join(hidden, '00/00/00000000-0000-0000-0000-000000000001')), '../../..');
    await b.restart();
    await assert.rejects(
      b.restart({ 'volume-id': '11111111-2222-3333-4444-555555555555' }),
      /another volume/,
    );
  } finally {
    await b.close().catch(() => undefined);
  }
});

test('files get a hard-link handle and gfid2path; directories a symlink handle; symlinks a hard link', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'dir');
    const f = await create(b, 'file', d.gfid);
    const s = randomGfid();
    await b.call('SYMLINK', {
      pargfid: d.gfid,
      bname: 'ln',
      umask: 0,
      linkname: '/etc/passwd',
      xdata: req(s),
    });

    const fs = gfidToString(f.gfid);
    const fh = join(b.dir, '.glusterfs', fs.slice(0, 2), fs.slice(2, 4), fs);
    const [a, h] = await Promise.all([lstat(join(b.dir, 'dir/file')), lstat(fh)]);
    assert.equal(a.ino, h.ino, 'handle is a hard link');
    assert.equal(a.nlink, 2);
    assert.deepEqual(await lgetxattr(join(b.dir, 'dir/file'), 'trusted.gfid'), f.gfid);
    const value = `${gfidToString(d.gfid)}/file`;
    const key = `trusted.gfid2path.${xxh64Hex(value)}`;
    assert.equal((await lgetxattr(fh, key)).toString(), value);
    assert.equal(f.reply.stat.nlink, 1, 'the handle link is not shown');

    const ds = gfidToString(d.gfid);
    const dh = join(b.dir, '.glusterfs', ds.slice(0, 2), ds.slice(2, 4), ds);
    assert.equal(await readlink(dh), '../../00/00/00000000-0000-0000-0000-000000000001/dir');
    assert.ok(!(await llistxattr(join(b.dir, 'dir'))).some((n) => n.startsWith('trusted.gfid2path')));

    const ss = gfidToString(s);
    const sh = join(b.dir, '.glusterfs', ss.slice(0, 2), ss.slice(2, 4), ss);
    assert.equal((await lstat(sh)).ino, (await lstat(join(b.dir, 'dir/ln'))).ino);
    assert.equal(await readlink(join(b.dir, 'dir/ln')), '/etc/passwd');
  } finally {
    await b.close();
  }
});
