/**
 * How a failed system call rejects: an Error shaped like Node's fs errors, so code that
 * handles `fs` failures handles these the same way.
 *
 *     ENODATA: No data available, getxattr '/bricks/b1/f'
 *     { code: 'ENODATA', errno: 61, syscall: 'getxattr', path: '/bricks/b1/f' }
 *
 * Unlike Node's fs (whose `errno` is negative, libuv style), `errno` here is the positive
 * Linux number — the value GlusterFS puts on the wire as op_errno.
 */
export interface SysError extends Error {
  /** The errno name: 'ENOENT', 'ENODATA', 'EOPNOTSUPP', 'ENXIO', … */
  code: string;
  /** The positive Linux errno. */
  errno: number;
  /** The system call that failed, e.g. 'fgetxattr', 'openat2'. */
  syscall: string;
  /** The path argument, for calls that take one. */
  path?: string;
}

/** True if `error` is a failed system call, optionally with the given errno name. */
export function isSysError(error: unknown, code?: string): error is SysError {
  if (!(error instanceof Error)) return false;
  const candidate = error as Partial<SysError>;
  if (typeof candidate.code !== 'string' || typeof candidate.errno !== 'number') return false;
  if (typeof candidate.syscall !== 'string') return false;
  return code === undefined || candidate.code === code;
}
