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

/** The stat fields statIo reports, as bigints (nanosecond times). */
export interface RawStat {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const STAT_FIELDS = 13;

/**
 * READ/WRITE with their stats go through io_uring where the kernel offers it: no thread-pool
 * hop (a worker woken per IO, then the loop woken back), the fstats on the loop itself.
 * GLUSTERTS_IO_URING=0 keeps them on the thread pool (statIo), as do kernels without io_uring.
 */
const useRing = process.env.GLUSTERTS_IO_URING !== '0';

function statIo(
  fd: number,
  kind: 0 | 1,
  buffers: readonly ArrayBufferView[],
  position: number,
  sync: 0 | 1 | 2,
  out: BigInt64Array,
): Promise<number> {
  const b = native();
  return (
    (useRing ? b.ringIo?.(fd, kind, buffers, position, sync, out) : undefined) ??
    b.statIo(fd, kind, buffers, position, sync, out)
  );
}

function rawStat(a: BigInt64Array, at: number): RawStat {
  return {
    dev: a[at]!,
    ino: a[at + 1]!,
    mode: a[at + 2]!,
    nlink: a[at + 3]!,
    uid: a[at + 4]!,
    gid: a[at + 5]!,
    rdev: a[at + 6]!,
    size: a[at + 7]!,
    blksize: a[at + 8]!,
    blocks: a[at + 9]!,
    atimeNs: a[at + 10]!,
    mtimeNs: a[at + 11]!,
    ctimeNs: a[at + 12]!,
  };
}

/**
 * preadv then fstat, in one thread-pool hop: a brick's READ and the stat its reply
 * carries. Resolves with the bytes read and the file's stat after the read.
 */
export async function readWithStat(
  fd: number,
  buffers: readonly ArrayBufferView[],
  position: number,
): Promise<{ bytes: number; post: RawStat }> {
  const out = new BigInt64Array(2 * STAT_FIELDS);
  const bytes = await statIo(fd, 0, buffers, position, 0, out);
  return { bytes, post: rawStat(out, STAT_FIELDS) };
}

/**
 * fstat, pwritev of every byte (short writes continued), an optional fsync (1) or
 * fdatasync (2), and fstat again, in one thread-pool hop: a brick's WRITE with the pre
 * and post stats of its reply. Rejects on any failure, the sync included.
 */
export async function writeWithStat(
  fd: number,
  buffers: readonly ArrayBufferView[],
  position: number,
  sync: 0 | 1 | 2,
): Promise<{ bytes: number; pre: RawStat; post: RawStat }> {
  const out = new BigInt64Array(2 * STAT_FIELDS);
  const bytes = await statIo(fd, 1, buffers, position, sync, out);
  return { bytes, pre: rawStat(out, 0), post: rawStat(out, STAT_FIELDS) };
}

/** One range of a rangeIo call: where, and the bytes to write or the room to read into. */
export interface IoSlice {
  position: number;
  buffer: ArrayBufferView;
}

/** The most ranges one readRanges/writeRanges call takes (the addon's own bound). */
export const MAX_IO_SLICES = 1024;

async function rangeIo(fd: number, kind: 0 | 1, slices: readonly IoSlice[]) {
  const rangeIo = native().rangeIo;
  if (!rangeIo) return rangeByRange(fd, kind, slices);
  const out = new BigInt64Array(2 * STAT_FIELDS + slices.length);
  const positions = BigInt64Array.from(slices, (s) => BigInt(s.position));
  await rangeIo(
    fd,
    kind,
    slices.map((s) => s.buffer),
    positions,
    out,
  );
  return {
    pre: rawStat(out, 0),
    post: rawStat(out, STAT_FIELDS),
    bytes: Array.from(out.subarray(2 * STAT_FIELDS), Number),
  };
}

/** An addon built before rangeIo (rebuild with `npm run build:native`): one call per range. */
async function rangeByRange(fd: number, kind: 0 | 1, slices: readonly IoSlice[]) {
  const bytes: number[] = [];
  let pre: RawStat | undefined;
  let post: RawStat | undefined;
  for (const s of slices) {
    const one = kind
      ? await writeWithStat(fd, [s.buffer], s.position, 0)
      : { ...(await readWithStat(fd, [s.buffer], s.position)), pre: undefined };
    bytes.push(one.bytes);
    pre ??= one.pre;
    post = one.post;
  }
  post ??= (await readWithStat(fd, [], 0)).post;
  return { pre: pre ?? post, post, bytes };
}

/**
 * Reads each slice's buffer from its position, all in one thread-pool hop, then fstat:
 * the bytes read per slice (short only at EOF) and the file's stat after.
 */
export async function readRanges(
  fd: number,
  slices: readonly IoSlice[],
): Promise<{ bytes: number[]; post: RawStat }> {
  const { bytes, post } = await rangeIo(fd, 0, slices);
  return { bytes, post };
}

/**
 * fstat, every slice written in full at its position, fstat again, in one thread-pool hop;
 * rejects at the first range that fails (earlier ones are written).
 */
export async function writeRanges(
  fd: number,
  slices: readonly IoSlice[],
): Promise<{ pre: RawStat; post: RawStat }> {
  const { pre, post } = await rangeIo(fd, 1, slices);
  return { pre, post };
}
