/**
 * ONC-RPC v2 message headers (RFC 5531 §9): CALL and REPLY, as GlusterFS sends them.
 * Decoders take a whole record and stop where the procedure's arguments or results
 * begin; encoders write into an XdrWriter so header, arguments and record mark share
 * one buffer.
 */
import { XdrError, XdrReader, XdrWriter } from '../xdr/index.js';

export const RPC_VERSION = 2;
/** RFC 5531 caps opaque_auth bodies at 400 bytes. */
export const MAX_AUTH_BYTES = 400;

export enum MsgType {
  CALL = 0,
  REPLY = 1,
}

export enum ReplyStat {
  MSG_ACCEPTED = 0,
  MSG_DENIED = 1,
}

export enum AcceptStat {
  SUCCESS = 0,
  PROG_UNAVAIL = 1,
  PROG_MISMATCH = 2,
  PROC_UNAVAIL = 3,
  GARBAGE_ARGS = 4,
  SYSTEM_ERR = 5,
}

export enum RejectStat {
  RPC_MISMATCH = 0,
  AUTH_ERROR = 1,
}

export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

export const AUTH_NONE_VERIFIER: OpaqueAuth = Object.freeze({ flavor: 0, body: Buffer.alloc(0) });

export interface CallHeader {
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
}

export type ReplyHeader =
  | {
      xid: number;
      replyStat: ReplyStat.MSG_ACCEPTED;
      verf: OpaqueAuth;
      acceptStat: AcceptStat;
      /** Present with PROG_MISMATCH. */
      mismatch?: { low: number; high: number };
    }
  | {
      xid: number;
      replyStat: ReplyStat.MSG_DENIED;
      rejectStat: RejectStat;
      /** RPC_MISMATCH: supported versions. */
      mismatch?: { low: number; high: number };
      /** AUTH_ERROR: the auth_stat. */
      authStat?: number;
    };

export type RpcHeader = ({ type: MsgType.CALL } & CallHeader) | ({ type: MsgType.REPLY } & ReplyHeader);

function readAuth(r: XdrReader): OpaqueAuth {
  const flavor = r.u32();
  const body = r.opaque(MAX_AUTH_BYTES);
  return { flavor, body };
}

function writeAuth(w: XdrWriter, a: OpaqueAuth): void {
  w.u32(a.flavor);
  w.opaque(a.body);
}

/**
 * Decodes the header of one record. The reader is left at the first byte of the
 * procedure's arguments (CALL) or results (accepted SUCCESS REPLY).
 */
export function readHeader(r: XdrReader): RpcHeader {
  const xid = r.u32();
  const typeAt = r.offset;
  const type = r.u32();
  if (type === MsgType.CALL) {
    const rpcvers = r.u32();
    const prog = r.u32();
    const vers = r.u32();
    const proc = r.u32();
    const cred = readAuth(r);
    const verf = readAuth(r);
    return { type, xid, rpcvers, prog, vers, proc, cred, verf };
  }
  if (type !== MsgType.REPLY) throw new XdrError('XDR_BAD_VALUE', `msg_type ${type}`, typeAt);
  const statAt = r.offset;
  const replyStat = r.u32();
  if (replyStat === ReplyStat.MSG_ACCEPTED) {
    const verf = readAuth(r);
    const acceptStat = r.u32();
    if (acceptStat > AcceptStat.SYSTEM_ERR) {
      throw new XdrError('XDR_BAD_VALUE', `accept_stat ${acceptStat}`, r.offset - 4);
    }
    if (acceptStat === AcceptStat.PROG_MISMATCH) {
      return { type, xid, replyStat, verf, acceptStat, mismatch: { low: r.u32(), high: r.u32() } };
    }
    return { type, xid, replyStat, verf, acceptStat };
  }
  if (replyStat !== ReplyStat.MSG_DENIED)
    throw new XdrError('XDR_BAD_VALUE', `reply_stat ${replyStat}`, statAt);
  const rejectStat = r.u32();
  if (rejectStat === RejectStat.RPC_MISMATCH) {
    return { type, xid, replyStat, rejectStat, mismatch: { low: r.u32(), high: r.u32() } };
  }
  if (rejectStat === RejectStat.AUTH_ERROR) {
    return { type, xid, replyStat, rejectStat, authStat: r.u32() };
  }
  throw new XdrError('XDR_BAD_VALUE', `reject_stat ${rejectStat}`, r.offset - 4);
}

export function writeCallHeader(w: XdrWriter, h: Omit<CallHeader, 'rpcvers'> & { rpcvers?: number }): void {
  w.u32(h.xid)
    .u32(MsgType.CALL)
    .u32(h.rpcvers ?? RPC_VERSION)
    .u32(h.prog)
    .u32(h.vers)
    .u32(h.proc);
  writeAuth(w, h.cred);
  writeAuth(w, h.verf);
}

export function writeReplyHeader(w: XdrWriter, h: ReplyHeader): void {
  w.u32(h.xid).u32(MsgType.REPLY).u32(h.replyStat);
  if (h.replyStat === ReplyStat.MSG_ACCEPTED) {
    writeAuth(w, h.verf);
    w.u32(h.acceptStat);
    if (h.acceptStat === AcceptStat.PROG_MISMATCH) {
      w.u32(h.mismatch?.low ?? 0).u32(h.mismatch?.high ?? 0);
    }
    return;
  }
  w.u32(h.rejectStat);
  if (h.rejectStat === RejectStat.RPC_MISMATCH) w.u32(h.mismatch?.low ?? 0).u32(h.mismatch?.high ?? 0);
  else w.u32(h.authStat ?? 0);
}

/** An accepted SUCCESS reply header, the common case. */
export function successReply(xid: number): ReplyHeader {
  return { xid, replyStat: ReplyStat.MSG_ACCEPTED, verf: AUTH_NONE_VERIFIER, acceptStat: AcceptStat.SUCCESS };
}

/** Bit 31 of a record-marking header: this fragment ends the record. */
export const LAST_FRAGMENT = 0x8000_0000;

/**
 * Starts a record: a writer whose first 4 bytes are reserved for the record mark.
 * Finish it with `endRecord`, which fills the mark in.
 */
export function startRecord(initialSize = 512): XdrWriter {
  return new XdrWriter(initialSize).u32(0);
}

/**
 * Fills in the record mark of a writer from `startRecord` and returns the bytes. The
 * payload that follows the header in the same record (`payloadLength` bytes, written
 * separately by the caller) is counted in the mark. One fragment per record, as
 * GlusterFS does.
 */
export function endRecord(w: XdrWriter, payloadLength = 0): Buffer {
  const len = w.length - 4 + payloadLength;
  if (len > 0x7fff_ffff) throw new RangeError(`record of ${len} bytes exceeds one fragment`);
  w.patchU32(0, (LAST_FRAGMENT | len) >>> 0);
  return w.finish();
}
