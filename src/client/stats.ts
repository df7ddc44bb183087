/**
 * What the client API returns for file attributes and file system statistics: plain
 * objects shaped like Node's fs.Stats / StatFs, built from the wire's iatt and statfs.
 */
import { gfidToString } from '../protocol/gfid.js';
import type { Iatt } from '../protocol/iatt.js';
import type { Statfs } from '../protocol/structs.js';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** fs.Stats-like attributes, plus the GlusterFS gfid. */
export class Stats {
  readonly gfid: string;
  readonly dev: number;
  /** The last 8 bytes of the gfid (often above 2^53, hence bigint); 1 for the root. */
  readonly ino: bigint;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize: number;
  /** 512-byte units. */
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  /** Nanosecond times, exact. */
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;

  constructor(iatt: Iatt) {
    this.gfid = gfidToString(iatt.gfid);
    this.dev = iatt.dev;
    this.ino = iatt.ino;
    this.mode = iatt.mode;
    this.nlink = iatt.nlink;
    this.uid = iatt.uid;
    this.gid = iatt.gid;
    this.rdev = iatt.rdev;
    this.size = iatt.size;
    this.blksize = iatt.blksize;
    this.blocks = iatt.blocks;
    this.atimeNs = BigInt(iatt.atime) * 1_000_000_000n + BigInt(iatt.atimeNsec);
    this.mtimeNs = BigInt(iatt.mtime) * 1_000_000_000n + BigInt(iatt.mtimeNsec);
    this.ctimeNs = BigInt(iatt.ctime) * 1_000_000_000n + BigInt(iatt.ctimeNsec);
    this.atimeMs = iatt.atime * 1000 + iatt.atimeNsec / 1e6;
    this.mtimeMs = iatt.mtime * 1000 + iatt.mtimeNsec / 1e6;
    this.ctimeMs = iatt.ctime * 1000 + iatt.ctimeNsec / 1e6;
  }

  get atime(): Date {
    return new Date(this.atimeMs);
  }
  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
  get ctime(): Date {
    return new Date(this.ctimeMs);
  }
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
}

/** statvfs(3) fields (glfs_statvfs). */
export interface StatVfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: bigint;
  flag: number;
  namemax: number;
}

export function statVfs(s: Statfs): StatVfs {
  return {
    bsize: Number(s.bsize),
    frsize: Number(s.frsize),
    blocks: Number(s.blocks),
    bfree: Number(s.bfree),
    bavail: Number(s.bavail),
    files: Number(s.files),
    ffree: Number(s.ffree),
    favail: Number(s.favail),
    fsid: s.fsid,
    flag: Number(s.flag),
    namemax: Number(s.namemax),
  };
}

/** A directory entry (READDIRP): name, type and full attributes. */
export interface DirEntry {
  name: string;
  /** DT_* value: 4 directory, 8 regular file, 10 symlink, 0 unknown. */
  type: number;
  ino: bigint;
  stats: Stats;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}
