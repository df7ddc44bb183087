/**
 * Byte ranges of record and inode locks. The wire carries start and len as u64, but
 * bricks read them as off_t (signed 64-bit), as fcntl does: len 0 means "to EOF", a
 * negative len covers [start+len, start-1] (POSIX), and anything that leaves 0..2^63-1
 * is EINVAL. Ranges are inclusive [start, end], end = OFFSET_MAX for "to EOF".
 */
import { FopError } from '../../protocol/errno.js';

/** LLONG_MAX: the end of a lock that runs to EOF. */
export const OFFSET_MAX = (1n << 63n) - 1n;

export interface Range {
  start: bigint;
  /** Inclusive. */
  end: bigint;
}

/**
 * fcntl rules, as stock's pl_lk: negative start, or start+len past 2^63-1 (C overflow
 * there), is EINVAL; a negative len is turned around.
 */
export function posixRange(wireStart: bigint, wireLen: bigint): Range {
  let start = BigInt.asIntN(64, wireStart);
  let len = BigInt.asIntN(64, wireLen);
  if (start < 0n || start + len < 0n || start + len > OFFSET_MAX) {
    throw FopError.of('EINVAL', `lock range start ${start} len ${len}`);
  }
  if (len < 0n) {
    start += len;
    len = -len;
  }
  return { start, end: len === 0n ? OFFSET_MAX : start + len - 1n };
}

/** Inode locks (stock pl_common_inodelk) refuse negative lengths instead of turning them. */
export function inodelkRange(wireStart: bigint, wireLen: bigint): Range {
  const start = BigInt.asIntN(64, wireStart);
  const len = BigInt.asIntN(64, wireLen);
  if (start < 0n || len < 0n || start + len > OFFSET_MAX + 1n) {
    throw FopError.of('EINVAL', `inodelk range start ${start} len ${len}`);
  }
  return { start, end: len === 0n ? OFFSET_MAX : start + len - 1n };
}

/** The wire length of a range (0 for "to EOF"), as stock's posix_lock_to_flock. */
export function rangeLen(r: Range): bigint {
  return r.end === OFFSET_MAX ? 0n : r.end - r.start + 1n;
}

export function overlaps(a: Range, b: Range): boolean {
  return a.end >= b.start && b.end >= a.start;
}
