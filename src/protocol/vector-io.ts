/**
 * glusterts's vectored READ and WRITE, a heal extension between glusterts's shd and
 * glusterts bricks (features/heal-ranges serves it): several byte ranges of one file in one
 * call, so healing scattered 4 KiB changes costs one round trip per batch, not one per range.
 * Stock's wire has no such call; this rides in xdata (docs/heal.md "Vectored copy").
 *
 * - READ with xdata `glusterts.read-vector` = ranges: the payload is the ranges' bytes, in
 *   order (storage/posix serves both in one thread-pool hop each, src/xlators/posix/vector-io.ts); the reply's xdata `glusterts.read-vector` = the bytes read per range (u32 each;
 *   short at EOF). A brick without the extension ignores the key and answers READ's own
 *   offset and size: the caller sends those as the first range's, so that answer is still
 *   that range's data, and the missing reply key says "read the rest one by one".
 * - WRITE with xdata `glusterts.write-vector` = ranges: the payload is their bytes in order
 *   (its length the ranges' sum). A brick without the extension would write the payload as
 *   one run at the offset, so it is sent only to a brick that answered the probe: a READ of
 *   no ranges (size 0) whose reply carries `glusterts.read-vector`.
 *
 * Ranges: u32 count, then count × (u64 offset, u32 length), big-endian; at most MAX_RANGES,
 * at most MAX_BYTES in all, each non-empty.
 */
import { DictType, type GfxDict } from './dict.js';
import { FopError } from './errno.js';

export const READ_VECTOR_KEY = 'glusterts.read-vector';
export const WRITE_VECTOR_KEY = 'glusterts.write-vector';
export const MAX_VECTOR_RANGES = 256;
export const MAX_VECTOR_BYTES = 4 << 20;

export interface IoRange {
  offset: number;
  length: number;
}

export function encodeIoRanges(ranges: readonly IoRange[]): Buffer {
  const out = Buffer.alloc(4 + 12 * ranges.length);
  out.writeUInt32BE(ranges.length, 0);
  ranges.forEach((r, k) => {
    out.writeBigUInt64BE(BigInt(r.offset), 4 + 12 * k);
    out.writeUInt32BE(r.length, 12 + 12 * k);
  });
  return out;
}

/** Decodes and checks a request's ranges (EINVAL for anything malformed or too big). */
export function decodeIoRanges(b: Buffer, key: string): IoRange[] {
  const bad = (why: string) => FopError.of('EINVAL', `${key}: ${why}`);
  if (b.length < 4) throw bad('shorter than its count');
  const count = b.readUInt32BE(0);
  if (count > MAX_VECTOR_RANGES) throw bad(`${count} ranges, at most ${MAX_VECTOR_RANGES}`);
  if (b.length !== 4 + 12 * count) throw bad(`${b.length} bytes for ${count} ranges`);
  const out: IoRange[] = [];
  let total = 0;
  for (let k = 0; k < count; k++) {
    const offset = Number(b.readBigUInt64BE(4 + 12 * k));
    const length = b.readUInt32BE(12 + 12 * k);
    if (length === 0 || !Number.isSafeInteger(offset + length)) throw bad('an empty or overflowing range');
    total += length;
    out.push({ offset, length });
  }
  if (total > MAX_VECTOR_BYTES) throw bad(`${total} bytes, at most ${MAX_VECTOR_BYTES}`);
  return out;
}

/**
 * The ranges of a request carrying `key` in its xdata (checked: EINVAL for anything malformed
 * or too big), or undefined for a plain READ or WRITE.
 */
export function requestRanges(xdata: GfxDict, key: string): IoRange[] | undefined {
  const value = vectorValue(xdata, key);
  return value ? decodeIoRanges(value, key) : undefined;
}

/** The per-range byte counts of a vectored READ's reply. */
export function encodeReadCounts(counts: readonly number[]): Buffer {
  const out = Buffer.alloc(4 * counts.length);
  counts.forEach((n, k) => out.writeUInt32BE(n, 4 * k));
  return out;
}

export function decodeReadCounts(b: Buffer, ranges: number): number[] | undefined {
  if (b.length !== 4 * ranges) return undefined;
  return Array.from({ length: ranges }, (_, k) => b.readUInt32BE(4 * k));
}

/** The raw bytes of `key` in an xdata dict (a PTR value), if there. */
export function vectorValue(xdata: GfxDict, key: string): Buffer | undefined {
  const v = xdata?.get(key);
  return v?.type === DictType.PTR ? v.value : undefined;
}

/** `xdata` without `key` (null when nothing else is left), for the calls a vector becomes. */
export function withoutKey(xdata: GfxDict, key: string): GfxDict {
  if (!xdata?.has(key)) return xdata;
  const rest = new Map(xdata);
  rest.delete(key);
  return rest.size ? rest : null;
}
