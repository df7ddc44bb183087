/**
 * FopError: a failed file operation, carrying the Linux errno that crosses the wire in
 * op_errno and its name. Translators throw FopError; servers turn it into op_ret -1. The
 * errno table itself lives in src/errors (re-exported here for the protocol's users).
 */
import { Errno, GlusterTsError, errnoName, isErrnoName, type ErrnoName } from '../errors/index.js';
import type { Dict } from './dict.js';

export { Errno, errnoName, type ErrnoName } from '../errors/index.js';

export class FopError extends GlusterTsError {
  /** Its code is the errno name, e.g. 'ENOENT'; 'E#n' for numbers outside the table. */
  static readonly codes: readonly string[] = Object.keys(Errno);
  /** Reply xdata that goes with the failure (e.g. posix's `glusterfs.preop.check.failed`). */
  readonly xdata: Dict | null;

  constructor(errno: number, message?: string, options?: { cause?: unknown; xdata?: Dict }) {
    super(errnoName(errno), errno, message ?? errnoName(errno), options);
    this.xdata = options?.xdata ?? null;
  }

  static of(code: ErrnoName, message?: string, options?: { xdata?: Dict }): FopError {
    return new FopError(Errno[code], message ? `${code}: ${message}` : code, options);
  }

  /**
   * Converts what a system call threw (Node fs errors carry `errno` negative and `code`
   * as a name) into a FopError. Anything without an errno is a bug: EIO, with the cause —
   * so is another layer's error (an XdrError, an OptionError) thrown inside a fop.
   */
  static from(err: unknown): FopError {
    if (err instanceof FopError) return err;
    const e = err as { code?: unknown; errno?: unknown; message?: unknown };
    if (isErrnoName(e?.code)) return new FopError(Errno[e.code], String(e.message), { cause: err });
    if (typeof e?.errno === 'number' && e.errno !== 0 && !(err instanceof GlusterTsError))
      return new FopError(Math.abs(e.errno), String(e.message), { cause: err });
    return new FopError(Errno.EIO, `internal error: ${String(e?.message ?? err)}`, { cause: err });
  }
}
