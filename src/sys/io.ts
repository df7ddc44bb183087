/**
 * Data-path calls Node's fs lacks: fallocate with its Linux modes (DISCARD and
 * WRITE_ZEROES/zerofill map to PUNCH_HOLE and ZERO_RANGE), lseek with SEEK_DATA/SEEK_HOLE
 * (fs has no lseek at all), and syncfs. preadv/pwritev overlap fs.readv/fs.writev; they are
 * here so the brick's data path rejects uniformly with SysError (positive errno), takes any
 * ArrayBufferView, and always passes an explicit position. Short counts are returned as is.
 */
import { native } from './native.js';

/** Most iovecs one preadv/pwritev accepts. */
export const IOV_MAX = 1024;

/**
 * Allocates, punches or zeroes [offset, offset + length). `mode` is 0 or FALLOC_FL_* bits;
 * PUNCH_HOLE needs KEEP_SIZE too. Filesystems that cannot do a mode reject with EOPNOTSUPP.
 */
export function fallocate(fd: number, mode: number, offset: number, length: number): Promise<void> {
  return native().fallocate(fd, mode, offset, length);
}

/**
 * Repositions the fd and resolves with the new offset. With SEEK_DATA/SEEK_HOLE it finds the
 * next data or hole at or after `offset`; at or past end of file it rejects with ENXIO.
 */
export function lseek(fd: number, offset: number, whence: number): Promise<number> {
  return native().lseek(fd, offset, whence);
}

/** Reads into `buffers` in order from `position`; resolves with the bytes read (0 at EOF). */
export function preadv(fd: number, buffers: readonly ArrayBufferView[], position: number): Promise<number> {
  return native().preadv(fd, buffers, position);
}

/** Writes `buffers` in order at `position`; resolves with the bytes written, maybe fewer. */
export function pwritev(fd: number, buffers: readonly ArrayBufferView[], position: number): Promise<number> {
  return native().pwritev(fd, buffers, position);
}

/** Flushes the whole filesystem holding `fd` (fs has fsync and fdatasync, not syncfs). */
export function syncfs(fd: number): Promise<void> {
  return native().syncfs(fd);
}
