/**
 * Extended attributes, which Node's fs does not offer at all. A brick keeps each file's
 * GFID in trusted.gfid and replication, quota and geo-replication state in other trusted.*
 * names (root only). The l- variants act on a symlink itself, the f- variants on an open fd.
 * Values come back as Buffers; the size is probed inside (one call when it is ≤ 256 bytes).
 */
import { XATTR_CREATE, XATTR_REPLACE } from './constants.js';
import { native, type PathArg } from './native.js';

/** 0 (create or replace), XATTR_CREATE or XATTR_REPLACE. */
export type XattrFlags = 0 | typeof XATTR_CREATE | typeof XATTR_REPLACE;
export type XattrValue = string | ArrayBufferView;

function bytes(value: XattrValue): ArrayBufferView {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/** Rejects with ENODATA if `name` is not set. */
export function getxattr(path: PathArg, name: string): Promise<Buffer> {
  return native().getxattr(path, name);
}
export function lgetxattr(path: PathArg, name: string): Promise<Buffer> {
  return native().lgetxattr(path, name);
}
export function fgetxattr(fd: number, name: string): Promise<Buffer> {
  return native().fgetxattr(fd, name);
}

/** A string value is stored as its UTF-8 bytes, without a terminating NUL. */
export function setxattr(
  path: PathArg,
  name: string,
  value: XattrValue,
  flags: XattrFlags = 0,
): Promise<void> {
  return native().setxattr(path, name, bytes(value), flags);
}
export function lsetxattr(
  path: PathArg,
  name: string,
  value: XattrValue,
  flags: XattrFlags = 0,
): Promise<void> {
  return native().lsetxattr(path, name, bytes(value), flags);
}
export function fsetxattr(fd: number, name: string, value: XattrValue, flags: XattrFlags = 0): Promise<void> {
  return native().fsetxattr(fd, name, bytes(value), flags);
}

/** Every name the caller may see (trusted.* only for root), in the kernel's order. */
export function listxattr(path: PathArg): Promise<string[]> {
  return native().listxattr(path);
}
export function llistxattr(path: PathArg): Promise<string[]> {
  return native().llistxattr(path);
}
export function flistxattr(fd: number): Promise<string[]> {
  return native().flistxattr(fd);
}

/** Rejects with ENODATA if `name` is not set. */
export function removexattr(path: PathArg, name: string): Promise<void> {
  return native().removexattr(path, name);
}
export function lremovexattr(path: PathArg, name: string): Promise<void> {
  return native().lremovexattr(path, name);
}
export function fremovexattr(fd: number, name: string): Promise<void> {
  return native().fremovexattr(fd, name);
}
