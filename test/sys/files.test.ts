import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  AT_SYMLINK_NOFOLLOW,
  futimens,
  makedev,
  mknod,
  mknodat,
  openBeneath,
  openDirectory,
  RESOLVE_NO_SYMLINKS,
  S_IFCHR,
  S_IFIFO,
  S_IFSOCK,
  UTIME_OMIT,
  utimensat,
} from '../../src/sys/index.js';
import { expectCode, isRoot, rejection, tempDir } from './helpers.js';

const dir = tempDir();
const brick = join(dir, 'brick');
mkdirSync(join(brick, 'a', 'b'), { recursive: true });
writeFileSync(join(brick, 'a', 'b', 'file'), 'inside');
writeFileSync(join(dir, 'secret'), 'outside');
symlinkSync('../../secret', join(brick, 'a', 'escape')); // brick/a/../../secret = dir/secret
symlinkSync('b/file', join(brick, 'a', 'inner')); // stays inside
symlinkSync('/etc', join(brick, 'absolute')); // an absolute target

test('openBeneath opens nested files and creates new ones', async (t) => {
  const dirFd = await openDirectory(brick);
  t.after(() => closeSync(dirFd));
  const fd = await openBeneath(dirFd, 'a/b/file');
  assert.equal(readFileSync(fd, 'utf8'), 'inside');
  closeSync(fd);
  const viaLink = await openBeneath(dirFd, 'a/inner');
  assert.equal(readFileSync(viaLink, 'utf8'), 'inside');
  closeSync(viaLink);
  const created = await openBeneath(dirFd, 'a/new', constants.O_CREAT | constants.O_WRONLY, 0o640);
  assert.equal(fstatSync(created).mode & 0o777, 0o640 & ~process.umask());
  closeSync(created);
});

test('openBeneath refuses ../, absolute paths and escaping symlinks', async (t) => {
  const dirFd = await openDirectory(brick);
  t.after(() => closeSync(dirFd));
  expectCode(await rejection(openBeneath(dirFd, '../secret')), 'EXDEV');
  expectCode(await rejection(openBeneath(dirFd, 'a/../../secret')), 'EXDEV');
  expectCode(await rejection(openBeneath(dirFd, join(dir, 'secret'))), 'EXDEV');
  expectCode(await rejection(openBeneath(dirFd, 'a/escape')), 'EXDEV', 'ELOOP');
  expectCode(await rejection(openBeneath(dirFd, 'absolute/hostname')), 'EXDEV', 'ELOOP');
  expectCode(await rejection(openBeneath(dirFd, 'a/inner', 0, 0, RESOLVE_NO_SYMLINKS)), 'ELOOP');
  const error = await rejection(openBeneath(dirFd, 'a/missing'));
  expectCode(error, 'ENOENT');
  assert.equal((error as NodeJS.ErrnoException).syscall, 'openat2');
});

test('openBeneath refuses magic links (/proc/self/root) with ELOOP', async (t) => {
  const procFd = await openDirectory('/proc');
  t.after(() => closeSync(procFd));
  const self = await openBeneath(procFd, 'self/status'); // 'self' is an ordinary symlink
  closeSync(self);
  expectCode(await rejection(openBeneath(procFd, 'self/root/etc/hostname')), 'ELOOP');
});

test('mknod makes a FIFO and a socket; mknodat relative to a directory fd', async (t) => {
  const fifo = join(dir, 'fifo');
  await mknod(fifo, S_IFIFO | 0o600);
  assert.ok(lstatSync(fifo).isFIFO());
  const sock = join(dir, 'sock');
  await mknod(sock, S_IFSOCK | 0o600, 0);
  assert.ok(lstatSync(sock).isSocket());
  expectCode(await rejection(mknod(fifo, S_IFIFO | 0o600)), 'EEXIST');

  const dirFd = await openDirectory(brick);
  t.after(() => closeSync(dirFd));
  await mknodat(dirFd, 'a/fifo2', S_IFIFO | 0o644);
  assert.ok(lstatSync(join(brick, 'a', 'fifo2')).isFIFO());
});

test(
  'mknod of a character device carries the device number',
  { skip: !isRoot && 'needs root' },
  async (t) => {
    const node = join(dir, 'null');
    try {
      await mknod(node, S_IFCHR | 0o600, makedev(1, 3));
    } catch (error) {
      // Containers often lack CAP_MKNOD; that is the environment, not the addon.
      expectCode(error, 'EPERM');
      t.skip('no CAP_MKNOD here');
      return;
    }
    const stat = lstatSync(node);
    assert.ok(stat.isCharacterDevice());
    assert.equal(stat.rdev, 259);
    assert.equal(makedev(259, 300000), 0x493103e0n); // glibc's split 12+20-bit minor layout
    assert.equal(makedev(4096, 0), 0x1000_0000_0000n);
  },
);

test('utimensat sets nanoseconds that fs.statSync(bigint) sees', async () => {
  const file = join(dir, 'times');
  writeFileSync(file, '');
  await utimensat(file, 1_600_000_000, 111_222_333, 1_700_000_000, 123_456_789);
  const stat = statSync(file, { bigint: true });
  assert.equal(stat.mtimeNs, 1_700_000_000_123_456_789n);
  assert.equal(stat.atimeNs, 1_600_000_000_111_222_333n);
  await utimensat(file, 0, UTIME_OMIT, 5n, 1);
  const again = statSync(file, { bigint: true });
  assert.equal(again.atimeNs, 1_600_000_000_111_222_333n);
  assert.equal(again.mtimeNs, 5_000_000_001n);
});

test('utimensat with AT_SYMLINK_NOFOLLOW changes the link, not its target', async () => {
  const target = join(dir, 'target');
  const link = join(dir, 'tlink');
  writeFileSync(target, '');
  symlinkSync(target, link);
  await utimensat(target, 10, 0, 10, 0);
  await utimensat(link, 20, 0, 20, 999_999_999, AT_SYMLINK_NOFOLLOW);
  assert.equal(lstatSync(link, { bigint: true }).mtimeNs, 20_999_999_999n);
  assert.equal(statSync(target, { bigint: true }).mtimeNs, 10_000_000_000n);
});

test('futimens on an open fd', async (t) => {
  const file = join(dir, 'ftimes');
  writeFileSync(file, '');
  const fd = await openDirectory(dir).then(async (dirFd) => {
    const opened = await openBeneath(dirFd, 'ftimes');
    closeSync(dirFd);
    return opened;
  });
  t.after(() => closeSync(fd));
  await futimens(fd, 1, 2, 3, 4);
  assert.equal(statSync(file, { bigint: true }).mtimeNs, 3_000_000_004n);
});
