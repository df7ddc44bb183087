/**
 * What the self-heal daemon reads from a brick: GETXATTR (or FGETXATTR) of
 * `glusterts.heal-ranges` on an inode returns one PTR value, big-endian:
 *
 *     u8  version = 1
 *     u8  flags    bit 0: complete (the ranges cover every change); 0 = damaged, compare
 *                  checksums over the whole file
 *     u16 0
 *     u32 count
 *     count × (u64 offset, u64 length)   sorted, disjoint, non-adjacent
 *
 * ENODATA when the brick keeps no record for the inode (it is in neither the xattrop nor
 * the dirty index). docs/replication.md "Changed ranges".
 */
import { FopError } from '../../protocol/errno.js';
import type { ByteRange } from './range-set.js';

export const HEAL_RANGES_KEY = 'glusterts.heal-ranges';
export const HEAL_RANGES_VERSION = 1;
const COMPLETE = 1;
const HEADER = 8;
const PAIR = 16;

export interface HealRanges {
  /** False: the record is damaged; heal must compare the whole file. */
  complete: boolean;
  ranges: ByteRange[];
}

export function encodeHealRanges(r: HealRanges): Buffer {
  const out = Buffer.alloc(HEADER + PAIR * r.ranges.length);
  out.writeUInt8(HEAL_RANGES_VERSION, 0);
  out.writeUInt8(r.complete ? COMPLETE : 0, 1);
  out.writeUInt32BE(r.ranges.length, 4);
  r.ranges.forEach((range, i) => {
    out.writeBigUInt64BE(BigInt(range.offset), HEADER + PAIR * i);
    out.writeBigUInt64BE(BigInt(range.length), HEADER + PAIR * i + 8);
  });
  return out;
}

/** Decodes and checks a reply value (EINVAL for anything malformed). */
export function decodeHealRanges(b: Buffer): HealRanges {
  const bad = (why: string) => FopError.of('EINVAL', `${HEAL_RANGES_KEY}: ${why}`);
  if (b.length < HEADER) throw bad('shorter than its header');
  if (b.readUInt8(0) !== HEAL_RANGES_VERSION) throw bad(`version ${b.readUInt8(0)}`);
  const count = b.readUInt32BE(4);
  if (b.length !== HEADER + PAIR * count) throw bad(`${b.length} bytes for ${count} ranges`);
  const ranges: ByteRange[] = [];
  let end = -1;
  for (let i = 0; i < count; i++) {
    const offset = Number(b.readBigUInt64BE(HEADER + PAIR * i));
    const length = Number(b.readBigUInt64BE(HEADER + PAIR * i + 8));
    if (!Number.isSafeInteger(offset + length) || length === 0 || offset <= end)
      throw bad('ranges not sorted, merged and non-empty');
    end = offset + length;
    ranges.push({ offset, length });
  }
  return { complete: (b.readUInt8(1) & COMPLETE) !== 0, ranges };
}
