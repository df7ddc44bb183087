/**
 * The one error base. Every error the project throws is a GlusterTsError, so a caller of any
 * layer reads the same three fields:
 *
 * - `code`: a stable name for what failed, listed in docs/errors.md. Errors that *are* a
 *   POSIX errno (a file operation's failure: GlusterError, FopError, NbdError) use the errno
 *   name, so `err.code === 'ENOENT'` reads as it does with Node's fs; the others use an
 *   UPPER_SNAKE name of their own (XDR_TRUNCATED, RPC_TIMEOUT, VOLFILE_INVALID, …).
 * - `errno`: the Linux errno number the failure stands for, always a number.
 * - `errnoName`: that number's name ('ENOTCONN').
 *
 * and `cause`, the error from the layer below, when there is one. This module is a leaf:
 * it imports nothing from the project, so every layer may import it.
 */
import { errnoName } from './errno.js';

export { Errno, errnoName, isErrnoName, type ErrnoName } from './errno.js';

export abstract class GlusterTsError extends Error {
  /** The stable code; docs/errors.md lists them. */
  readonly code: string;
  /** The Linux errno this failure stands for. */
  readonly errno: number;
  /** The errno's name: 'ENOTCONN', 'EINVAL', … */
  readonly errnoName: string;

  constructor(code: string, errno: number, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.errno = errno;
    this.errnoName = errnoName(errno);
  }
}
