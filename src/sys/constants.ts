/**
 * Linux constants for the calls in src/sys. They are fixed by the kernel ABI; a test checks
 * each against the value the addon was compiled with.
 */

/** setxattr flags: fail with EEXIST if the name exists / with ENODATA if it does not. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

/** fallocate modes. PUNCH_HOLE must be combined with KEEP_SIZE. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;

/** lseek whence values; SEEK_DATA and SEEK_HOLE fail with ENXIO at or past end of file. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/** openat2 resolve flags. openBeneath always uses BENEATH | NO_MAGICLINKS. */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

/** *at() calls: the current directory as dirFd, and "act on a symlink itself". */
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;

/** utimensat/futimens nanosecond values meaning "now" and "leave unchanged". */
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

/** File type bits for mknod's mode. */
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;
export const S_IFSOCK = 0o140000;

/** Extra open flags (also in fs.constants, except O_TMPFILE). */
export const O_DIRECT = 0o40000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;
