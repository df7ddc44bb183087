/**
 * GlusterError: the one error the client API throws. Whatever failed below it — a
 * translator's FopError (the brick's op_errno), an RpcError (no connection, timeout,
 * abort) or a socket error — arrives here as a POSIX errno name in `.code` (and
 * `.errnoName`), its number in `.errno`, the libgfapi call in `.syscall`, and the path when
 * there is one. Nothing in the client API returns op_ret -1. docs/errors.md lists the codes.
 */
import { Errno, GlusterTsError, isErrnoName } from '../errors/index.js';
import { FopError } from '../protocol/errno.js';
import { RpcError } from '../rpc/errors.js';

export class GlusterError extends GlusterTsError {
  /** Its code is an errno name of the table: 'ENOENT', 'ECANCELED' (aborted), 'ENOTCONN', … */
  static readonly codes: readonly string[] = Object.keys(Errno);
  /** The libgfapi call that failed ('glfs_open', 'glfs_pread', 'glfs_init', …). */
  readonly syscall: string;
  /** The path (or URL) the call was about, when it names one. */
  readonly path: string | undefined;

  constructor(code: string, syscall: string, path?: string, options?: { cause?: unknown; detail?: string }) {
    const where = path === undefined ? '' : ` '${path}'`;
    const detail = options?.detail ? ` (${options.detail})` : '';
    super(code, errnoOf(code), `${code}: ${syscall}${where}${detail}`, options);
    this.syscall = syscall;
    this.path = path;
  }

  /** Wraps what a layer threw; a GlusterError passes unchanged. */
  static from(err: unknown, syscall: string, path?: string): GlusterError {
    if (err instanceof GlusterError) return err;
    if (err instanceof FopError) {
      const detail = err.message !== err.code ? err.message.replace(`${err.code}: `, '') : undefined;
      return new GlusterError(err.code, syscall, path, { cause: err, ...(detail ? { detail } : {}) });
    }
    if (err instanceof RpcError)
      return new GlusterError(err.errnoName, syscall, path, { cause: err, detail: err.code });
    // Any other layer's error keeps its errno: a volfile that makes no graph is EINVAL, a
    // reply that does not decode EBADMSG.
    if (err instanceof GlusterTsError)
      return new GlusterError(err.errnoName, syscall, path, {
        cause: err,
        detail: `${err.code}: ${err.message}`,
      });
    const e = err as { code?: unknown; name?: unknown; message?: unknown };
    if (e?.name === 'AbortError') return new GlusterError('ECANCELED', syscall, path, { cause: err });
    if (isErrnoName(e?.code)) return new GlusterError(e.code, syscall, path, { cause: err });
    return new GlusterError('EIO', syscall, path, { cause: err, detail: String(e?.message ?? err) });
  }
}

/** The number for an errno name of the table, or for 'E#n' (a brick's errno outside it). */
function errnoOf(code: string): number {
  if (isErrnoName(code)) return Errno[code];
  const outside = /^E#(\d+)$/.exec(code);
  return outside ? Number(outside[1]) : Errno.EIO;
}

/** The error for a call whose signal aborted: ECANCELED, with the signal's reason as cause. */
export function abortError(signal: AbortSignal, syscall: string, path?: string): GlusterError {
  return new GlusterError('ECANCELED', syscall, path, { cause: signal.reason });
}
