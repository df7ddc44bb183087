/** Stat → iatt as stock posix reports it (posix_pstat, iatt_from_stat). */
import { constants, type BigIntStats } from 'node:fs';
import { gfidToIno } from '../../protocol/gfid.js';
import { IattFlags, type Iatt } from '../../protocol/iatt.js';

const NS = 1_000_000_000n;

/** The stat fields an iatt is made from: fs.BigIntStats, or the addon's RawStat. */
export type StatLike = Pick<
  BigIntStats,
  | 'dev'
  | 'ino'
  | 'mode'
  | 'nlink'
  | 'uid'
  | 'gid'
  | 'rdev'
  | 'size'
  | 'blksize'
  | 'blocks'
  | 'atimeNs'
  | 'mtimeNs'
  | 'ctimeNs'
>;

export function isDirStat(st: StatLike): boolean {
  return (Number(st.mode) & constants.S_IFMT) === constants.S_IFDIR;
}

/** A device number as GlusterFS carries it: major in the high 32 bits (ia_makedev). */
function iaMakedev(dev: bigint): number {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return Number((major << 32n) | minor);
}

/**
 * `gfid` may be all zeros for an entry nobody has assigned one yet; stock then leaves the
 * inode number to the filesystem's.
 */
export function iattFromStat(st: StatLike, gfid: Buffer): Iatt {
  const hasGfid = gfid.some((b) => b !== 0);
  const size = Number(st.size);
  let nlink = Number(st.nlink);
  // Every non-directory has one more link than clients should see: its gfid handle.
  if (nlink > 0 && !isDirStat(st)) nlink--;
  return {
    gfid,
    flags: hasGfid ? IattFlags.STOCK : IattFlags.STOCK & ~IattFlags.GFID,
    ino: hasGfid ? gfidToIno(gfid) : st.ino,
    dev: Number(st.dev),
    rdev: iaMakedev(st.rdev),
    size,
    // Preallocation beyond EOF would otherwise show up as blocks clients never wrote.
    blocks: Math.min(Number(st.blocks), Math.ceil(size / 512)),
    attributes: 0,
    attributesMask: 0,
    atime: Number(st.atimeNs / NS),
    mtime: Number(st.mtimeNs / NS),
    ctime: Number(st.ctimeNs / NS),
    btime: 0,
    atimeNsec: Number(st.atimeNs % NS),
    mtimeNsec: Number(st.mtimeNs % NS),
    ctimeNsec: Number(st.ctimeNs % NS),
    btimeNsec: 0,
    nlink,
    uid: Number(st.uid),
    gid: Number(st.gid),
    blksize: Number(st.blksize),
    mode: Number(st.mode),
  };
}
