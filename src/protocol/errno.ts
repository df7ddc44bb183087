/**
 * Linux errno numbers, as they cross the wire in op_errno (GlusterFS maps errno to the
 * wire by identity on Linux), and FopError: a failed file operation, carrying both the
 * number and its name. Translators throw FopError; servers turn it into op_ret -1.
 */
import type { Dict } from './dict.js';

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
  EOVERFLOW: 75,
  EBADFD: 77,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ESTALE: 116,
  EDQUOT: 122,
  ECANCELED: 125,
} as const;

export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, ErrnoName>(Object.entries(Errno).map(([k, v]) => [v, k as ErrnoName]));

export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E#${errno}`;
}

export class FopError extends Error {
  override readonly name = 'FopError';
  /** The errno name, e.g. 'ENOENT'; 'E#n' for numbers outside the table. */
  readonly code: string;
  /** Reply xdata that goes with the failure (e.g. posix's `glusterfs.preop.check.failed`). */
  readonly xdata: Dict | null;

  constructor(
    readonly errno: number,
    message?: string,
    options?: { cause?: unknown; xdata?: Dict },
  ) {
    super(message ?? errnoName(errno), options);
    this.code = errnoName(errno);
    this.xdata = options?.xdata ?? null;
  }

  static of(code: ErrnoName, message?: string, options?: { xdata?: Dict }): FopError {
    return new FopError(Errno[code], message ? `${code}: ${message}` : code, options);
  }

  /**
   * Converts what a system call threw (Node fs errors carry `errno` negative and `code`
   * as a name) into a FopError. Anything without an errno is a bug: EIO, with the cause.
   */
  static from(err: unknown): FopError {
    if (err instanceof FopError) return err;
    const e = err as { code?: unknown; errno?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && e.code in Errno)
      return new FopError(Errno[e.code as ErrnoName], String(e.message), { cause: err });
    if (typeof e?.errno === 'number' && e.errno !== 0)
      return new FopError(Math.abs(e.errno), String(e.message), { cause: err });
    return new FopError(Errno.EIO, `internal error: ${String(e?.message ?? err)}`, { cause: err });
  }
}
