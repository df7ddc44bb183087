/**
 * Linux errno numbers by name. GlusterFS puts errno on the wire by identity on Linux
 * (op_errno), and NBD's error values are the same numbers, so this one table serves every
 * layer. It lists the errnos the project produces or passes on; a number outside it is
 * named 'E#n'.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EPROTO: 71,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EBADFD: 77,
  EOPNOTSUPP: 95,
  /** Linux's ENOTSUP is EOPNOTSUPP; NBD and Node spell it this way. */
  ENOTSUP: 95,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  ESTALE: 116,
  EDQUOT: 122,
  ECANCELED: 125,
} as const;

export type ErrnoName = keyof typeof Errno;

/** Number → name; for a shared number (95) the first name in the table wins. */
const NAMES = new Map<number, ErrnoName>();
for (const [name, n] of Object.entries(Errno)) if (!NAMES.has(n)) NAMES.set(n, name as ErrnoName);

/** The errno name for a Linux errno number: 'ENOENT' for 2; 'E#n' outside the table. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E#${errno}`;
}

/** True if `name` is an errno name of the table. */
export function isErrnoName(name: unknown): name is ErrnoName {
  return typeof name === 'string' && Object.hasOwn(Errno, name);
}
