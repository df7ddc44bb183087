// Permissions on the brick for a non-root caller, compared with stock GlusterFS 10.3 in the
// same run (docs/permissions.md). Stock glusterd serves a one-brick volume on 127.0.0.2,
// the glusterts daemon one on 127.0.0.47; root lays out the same tree of owners and modes on
// both; then uid 1000 (gid 1000, no other groups) tries every permission case
// - through the TS client (its AUTH_GLUSTERFS credential says uid 1000), and
// - through stock FUSE mounted with --acl (no default_permissions: the kernel leaves the
//   checks to the bricks), by a python runner under `setpriv --reuid 1000`;
// and each case must end with stock's errno (or success), and the same mode where a case
// changes one. Cases where glusterts is deliberately stricter are listed in STRICTER.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GlusterError, Volume } from '../../src/client/index.js';
import { gfuuidValue } from '../../src/protocol/dict.js';
import { parseGfid, randomGfid } from '../../src/protocol/gfid.js';
import { zeroIatt } from '../../src/protocol/iatt.js';
import { mountFuse, requirePeer, startStockGluster } from '../../src/peers/index.js';
import { AclTag, encodeAcl } from '../../src/xlators/access-control/acl.js';
import { REAL_BRICK, startTestDaemon } from '../mgmt/support.js';

const run = promisify(execFile);
const STOCK_HOST = '127.0.0.2';
const TS_HOST = '127.0.0.47';
const USER = { uid: 1000, gid: 1000, groups: [] as number[] };

/** user:1000 gets `perm` on an otherwise owner-only inode. */
const aclFor = (perm: number) =>
  encodeAcl([
    { tag: AclTag.USER_OBJ, perm: 7, id: 0xffffffff },
    { tag: AclTag.USER, perm, id: 1000 },
    { tag: AclTag.GROUP_OBJ, perm: 0, id: 0xffffffff },
    { tag: AclTag.MASK, perm, id: 0xffffffff },
    { tag: AclTag.OTHER, perm: 0, id: 0xffffffff },
  ]);

/** The tree under `top`, made by root: owners, modes, an ACL, sticky and setuid bits. */
async function layOut(v: Volume, top: string): Promise<void> {
  const dir = async (p: string, mode: number, uid = 0) => {
    await v.mkdir(`${top}${p}`, 0o700);
    await v.chmod(`${top}${p}`, mode);
    if (uid) await v.chown(`${top}${p}`, uid, uid);
  };
  const file = async (p: string, mode: number, uid = 0) => {
    const f = await v.create(`${top}${p}`, 'w', 0o600);
    await f.write(Buffer.from('data\n'));
    await f.close();
    await v.chmod(`${top}${p}`, mode);
    if (uid) await v.chown(`${top}${p}`, uid, uid);
  };
  await v.mkdir(top, 0o755);
  await v.chmod(top, 0o755);
  await dir('/ro', 0o755);
  await file('/ro/file', 0o644);
  await dir('/ro/sub', 0o755);
  await dir('/pub', 0o777);
  await file('/pub/mine', 0o644, 1000);
  await dir('/pub/rodir', 0o555, 1000);
  await dir('/sticky', 0o1777);
  await file('/sticky/rootfile', 0o666);
  await file('/sticky/userfile', 0o644, 1000);
  await dir('/noexec', 0o766);
  await file('/noexec/inner', 0o666);
  await dir('/private', 0o700);
  await file('/secret', 0o600);
  await file('/wfile', 0o666);
  await file('/mine', 0o644, 1000);
  await file('/mine2', 0o644, 1000);
  await file('/suid', 0o6777);
  await file('/mysuid', 0o6755, 1000);
  await file('/acl', 0o600);
  await v.setxattr(`${top}/acl`, 'system.posix_acl_access', aclFor(4));
  await dir('/acldir', 0o700);
  await v.setxattr(`${top}/acldir`, 'system.posix_acl_access', aclFor(7));
  await dir('/defacl', 0o777);
  await v.setxattr(`${top}/defacl`, 'system.posix_acl_default', aclFor(5));
  await v.setxattr(`${top}/ro/file`, 'user.tag', 'x');
  await v.setxattr(`${top}/secret`, 'user.tag', 'x');
}

type Outcome = string;

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof GlusterError) return err.code;
    throw err;
  }
}

/** The cases through the TS client, as uid 1000, on the tree under `top`. */
async function tsCases(root: Volume, user: Volume, top: string): Promise<Record<string, Outcome>> {
  const t = (p: string) => `${top}${p}`;
  const gfidOf = async (p: string) => parseGfid((await root.stat(t(p))).gfid);
  const openClose = async (p: string, flags: Parameters<Volume['open']>[1]) =>
    (await user.open(t(p), flags)).close();
  const mknod = async (parent: string, name: string, mode: number) =>
    user.fop(
      'MKNOD',
      {
        pargfid: await gfidOf(parent),
        dev: 0n,
        mode,
        umask: 0o022,
        bname: name,
        xdata: new Map([['gfid-req', gfuuidValue(randomGfid())]]),
      },
      { syscall: 'mknod', path: t(`${parent}/${name}`) },
    );
  const setattr = async (p: string, valid: number, fields: Partial<ReturnType<typeof zeroIatt>>) =>
    user.fop(
      'SETATTR',
      { gfid: await gfidOf(p), stbuf: { ...zeroIatt(), ...fields }, valid, xdata: null },
      { syscall: 'setattr', path: t(p) },
    );
  const mode = async (p: string) => ((await root.stat(t(p))).mode & 0o7777).toString(8);
  const NOW = 0x10 | 0x20 | 0x80 | 0x100;
  const EXPLICIT = 0x10 | 0x20;
  const cases: [string, () => Promise<unknown>][] = [
    ['open secret r', () => openClose('/secret', 'r')],
    ['open ro/file r', () => openClose('/ro/file', 'r')],
    ['open ro/file r+', () => openClose('/ro/file', 'r+')],
    ['open ro/file O_RDONLY|O_TRUNC', () => openClose('/ro/file', 0o1000)],
    ['open ro/file O_WRONLY|O_APPEND', () => openClose('/ro/file', 0o2001)],
    ['open wfile w', () => openClose('/wfile', 'r+')],
    ['open acl r (ACL user:1000:r)', () => openClose('/acl', 'r')],
    ['open acl r+ (ACL user:1000:r)', () => openClose('/acl', 'r+')],
    ['create in ro', async () => (await user.create(t('/ro/new'), 'w', 0o644)).close()],
    ['create in pub', async () => (await user.create(t('/pub/new'), 'w', 0o644)).close()],
    ['create in acldir (ACL user:1000:rwx)', async () => (await user.create(t('/acldir/new'), 'w')).close()],
    ['create in private', async () => (await user.create(t('/private/new'), 'w')).close()],
    ['mkdir in ro', () => user.mkdir(t('/ro/d'))],
    ['mkdir in pub', () => user.mkdir(t('/pub/d'))],
    ['symlink in ro', () => user.symlink('x', t('/ro/s'))],
    ['mknod fifo in ro', () => mknod('/ro', 'p', 0o010644)],
    ['mknod fifo in pub', () => mknod('/pub', 'p', 0o010644)],
    ['mknod chr in pub', () => mknod('/pub', 'c', 0o020644)],
    ['link mine into ro', () => user.link(t('/mine'), t('/ro/l'))],
    ['link mine into pub', () => user.link(t('/mine'), t('/pub/l'))],
    ['link wfile into pub (not owner)', () => user.link(t('/wfile'), t('/pub/l2'))],
    ['link ro/file into pub (not owner, read-only)', () => user.link(t('/ro/file'), t('/pub/l3'))],
    ['rename noexec/inner to pub (parent w, no x)', () => user.rename(t('/noexec/inner'), t('/pub/y'))],
    ['rename pub/rodir to sticky (dir not writable)', () => user.rename(t('/pub/rodir'), t('/sticky/rodir'))],
    ['unlink ro/file', () => user.unlink(t('/ro/file'))],
    ['unlink ro/missing', () => user.unlink(t('/ro/missing'))],
    ['rmdir ro/sub', () => user.rmdir(t('/ro/sub'))],
    ['rename ro/file to pub', () => user.rename(t('/ro/file'), t('/pub/x'))],
    ['rename mine2 into ro', () => user.rename(t('/mine2'), t('/ro/x'))],
    ['rename pub/mine within pub', () => user.rename(t('/pub/mine'), t('/pub/mine.moved'))],
    ['sticky unlink rootfile', () => user.unlink(t('/sticky/rootfile'))],
    ['sticky rename rootfile', () => user.rename(t('/sticky/rootfile'), t('/sticky/r2'))],
    ['sticky unlink userfile', () => user.unlink(t('/sticky/userfile'))],
    ['lookup noexec/inner', () => user.stat(t('/noexec/inner'))],
    ['lookup private/x', () => user.stat(t('/private/x'))],
    ['opendir private', async () => (await user.opendir(t('/private'))).close()],
    ['access secret R', () => user.access(t('/secret'), 4)],
    ['access acl R', () => user.access(t('/acl'), 4)],
    ['chmod ro/file', () => user.chmod(t('/ro/file'), 0o666)],
    ['chmod mine', () => user.chmod(t('/mine'), 0o600)],
    ['chmod mine g+s (group 1000)', () => user.chmod(t('/mine'), 0o2644)],
    ['chown mine to 0', () => user.chown(t('/mine'), 0, -1)],
    ['chown ro/file to 1000', () => user.chown(t('/ro/file'), 1000, -1)],
    ['chgrp mine to 1000', () => user.chown(t('/mine'), -1, 1000)],
    ['chgrp mine to 0', () => user.chown(t('/mine'), -1, 0)],
    ['chgrp mysuid to 1000', () => user.chown(t('/mysuid'), -1, 1000)],
    ['utimes now wfile (writable)', () => setattr('/wfile', NOW, {})],
    ['utimes explicit wfile (writable)', () => setattr('/wfile', EXPLICIT, { atime: 1, mtime: 1 })],
    ['utimes now ro/file', () => setattr('/ro/file', NOW, {})],
    ['utimes explicit mine', () => setattr('/mine', EXPLICIT, { atime: 1, mtime: 1 })],
    ['truncate ro/file', () => user.truncate(t('/ro/file'), 0)],
    ['truncate wfile', () => user.truncate(t('/wfile'), 1)],
    [
      'write suid (root 6777)',
      async () => {
        const f = await user.open(t('/suid'), 'r+');
        await f.pwrite(Buffer.from('x'), 0);
        await f.close();
      },
    ],
    ['setxattr user ro/file', () => user.setxattr(t('/ro/file'), 'user.a', 'v')],
    ['setxattr user mine', () => user.setxattr(t('/mine'), 'user.a', 'v')],
    ['getxattr user secret', () => user.getxattr(t('/secret'), 'user.tag')],
    ['getxattr user ro/file', () => user.getxattr(t('/ro/file'), 'user.tag')],
    ['removexattr user ro/file', () => user.removexattr(t('/ro/file'), 'user.tag')],
    ['setxattr user on sticky dir', () => user.setxattr(t('/sticky'), 'user.a', 'v')],
    ['setxattr trusted mine', () => user.setxattr(t('/mine'), 'trusted.a', 'v')],
    ['setxattr security mine', () => user.setxattr(t('/mine'), 'security.a', 'v')],
    ['setxattr acl ro/file', () => user.setxattr(t('/ro/file'), 'system.posix_acl_access', aclFor(6))],
    ['setxattr acl mine', () => user.setxattr(t('/mine'), 'system.posix_acl_access', aclFor(6))],
    ['getxattr acl secret', () => user.getxattr(t('/secret'), 'system.posix_acl_access')],
    ['create under a default ACL', async () => (await user.create(t('/defacl/f'), 'w', 0o664)).close()],
    ['mkdir under a default ACL', () => user.mkdir(t('/defacl/d'), 0o775)],
  ];
  const out: Record<string, Outcome> = {};
  for (const [name, fn] of cases) out[name] = await outcome(fn());
  for (const p of ['/mine', '/suid', '/mysuid']) out[`mode ${p}`] = await mode(p);
  Object.assign(out, await inherited(root, top));
  return out;
}

/** Modes and ACLs the inodes made under /defacl got (default ACL inheritance). */
async function inherited(root: Volume, top: string): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  for (const p of ['/defacl/f', '/defacl/d']) {
    const st = await root.stat(`${top}${p}`).catch(() => null);
    out[`mode ${p}`] = st ? (st.mode & 0o7777).toString(8) : 'missing';
    for (const key of ['system.posix_acl_access', 'system.posix_acl_default'])
      out[`${key} ${p}`] = await root.getxattr(`${top}${p}`, key).then(
        (b) => b.toString('hex'),
        (e: unknown) => (e instanceof GlusterError ? e.code : String(e)),
      );
  }
  return out;
}

/** The same cases as syscalls through a FUSE mount, run as uid 1000. */
const FUSE_RUNNER = String.raw`
import errno, json, os, sys
b = sys.argv[1]
res = {}
def case(name, fn):
    try:
        fn()
        res[name] = 'ok'
    except OSError as e:
        res[name] = errno.errorcode.get(e.errno, str(e.errno))
def opn(p, fl, mode=0o644):
    os.close(os.open(b + p, fl, mode))
def acl(perm):
    import struct
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', t, p, i) for t, p, i in
        [(1, 7, 0xffffffff), (2, perm, 1000), (4, 0, 0xffffffff), (0x10, perm, 0xffffffff), (0x20, 0, 0xffffffff)])
B = b
case('open secret r', lambda: opn('/secret', os.O_RDONLY))
case('open ro/file r', lambda: opn('/ro/file', os.O_RDONLY))
case('open ro/file r+', lambda: opn('/ro/file', os.O_RDWR))
case('open ro/file O_RDONLY|O_TRUNC', lambda: opn('/ro/file', os.O_RDONLY | os.O_TRUNC))
case('open ro/file O_WRONLY|O_APPEND', lambda: opn('/ro/file', os.O_WRONLY | os.O_APPEND))
case('open wfile w', lambda: opn('/wfile', os.O_RDWR))
case('open acl r (ACL user:1000:r)', lambda: opn('/acl', os.O_RDONLY))
case('open acl r+ (ACL user:1000:r)', lambda: opn('/acl', os.O_RDWR))
case('create in ro', lambda: opn('/ro/new', os.O_CREAT | os.O_WRONLY | os.O_EXCL))
case('create in pub', lambda: opn('/pub/new', os.O_CREAT | os.O_WRONLY | os.O_EXCL))
case('create in acldir (ACL user:1000:rwx)', lambda: opn('/acldir/new', os.O_CREAT | os.O_WRONLY | os.O_EXCL))
case('create in private', lambda: opn('/private/new', os.O_CREAT | os.O_WRONLY | os.O_EXCL))
case('mkdir in ro', lambda: os.mkdir(B + '/ro/d'))
case('mkdir in pub', lambda: os.mkdir(B + '/pub/d'))
case('symlink in ro', lambda: os.symlink('x', B + '/ro/s'))
case('mknod fifo in ro', lambda: os.mkfifo(B + '/ro/p'))
case('mknod fifo in pub', lambda: os.mkfifo(B + '/pub/p'))
case('mknod chr in pub', lambda: os.mknod(B + '/pub/c', 0o020644, os.makedev(1, 3)))
case('link mine into ro', lambda: os.link(B + '/mine', B + '/ro/l'))
case('link mine into pub', lambda: os.link(B + '/mine', B + '/pub/l'))
case('link wfile into pub (not owner)', lambda: os.link(B + '/wfile', B + '/pub/l2'))
case('link ro/file into pub (not owner, read-only)', lambda: os.link(B + '/ro/file', B + '/pub/l3'))
case('rename noexec/inner to pub (parent w, no x)', lambda: os.rename(B + '/noexec/inner', B + '/pub/y'))
case('rename pub/rodir to sticky (dir not writable)', lambda: os.rename(B + '/pub/rodir', B + '/sticky/rodir'))
case('unlink ro/file', lambda: os.unlink(B + '/ro/file'))
case('unlink ro/missing', lambda: os.unlink(B + '/ro/missing'))
case('rmdir ro/sub', lambda: os.rmdir(B + '/ro/sub'))
case('rename ro/file to pub', lambda: os.rename(B + '/ro/file', B + '/pub/x'))
case('rename mine2 into ro', lambda: os.rename(B + '/mine2', B + '/ro/x'))
case('rename pub/mine within pub', lambda: os.rename(B + '/pub/mine', B + '/pub/mine.moved'))
case('sticky unlink rootfile', lambda: os.unlink(B + '/sticky/rootfile'))
case('sticky rename rootfile', lambda: os.rename(B + '/sticky/rootfile', B + '/sticky/r2'))
case('sticky unlink userfile', lambda: os.unlink(B + '/sticky/userfile'))
case('lookup noexec/inner', lambda: os.stat(B + '/noexec/inner'))
case('lookup private/x', lambda: os.stat(B + '/private/x'))
case('opendir private', lambda: os.listdir(B + '/private'))
def access(p, m):
    if not os.access(B + p, m): raise PermissionError(errno.EACCES, 'access')
case('access secret R', lambda: access('/secret', os.R_OK))
case('access acl R', lambda: access('/acl', os.R_OK))
case('chmod ro/file', lambda: os.chmod(B + '/ro/file', 0o666))
case('chmod mine', lambda: os.chmod(B + '/mine', 0o600))
case('chmod mine g+s (group 1000)', lambda: os.chmod(B + '/mine', 0o2644))
case('chown mine to 0', lambda: os.chown(B + '/mine', 0, -1))
case('chown ro/file to 1000', lambda: os.chown(B + '/ro/file', 1000, -1))
case('chgrp mine to 1000', lambda: os.chown(B + '/mine', -1, 1000))
case('chgrp mine to 0', lambda: os.chown(B + '/mine', -1, 0))
case('chgrp mysuid to 1000', lambda: os.chown(B + '/mysuid', -1, 1000))
case('utimes now wfile (writable)', lambda: os.utime(B + '/wfile'))
case('utimes explicit wfile (writable)', lambda: os.utime(B + '/wfile', (1, 1)))
case('utimes now ro/file', lambda: os.utime(B + '/ro/file'))
case('utimes explicit mine', lambda: os.utime(B + '/mine', (1, 1)))
case('truncate ro/file', lambda: os.truncate(B + '/ro/file', 0))
case('truncate wfile', lambda: os.truncate(B + '/wfile', 1))
def write_suid():
    fd = os.open(B + '/suid', os.O_RDWR)
    try:
        os.pwrite(fd, b'x', 0)
    finally:
        os.close(fd)
case('write suid (root 6777)', write_suid)
case('setxattr user ro/file', lambda: os.setxattr(B + '/ro/file', 'user.a', b'v'))
case('setxattr user mine', lambda: os.setxattr(B + '/mine', 'user.a', b'v'))
case('getxattr user secret', lambda: os.getxattr(B + '/secret', 'user.tag'))
case('getxattr user ro/file', lambda: os.getxattr(B + '/ro/file', 'user.tag'))
case('removexattr user ro/file', lambda: os.removexattr(B + '/ro/file', 'user.tag'))
case('setxattr user on sticky dir', lambda: os.setxattr(B + '/sticky', 'user.a', b'v'))
case('setxattr trusted mine', lambda: os.setxattr(B + '/mine', 'trusted.a', b'v'))
case('setxattr security mine', lambda: os.setxattr(B + '/mine', 'security.a', b'v'))
case('setxattr acl ro/file', lambda: os.setxattr(B + '/ro/file', 'system.posix_acl_access', acl(6)))
case('setxattr acl mine', lambda: os.setxattr(B + '/mine', 'system.posix_acl_access', acl(6)))
case('getxattr acl secret', lambda: os.getxattr(B + '/secret', 'system.posix_acl_access'))
os.umask(0o022)
case('create under a default ACL', lambda: opn('/defacl/f', os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o664))
case('mkdir under a default ACL', lambda: os.mkdir(B + '/defacl/d', 0o775))
print(json.dumps(res))
`;

/**
 * Where glusterts refuses what stock's brick lets a non-root gfapi caller do (through FUSE
 * the client's kernel refuses the same before a brick sees it): stock's posix runs with
 * setfsuid, which keeps CAP_SYS_ADMIN and CAP_MKNOD, so uid 1000 may write trusted.*
 * (AFR's changelogs, DHT's layouts) and security.* on a file it can write, and create
 * device nodes; and a write by uid 1000 leaves a root file's setuid/setgid bits (stock's
 * brick writes as root), where glusterts clears them as a local filesystem does.
 */
const STRICTER: Record<string, Outcome> = {
  'ts setxattr trusted mine': 'EPERM',
  'ts setxattr security mine': 'EPERM',
  'ts mknod chr in pub': 'EPERM',
  'ts mode /suid': '777',
};

function compare(channel: string, stock: Record<string, Outcome>, ours: Record<string, Outcome>): string[] {
  const diffs: string[] = [];
  for (const name of Object.keys(stock)) {
    const key = `${channel} ${name}`;
    const want = STRICTER[key] ?? stock[name];
    if (ours[name] !== want) diffs.push(`${key}: stock ${stock[name]}, glusterts ${ours[name]}`);
  }
  return diffs;
}

test('uid 1000 through the TS client and stock FUSE: every permission case ends as on a stock brick', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  // Stock's posix walks the brick path as the caller (setfsuid): every ancestor must be searchable.
  const base = mkdtempSync('/var/tmp/gts-perms-');
  chmodSync(base, 0o755);
  mkdirSync(join(base, 'stock'), { mode: 0o755 });
  mkdirSync(join(base, 'ts'), { mode: 0o755 });
  const stock = await startStockGluster({ host: STOCK_HOST, volume: 'pv', dir: join(base, 'stock') });
  const td = await startTestDaemon(TS_HOST, {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 15_000,
    data: join(base, 'ts'),
  });
  const unmounts: (() => Promise<void>)[] = [];
  const volumes: Volume[] = [];
  try {
    await td.daemon.volumes.create('pv', [td.brickDir('b0')], true, { replica: 1, arbiter: 0 });
    assert.deepEqual((await td.daemon.volumes.start('pv')).warnings, []);
    const servers = {
      stock: [{ host: STOCK_HOST }],
      glusterts: [{ host: TS_HOST, port: td.daemon.address.port }],
    };
    const connect = async (which: keyof typeof servers, caller?: typeof USER) => {
      const v = await Volume.connect({
        volume: 'pv',
        servers: servers[which],
        timeoutMs: 20_000,
        umask: caller ? 0o022 : 0,
        entryTimeoutMs: 0,
        ...(caller
          ? { caller: { ...caller, pid: process.pid } }
          : { caller: { uid: 0, gid: 0, groups: [] } }),
      });
      volumes.push(v);
      return v;
    };
    const results: Record<string, Record<string, Outcome>> = {};
    for (const which of ['stock', 'glusterts'] as const) {
      const root = await connect(which);
      await layOut(root, '/ts');
      await layOut(root, '/fuse');
      results[`ts ${which}`] = await tsCases(root, await connect(which, USER), '/ts');
    }

    const runner = join(base, 'runner.py');
    writeFileSync(runner, FUSE_RUNNER);
    chmodSync(runner, 0o644);
    for (const which of ['stock', 'glusterts'] as const) {
      const mnt = join(base, `mnt-${which}`);
      mkdirSync(mnt, { mode: 0o755 });
      const [host, port] = which === 'stock' ? [STOCK_HOST, 24007] : [TS_HOST, td.daemon.address.port];
      unmounts.push(
        await mountFuse(host, 'pv', mnt, {
          port,
          extraArgs: ['--acl', '--attribute-timeout=0', '--entry-timeout=0', '--negative-timeout=0'],
          logFile: join(base, `fuse-${which}.log`),
        }),
      );
      const { stdout } = await run('setpriv', [
        '--reuid',
        '1000',
        '--regid',
        '1000',
        '--clear-groups',
        '/usr/bin/python3',
        runner,
        join(mnt, 'fuse'),
      ]);
      const res = JSON.parse(stdout) as Record<string, Outcome>;
      const root = volumes[which === 'stock' ? 0 : 2]!;
      for (const p of ['/mine', '/suid', '/mysuid'])
        res[`mode ${p}`] = ((await root.stat(`/fuse${p}`)).mode & 0o7777).toString(8);
      Object.assign(res, await inherited(root, '/fuse'));
      results[`fuse ${which}`] = res;
    }
    t.diagnostic(JSON.stringify(results, null, 1));
    const diffs = [
      ...compare('ts', results['ts stock']!, results['ts glusterts']!),
      ...compare('fuse', results['fuse stock']!, results['fuse glusterts']!),
    ];
    assert.deepEqual(diffs, [], diffs.join('\n'));
    // The cases must actually refuse something on stock (the comparison is not vacuous).
    assert.equal(results['ts stock']!['open secret r'], 'EACCES');
    assert.equal(results['fuse stock']!['open secret r'], 'EACCES');
  } finally {
    for (const u of unmounts.reverse()) await u().catch(() => undefined);
    for (const v of volumes) await v.close().catch(() => undefined);
    await td.cleanup().catch(() => undefined);
    await stock.stop();
    if (existsSync(base) && !process.env.GLUSTERTS_KEEP_PERMS) rmSync(base, { recursive: true, force: true });
  }
});
