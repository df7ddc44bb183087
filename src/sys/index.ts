/**
 * src/sys: the system calls a brick (the glusterfsd role) needs and Node's fs lacks, from
 * the project's own N-API addon (native/). Every call but allocAligned runs on the libuv
 * thread pool and returns a promise; failures reject with a SysError (code = errno name,
 * errno = positive Linux errno); unusable arguments throw TypeError synchronously.
 * See docs/sys.md.
 */
export * from './constants.js';
export { isSysError, type SysError } from './errors.js';
export type { IntArg, PathArg } from './native.js';
export {
  fgetxattr,
  flistxattr,
  fremovexattr,
  fsetxattr,
  getxattr,
  lgetxattr,
  listxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  removexattr,
  setxattr,
  type XattrFlags,
  type XattrValue,
} from './xattr.js';
export {
  fallocate,
  IOV_MAX,
  lseek,
  MAX_IO_SLICES,
  readRanges,
  writeRanges,
  type IoSlice,
  preadv,
  pwritev,
  readWithStat,
  syncfs,
  writeWithStat,
  type RawStat,
} from './io.js';
export {
  allocAligned,
  carveAligned,
  carveAlignedUnsafe,
  carveEndAligned,
  carveEndAlignedUnsafe,
  DIRECT_ALIGNMENT,
  isDirectAligned,
} from './memory.js';
export { futimens, makedev, mknod, mknodat, openBeneath, openDirectory, utimensat } from './files.js';
