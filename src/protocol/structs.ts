/** Structures shared by several FOPs: statfs, locks, leases, directory entries. */
import { x, type Infer } from '../xdr/index.js';
import { gfxDict } from './dict.js';
import { iattx } from './iatt.js';
import { Limits } from './limits.js';

export const gfid = x.fixedOpaque(16);
/** A remote fd: an index in the brick's per-connection table; -2 is the anonymous fd. */
export const fd = x.i64n;
/** Basenames (entry fops, ENTRYLK, dirents): NAME_MAX is the brick's to enforce, not the codec's. */
export const name = x.string(Limits.NAME_FIELD);
export const path = x.string(Limits.PATH);
/** Symlink targets in SYMLINK calls: PATH_MAX is the brick's to enforce. */
export const linkTarget = x.string(Limits.NAME_FIELD);

export const statfs = x.struct({
  bsize: x.u64,
  frsize: x.u64,
  blocks: x.u64,
  bfree: x.u64,
  bavail: x.u64,
  files: x.u64,
  ffree: x.u64,
  favail: x.u64,
  fsid: x.u64,
  flag: x.u64,
  namemax: x.u64,
});
export type Statfs = Infer<typeof statfs>;

/** `gf_proto_flock`: type 0 RDLCK, 1 WRLCK, 2 UNLCK. */
export const flock = x.struct({
  type: x.u32,
  whence: x.u32,
  start: x.u64,
  len: x.u64,
  pid: x.u32,
  lkOwner: x.opaque(Limits.LK_OWNER),
});
export type Flock = Infer<typeof flock>;

export const lease = x.struct({
  cmd: x.u32,
  leaseType: x.u32,
  leaseId: x.fixedOpaque(16),
  leaseFlags: x.u32,
});
export type Lease = Infer<typeof lease>;

export const dirent = x.struct({
  ino: x.u64,
  /** An opaque cookie: the next READDIR starts from the last entry's `off`. */
  off: x.u64,
  len: x.u32,
  /** DT_* (4 directory, 8 regular file, 10 symlink). */
  type: x.u32,
  name: name,
});
export type Dirent = Infer<typeof dirent>;

export const direntPlus = x.struct({
  ino: x.u64,
  off: x.u64,
  len: x.u32,
  type: x.u32,
  name: name,
  stat: iattx,
  dict: gfxDict,
});
export type DirentPlus = Infer<typeof direntPlus>;

export const lockEntry = x.struct({
  flock,
  clientUid: x.string(Limits.PATH),
  lkFlags: x.u32,
});
export type LockEntry = Infer<typeof lockEntry>;

export const direntList = x.pointerList(dirent, Limits.DIRENTS);
export const direntPlusList = x.pointerList(direntPlus, Limits.DIRENTS);
export const lockList = x.pointerList(lockEntry, Limits.LOCKS);
