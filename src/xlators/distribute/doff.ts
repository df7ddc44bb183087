/**
 * Directory offsets across subvolumes. A READDIR(P) cookie must say which subvolume it
 * came from, so DHT can continue there. glusterts uses stock's own encoding
 * (libglusterfs gf-dirent.c gf_itransform/gf_deitransform), with `max` = the number of
 * DHT subvolumes instead of the number of leaf clients in the graph:
 * - 0 (start of directory) and 2^64-1 pass unchanged;
 * - a small offset x (its top bits(max)+1 bits of 63 clear) becomes x*max + subvol;
 * - a larger one becomes bit 62 | ((x >> 1) & (~0 << bits(max))) | subvol, which drops
 *   its lowest bit (stock accepts the same loss; posix bricks hand out small cookies).
 */
const TOP_BIT = 1n << 62n;
const PRESENT_MASK = (1n << 63n) - 1n;
const ALL = (1n << 64n) - 1n;

/** The bits needed for subvolume numbers below `max` (stock's bits_for). */
function bitsFor(max: number): bigint {
  let bits = 0n;
  for (let ctrl = 1; ctrl < max; ctrl *= 2) bits++;
  return bits;
}

export function encodeDirOffset(off: bigint, subvol: number, max: number): bigint {
  if (off === ALL || off === 0n || max === 1) return off;
  const bits = bitsFor(max);
  const hiMask = ~(PRESENT_MASK >> (bits + 1n)) & ALL;
  if (off & hiMask) return TOP_BIT | ((off >> 1n) & ((ALL << bits) & ALL)) | BigInt(subvol);
  return off * BigInt(max) + BigInt(subvol);
}

/** The subvolume an offset came from and that subvolume's own offset. */
export function decodeDirOffset(off: bigint, max: number): { subvol: number; offset: bigint } {
  if (off === 0n || off === ALL || max === 1) return { subvol: 0, offset: off };
  const bits = bitsFor(max);
  if (off & TOP_BIT) {
    const offMask = (ALL << bits) & ALL;
    return { subvol: Number(off & ~offMask & ALL), offset: (off & ~TOP_BIT & offMask) << 1n };
  }
  const m = BigInt(max);
  return { subvol: Number(off % m), offset: off / m };
}
