// Entry fops: LOOKUP (named, nameless, ".", "..", gfid heal, requested xattrs), CREATE,
// MKDIR, MKNOD, SYMLINK/READLINK, LINK, UNLINK, RMDIR, RENAME, and the handle store kept
// consistent through them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readlink, writeFile, mkdir as fsMkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DictType, intValue } from '../../../src/protocol/dict.js';
import { ROOT_GFID, gfidToString, randomGfid } from '../../../src/protocol/gfid.js';
import { lgetxattr, llistxattr, lsetxattr } from '../../../src/sys/index.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { xxh64Hex } from '../../../src/xlators/posix/checksums.js';
import { create, fails, lookup, makeBrick, mkdir, read, req, write } from './helpers.js';

function handle(dir: string, gfid: Buffer): string {
  const s = gfidToString(gfid);
  return join(dir, '.glusterfs', s.slice(0, 2), s.slice(2, 4), s);
}
const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('LOOKUP: root by gfid, ".", "..", named, missing, unknown parent, hidden store', async () => {
  const b = await makeBrick();
  try {
    const root = await b.call('LOOKUP', {
      gfid: ROOT_GFID,
      pargfid: Buffer.alloc(16),
      flags: 0,
      bname: '',
      xdata: null,
    });
    assert.equal(root.prestat.ino, 1n);
    assert.equal(root.prestat.flags, 0x17ff);
    assert.equal(root.prestat.mode & 0o170000, 0o040000, 'type bits present');
    assert.equal(root.poststat.flags, 0, 'nameless: no parent');
    const dot = await lookup(b, ROOT_GFID, '.');
    assert.deepEqual(dot.prestat.gfid, ROOT_GFID);
    const d = await mkdir(b, 'd');
    const dotdot = await lookup(b, d.gfid, '..');
    assert.deepEqual(dotdot.prestat.gfid, ROOT_GFID);
    assert.deepEqual(dotdot.poststat.gfid, d.gfid);
    const named = await lookup(b, ROOT_GFID, 'd');
    assert.deepEqual(named.prestat.gfid, d.gfid);
    assert.deepEqual(named.poststat.gfid, ROOT_GFID, 'poststat is the parent');
    await fails(lookup(b, ROOT_GFID, 'missing'), 'ENOENT');
    await fails(lookup(b, randomGfid(), 'x'), 'ESTALE');
    await fails(
      b.call('LOOKUP', { gfid: randomGfid(), pargfid: Buffer.alloc(16), flags: 0, bname: '', xdata: null }),
      'ENOENT',
    );
    await fails(lookup(b, ROOT_GFID, '.glusterfs'), 'ENOENT');
    await fails(b.call('STAT', { gfid: randomGfid(), xdata: null }), 'ESTALE');
  } finally {
    await b.close();
  }
});

test('LOOKUP with gfid-req heals a file and a directory that have no gfid; xattrs asked for come back as PTR', async () => {
  const b = await makeBrick();
  try {
    await writeFile(join(b.dir, 'stray'), 'hello');
    await fsMkdir(join(b.dir, 'straydir'));
    const noHeal = await lookup(b, ROOT_GFID, 'stray');
    assert.equal(
      noHeal.prestat.gfid.every((x) => x === 0),
      true,
      'no gfid without gfid-req',
    );
    const g = randomGfid();
    const healed = await lookup(b, ROOT_GFID, 'stray', req(g));
    assert.deepEqual(healed.prestat.gfid, g);
    assert.deepEqual(await lgetxattr(join(b.dir, 'stray'), 'trusted.gfid'), g);
    assert.ok(await exists(handle(b.dir, g)));
    const again = await lookup(b, ROOT_GFID, 'stray', req(randomGfid()));
    assert.deepEqual(again.prestat.gfid, g, 'an existing gfid is kept');
    const dg = randomGfid();
    await lookup(b, ROOT_GFID, 'straydir', req(dg));
    assert.equal(
      await readlink(handle(b.dir, dg)),
      '../../00/00/00000000-0000-0000-0000-000000000001/straydir',
    );
    const st = await b.call('STAT', { gfid: dg, xdata: null });
    assert.equal(st.stat.mode & 0o170000, 0o040000);

    await lsetxattr(join(b.dir, 'stray'), 'trusted.glusterfs.dht.linkto', Buffer.from('vol-client-1\0'));
    const x = await lookup(
      b,
      ROOT_GFID,
      'stray',
      new Map([
        ['trusted.glusterfs.dht.linkto', intValue(0)],
        ['security.capability', intValue(0)],
        ['glusterfs.content', intValue(65536)],
      ]),
    );
    const v = x.xdata?.get('trusted.glusterfs.dht.linkto');
    assert.equal(v?.type, DictType.PTR);
    assert.equal((v!.value as Buffer).toString(), 'vol-client-1\0');
    assert.equal(x.xdata?.has('security.capability'), false, 'absent xattrs are left out');
  } finally {
    await b.close();
  }
});

test('CREATE needs gfid-req, echoes it, and its fd works at once; O_EXCL on an existing name is EEXIST', async () => {
  const b = await makeBrick();
  try {
    const fd0 = new OpenFd(randomGfid(), 0o102, false);
    await fails(
      b.call('CREATE', {
        pargfid: ROOT_GFID,
        flags: 0o102,
        mode: 0o644,
        umask: 0,
        bname: 'x',
        xdata: null,
        fd: fd0,
      }),
      'EINVAL',
    );
    assert.equal(await exists(join(b.dir, 'x')), false, 'nothing created without gfid-req');
    const { gfid, fd, reply } = await create(b, 'f', ROOT_GFID, 0o102, 0o640);
    assert.deepEqual(reply.stat.gfid, gfid);
    assert.equal(reply.stat.mode, 0o100640 & ~0o022);
    assert.deepEqual(reply.xdata?.get('gfid-req')?.value, gfid);
    assert.equal((await write(b, fd, 0, 'data')).opRet, 4);
    assert.equal((await read(b, fd, 0, 10)).payload.toString(), 'data');
    await fails(create(b, 'f', ROOT_GFID, 0o302), 'EEXIST');
    await fails(create(b, 'g', randomGfid()), 'ESTALE');
  } finally {
    await b.close();
  }
});

test('a gfid-req already owned by another inode is refused and leaves nothing behind', async () => {
  const b = await makeBrick();
  try {
    const { gfid } = await create(b, 'one');
    const fd = new OpenFd(gfid, 0o102, false);
    await fails(
      b.call('CREATE', {
        pargfid: ROOT_GFID,
        flags: 0o102,
        mode: 0o644,
        umask: 0,
        bname: 'two',
        xdata: req(gfid),
        fd,
      }),
      'EEXIST',
    );
    assert.equal(await exists(join(b.dir, 'two')), false);
    await fails(
      b.call('MKDIR', { pargfid: ROOT_GFID, mode: 0o755, umask: 0, bname: 'd', xdata: req(gfid) }),
      'EEXIST',
    );
    assert.equal(await exists(join(b.dir, 'd')), false);
  } finally {
    await b.close();
  }
});

test('MKDIR, MKNOD (fifo and device), SYMLINK and READLINK', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'sub', ROOT_GFID, 0o750);
    assert.equal(d.reply.stat.mode, 0o040750 & ~0o022);
    assert.deepEqual(d.reply.postparent.gfid, ROOT_GFID);
    const layout = Buffer.alloc(16, 7);
    const dg = randomGfid();
    await b.call('MKDIR', {
      pargfid: ROOT_GFID,
      mode: 0o755,
      umask: 0,
      bname: 'dht',
      xdata: new Map([...req(dg)!, ['trusted.glusterfs.dht', { type: DictType.PTR, value: layout }]]),
    });
    assert.deepEqual(
      await lgetxattr(join(b.dir, 'dht'), 'trusted.glusterfs.dht'),
      layout,
      'MKDIR xdata xattrs are set',
    );
    await fails(mkdir(b, 'sub'), 'EEXIST');

    const fifo = randomGfid();
    const r = await b.call('MKNOD', {
      pargfid: d.gfid,
      dev: 0n,
      mode: 0o010644,
      umask: 0,
      bname: 'p',
      xdata: req(fifo),
    });
    assert.equal(r.stat.mode & 0o170000, 0o010000);
    assert.ok((await lstat(join(b.dir, 'sub/p'))).isFIFO());
    const chr = randomGfid();
    const c = await b.call('MKNOD', {
      pargfid: d.gfid,
      dev: 0x103n,
      mode: 0o020600,
      umask: 0,
      bname: 'null',
      xdata: req(chr),
    });
    assert.equal(c.stat.mode & 0o170000, 0o020000);
    assert.ok((await lstat(join(b.dir, 'sub/null'))).isCharacterDevice());

    const s = randomGfid();
    await b.call('SYMLINK', {
      pargfid: d.gfid,
      bname: 'l',
      umask: 0,
      linkname: '../../../etc/shadow',
      xdata: req(s),
    });
    const rl = await b.call('READLINK', { gfid: s, size: 4096, xdata: null });
    assert.equal(rl.path, '../../../etc/shadow');
    // Regression: stock FUSE takes the link length from op_ret; 0 made readlink return ''.
    assert.equal(rl.opRet, '../../../etc/shadow'.length);
    assert.equal(rl.buf.mode & 0o170000, 0o120000);
    await fails(b.call('READLINK', { gfid: d.gfid, size: 4096, xdata: null }), 'EINVAL');
  } finally {
    await b.close();
  }
});

test('LINK adds a name and its gfid2path; UNLINK drops the handle only with the last name', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'd');
    const { gfid } = await create(b, 'a');
    const l = await b.call('LINK', { oldgfid: gfid, newgfid: d.gfid, newbname: 'b', xdata: null });
    assert.equal(l.stat.nlink, 2);
    const h = handle(b.dir, gfid);
    const keys = (await llistxattr(h)).filter((k) => k.startsWith('trusted.gfid2path.'));
    assert.equal(keys.length, 2);
    await fails(
      b.call('LINK', { oldgfid: d.gfid, newgfid: ROOT_GFID, newbname: 'dl', xdata: null }),
      'EPERM',
    );

    const u = await b.call('UNLINK', { pargfid: ROOT_GFID, bname: 'a', xflags: 0, xdata: null });
    assert.deepEqual(u.prestat.gfid, ROOT_GFID);
    assert.ok(await exists(h), 'handle stays while a name remains');
    const left = (await llistxattr(h)).filter((k) => k.startsWith('trusted.gfid2path.'));
    assert.deepEqual(left, [`trusted.gfid2path.${xxh64Hex(`${gfidToString(d.gfid)}/b`)}`]);
    await b.call('UNLINK', { pargfid: d.gfid, bname: 'b', xflags: 0, xdata: null });
    assert.equal(await exists(h), false, 'handle removed with the last name');
    await fails(b.call('STAT', { gfid, xdata: null }), 'ESTALE');
    await fails(b.call('UNLINK', { pargfid: ROOT_GFID, bname: 'a', xflags: 0, xdata: null }), 'ENOENT');
    await fails(b.call('UNLINK', { pargfid: ROOT_GFID, bname: 'd', xflags: 0, xdata: null }), 'EISDIR');
  } finally {
    await b.close();
  }
});

test('RMDIR: ENOTEMPTY, then removes the directory and its handle', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'd');
    await create(b, 'f', d.gfid);
    await fails(b.call('RMDIR', { pargfid: ROOT_GFID, xflags: 0, bname: 'd', xdata: null }), 'ENOTEMPTY');
    await b.call('UNLINK', { pargfid: d.gfid, bname: 'f', xflags: 0, xdata: null });
    const r = await b.call('RMDIR', { pargfid: ROOT_GFID, xflags: 0, bname: 'd', xdata: null });
    assert.deepEqual(r.poststat.gfid, ROOT_GFID);
    assert.equal(await exists(handle(b.dir, d.gfid)), false);
    await fails(b.call('RMDIR', { pargfid: ROOT_GFID, xflags: 0, bname: 'd', xdata: null }), 'ENOENT');
  } finally {
    await b.close();
  }
});

test('RENAME: files move their gfid2path, directories re-point their handle, replaced targets lose theirs', async () => {
  const b = await makeBrick();
  try {
    const d1 = await mkdir(b, 'd1');
    const d2 = await mkdir(b, 'd2');
    const f = await create(b, 'f', d1.gfid);
    const r = await b.call('RENAME', {
      oldgfid: d1.gfid,
      newgfid: d2.gfid,
      oldbname: 'f',
      newbname: 'g',
      xdata: null,
    });
    assert.deepEqual(r.stat.gfid, f.gfid);
    assert.deepEqual(r.preoldparent.gfid, d1.gfid);
    assert.deepEqual(r.postnewparent.gfid, d2.gfid);
    const keys = (await llistxattr(handle(b.dir, f.gfid))).filter((k) => k.startsWith('trusted.gfid2path.'));
    assert.deepEqual(keys, [`trusted.gfid2path.${xxh64Hex(`${gfidToString(d2.gfid)}/g`)}`]);

    // Directory rename: the handle follows, and entries below stay reachable by gfid.
    const inner = await create(b, 'inner', d1.gfid);
    await b.call('RENAME', {
      oldgfid: ROOT_GFID,
      newgfid: d2.gfid,
      oldbname: 'd1',
      newbname: 'moved',
      xdata: null,
    });
    assert.equal(
      await readlink(handle(b.dir, d1.gfid)),
      `../../${gfidToString(d2.gfid).slice(0, 2)}/${gfidToString(d2.gfid).slice(2, 4)}/${gfidToString(d2.gfid)}/moved`,
    );
    assert.deepEqual((await lookup(b, d1.gfid, 'inner')).prestat.gfid, inner.gfid);

    // Replacing a file: the old target's handle goes.
    const victim = await create(b, 'victim', d2.gfid);
    await b.call('RENAME', {
      oldgfid: d2.gfid,
      newgfid: d2.gfid,
      oldbname: 'g',
      newbname: 'victim',
      xdata: null,
    });
    assert.equal(await exists(handle(b.dir, victim.gfid)), false);
    assert.deepEqual((await lookup(b, d2.gfid, 'victim')).prestat.gfid, f.gfid);
    // Into its own subdirectory: the kernel's EINVAL.
    await fails(
      b.call('RENAME', { oldgfid: ROOT_GFID, newgfid: d1.gfid, oldbname: 'd2', newbname: 'x', xdata: null }),
      'EINVAL',
    );
    await fails(
      b.call('RENAME', {
        oldgfid: ROOT_GFID,
        newgfid: ROOT_GFID,
        oldbname: 'nope',
        newbname: 'x',
        xdata: null,
      }),
      'ENOENT',
    );
  } finally {
    await b.close();
  }
});

test("directories deeper than the kernel's 40-symlink limit still resolve (handle chain walked by posix)", async () => {
  const b = await makeBrick();
  try {
    let parent = ROOT_GFID;
    const chain: Buffer[] = [];
    for (let i = 0; i < 45; i++) {
      parent = (await mkdir(b, `d${i}`, parent)).gfid;
      chain.push(parent);
    }
    const f = await create(b, 'deep.txt', parent);
    await write(b, f.fd, 0, 'deep');
    assert.deepEqual((await b.call('STAT', { gfid: parent, xdata: null })).stat.gfid, parent);
    assert.deepEqual((await lookup(b, parent, '..')).prestat.gfid, chain[43]);
    assert.deepEqual((await lookup(b, parent, 'deep.txt')).prestat.gfid, f.gfid);
    await b.call('RENAME', {
      oldgfid: chain[43]!,
      newgfid: chain[43]!,
      oldbname: 'd44',
      newbname: 'renamed',
      xdata: null,
    });
    assert.deepEqual((await lookup(b, parent, 'deep.txt')).prestat.gfid, f.gfid);
  } finally {
    await b.close();
  }
});

test('a LOOKUP racing MKNODs of the same name never answers a null gfid (stock shard looks up a piece while MKNODing it)', async () => {
  const b = await makeBrick();
  try {
    const zero = Buffer.alloc(16);
    for (let round = 0; round < 20; round++) {
      const name = `piece.${round}`;
      const makers = Array.from({ length: 4 }, () =>
        b
          .call('MKNOD', { pargfid: ROOT_GFID, dev: 0n, mode: 0o100644, umask: 0, bname: name, xdata: req() })
          .then(
            (r) => r.stat.gfid,
            () => null,
          ),
      );
      const lookups = Array.from({ length: 8 }, () =>
        lookup(b, ROOT_GFID, name).then(
          (r) => r.prestat.gfid,
          () => null,
        ),
      );
      const made = (await Promise.all(makers)).filter((g): g is Buffer => g !== null);
      assert.equal(made.length, 1, 'one MKNOD wins, the others get EEXIST');
      for (const g of await Promise.all(lookups))
        if (g !== null) {
          assert.ok(!g.equals(zero), `round ${round}: a LOOKUP answered a null gfid`);
          assert.deepEqual(g, made[0], 'the winner’s gfid');
        }
    }
  } finally {
    await b.close();
  }
});

test('the other names of an inode: RENAME over it, UNLINK and LINK change its nlink and ctime, and drop its stock times', async () => {
  const b = await makeBrick();
  try {
    const mdata = Buffer.alloc(52, 1); // what a stock brick leaves behind (trusted.glusterfs.mdata)
    const src = await create(b, 'src');
    const dst = await create(b, 'dst');
    const stat = async (name: string) => (await lookup(b, ROOT_GFID, name)).prestat;
    const tick = () => new Promise((r) => setTimeout(r, 20));
    const ctime = (i: { ctime: number; ctimeNsec: number }) =>
      BigInt(i.ctime) * 1_000_000_000n + BigInt(i.ctimeNsec);

    // LINK: the inode gains a name and a new ctime; the reply's stat says so.
    await tick();
    const linked = await b.call('LINK', {
      oldgfid: dst.gfid,
      newgfid: ROOT_GFID,
      newbname: 'dst2',
      xdata: null,
    });
    assert.equal(linked.stat.nlink, 2);
    assert.ok(ctime(linked.stat) > ctime(dst.reply.stat), 'LINK moves the ctime of the inode');
    assert.equal((await stat('dst')).nlink, 2);

    // RENAME over a name of it: the other name sees one link and a new ctime.
    await lsetxattr(join(b.dir, 'dst2'), 'trusted.glusterfs.mdata', mdata, 0);
    const before = await stat('dst2');
    await tick();
    await b.call('RENAME', {
      oldgfid: ROOT_GFID,
      newgfid: ROOT_GFID,
      oldbname: 'src',
      newbname: 'dst',
      xdata: null,
    });
    const after = await stat('dst2');
    assert.deepEqual(after.gfid, dst.gfid);
    assert.equal(after.nlink, 1);
    assert.ok(ctime(after) > ctime(before), 'rename(2) moves the ctime of the replaced inode');
    await assert.rejects(
      lgetxattr(join(b.dir, 'dst2'), 'trusted.glusterfs.mdata'),
      'its stale stock times are gone',
    );
    assert.deepEqual((await stat('dst')).gfid, src.gfid);

    // UNLINK of one of two names: the same for the name that stays.
    await b.call('LINK', { oldgfid: src.gfid, newgfid: ROOT_GFID, newbname: 'keep', xdata: null });
    await lsetxattr(join(b.dir, 'keep'), 'trusted.glusterfs.mdata', mdata, 0);
    const kept = await stat('keep');
    await tick();
    await b.call('UNLINK', { pargfid: ROOT_GFID, bname: 'dst', xflags: 0, xdata: null });
    const left = await stat('keep');
    assert.equal(left.nlink, 1);
    assert.ok(ctime(left) > ctime(kept));
    await assert.rejects(lgetxattr(join(b.dir, 'keep'), 'trusted.glusterfs.mdata'));
  } finally {
    await b.close();
  }
});
