/**
 * What a brick refuses from clients, whatever the layers above let through (every byte
 * from the network is hostile; see the CVE list in docs/posix.md):
 * - names that are not one path component, or would shadow "."/".." or the handle store;
 * - writes to the xattrs that hold the brick's own bookkeeping;
 * - opening device nodes (CVE-2018-10923) and anything but regular files for data IO.
 */
import { constants, type BigIntStats } from 'node:fs';
import { FopError } from '../../protocol/errno.js';
import { GF_O_DIRECT } from '../../protocol/fops.js';
import { Limits } from '../../protocol/limits.js';
import { O_PATH } from '../../sys/index.js';
import { closeQuietly, fstat, open } from './fsx.js';
import { GFID2PATH_PREFIX, GFID_XATTR, HIDDEN_DIR, MDATA_XATTR, VOLUME_ID_XATTR } from './on-disk.js';

/**
 * Checks a basename from an entry fop. `isNew` for names being created (".", ".." are
 * only ever looked up). `atRoot` hides the handle store.
 */
export function checkName(name: string, isNew: boolean, atRoot: boolean): void {
  if (name.length === 0) throw FopError.of('EINVAL', 'empty name');
  if (name.includes('/') || name.includes('\0')) throw FopError.of('EPERM', 'name is not one path component');
  if (Buffer.byteLength(name, 'utf8') > Limits.NAME) throw FopError.of('ENAMETOOLONG');
  if (isNew && (name === '.' || name === '..')) throw FopError.of('EPERM', `"${name}" as a new name`);
  if (atRoot && name === HIDDEN_DIR)
    throw FopError.of(isNew ? 'EPERM' : 'ENOENT', `${HIDDEN_DIR} is internal`);
}

/**
 * Checks a SYMLINK target: stored, never followed, but bounded as symlink(2) bounds it
 * (PATH_MAX with its NUL), so a target from the network never outgrows what the kernel keeps.
 */
export function checkLinkTarget(target: string): void {
  if (target.includes('\0')) throw FopError.of('EINVAL', 'NUL in symlink target');
  if (target.length === 0) throw FopError.of('ENOENT', 'empty symlink target');
  if (Buffer.byteLength(target, 'utf8') >= Limits.PATH) throw FopError.of('ENAMETOOLONG', 'symlink target');
}

/** Xattrs clients may read but never set or remove. */
export function isInternalXattr(name: string): boolean {
  return (
    name === GFID_XATTR ||
    name === VOLUME_ID_XATTR ||
    name === MDATA_XATTR ||
    name.startsWith(GFID2PATH_PREFIX)
  );
}

/** Xattrs left out of a list-all GETXATTR (stock also hides security.selinux). */
export function isHiddenXattr(name: string): boolean {
  return isInternalXattr(name) || name === 'security.selinux';
}

/** A name the kernel could hold as an xattr (namespace prefix, no NUL, ≤ XATTR_NAME_MAX). */
export function isXattrName(name: string): boolean {
  return (
    /^(user|trusted|security|system)\../.test(name) &&
    !name.includes('\0') &&
    Buffer.byteLength(name) <= Limits.XATTR_NAME
  );
}

export function checkXattrName(name: string): void {
  if (name.length === 0 || name.includes('\0')) throw FopError.of('EINVAL', 'bad xattr name');
  if (Buffer.byteLength(name) > Limits.XATTR_NAME) throw FopError.of('ERANGE', 'xattr name too long');
}

const O_ACCMODE = 3;
const { O_APPEND, O_TRUNC, O_SYNC, O_DSYNC, O_NONBLOCK, O_NOATIME } = constants;
const O_LARGEFILE = 0o100000;
/** Open flags passed from clients to open(2); O_CREAT/O_EXCL/O_PATH/O_TMPFILE never are. */
const OPEN_PASSTHROUGH =
  O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_NONBLOCK | O_NOATIME | O_LARGEFILE;

export function openFlags(clientFlags: number, allowDirect: boolean): { flags: number; direct: boolean } {
  const direct = allowDirect && (clientFlags & GF_O_DIRECT) !== 0;
  const flags = (clientFlags & OPEN_PASSTHROUGH) | (direct ? constants.O_DIRECT : 0) | constants.O_NOFOLLOW;
  return { flags, direct };
}

/** Data IO (OPEN, TRUNCATE, anonymous fds) is for regular files only. */
export function checkDataFile(st: BigIntStats): void {
  const type = Number(st.mode) & constants.S_IFMT;
  if (type === constants.S_IFREG) return;
  if (type === constants.S_IFDIR) throw FopError.of('EISDIR');
  throw FopError.of('EINVAL', 'not a regular file');
}

/**
 * Opens an existing name for data IO only if it is a regular file, with no window in which
 * another client can swap in a device node or FIFO: the name is pinned with O_PATH (which
 * opens nothing), its type checked, and that very inode reopened through /proc; the opened
 * fd's type is checked again. A lstat-then-open would open whatever the name held by then.
 */
export async function openRegularFile(path: string, flags: number): Promise<number> {
  const pinned = await open(path, O_PATH | constants.O_NOFOLLOW);
  let fd: number;
  try {
    const st = await fstat(pinned);
    checkDataFile(st);
    // The /proc link is followed by design; O_NOFOLLOW would refuse it.
    fd = await open(`/proc/self/fd/${pinned}`, flags & ~constants.O_NOFOLLOW);
    const opened = await fstat(fd).catch(async (e: unknown) => {
      await closeQuietly(fd);
      throw e;
    });
    if (opened.ino !== st.ino || opened.dev !== st.dev || !isRegular(opened)) {
      await closeQuietly(fd);
      throw FopError.of('ESTALE', 'file changed while opening');
    }
  } finally {
    await closeQuietly(pinned);
  }
  return fd;
}

function isRegular(st: BigIntStats): boolean {
  return (Number(st.mode) & constants.S_IFMT) === constants.S_IFREG;
}
