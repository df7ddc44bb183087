/**
 * GlusterError: the one error the client API throws. Whatever failed below it — a
 * translator's FopError (the brick's op_errno), an RpcError (no connection, timeout,
 * abort) or a socket error — arrives here as a POSIX errno name in `.code`, its number
 * in `.errno`, the libgfapi call in `.syscall`, and the path when there is one. Nothing in
 * the client API returns op_ret -1.
 */
import { constants } from 'node:os';
import { Errno, FopError } from '../protocol/errno.js';
import { RpcError } from '../rpc/errors.js';

const NUMBERS = constants.errno as Record<string, number>;

export class GlusterError extends Error {
  override readonly name = 'GlusterError';
  /** The POSIX errno name: 'ENOENT', 'EEXIST', 'ECANCELED' (aborted), 'ENOTCONN', … */
  readonly code: string;
  /** The errno number (Linux). */
  readonly errno: number;
  /** The libgfapi call that failed ('glfs_open', 'glfs_pread', 'glfs_init', …). */
  readonly syscall: string;
  /** The path (or URL) the call was about, when it names one. */
  readonly path: string | undefined;

  constructor(code: string, syscall: string, path?: string, options?: { cause?: unknown; detail?: string }) {
    const where = path === undefined ? '' : ` '${path}'`;
    const detail = options?.detail ? ` (${options.detail})` : '';
    super(`${code}: ${syscall}${where}${detail}`, options?.cause === undefined ? undefined : options);
    this.code = code;
    this.errno = (Errno as Record<string, number>)[code] ?? NUMBERS[code] ?? Errno.EIO;
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
      return new GlusterError(err.errno, syscall, path, { cause: err, detail: err.code });
    const e = err as { code?: unknown; name?: unknown; message?: unknown };
    if (e?.name === 'AbortError') return new GlusterError('ECANCELED', syscall, path, { cause: err });
    if (typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
      return new GlusterError(e.code, syscall, path, { cause: err });
    }
    return new GlusterError('EIO', syscall, path, { cause: err, detail: String(e?.message ?? err) });
  }
}

/** The error for a call whose signal aborted: ECANCELED, with the signal's reason as cause. */
export function abortError(signal: AbortSignal, syscall: string, path?: string): GlusterError {
  return new GlusterError('ECANCELED', syscall, path, { cause: signal.reason });
}
