/** Programmer errors throw TypeError synchronously and never reach a system call. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sys from '../../src/sys/index.js';
import { native } from '../../src/sys/native.js';

const bad = <T>(value: unknown): T => value as T;

test('the TypeScript constants match the values the addon was compiled with', () => {
  const compiled = native().constants;
  for (const [name, value] of Object.entries(compiled)) {
    assert.equal((sys as unknown as Record<string, unknown>)[name], value, name);
  }
  assert.ok(Object.keys(compiled).length >= 25);
});

test('bad fds, offsets and lengths throw TypeError', () => {
  const cases: [string, () => unknown][] = [
    ['fd as a string', () => sys.fallocate(bad('3'), 0, 0, 1)],
    ['negative fd', () => sys.fallocate(-1, 0, 0, 1)],
    ['fractional fd', () => sys.lseek(1.5, 0, 0)],
    ['negative length', () => sys.fallocate(0, 0, 0, -1)],
    ['negative offset', () => sys.fallocate(0, 0, -4096, 1)],
    ['NaN offset', () => sys.fallocate(0, 0, NaN, 1)],
    ['unsafe integer', () => sys.fallocate(0, 0, 2 ** 60, 1)],
    ['mode as a string', () => sys.fallocate(0, bad('1'), 0, 1)],
    ['missing whence', () => bad<(fd: number, offset: number) => unknown>(sys.lseek)(0, 0)],
    ['negative position', () => sys.preadv(0, [Buffer.alloc(1)], -1)],
    ['buffers not an array', () => sys.preadv(0, bad(Buffer.alloc(1)), 0)],
    ['a non-buffer in buffers', () => sys.pwritev(0, [bad('text')], 0)],
    ['too many buffers', () => sys.pwritev(0, new Array(sys.IOV_MAX + 1).fill(Buffer.alloc(1)), 0)],
    ['path as a number', () => sys.getxattr(bad(42), 'user.x')],
    ['path with a NUL', () => sys.getxattr('/tmp\0/x', 'user.x')],
    ['name missing', () => sys.getxattr('/tmp', bad(undefined))],
    ['value as a number', () => sys.setxattr('/tmp', 'user.x', bad(5))],
    ['flags as a string', () => sys.setxattr('/tmp', 'user.x', 'v', bad('1'))],
    ['dirFd negative', () => sys.openBeneath(-5, 'x')],
    ['resolve as a string', () => sys.openBeneath(0, 'x', 0, 0, bad('8'))],
    ['nanoseconds out of range', () => sys.utimensat('/tmp/x', 0, 1e9, 0, 0)],
    ['seconds as a string', () => sys.futimens(0, bad('1'), 0, 0, 0)],
    ['dev as a string', () => sys.mknod('/tmp/x', sys.S_IFIFO, bad('0'))],
    ['allocAligned size too large', () => sys.allocAligned(2 ** 40)],
  ];
  for (const [what, call] of cases) {
    assert.throws(call, TypeError, what);
  }
});

test('TypeErrors carry a Node-style code', () => {
  assert.throws(() => sys.fallocate(bad(null), 0, 0, 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => sys.fallocate(0, 0, 0, -1), { name: 'TypeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => sys.getxattr('a\0b', 'user.x'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
});

test('a closed or invalid fd is a system error (EBADF), not a TypeError', async () => {
  await assert.rejects(sys.fgetxattr(1_000_000, 'user.x'), { code: 'EBADF', errno: 9, syscall: 'fgetxattr' });
  await assert.rejects(sys.syncfs(1_000_000), (error) => sys.isSysError(error, 'EBADF'));
});

test('paths may be raw bytes', async () => {
  await assert.rejects(sys.getxattr(Buffer.from('/nonexistent-\xff', 'latin1'), 'user.x'), {
    code: 'ENOENT',
  });
});
