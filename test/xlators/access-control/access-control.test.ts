// features/access-control over a real storage/posix brick: fops from uid 1000 are judged
// against the inodes' owners, modes and ACLs; root and negative pids pass untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ptrValue } from '../../../src/protocol/dict.js';
import { ROOT_GFID, type Gfid } from '../../../src/protocol/gfid.js';
import { zeroIatt } from '../../../src/protocol/iatt.js';
import {
  FdTable,
  Graph,
  OpenFd,
  parseVolfile,
  type FopContext,
  type TranslatorRegistry,
  type TranslatorType,
} from '../../../src/xlator/index.js';
import { accessControl } from '../../../src/xlators/access-control/index.js';
import {
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  AclTag,
  encodeAcl,
  parseAcl,
} from '../../../src/xlators/access-control/acl.js';
import { lgetxattr } from '../../../src/sys/index.js';
import { posix } from '../../../src/xlators/posix/index.js';
import { create, fails, mkdir, req } from '../posix/helpers.js';

const ctxOf = (uid: number, pid = 100, groups: number[] = []): FopContext => ({
  caller: { uid, gid: uid, groups, pid, lkOwner: Buffer.alloc(8) },
  session: { id: 'test', fds: new FdTable() },
});
const ROOT = ctxOf(0);
const USER = ctxOf(1000);
const SHD = ctxOf(1000, -6);

async function brick() {
  const dir = await mkdtemp(join(process.env.GLUSTERTS_POSIX_TMP ?? '/var/tmp', 'glusterts-acl-'));
  const graph = await Graph.build(
    parseVolfile(
      `volume b-posix\n type storage/posix\n option directory ${dir}\nend-volume\n` +
        'volume b-ac\n type features/access-control\n subvolumes b-posix\nend-volume\n',
    ),
    new Map<string, TranslatorType<any>>([
      [posix.type, posix],
      [accessControl.type, accessControl],
    ]) as TranslatorRegistry,
  );
  return {
    dir,
    ctx: ROOT,
    graph,
    call: ((fop, r, c) => graph.top.call(fop, r, c ?? ROOT)) as Graph['top']['call'],
    async close() {
      await graph.fini();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
type B = Awaited<ReturnType<typeof brick>>;

const chmod = (b: B, gfid: Gfid, mode: number, ctx = ROOT) =>
  b.call('SETATTR', { gfid, stbuf: { ...zeroIatt(), mode }, valid: 1, xdata: null }, ctx);
const chown = (b: B, gfid: Gfid, uid: number, ctx = ROOT) =>
  b.call('SETATTR', { gfid, stbuf: { ...zeroIatt(), uid, gid: uid }, valid: 6, xdata: null }, ctx);
const lookup = (b: B, parent: Gfid, bname: string, ctx = ROOT) =>
  b.call('LOOKUP', { gfid: Buffer.alloc(16), pargfid: parent, flags: 0, bname, xdata: null }, ctx);
const stat = async (b: B, gfid: Gfid) =>
  (await b.call('LOOKUP', { gfid, pargfid: Buffer.alloc(16), flags: 0, bname: '', xdata: null }, ROOT))
    .prestat;

test('named LOOKUP needs search on the parent; OPEN by access mode; root and daemons pass', async () => {
  const b = await brick();
  try {
    const d = await mkdir(b as never, 'd');
    const f = await create(b as never, 'f', d.gfid);
    await chmod(b, d.gfid, 0o766);
    await fails(lookup(b, d.gfid, 'f', USER), 'EACCES');
    await lookup(b, d.gfid, 'f', ROOT);
    await lookup(b, d.gfid, 'f', SHD);
    await chmod(b, d.gfid, 0o755);
    await lookup(b, d.gfid, 'f', USER);
    await chmod(b, f.gfid, 0o640);
    const open = (flags: number, ctx: FopContext) =>
      b.call('OPEN', { gfid: f.gfid, flags, xdata: null, fd: new OpenFd(f.gfid, flags, false) }, ctx);
    await fails(open(0, USER), 'EACCES');
    await open(0, ROOT);
    await open(2, SHD);
    await chmod(b, f.gfid, 0o604);
    await open(0, USER);
    await fails(open(0o1000, USER), 'EACCES'); // O_TRUNC needs write
    await fails(b.call('ACCESS', { gfid: f.gfid, mask: 2, xdata: null }, USER), 'EACCES');
    await b.call('ACCESS', { gfid: f.gfid, mask: 4, xdata: null }, USER);
  } finally {
    await b.close();
  }
});

test('entry fops: write+search on the parent, sticky directories, device nodes only for root', async () => {
  const b = await brick();
  try {
    const d = await mkdir(b as never, 'd');
    const f = await create(b as never, 'f', d.gfid);
    const mk = (name: string, mode: number, ctx: FopContext) =>
      b.call('MKNOD', { pargfid: d.gfid, dev: 0n, mode, umask: 0, bname: name, xdata: req() }, ctx);
    await fails(mk('p', 0o010644, USER), 'EACCES');
    await fails(
      b.call('MKDIR', { pargfid: d.gfid, mode: 0o755, umask: 0, bname: 'x', xdata: req() }, USER),
      'EACCES',
    );
    await fails(b.call('UNLINK', { pargfid: d.gfid, bname: 'f', xflags: 0, xdata: null }, USER), 'EACCES');
    await chmod(b, d.gfid, 0o1777);
    await mk('p', 0o010644, USER);
    await fails(mk('c', 0o020644, USER), 'EPERM');
    await mk('c', 0o020644, ROOT);
    await fails(b.call('UNLINK', { pargfid: d.gfid, bname: 'f', xflags: 0, xdata: null }, USER), 'EACCES');
    await fails(
      b.call('RENAME', { oldgfid: d.gfid, oldbname: 'f', newgfid: d.gfid, newbname: 'g', xdata: null }, USER),
      'EACCES',
    );
    await fails(b.call('UNLINK', { pargfid: d.gfid, bname: 'none', xflags: 0, xdata: null }, USER), 'ENOENT');
    await b.call('UNLINK', { pargfid: d.gfid, bname: 'p', xflags: 0, xdata: null }, USER);
    await chown(b, f.gfid, 1000);
    await b.call('UNLINK', { pargfid: d.gfid, bname: 'f', xflags: 0, xdata: null }, USER);
  } finally {
    await b.close();
  }
});

test('SETATTR, xattrs and writes: owner-only chmod, root-only chown, trusted.* for root, suid dropped', async () => {
  const b = await brick();
  try {
    const f = await create(b as never, 'f', ROOT_GFID);
    await chmod(b, f.gfid, 0o6777);
    await fails(chmod(b, f.gfid, 0o777, USER), 'EPERM');
    await fails(chown(b, f.gfid, 1000, USER), 'EPERM');
    const set = (name: string, ctx: FopContext) =>
      b.call(
        'SETXATTR',
        { gfid: f.gfid, flags: 0, dict: new Map([[name, ptrValue(Buffer.from('v'))]]), xdata: null },
        ctx,
      );
    await set('user.a', USER);
    await fails(set('trusted.a', USER), 'EPERM');
    await fails(set('security.a', USER), 'EPERM');
    await set('trusted.a', ROOT);
    await set('trusted.afr.dirty', SHD);
    await fails(set('system.posix_acl_access', USER), 'EPERM');
    await fails(b.call('REMOVEXATTR', { gfid: f.gfid, name: 'trusted.a', xdata: null }, USER), 'EPERM');
    // A write by uid 1000 (allowed: mode 6777) drops setuid and setgid; root's does not.
    const fd = new OpenFd(f.gfid, 2, false);
    await b.call('OPEN', { gfid: f.gfid, flags: 2, xdata: null, fd }, USER);
    const write = (ctx: FopContext) =>
      b.call(
        'WRITE',
        { gfid: f.gfid, fd, offset: 0, size: 1, flag: 0, xdata: null, payload: Buffer.from('x') } as never,
        ctx,
      );
    await write(ROOT);
    assert.equal((await stat(b, f.gfid)).mode & 0o7777, 0o6777);
    const reply = await write(USER);
    assert.equal(reply.poststat.mode & 0o7777, 0o777, 'the reply shows the new mode');
    assert.equal((await stat(b, f.gfid)).mode & 0o7777, 0o777);
    await chown(b, f.gfid, 1000);
    await chmod(b, f.gfid, 0o644);
    await chmod(b, f.gfid, 0o600, USER);
    await fails(b.call('TRUNCATE', { gfid: f.gfid, offset: 0, xdata: null }, ctxOf(2000)), 'EACCES');
  } finally {
    await b.close();
  }
});

test('default ACLs: inherited on CREATE and MKDIR by every caller; a removed default ACL is forgotten', async () => {
  const b = await brick();
  try {
    const d = await mkdir(b as never, 'd');
    await chmod(b, d.gfid, 0o777);
    const def = encodeAcl([
      { tag: AclTag.USER_OBJ, perm: 7, id: 0xffffffff },
      { tag: AclTag.USER, perm: 5, id: 1000 },
      { tag: AclTag.GROUP_OBJ, perm: 0, id: 0xffffffff },
      { tag: AclTag.MASK, perm: 5, id: 0xffffffff },
      { tag: AclTag.OTHER, perm: 0, id: 0xffffffff },
    ]);
    const setDefault = () =>
      b.call(
        'SETXATTR',
        {
          gfid: d.gfid,
          flags: 0,
          dict: new Map([[ACL_DEFAULT_XATTR, ptrValue(def)]]),
          xdata: null,
        },
        ROOT,
      );
    await create(b as never, 'before', d.gfid, 0o102, 0o664);
    await setDefault();
    const f = await create(b as never, 'f', d.gfid, 0o102, 0o664);
    assert.equal((await stat(b, f.gfid)).mode & 0o777, 0o640, 'umask 022 ignored, other from the ACL');
    const acl = parseAcl(await lgetxattr(join(b.dir, 'd', 'f'), ACL_ACCESS_XATTR));
    assert.deepEqual(
      acl?.map((e) => e.perm),
      [6, 5, 0, 4, 0],
    );
    const sub = await b.call(
      'MKDIR',
      { pargfid: d.gfid, mode: 0o775, umask: 0o022, bname: 'sub', xdata: req() },
      USER,
    );
    assert.equal(sub.stat.mode & 0o777, 0o750);
    assert.ok(
      (await lgetxattr(join(b.dir, 'd', 'sub'), ACL_DEFAULT_XATTR)).equals(def),
      'directories inherit it',
    );
    await b.call('REMOVEXATTR', { gfid: d.gfid, name: ACL_DEFAULT_XATTR, xdata: null }, ROOT);
    const g = await create(b as never, 'g', d.gfid, 0o102, 0o664);
    assert.equal((await stat(b, g.gfid)).mode & 0o777, 0o644, 'plain umask again');
  } finally {
    await b.close();
  }
});
