/**
 * Xattr access on whatever a fop resolved to (a directory fd, a non-directory's handle
 * path, an open fd), and the places xattrs ride in xdata: keys a LOOKUP/STAT/READDIRP
 * asks for come back as PTR values, keys in MKDIR/CREATE/MKNOD/SYMLINK xdata are set on
 * the new inode (DHT's layout travels this way), and DHT's parent-layout precondition on
 * CREATE/MKDIR is checked against the parent.
 */
import {
  DictType,
  dictString,
  intValue,
  ptrValue,
  uintValue,
  type Dict,
  type GfxDict,
} from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import {
  fgetxattr,
  flistxattr,
  fremovexattr,
  fsetxattr,
  lgetxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  type XattrFlags,
} from '../../sys/index.js';
import type { Node } from './brick.js';
import { GFID2PATH_PREFIX, GFID_XATTR, VOLUME_ID_XATTR } from './on-disk.js';
import { isInternalXattr, isXattrName } from './security.js';

export interface XattrTarget {
  get(name: string): Promise<Buffer>;
  set(name: string, value: Buffer, flags: XattrFlags): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<string[]>;
}

export function pathXattrs(path: string): XattrTarget {
  return {
    get: (n) => lgetxattr(path, n),
    set: (n, v, f) => lsetxattr(path, n, v, f),
    remove: (n) => lremovexattr(path, n),
    list: () => llistxattr(path),
  };
}

export function fdXattrs(fd: number): XattrTarget {
  return {
    get: (n) => fgetxattr(fd, n),
    set: (n, v, f) => fsetxattr(fd, n, v, f),
    remove: (n) => fremovexattr(fd, n),
    list: () => flistxattr(fd),
  };
}

export function nodeXattrs(node: Node): XattrTarget {
  return node.isDir ? fdXattrs(node.fd) : pathXattrs(node.path);
}

/** LOOKUP key: how many fds are open on the inode (DHT removes stale linkto files at 0). */
export const OPEN_FD_COUNT = 'glusterfs.open-fd-count';
/** LOOKUP key (AFR): return every on-disk xattr, as posix's _handle_list_xattr. */
export const LIST_XATTR = 'list-xattr';

/** What `list-xattr` leaves out: identity, selinux, gfid2path, marker/quota and geo-rep keys. */
export function isUnlistedXattr(name: string): boolean {
  return (
    name === GFID_XATTR ||
    name === VOLUME_ID_XATTR ||
    name === 'security.selinux' ||
    name.startsWith(GFID2PATH_PREFIX) ||
    name.startsWith('trusted.glusterfs.quota.') ||
    /^trusted\.glusterfs\..*\.xtime$/.test(name)
  );
}

/**
 * The requested keys that exist, as PTR values; absent ones are simply left out.
 * `openFds`, when given, answers `glusterfs.open-fd-count` (UINT, as stock). `list-xattr`
 * adds every other stored xattr but those isUnlistedXattr names.
 */
export async function requestedXattrs(
  target: XattrTarget,
  xdata: GfxDict,
  openFds?: () => number,
): Promise<Dict | null> {
  if (!xdata || xdata.size === 0) return null;
  const out: Dict = new Map();
  const fill = async (key: string) => {
    try {
      out.set(key, ptrValue(await target.get(key)));
    } catch {
      // ENODATA and friends: the key is just not there.
    }
  };
  for (const key of xdata.keys()) {
    if (key === OPEN_FD_COUNT && openFds) out.set(key, uintValue(openFds()));
    if (!isXattrName(key)) continue;
    await fill(key);
  }
  if (xdata.has(LIST_XATTR)) {
    const names = await target.list().catch(() => []);
    for (const key of names) if (!out.has(key) && !xdata.has(key) && !isUnlistedXattr(key)) await fill(key);
  }
  return out;
}

/** The raw bytes of a dict value that can be stored as an xattr; null for other types. */
export function xattrBytes(v: { type: DictType; value: unknown }): Buffer | null {
  return v.type === DictType.PTR || v.type === DictType.STR || v.type === DictType.STR_OLD
    ? (v.value as Buffer)
    : null;
}

/** Sets the xattr keys of a creation fop's xdata on the new inode (never internal ones). */
export async function setCreateXattrs(target: XattrTarget, xdata: GfxDict): Promise<void> {
  if (!xdata) return;
  for (const [key, v] of xdata) {
    const bytes = xattrBytes(v);
    if (!bytes || !isXattrName(key) || isInternalXattr(key)) continue;
    await target.set(key, bytes, 0);
  }
}

/** Names the parent xattr a CREATE/MKDIR is conditional on (DHT: its layout key). */
export const PREOP_PARENT_KEY = 'glusterfs.preop.parent.key';
/** Set in the reply xdata when that precondition fails. */
export const PREOP_CHECK_FAILED = 'glusterfs.preop.check.failed';

/**
 * DHT's precondition on CREATE and MKDIR (stock posix_is_layout_stale): the xdata names a
 * key in `glusterfs.preop.parent.key` and carries, under that key, the bytes the client
 * believes the parent holds (its layout for this brick). Different bytes on the parent
 * (or none) fail the fop with EIO and `glusterfs.preop.check.failed` in the reply, so DHT
 * refreshes the layout and retries. Either way both keys are consumed: the parent's layout
 * must never be stored on the new inode. Returns the xdata without them; `check` false
 * only strips them (CREATE of a name that exists).
 */
export async function checkParentPrecondition(
  parent: XattrTarget,
  xdata: GfxDict,
  check = true,
): Promise<GfxDict> {
  const key = dictString(xdata, PREOP_PARENT_KEY);
  if (!xdata || key === undefined) return xdata;
  const rest: Dict = new Map(xdata);
  rest.delete(PREOP_PARENT_KEY);
  const expected = rest.get(key);
  if (!expected) return rest;
  rest.delete(key);
  if (!check) return rest;
  const want = xattrBytes(expected);
  const have = isXattrName(key) ? await parent.get(key).catch(() => null) : null;
  if (!want || !have || !have.equals(want)) {
    throw FopError.of('EIO', `parent ${key} differs from the client's (stale layout)`, {
      xdata: new Map([[PREOP_CHECK_FAILED, intValue(1)]]),
    });
  }
  return rest;
}

export function hasPrecondition(xdata: GfxDict): boolean {
  return xdata?.has(PREOP_PARENT_KEY) ?? false;
}
