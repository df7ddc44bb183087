/**
 * Namespace calls for a brick: opening confined beneath the brick directory (openat2),
 * mknod for MKNOD of fifos, sockets and devices, and timestamps with nanoseconds (fs.utimes
 * takes seconds as a double and loses them).
 */
import { open, constants as fsConstants } from 'node:fs';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS } from './constants.js';
import { native, type IntArg, type PathArg } from './native.js';

/**
 * Opens `path` relative to `dirFd` with openat2, refusing to resolve outside that directory:
 * '..' above it, absolute paths and symlinks leading out reject with EXDEV, magic links
 * (/proc/…/fd/…) with ELOOP. `resolve` adds RESOLVE_* bits (e.g. RESOLVE_NO_SYMLINKS).
 * O_CLOEXEC is always set; `mode` only matters with O_CREAT or O_TMPFILE. Resolves with the
 * new fd, which the caller closes (fs.close). Rejects with ENOSYS, naming the kernel, where
 * openat2 does not exist (Linux < 5.6).
 */
export function openBeneath(
  dirFd: number,
  path: PathArg,
  flags: number = fsConstants.O_RDONLY,
  mode = 0o666,
  resolve = 0,
): Promise<number> {
  // A non-number goes through unchanged for the addon to reject, rather than being coerced.
  const bits = typeof resolve === 'number' ? resolve | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS : resolve;
  return native().openBeneath(dirFd, path, flags, mode, bits);
}

/** Opens a directory (O_RDONLY | O_DIRECTORY | O_CLOEXEC) for use as a dirFd. */
export function openDirectory(path: PathArg): Promise<number> {
  const flags = fsConstants.O_RDONLY | fsConstants.O_DIRECTORY;
  const target = typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  return new Promise((resolve, reject) =>
    open(target, flags, (error, fd) => (error ? reject(error) : resolve(fd))),
  );
}

/** The Linux dev_t for a device number (glibc's makedev). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/**
 * Creates a fifo, socket, device or regular file: `mode` is S_IF* | permissions (the umask
 * applies), `dev` the device number for S_IFCHR/S_IFBLK (see makedev), else 0.
 */
export function mknod(path: PathArg, mode: number, dev: IntArg = 0): Promise<void> {
  return native().mknodat(AT_FDCWD, path, mode, dev);
}
export function mknodat(dirFd: number, path: PathArg, mode: number, dev: IntArg = 0): Promise<void> {
  return native().mknodat(dirFd, path, mode, dev);
}

/**
 * Sets access and modification times with nanosecond precision. A nanosecond value may be
 * UTIME_NOW or UTIME_OMIT. With AT_SYMLINK_NOFOLLOW a symlink's own times change.
 */
export function utimensat(
  path: PathArg,
  atimeSec: IntArg,
  atimeNsec: IntArg,
  mtimeSec: IntArg,
  mtimeNsec: IntArg,
  flags: 0 | typeof AT_SYMLINK_NOFOLLOW = 0,
): Promise<void> {
  return native().utimensat(AT_FDCWD, path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, flags);
}

/** utimensat on an open fd. */
export function futimens(
  fd: number,
  atimeSec: IntArg,
  atimeNsec: IntArg,
  mtimeSec: IntArg,
  mtimeNsec: IntArg,
): Promise<void> {
  return native().futimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec);
}
