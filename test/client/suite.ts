/**
 * The client API suite, run once per backend (test/client/*.test.ts): every Volume, File
 * and Directory call with its success and error paths, big and concurrent I/O with
 * checksums, SEEK_DATA/SEEK_HOLE after discard, a 1000-entry listing, the latency of
 * connect + read 4 KiB + close (printed), the trimmed stack and AbortSignal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { GlusterError, O, Volume, type VolfileServer, type VolumeOptions } from '../../src/client/index.js';

export interface Backend {
  name: string;
  /** A fresh Volume on the backend. */
  connect(opts?: Pick<VolumeOptions, 'trimmed' | 'signal' | 'caller'>): Promise<Volume>;
  /** Starts the server (before the suite). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Why the suite cannot run (missing peer, missing translator), or undefined. */
  skip?(): string | undefined;
  /**
   * Whether the brick checks permissions on every fop (features/access-control, in stock's
   * and glusterts's brick graphs), or only on ACCESS (a bare storage/posix graph).
   */
  enforcesPermissions?: boolean;
  /** Served backends: the volume name and its volfile server. */
  served?: {
    volume: string;
    server(): VolfileServer;
    /** Changes a volume option, so the server sends FETCHSPEC with a new volfile. */
    changeVolfile(): Promise<void>;
  };
}

export async function rejects(p: Promise<unknown>, code: string, syscall?: string): Promise<GlusterError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GlusterError, `expected GlusterError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (syscall) assert.equal(err.syscall, syscall);
    return err;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}

const run = promisify(execFile);
const CLIENT_MODULE = new URL('../../src/client/index.js', import.meta.url).href;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

export function clientSuite(backend: Backend): void {
  const skip = backend.skip?.();
  describe(`client API on ${backend.name}`, { skip: skip ?? false }, () => {
    let vol: Volume;
    // Every test works in its own top-level directory.
    const dir = (name: string) => `/${backend.name}-${name}`;

    before(async () => {
      await backend.start();
      vol = await backend.connect();
    });
    after(async () => {
      await vol?.close();
      await backend.stop();
    });

    test('mkdir, stat, lstat, exists, access, rmdir — and ENOENT, EEXIST, ENOTEMPTY, ENOTDIR', async () => {
      const d = dir('ns');
      await vol.mkdir(d, 0o755);
      const st = await vol.stat(d);
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o777, 0o755);
      assert.equal(await vol.exists(d), true);
      assert.equal(await vol.exists(`${d}/nope`), false);
      assert.equal(await vol.exists(`${d}/nope/deeper`), false);
      await vol.access(d, 7);
      await rejects(vol.mkdir(d), 'EEXIST', 'glfs_mkdir');
      await rejects(vol.stat(`${d}/missing`), 'ENOENT', 'glfs_stat');
      await rejects(vol.mkdir(`${d}/a/b`), 'ENOENT', 'glfs_mkdir');
      await vol.mkdir(`${d}/sub`);
      const e = await rejects(vol.rmdir(d), 'ENOTEMPTY', 'glfs_rmdir');
      assert.equal(e.path, d);
      assert.equal(e.errno, 39);
      const f = await vol.create(`${d}/file`, 'w', 0o640);
      await f.close();
      await rejects(vol.mkdir(`${d}/file/x`), 'ENOTDIR');
      await rejects(vol.rmdir(`${d}/file`), 'ENOTDIR');
      await rejects(vol.unlink(`${d}/sub`), 'EISDIR', 'glfs_unlink');
      assert.equal((await vol.lstat(`${d}/file`)).mode & 0o777, 0o640 & ~0o022);
      await vol.unlink(`${d}/file`);
      await vol.rmdir(`${d}/sub`);
      await vol.rmdir(d);
      await rejects(vol.rmdir(d), 'ENOENT');
      const root = await vol.stat('/');
      assert.equal(root.ino, 1n);
      assert.equal(root.gfid, '00000000-0000-0000-0000-000000000001');
    });

    test('create, open, pwrite, pread (view), preadv (copy), fstat, ftruncate, fsync, close', async () => {
      const d = dir('files');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/a`, O.RDWR | O.CREAT | O.EXCL, 0o600);
      assert.equal(await f.pwrite(Buffer.from('hello world'), 0), 11);
      assert.equal((await f.pread(5, 0)).toString(), 'hello');
      assert.equal((await f.pread(100, 6)).toString(), 'world', 'short read at EOF');
      assert.equal((await f.pread(10, 100)).length, 0, 'read past EOF');
      const a = Buffer.alloc(3);
      const b = Buffer.alloc(20);
      assert.equal(await f.preadv([a, b], 0), 11);
      assert.equal(a.toString(), 'hel');
      assert.equal(b.subarray(0, 8).toString(), 'lo world');
      assert.equal(await f.pwritev([Buffer.from('HE'), Buffer.from('LLO')], 0), 5);
      assert.equal((await f.pread(11, 0)).toString(), 'HELLO world');
      await f.fsync();
      await f.fdatasync();
      assert.equal((await f.fstat()).size, 11);
      await f.ftruncate(4);
      assert.equal((await f.fstat()).size, 4);
      // read/write use the file position.
      assert.equal(await f.lseek(0, 'END'), 4);
      await f.write(Buffer.from('!?'));
      assert.equal(f.position, 6);
      await f.lseek(0);
      assert.equal((await f.read(6)).toString(), 'HELL!?');
      await f.close();
      await f.close(); // idempotent
      await rejects(f.pread(1, 0), 'EBADF', 'glfs_pread');

      await rejects(vol.create(`${d}/a`, 'wx'), 'EEXIST', 'glfs_creat');
      await rejects(vol.open(`${d}/missing`), 'ENOENT', 'glfs_open');
      await rejects(vol.open(d, 'r'), 'EISDIR', 'glfs_open');
      await rejects(vol.open(`${d}/a/x`), 'ENOTDIR', 'glfs_open');
      // 'w' truncates an existing file; 'a' appends.
      const w = await vol.open(`${d}/a`, 'w');
      await w.close();
      assert.equal((await vol.stat(`${d}/a`)).size, 0);
      const ap = await vol.open(`${d}/a`, 'a');
      await ap.pwrite(Buffer.from('x'), 0);
      await ap.pwrite(Buffer.from('y'), 0);
      await ap.close();
      const r = await vol.open(`${d}/a`);
      assert.equal((await r.pread(10, 0)).toString(), 'xy');
      await rejects(r.pwrite(Buffer.from('z'), 0), 'EBADF', 'glfs_pwrite');
      await r.close();
    });

    test('rename, link, symlink, readlink, unlink, truncate, chmod, chown, utimens, statvfs', async () => {
      const d = dir('names');
      await vol.mkdir(d);
      await vol.mkdir(`${d}/x`);
      const f = await vol.create(`${d}/x/f`, 'w');
      await f.pwrite(Buffer.from('data'), 0);
      await f.close();
      await vol.rename(`${d}/x/f`, `${d}/g`);
      assert.equal(await vol.exists(`${d}/x/f`), false);
      assert.equal((await vol.stat(`${d}/g`)).size, 4);
      await rejects(vol.rename(`${d}/nope`, `${d}/h`), 'ENOENT', 'glfs_rename');
      // rename replaces an existing file
      const h = await vol.create(`${d}/h`, 'w');
      await h.close();
      await vol.rename(`${d}/h`, `${d}/g`);
      assert.equal((await vol.stat(`${d}/g`)).size, 0);
      await vol.rename(`${d}/x`, `${d}/y`); // a directory
      await rejects(vol.stat(`${d}/x`), 'ENOENT');
      assert.ok((await vol.stat(`${d}/y`)).isDirectory());

      await vol.link(`${d}/g`, `${d}/g2`);
      assert.equal((await vol.stat(`${d}/g`)).nlink, 2);
      assert.equal((await vol.stat(`${d}/g2`)).gfid, (await vol.stat(`${d}/g`)).gfid);
      await rejects(vol.link(`${d}/g`, `${d}/g2`), 'EEXIST', 'glfs_link');

      await vol.symlink('y', `${d}/ly`);
      await vol.symlink('../names-missing', `${d}/dangling`);
      assert.equal(await vol.readlink(`${d}/ly`), 'y');
      assert.ok((await vol.lstat(`${d}/ly`)).isSymbolicLink());
      assert.ok((await vol.stat(`${d}/ly`)).isDirectory(), 'stat follows');
      const inner = await vol.create(`${d}/ly/inner`, 'w'); // through the link
      await inner.close();
      assert.ok(await vol.exists(`${d}/y/inner`));
      await rejects(vol.stat(`${d}/dangling`), 'ENOENT');
      await rejects(vol.readlink(`${d}/g`), 'EINVAL', 'glfs_readlink');
      await rejects(vol.symlink('t', `${d}/ly`), 'EEXIST', 'glfs_symlink');
      await vol.symlink('loop2', `${d}/loop1`);
      await vol.symlink('loop1', `${d}/loop2`);
      await rejects(vol.stat(`${d}/loop1`), 'ELOOP');

      await vol.truncate(`${d}/g2`, 1000);
      assert.equal((await vol.stat(`${d}/g`)).size, 1000);
      await vol.chmod(`${d}/g`, 0o604);
      assert.equal((await vol.stat(`${d}/g`)).mode & 0o7777, 0o604);
      await vol.chown(`${d}/g`, 1234, -1);
      const owned = await vol.stat(`${d}/g`);
      assert.equal(owned.uid, 1234);
      await vol.chown(`${d}/g`, -1, 4321);
      assert.deepEqual([(await vol.stat(`${d}/g`)).uid, (await vol.stat(`${d}/g`)).gid], [1234, 4321]);
      await vol.utimens(`${d}/g`, new Date(1_000_000_000_000), 1_500_000_000_123n * 1_000_000n + 456n);
      const t = await vol.stat(`${d}/g`);
      assert.equal(t.atimeMs, 1_000_000_000_000);
      assert.equal(t.mtimeNs, 1_500_000_000_123_000_456n);
      await rejects(vol.chmod(`${d}/nope`, 0o600), 'ENOENT', 'glfs_chmod');
      await rejects(vol.truncate(`${d}/y`, 0), 'EISDIR', 'glfs_truncate');

      const vfs = await vol.statvfs('/');
      assert.ok(
        vfs.bsize > 0 && vfs.blocks > 0 && vfs.namemax >= 255,
        JSON.stringify(vfs, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      );

      await vol.unlink(`${d}/g2`);
      assert.equal((await vol.stat(`${d}/g`)).nlink, 1);
      await rejects(vol.unlink(`${d}/g2`), 'ENOENT', 'glfs_unlink');
      await vol.unlink(`${d}/ly`);
      assert.ok(await vol.exists(`${d}/y`), 'unlink removes the link, not the target');
    });

    test('names over 255 bytes are ENAMETOOLONG, targets of PATH_MAX are too, xattr names over 255 are ERANGE', async () => {
      const d = dir('long');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/f`, 'w');
      await f.close();
      for (const long of ['a'.repeat(256), 'é'.repeat(128)]) {
        const p = `${d}/${long}`;
        await rejects(vol.create(p, 'w'), 'ENAMETOOLONG', 'glfs_creat');
        await rejects(vol.mkdir(p), 'ENAMETOOLONG', 'glfs_mkdir');
        await rejects(vol.symlink('f', p), 'ENAMETOOLONG', 'glfs_symlink');
        await rejects(vol.link(`${d}/f`, p), 'ENAMETOOLONG', 'glfs_link');
        await rejects(vol.rename(`${d}/f`, p), 'ENAMETOOLONG', 'glfs_rename');
        await rejects(vol.stat(p), 'ENAMETOOLONG', 'glfs_stat');
        await rejects(vol.unlink(p), 'ENAMETOOLONG', 'glfs_unlink');
        await rejects(vol.rmdir(p), 'ENAMETOOLONG', 'glfs_rmdir');
      }
      const max = `${d}/${'é'.repeat(127)}b`; // 255 bytes
      await vol.mkdir(max);
      await vol.rmdir(max);
      await rejects(vol.symlink('c'.repeat(4096), `${d}/t`), 'ENAMETOOLONG', 'glfs_symlink');
      await vol.symlink('c'.repeat(4095), `${d}/t`);
      assert.equal((await vol.lstat(`${d}/t`)).size, 4095);
      await rejects(vol.setxattr(`${d}/f`, `user.${'x'.repeat(251)}`, '1'), 'ERANGE', 'glfs_setxattr');
      await rejects(vol.getxattr(`${d}/f`, `user.${'x'.repeat(251)}`), 'ERANGE', 'glfs_getxattr');
      // Far past every bound (what the codec would refuse): still the same clear errors.
      await rejects(vol.stat(`${d}/${'a'.repeat(20_000)}`), 'ENAMETOOLONG', 'glfs_stat');
      await rejects(vol.symlink('c'.repeat(20_000), `${d}/t2`), 'ENAMETOOLONG', 'glfs_symlink');
      await rejects(vol.setxattr(`${d}/f`, `user.${'x'.repeat(5000)}`, '1'), 'ERANGE', 'glfs_setxattr');
      await rejects(vol.removexattr(`${d}/f`, `user.${'x'.repeat(5000)}`), 'ERANGE', 'glfs_removexattr');
    });

    test('link counts and ctime of the other names: rename over a linked target, unlink, link', async () => {
      const d = dir('nlink');
      await vol.mkdir(d);
      for (const n of ['src', 'dst', 'a']) await (await vol.create(`${d}/${n}`, 'w')).close();
      await vol.link(`${d}/dst`, `${d}/dst2`);
      await vol.link(`${d}/a`, `${d}/b`);
      const before = await vol.stat(`${d}/dst2`);
      assert.equal(before.nlink, 2);
      await new Promise((r) => setTimeout(r, 20));
      await vol.rename(`${d}/src`, `${d}/dst`);
      const after = await vol.stat(`${d}/dst2`);
      assert.equal(after.nlink, 1, 'the replaced inode lost a name');
      assert.ok(after.ctimeNs > before.ctimeNs, 'and its ctime moved');
      await vol.unlink(`${d}/a`);
      assert.equal((await vol.stat(`${d}/b`)).nlink, 1);
      await vol.link(`${d}/b`, `${d}/c`);
      assert.equal((await vol.stat(`${d}/b`)).nlink, 2);
    });

    test("caller: calls run as the given uid/gid; permissions are the brick's (EACCES)", async () => {
      const d = dir('caller');
      await vol.mkdir(d, 0o755);
      const f = await vol.create(`${d}/secret`, 'w', 0o600);
      await f.close();
      const other = await backend.connect({ caller: { uid: 4242, gid: 4242, groups: [] } });
      try {
        await other.access(d, 5); // r-x for others
        await rejects(other.access(`${d}/secret`, 4), 'EACCES', 'glfs_access');
        if (backend.enforcesPermissions) {
          await rejects(other.open(`${d}/secret`, 'r'), 'EACCES', 'glfs_open');
          await rejects(other.mkdir(`${d}/nope`), 'EACCES', 'glfs_mkdir');
        }
        await vol.chmod(`${d}/secret`, 0o644);
        const g = await other.open(`${d}/secret`, 'r');
        await g.close();
      } finally {
        await other.close();
      }
    });

    test('xattrs: setxattr, getxattr, listxattr, removexattr; ENODATA, XATTR_CREATE/REPLACE', async () => {
      const d = dir('xattr');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/f`, 'w');
      await f.close();
      await vol.setxattr(`${d}/f`, 'user.color', 'blue');
      await vol.setxattr(`${d}/f`, 'user.bin', Buffer.from([0, 1, 2, 255]));
      assert.equal((await vol.getxattr(`${d}/f`, 'user.color')).toString(), 'blue');
      assert.deepEqual([...(await vol.getxattr(`${d}/f`, 'user.bin'))], [0, 1, 2, 255]);
      const names = await vol.listxattr(`${d}/f`);
      assert.ok(names.includes('user.color') && names.includes('user.bin'), names.join(','));
      await rejects(vol.setxattr(`${d}/f`, 'user.color', 'red', 1), 'EEXIST', 'glfs_setxattr');
      await rejects(vol.setxattr(`${d}/f`, 'user.none', 'red', 2), 'ENODATA', 'glfs_setxattr');
      await vol.removexattr(`${d}/f`, 'user.color');
      await rejects(vol.getxattr(`${d}/f`, 'user.color'), 'ENODATA', 'glfs_getxattr');
      await rejects(vol.removexattr(`${d}/f`, 'user.color'), 'ENODATA', 'glfs_removexattr');
      await rejects(vol.getxattr(`${d}/nope`, 'user.color'), 'ENOENT', 'glfs_getxattr');
    });

    test('8 MiB write and read with checksums (pwritev of 8 buffers, one pread, preadv)', async () => {
      const d = dir('big');
      await vol.mkdir(d);
      const data = randomBytes(8 * MiB);
      const f = await vol.create(`${d}/big`, 'w+');
      const chunks = Array.from({ length: 8 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
      assert.equal(await f.pwritev(chunks, 0), 8 * MiB);
      assert.equal((await f.fstat()).size, 8 * MiB);
      const back = await f.pread(8 * MiB, 0);
      assert.equal(sha(back), sha(data));
      const into = [Buffer.alloc(5 * MiB), Buffer.alloc(3 * MiB)];
      assert.equal(await f.preadv(into, 0), 8 * MiB);
      assert.equal(sha(Buffer.concat(into)), sha(data));
      await f.close();
      const again = await vol.open(`${d}/big`);
      assert.equal(sha(await again.pread(8 * MiB, 0)), sha(data), 'a new open reads the same bytes');
      await again.close();
    });

    test('64 parallel pwrites, then 64 parallel preads', async () => {
      const d = dir('par');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/p`, 'w+');
      const blocks = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
      const written = await Promise.all(blocks.map((b, i) => f.pwrite(b, i * b.length)));
      assert.ok(written.every((n) => n === 64 * 1024));
      const read = await Promise.all(blocks.map((b, i) => f.pread(b.length, i * b.length)));
      read.forEach((r, i) => assert.equal(sha(r), sha(blocks[i]!), `block ${i}`));
      await f.close();
    });

    test('fallocate, zerofill, discard, then lseek SEEK_DATA / SEEK_HOLE; ENXIO past the data', async () => {
      const d = dir('seek');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/s`, 'w+');
      await f.fallocate(0, 0, 4 * MiB);
      assert.equal((await f.fstat()).size, 4 * MiB);
      await f.pwrite(randomBytes(4 * MiB), 0);
      await f.zerofill(0, MiB);
      assert.ok(
        (await f.pread(MiB, 0)).every((x) => x === 0),
        'zerofill zeroes',
      );
      await f.discard(MiB, 2 * MiB);
      assert.equal((await f.fstat()).size, 4 * MiB, 'discard keeps the size');
      assert.ok(
        (await f.pread(2 * MiB, MiB)).every((x) => x === 0),
        'a hole reads as zeros',
      );
      assert.equal(await f.lseek(0, 'DATA'), 0);
      assert.equal(await f.lseek(0, 'HOLE'), MiB);
      assert.equal(await f.lseek(MiB, 'DATA'), 3 * MiB);
      assert.equal(f.position, 3 * MiB);
      assert.equal(await f.lseek(3 * MiB, 'HOLE'), 4 * MiB, 'EOF is a hole');
      await rejects(f.lseek(4 * MiB, 'DATA'), 'ENXIO', 'glfs_lseek');
      await rejects(f.lseek(-1, 'SET'), 'EINVAL', 'glfs_lseek');
      await f.close();
    });

    test('readdir iterates 1000 entries (READDIRP with cookies); opendir errors', async () => {
      const d = dir('list');
      await vol.mkdir(d);
      const names = Array.from({ length: 1000 }, (_, i) => `entry-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(
          names.slice(i, i + 50).map((n) => vol.create(`${d}/${n}`, 'w').then((f) => f.close())),
        );
      }
      await vol.mkdir(`${d}/zdir`);
      const seen: string[] = [];
      for await (const e of vol.readdir(d)) {
        seen.push(e.name);
        if (e.name === 'zdir') assert.ok(e.isDirectory() && e.stats.isDirectory());
        else assert.ok(e.isFile() && e.stats.size === 0, e.name);
      }
      assert.deepEqual(seen.sort(), [...names, 'zdir']);
      // Small batches: many READDIRP round trips, same result; dots on request.
      const dirh = await vol.opendir(d, { batchBytes: 4096, dots: true });
      let n = 0;
      const dots: string[] = [];
      for await (const e of dirh) {
        n++;
        if (e.name.startsWith('.')) dots.push(e.name);
      }
      await dirh.close();
      assert.equal(n, 1003);
      assert.deepEqual(dots.sort(), ['.', '..']);
      // Breaking out of the loop closes the directory.
      for await (const _e of vol.readdir(d)) break;
      await rejects(vol.opendir(`${d}/entry-0000`), 'ENOTDIR', 'glfs_opendir');
      await rejects(vol.opendir(`${d}/none`), 'ENOENT', 'glfs_opendir');
    });

    test('AbortSignal: an aborted call rejects with ECANCELED; the volume keeps working', async () => {
      const d = dir('abort');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/a`, 'w+');
      await f.pwrite(randomBytes(MiB), 0);
      await rejects(vol.stat(d, { signal: AbortSignal.abort() }), 'ECANCELED', 'glfs_stat');
      const ac = new AbortController();
      const pending = f.pread(MiB, 0, { signal: ac.signal });
      ac.abort();
      await rejects(pending, 'ECANCELED', 'glfs_pread');
      const ac2 = new AbortController();
      const listing = vol.readdir(d, { signal: ac2.signal });
      ac2.abort();
      await rejects(listing.next(), 'ECANCELED');
      assert.equal((await f.pread(4, 0)).length, 4, 'later calls work');
      await f.close();
    });

    test('trimmed stack: protocol/client + cluster/distribute + io-stats only, same data', async () => {
      const t = await backend.connect({ trimmed: true });
      try {
        const types = t.graph.layers.map((l) => l.type);
        assert.ok(
          types.every((ty) =>
            ['protocol/client', 'cluster/distribute', 'debug/io-stats', 'storage/posix'].includes(ty),
          ),
          types.join(', '),
        );
        const d = dir('trim');
        await t.mkdir(d);
        const f = await t.create(`${d}/f`, 'w+');
        await f.pwrite(Buffer.from('trimmed'), 0);
        await f.close();
        const g = await vol.open(`${d}/f`);
        assert.equal((await g.pread(100, 0)).toString(), 'trimmed', 'the full stack sees it');
        await g.close();
      } finally {
        await t.close();
      }
    });

    test('ESTALE: a cached directory removed behind the cache is resolved again', async () => {
      const other = await backend.connect();
      try {
        const d = dir('stale');
        await vol.mkdir(d);
        await vol.mkdir(`${d}/sub`);
        const f = await vol.create(`${d}/sub/f`, 'w');
        await f.close();
        // The other client replaces d/sub with a new directory (a new gfid).
        await other.unlink(`${d}/sub/f`);
        await other.rmdir(`${d}/sub`);
        await other.mkdir(`${d}/sub`);
        const g = await other.create(`${d}/sub/f`, 'w');
        await g.pwrite(Buffer.from('new'), 0);
        await g.close();
        // vol's cache still maps d/sub to the old gfid: the LOOKUP under it is ESTALE
        // (or ENOENT), then a fresh resolution finds the new file.
        assert.equal((await vol.stat(`${d}/sub/f`)).size, 3);
      } finally {
        await other.close();
      }
    });

    test(
      'volfile servers: an unreachable one is skipped; a missing volume is ENOENT; FETCHSPEC → volfileChanged',
      {
        skip: backend.served ? false : 'no volfile server',
      },
      async () => {
        const served = backend.served!;
        const v = await Volume.connect({
          volume: served.volume,
          servers: [{ host: '127.0.0.45', port: 1 }, served.server()],
          timeoutMs: 20_000,
        });
        try {
          assert.ok(v.mgmtConnected);
          assert.match(v.volfile, /type protocol\/client/);
          const changed = new Promise<string>((ok, fail) => {
            const timer = setTimeout(() => fail(new Error('no volfileChanged within 20 s')), 20_000);
            v.once('volfileChanged', (text) => {
              clearTimeout(timer);
              ok(text);
            });
          });
          await served.changeVolfile();
          const text = await changed;
          assert.notEqual(text, v.volfile, 'the new volfile differs from the one the graph was built from');
          assert.equal(await v.refetchVolfile(), false, 'nothing new since the callback');
          assert.ok(await v.exists('/'), 'the running graph keeps working');
        } finally {
          await v.close();
        }
        await rejects(
          Volume.connect({ volume: 'no-such-volume', servers: [served.server()], timeoutMs: 20_000 }),
          'ENOENT',
          'glfs_init',
        );
        const refused = await rejects(
          Volume.connect({
            volume: served.volume,
            servers: [{ host: '127.0.0.45', port: 1 }],
            timeoutMs: 5000,
          }),
          'ECONNREFUSED',
          'glfs_init',
        );
        assert.equal(refused.path, '127.0.0.45:1');
        const ac = new AbortController();
        const pending = Volume.connect({
          volume: served.volume,
          servers: [served.server()],
          signal: ac.signal,
        });
        ac.abort();
        await rejects(pending, 'ECANCELED', 'glfs_init');
      },
    );

    test(
      'a script that connects, reads 4 KiB and closes exits promptly (whole process, printed)',
      {
        skip: backend.served ? false : 'no volfile server',
      },
      async (t) => {
        const d = dir('script');
        await vol.mkdir(d);
        const f = await vol.create(`${d}/4k`, 'w');
        await f.pwrite(randomBytes(4096), 0);
        await f.close();
        const served = backend.served!;
        const script = `
        const t0 = performance.now();
        const { Volume } = await import(${JSON.stringify(CLIENT_MODULE)});
        const t1 = performance.now();
        const v = await Volume.connect({ volume: ${JSON.stringify(served.volume)}, servers: [${JSON.stringify(served.server())}] });
        const f = await v.open(${JSON.stringify(`${d}/4k`)});
        const n = (await f.pread(4096, 0)).length;
        await f.close();
        await v.close();
        console.log(JSON.stringify({ n, importMs: t1 - t0, workMs: performance.now() - t1 }));`;
        const times: string[] = [];
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
            timeout: 20_000,
          });
          const wall = performance.now() - started;
          const r = JSON.parse(stdout) as { n: number; importMs: number; workMs: number };
          assert.equal(r.n, 4096);
          times.push(
            `${wall.toFixed(0)} (connect+read+close ${r.workMs.toFixed(0)}, import ${r.importMs.toFixed(0)})`,
          );
        }
        const line = `script ${backend.name}: process wall ms: ${times.join('; ')}`;
        t.diagnostic(line);
        console.log(line);
      },
    );

    test('latency: connect + open + read 4 KiB + close, end to end (printed)', async (t) => {
      const d = dir('lat');
      await vol.mkdir(d);
      const f = await vol.create(`${d}/4k`, 'w');
      await f.pwrite(randomBytes(4096), 0);
      await f.close();
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const v = await backend.connect();
        const h = await v.open(`${d}/4k`);
        assert.equal((await h.pread(4096, 0)).length, 4096);
        await h.close();
        await v.close();
        times.push(performance.now() - start);
      }
      const line = `latency ${backend.name}: connect+read 4 KiB+close ms: ${times.map((x) => x.toFixed(1)).join(' ')}`;
      t.diagnostic(line);
      console.log(line);
      assert.ok(Math.min(...times) < 2000, line);
    });
  });
}
