/**
 * Who may do what to an inode: the rules of stock's features/access-control (the POSIX
 * mode and ACL check, sticky directories, SETATTR and xattr scrutiny) plus the ones
 * stock's posix leaves to the kernel by running the fop with setfsuid/setfsgid of the
 * caller (sgid clearing on new files), and what stock lacks: device nodes and
 * `trusted.*`/`security.*` xattrs only for root, setuid/setgid cleared by a write. Rules
 * a local kernel has but stock's brick does not apply (explicit times by a writer,
 * protected hard links, a moved directory's own write bit) are left out, so that every
 * errno matches stock's (test/interop/permissions-stock.test.ts). Pure functions of the caller and
 * the inodes' owner, group, mode and access ACL; docs/permissions.md lists each rule.
 */
import { constants } from 'node:fs';
import type { ErrnoName } from '../../errors/index.js';
import { SetattrValid } from '../../protocol/iatt.js';
import type { Caller } from '../../xlator/translator.js';
import { ACL_XATTRS, AclTag, isExtended, type AclEntry } from './acl.js';

export const R = 4;
export const W = 2;
export const X = 1;

const { S_IFMT, S_IFDIR, S_IFCHR, S_IFBLK, S_IXGRP } = constants;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

/** What the rules need of an inode. */
export interface InodePerms {
  uid: number;
  gid: number;
  /** Full st_mode, type bits included. */
  mode: number;
  /** The access ACL, when the inode has one. */
  acl: readonly AclEntry[] | null;
}

/** uid 0 (or the configured super-uid): every check passes but the namespace ones. */
export function isSuperUser(caller: Caller, superUid = 0): boolean {
  return caller.uid === 0 || caller.uid === superUid;
}

/**
 * GlusterFS's own daemons (self-heal -6, rebalance -3, gsyncd -1 and the other
 * GF_CLIENT_PID_* values) send negative pids; stock's permission and sticky checks pass
 * them whatever their uid.
 */
export function isInternal(caller: Caller): boolean {
  return caller.pid < 0;
}

/** Whether no check at all applies (the fast path of every fop). */
export function isExempt(caller: Caller, superUid = 0): boolean {
  return isSuperUser(caller, superUid) || isInternal(caller);
}

export function inGroup(caller: Caller, gid: number): boolean {
  return caller.gid === gid || caller.groups.includes(gid);
}

/** The POSIX access check (acl(5) "Access check algorithm"), `want` of R|W|X. */
export function permits(caller: Caller, inode: InodePerms, want: number, superUid = 0): boolean {
  if (isExempt(caller, superUid)) return true;
  const ok = (bits: number) => (bits & want) === want;
  if (caller.uid === inode.uid) return ok((inode.mode >> 6) & 7);
  const acl = isExtended(inode.acl) ? inode.acl : null;
  if (!acl) return ok(inGroup(caller, inode.gid) ? (inode.mode >> 3) & 7 : inode.mode & 7);
  const mask = acl.find((e) => e.tag === AclTag.MASK)?.perm ?? 7;
  const named = acl.find((e) => e.tag === AclTag.USER && e.id === caller.uid);
  if (named) return ok(named.perm & mask);
  let member = false;
  for (const e of acl) {
    const group =
      (e.tag === AclTag.GROUP_OBJ && inGroup(caller, inode.gid)) ||
      (e.tag === AclTag.GROUP && inGroup(caller, e.id));
    if (!group) continue;
    member = true;
    if (ok(e.perm)) return ok(e.perm & mask);
  }
  return !member && ok(inode.mode & 7);
}

/** Whether the caller may remove or replace `inode`'s name in `parent` (S_ISVTX). */
export function stickyPermits(caller: Caller, parent: InodePerms, inode: InodePerms, superUid = 0): boolean {
  if (isExempt(caller, superUid) || !(parent.mode & S_ISVTX)) return true;
  return caller.uid === parent.uid || caller.uid === inode.uid;
}

/** The permission an OPEN with these (Linux) flags needs. */
export function openWant(flags: number): number {
  const O_FMODE_EXEC = 0o40;
  let want: number;
  switch (flags & 3) {
    case constants.O_WRONLY:
      want = W;
      break;
    case constants.O_RDWR:
      want = R | W;
      break;
    default:
      want = flags & O_FMODE_EXEC ? X : R;
  }
  if (flags & (constants.O_TRUNC | constants.O_APPEND)) want |= W;
  return want;
}

export function isDevice(mode: number): boolean {
  const type = mode & S_IFMT;
  return type === S_IFCHR || type === S_IFBLK;
}

/**
 * The mode a new non-directory gets: S_ISGID with group execute is dropped when the new
 * inode's group (the parent's, under a setgid parent) is not one of the caller's.
 */
export function newInodeMode(caller: Caller, parent: InodePerms, mode: number, superUid = 0): number {
  if ((mode & S_IFMT) === S_IFDIR || isSuperUser(caller, superUid)) return mode;
  if ((mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP) || !(parent.mode & S_ISGID)) return mode;
  return inGroup(caller, parent.gid) ? mode : mode & ~S_ISGID;
}

export type SetattrVerdict = { refuse: ErrnoName } | { refuse?: undefined; mode: number };

/**
 * SETATTR/FSETATTR for a caller: chmod by the owner only (S_ISGID dropped when the file's
 * group is not the caller's), chown only by root, chgrp by the owner to one of its
 * groups, times (now or explicit, as stock) by the owner or a writer, a size change by a
 * writer. `mode` is the mode to apply when MODE is in `valid`.
 */
export function checkSetattr(
  caller: Caller,
  inode: InodePerms,
  valid: number,
  attrs: { uid: number; gid: number; mode: number },
  superUid = 0,
): SetattrVerdict {
  if (isSuperUser(caller, superUid)) return { mode: attrs.mode };
  const owner = caller.uid === inode.uid;
  let mode = attrs.mode;
  if (valid & SetattrValid.MODE) {
    if (!owner) return { refuse: 'EPERM' };
    const gid = valid & SetattrValid.GID ? attrs.gid : inode.gid;
    if (!inGroup(caller, gid)) mode &= ~S_ISGID;
  }
  const times =
    valid & (SetattrValid.ATIME | SetattrValid.MTIME | SetattrValid.ATIME_NOW | SetattrValid.MTIME_NOW);
  if (times && !owner && !permits(caller, inode, W, superUid)) return { refuse: 'EACCES' };
  if (valid & SetattrValid.UID && (attrs.uid !== inode.uid || !owner)) return { refuse: 'EPERM' };
  if (valid & SetattrValid.GID && (!owner || !inGroup(caller, attrs.gid))) return { refuse: 'EPERM' };
  if (
    valid & SetattrValid.SIZE &&
    (inode.mode & S_IFMT) !== S_IFDIR &&
    !permits(caller, inode, W, superUid)
  ) {
    return { refuse: 'EACCES' };
  }
  return { mode };
}

/** The mode left after a non-root write or truncate: S_ISUID, and S_ISGID with group execute, go. */
export function modeAfterWrite(mode: number): number {
  let out = mode & ~S_ISUID;
  if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) out &= ~S_ISGID;
  return out;
}

export function isPrivilegedXattr(name: string): boolean {
  return name.startsWith('trusted.') || name.startsWith('security.');
}

/** GETXATTR/FGETXATTR (a list when `name` is empty): ACLs are readable by all, the rest needs read. */
export function checkGetxattr(
  caller: Caller,
  inode: InodePerms,
  name: string,
  superUid = 0,
): ErrnoName | null {
  if (ACL_XATTRS.has(name)) return null;
  return permits(caller, inode, R, superUid) ? null : 'EACCES';
}

/**
 * SETXATTR/REMOVEXATTR (and the fd forms) of `names`: `trusted.*` and `security.*` only by
 * root or GlusterFS's daemons; ACLs only by the owner (removing one also needs write);
 * anything else needs write. (`user.*` on anything but files and directories is EPERM from
 * the kernel, for root too.)
 */
export function checkSetxattr(
  caller: Caller,
  inode: InodePerms,
  names: readonly string[],
  removing: boolean,
  superUid = 0,
): ErrnoName | null {
  if (isSuperUser(caller, superUid)) return null;
  const owner = caller.uid === inode.uid;
  if (!isInternal(caller) && names.some(isPrivilegedXattr)) return 'EPERM';
  const acl = names.some((n) => ACL_XATTRS.has(n));
  if (acl && !owner) return 'EPERM';
  if ((removing || !acl) && !permits(caller, inode, W, superUid)) return 'EACCES';
  return null;
}
