/**
 * The two checksums posix needs bit-exact with stock: XXH64 (seed 0) names the
 * `trusted.gfid2path.<hex>` keys (gf_xxh64_wrapper: the canonical, big-endian digest in
 * lowercase hex), and RCHECKSUM's weak checksum is zlib's adler32 started from 0, not 1
 * (gf_rsync_weak_checksum calls `adler32(0, buf, len)`).
 */
const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (v: bigint, r: bigint): bigint => ((v << r) | (v >> (64n - r))) & M64;
const round = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * P2) & M64, 31n) * P1) & M64;
const merge = (acc: bigint, v: bigint): bigint => ((acc ^ round(0n, v)) * P1 + P4) & M64;

/** XXH64 of `data`; BigInt arithmetic is fine for the short strings it is used on. */
export function xxh64(data: Uint8Array, seed = 0n): bigint {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = b.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & M64;
    let v2 = (seed + P2) & M64;
    let v3 = seed & M64;
    let v4 = (seed - P1) & M64;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, b.readBigUInt64LE(p));
      v2 = round(v2, b.readBigUInt64LE(p + 8));
      v3 = round(v3, b.readBigUInt64LE(p + 16));
      v4 = round(v4, b.readBigUInt64LE(p + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = (seed + P5) & M64;
  }
  h = (h + BigInt(len)) & M64;
  for (; p + 8 <= len; p += 8) {
    h ^= round(0n, b.readBigUInt64LE(p));
    h = (rotl(h, 27n) * P1 + P4) & M64;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(b.readUInt32LE(p)) * P1) & M64;
    h = (rotl(h, 23n) * P2 + P3) & M64;
    p += 4;
  }
  for (; p < len; p++) {
    h ^= (BigInt(b[p]!) * P5) & M64;
    h = (rotl(h, 11n) * P1) & M64;
  }
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  return h;
}

export function xxh64Hex(data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return xxh64(bytes).toString(16).padStart(16, '0');
}

const ADLER_MOD = 65521;
/** Bytes that can be summed before the 32-bit accumulators need reducing (zlib's NMAX). */
const NMAX = 5552;

/** adler32 seeded with 0, as gf_rsync_weak_checksum computes it. */
export function weakChecksum(data: Uint8Array): number {
  let a = 0;
  let b = 0;
  for (let i = 0; i < data.length;) {
    const end = Math.min(i + NMAX, data.length);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}
