/**
 * File attributes on the wire: `gfx_iattx` (v400 FOPs, 148 bytes), the legacy `gf_iatt`
 * (callbacks) and `gfx_mdata_iatt` (dict MDATA values). The wire order differs from
 * GlusterFS's in-memory `struct iatt`; these codecs follow glusterfs4-xdr.x.
 */
import { x, type Infer } from '../xdr/index.js';

export const iattx = x.struct({
  gfid: x.fixedOpaque(16),
  /** Validity mask (IattFlags); stock bricks send 0x17ff. */
  flags: x.u64,
  ino: x.u64,
  dev: x.u64,
  rdev: x.u64,
  size: x.u64n,
  /** 512-byte units. */
  blocks: x.u64n,
  attributes: x.u64,
  attributesMask: x.u64,
  atime: x.i64n,
  mtime: x.i64n,
  ctime: x.i64n,
  btime: x.i64n,
  atimeNsec: x.u32,
  mtimeNsec: x.u32,
  ctimeNsec: x.u32,
  btimeNsec: x.u32,
  nlink: x.u32,
  uid: x.u32,
  gid: x.u32,
  blksize: x.u32,
  /** Full st_mode, including the S_IFMT type bits. */
  mode: x.u32,
});
export type Iatt = Infer<typeof iattx>;

/** Bits of Iatt.flags (iatt.h). */
export const IattFlags = {
  TYPE: 0x1n,
  MODE: 0x2n,
  NLINK: 0x4n,
  UID: 0x8n,
  GID: 0x10n,
  ATIME: 0x20n,
  MTIME: 0x40n,
  CTIME: 0x80n,
  INO: 0x100n,
  SIZE: 0x200n,
  BLOCKS: 0x400n,
  BTIME: 0x800n,
  GFID: 0x1000n,
  /** What a stock brick reports: everything but BTIME. */
  STOCK: 0x17ffn,
} as const;

/** The all-zero iatt stock bricks put in unused reply slots and failed replies. */
export function zeroIatt(): Iatt {
  return {
    gfid: Buffer.alloc(16),
    flags: 0n,
    ino: 0n,
    dev: 0n,
    rdev: 0n,
    size: 0,
    blocks: 0,
    attributes: 0n,
    attributesMask: 0n,
    atime: 0,
    mtime: 0,
    ctime: 0,
    btime: 0,
    atimeNsec: 0,
    mtimeNsec: 0,
    ctimeNsec: 0,
    btimeNsec: 0,
    nlink: 0,
    uid: 0,
    gid: 0,
    blksize: 0,
    mode: 0,
  };
}

/** Legacy 3.x iatt, still used by the CACHE_INVALIDATION callback. */
export const legacyIatt = x.struct({
  gfid: x.fixedOpaque(16),
  ino: x.u64,
  dev: x.u64,
  mode: x.u32,
  nlink: x.u32,
  uid: x.u32,
  gid: x.u32,
  rdev: x.u64,
  size: x.u64n,
  blksize: x.u32,
  blocks: x.u64n,
  atime: x.u32,
  atimeNsec: x.u32,
  mtime: x.u32,
  mtimeNsec: x.u32,
  ctime: x.u32,
  ctimeNsec: x.u32,
});
export type LegacyIatt = Infer<typeof legacyIatt>;

export const mdataIatt = x.struct({
  atime: x.i64n,
  mtime: x.i64n,
  ctime: x.i64n,
  atimeNsec: x.u32,
  mtimeNsec: x.u32,
  ctimeNsec: x.u32,
});
export type MdataIatt = Infer<typeof mdataIatt>;
