/**
 * The changed-ranges record a brick keeps while an inode's dirty or pending counters are
 * non-zero (virtual GETXATTR `glusterts.heal-ranges`, served by the brick): which byte ranges
 * were written, discarded, zeroed or truncated there. Heal reads it from the source and copies
 * only those ranges, so its cost follows what changed, not the file's size.
 *
 * Value (big-endian): u8 version = 1, u8 flags (bit 0: the record is complete), u16 0, u32
 * count, then count × (u64 offset, u64 length), sorted and merged. Anything else — no record,
 * another version, an incomplete or malformed one — means "unknown": heal compares checksums
 * over the whole file instead.
 */
export const HEAL_RANGES_KEY = 'glusterts.heal-ranges';
const HEADER = 8;
const ENTRY = 16;
const COMPLETE = 1;

export interface ByteRange {
  offset: bigint;
  length: bigint;
}

/** The ranges of a complete version-1 record, or undefined when it cannot be trusted. */
export function decodeHealRanges(value: Buffer | undefined): ByteRange[] | undefined {
  if (!value || value.length < HEADER) return undefined;
  if (value[0] !== 1 || (value[1]! & COMPLETE) === 0) return undefined;
  const count = value.readUInt32BE(4);
  if (value.length !== HEADER + count * ENTRY) return undefined;
  const out: ByteRange[] = [];
  let end = -1n;
  for (let k = 0; k < count; k++) {
    const offset = value.readBigUInt64BE(HEADER + k * ENTRY);
    const length = value.readBigUInt64BE(HEADER + k * ENTRY + 8);
    if (length === 0n || offset < end) return undefined; // not sorted and merged: damaged
    out.push({ offset, length });
    end = offset + length;
  }
  return out;
}

export function encodeHealRanges(ranges: readonly ByteRange[], complete = true): Buffer {
  const out = Buffer.alloc(HEADER + ranges.length * ENTRY);
  out[0] = 1;
  out[1] = complete ? COMPLETE : 0;
  out.writeUInt32BE(ranges.length, 4);
  ranges.forEach((r, k) => {
    out.writeBigUInt64BE(r.offset, HEADER + k * ENTRY);
    out.writeBigUInt64BE(r.length, HEADER + k * ENTRY + 8);
  });
  return out;
}

/**
 * The chunk starts (multiples of `chunk`) below `size` that the ranges touch; every chunk
 * when `ranges` is undefined (no usable record).
 */
export function chunksToHeal(
  ranges: readonly ByteRange[] | undefined,
  size: bigint,
  chunk: number,
): bigint[] {
  const c = BigInt(chunk);
  const out: bigint[] = [];
  if (!ranges) {
    for (let off = 0n; off < size; off += c) out.push(off);
    return out;
  }
  let last = -1n;
  for (const r of ranges) {
    const end = r.offset + r.length < size ? r.offset + r.length : size;
    for (let off = (r.offset / c) * c; off < end; off += c) {
      if (off > last) out.push(off);
      last = off;
    }
  }
  return out;
}
