/**
 * RpcError: why a call did not produce results. The client rejects with it (a
 * non-SUCCESS reply, a lost connection, a timeout, an abort), and a server handler may
 * throw one to pick the reply status itself (for example GARBAGE_ARGS for a FOP sent
 * before SETVOLUME, as the stock brick answers).
 */
import { Errno, GlusterTsError } from '../errors/index.js';
import { AcceptStat, RejectStat, ReplyStat, type OpaqueAuth, type ReplyHeader } from './message.js';

/**
 * Each code and the errno a file operation should fail with. GlusterFS turns every
 * non-SUCCESS reply into rpc_status -1, which its FOPs report as ENOTCONN.
 */
const ERRNO = {
  // The server answered, but not with SUCCESS.
  PROG_UNAVAIL: Errno.ENOTCONN,
  PROG_MISMATCH: Errno.ENOTCONN,
  PROC_UNAVAIL: Errno.ENOTCONN,
  GARBAGE_ARGS: Errno.ENOTCONN,
  SYSTEM_ERR: Errno.ENOTCONN,
  RPC_MISMATCH: Errno.ENOTCONN,
  AUTH_ERROR: Errno.EACCES,
  // No answer.
  NOT_CONNECTED: Errno.ENOTCONN,
  RPC_TIMEOUT: Errno.ETIMEDOUT,
  RPC_ABORTED: Errno.ECANCELED,
} as const;

export type RpcErrorCode = keyof typeof ERRNO;

const ACCEPT_STAT: Partial<Record<RpcErrorCode, AcceptStat>> = {
  PROG_UNAVAIL: AcceptStat.PROG_UNAVAIL,
  PROG_MISMATCH: AcceptStat.PROG_MISMATCH,
  PROC_UNAVAIL: AcceptStat.PROC_UNAVAIL,
  GARBAGE_ARGS: AcceptStat.GARBAGE_ARGS,
  SYSTEM_ERR: AcceptStat.SYSTEM_ERR,
};

const ACCEPT_CODE = new Map(Object.entries(ACCEPT_STAT).map(([code, stat]) => [stat, code as RpcErrorCode]));

export interface RpcErrorDetails {
  xid?: number;
  /** PROG_MISMATCH and RPC_MISMATCH: the versions the server supports. */
  mismatch?: { low: number; high: number };
  /** AUTH_ERROR: the auth_stat (1 AUTH_BADCRED, 2 AUTH_REJECTEDCRED, …). */
  authStat?: number;
  cause?: unknown;
}

export class RpcError extends GlusterTsError {
  static readonly codes = Object.keys(ERRNO) as readonly RpcErrorCode[];
  declare readonly code: RpcErrorCode;
  readonly xid: number | undefined;
  readonly mismatch: { low: number; high: number } | undefined;
  readonly authStat: number | undefined;

  constructor(code: RpcErrorCode, message: string = code, details: RpcErrorDetails = {}) {
    super(code, ERRNO[code], message, details);
    this.xid = details.xid;
    this.mismatch = details.mismatch;
    this.authStat = details.authStat;
  }

  /** The error for a reply that is not an accepted SUCCESS. */
  static fromReply(h: ReplyHeader): RpcError {
    const details = { xid: h.xid, mismatch: h.mismatch };
    if (h.replyStat === ReplyStat.MSG_ACCEPTED) {
      const code = ACCEPT_CODE.get(h.acceptStat) ?? 'SYSTEM_ERR';
      return new RpcError(code, `call ${h.xid}: ${code}`, details);
    }
    if (h.rejectStat === RejectStat.RPC_MISMATCH) {
      return new RpcError('RPC_MISMATCH', `call ${h.xid}: RPC_MISMATCH`, details);
    }
    return new RpcError('AUTH_ERROR', `call ${h.xid}: AUTH_ERROR ${h.authStat ?? '?'}`, {
      ...details,
      authStat: h.authStat,
    });
  }

  /**
   * The reply a server sends when a handler throws this error, or null when the code
   * names no reply status (NOT_CONNECTED, RPC_TIMEOUT, RPC_ABORTED).
   */
  toReply(xid: number, verf: OpaqueAuth): ReplyHeader | null {
    const acceptStat = ACCEPT_STAT[this.code];
    if (acceptStat !== undefined) {
      const mismatch =
        acceptStat === AcceptStat.PROG_MISMATCH ? { mismatch: this.mismatch ?? { low: 0, high: 0 } } : {};
      return { xid, replyStat: ReplyStat.MSG_ACCEPTED, verf, acceptStat, ...mismatch };
    }
    if (this.code === 'RPC_MISMATCH') {
      const mismatch = this.mismatch ?? { low: 2, high: 2 };
      return { xid, replyStat: ReplyStat.MSG_DENIED, rejectStat: RejectStat.RPC_MISMATCH, mismatch };
    }
    if (this.code === 'AUTH_ERROR') {
      return {
        xid,
        replyStat: ReplyStat.MSG_DENIED,
        rejectStat: RejectStat.AUTH_ERROR,
        authStat: this.authStat ?? 1,
      };
    }
    return null;
  }
}
