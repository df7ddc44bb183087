/**
 * Xattr access on whatever a fop resolved to (a directory fd, a non-directory's handle
 * path, an open fd), and the two places xattrs ride in xdata: keys a LOOKUP/STAT/READDIRP
 * asks for come back as PTR values, and keys in MKDIR/CREATE/MKNOD/SYMLINK xdata are set
 * on the new inode (DHT's layout travels this way).
 */
import { DictType, ptrValue, type Dict, type GfxDict } from '../../protocol/dict.js';
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

/** The requested keys that exist, as PTR values; absent ones are simply left out. */
export async function requestedXattrs(target: XattrTarget, xdata: GfxDict): Promise<Dict | null> {
  if (!xdata || xdata.size === 0) return null;
  const out: Dict = new Map();
  for (const key of xdata.keys()) {
    if (!isXattrName(key)) continue;
    try {
      out.set(key, ptrValue(await target.get(key)));
    } catch {
      // ENODATA and friends: the key is just not there.
    }
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
