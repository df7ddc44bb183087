import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fgetxattr,
  flistxattr,
  fremovexattr,
  fsetxattr,
  getxattr,
  lgetxattr,
  listxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  removexattr,
  setxattr,
  XATTR_CREATE,
  XATTR_REPLACE,
} from '../../src/sys/index.js';
import { expectCode, isRoot, rejection, tempDir } from './helpers.js';

const dir = tempDir();
const file = join(dir, 'f');
writeFileSync(file, 'data');

test('user.* round trip on a path, with binary and empty values', async () => {
  const value = Buffer.from([0, 1, 2, 255, 0]);
  await setxattr(file, 'user.bin', value);
  assert.deepEqual(await getxattr(file, 'user.bin'), value);
  await setxattr(file, 'user.empty', Buffer.alloc(0));
  assert.equal((await getxattr(file, 'user.empty')).length, 0);
  await setxattr(file, 'user.text', 'héllo');
  assert.equal((await getxattr(file, 'user.text')).toString(), 'héllo');
});

test('values larger than the first 256-byte guess are probed and read whole', async () => {
  const big = Buffer.alloc(3000, 7);
  big[2999] = 9;
  await setxattr(file, 'user.big', big);
  assert.deepEqual(await getxattr(file, 'user.big'), big);
});

test(
  'trusted.* works for root (a brick keeps trusted.gfid there)',
  { skip: !isRoot && 'needs root' },
  async () => {
    const gfid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    await setxattr(file, 'trusted.gfid', gfid);
    assert.deepEqual(await getxattr(file, 'trusted.gfid'), gfid);
    assert.ok((await listxattr(file)).includes('trusted.gfid'));
    await removexattr(file, 'trusted.gfid');
  },
);

test('a missing name rejects with ENODATA, shaped like an fs error', async () => {
  const error = await rejection(getxattr(file, 'user.missing'));
  expectCode(error, 'ENODATA');
  assert.equal((error as NodeJS.ErrnoException).errno, 61);
  assert.equal((error as NodeJS.ErrnoException).syscall, 'getxattr');
  assert.equal((error as NodeJS.ErrnoException).path, file);
  assert.match(error.message, /^ENODATA: .*, getxattr '/);
  expectCode(await rejection(getxattr(join(dir, 'absent'), 'user.x')), 'ENOENT');
});

test('XATTR_CREATE on an existing name → EEXIST; XATTR_REPLACE on a missing one → ENODATA', async () => {
  await setxattr(file, 'user.once', 'a', XATTR_CREATE);
  expectCode(await rejection(setxattr(file, 'user.once', 'b', XATTR_CREATE)), 'EEXIST');
  expectCode(await rejection(setxattr(file, 'user.never', 'b', XATTR_REPLACE)), 'ENODATA');
  await setxattr(file, 'user.once', 'c', XATTR_REPLACE);
  assert.equal((await getxattr(file, 'user.once')).toString(), 'c');
});

test('list and remove', async () => {
  const f = join(dir, 'list');
  writeFileSync(f, '');
  await setxattr(f, 'user.a', '1');
  await setxattr(f, 'user.b', '2');
  assert.deepEqual((await listxattr(f)).filter((n) => n.startsWith('user.')).sort(), ['user.a', 'user.b']);
  await removexattr(f, 'user.a');
  assert.deepEqual(
    (await listxattr(f)).filter((n) => n.startsWith('user.')),
    ['user.b'],
  );
  expectCode(await rejection(removexattr(f, 'user.a')), 'ENODATA');
});

test('fd variants', async () => {
  const fd = openSync(file, 'r+');
  try {
    await fsetxattr(fd, 'user.fd', 'via fd');
    assert.equal((await fgetxattr(fd, 'user.fd')).toString(), 'via fd');
    assert.ok((await flistxattr(fd)).includes('user.fd'));
    await fremovexattr(fd, 'user.fd');
    const error = await rejection(fgetxattr(fd, 'user.fd'));
    expectCode(error, 'ENODATA');
    assert.equal((error as NodeJS.ErrnoException).path, undefined);
  } finally {
    closeSync(fd);
  }
});

test('l- variants act on the symlink, not its target', { skip: !isRoot && 'needs root' }, async () => {
  // user.* is not allowed on symlinks; trusted.* is (for root).
  const link = join(dir, 'link');
  symlinkSync(file, link);
  await lsetxattr(link, 'trusted.on-link', 'L');
  assert.equal((await lgetxattr(link, 'trusted.on-link')).toString(), 'L');
  assert.ok((await llistxattr(link)).includes('trusted.on-link'));
  expectCode(await rejection(getxattr(link, 'trusted.on-link')), 'ENODATA');
  await lremovexattr(link, 'trusted.on-link');
  expectCode(await rejection(lsetxattr(link, 'user.x', 'no')), 'EPERM');
});
