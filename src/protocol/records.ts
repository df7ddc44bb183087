/**
 * Whole RPC records of the GlusterFS programs: header plus decoded arguments or
 * results, and back. Used wherever a complete message is handled at once (fixtures,
 * fuzzing, benchmarks, simple clients); the RPC client and server use the same
 * procedure codecs on their own framing.
 */
import { XdrError, XdrReader } from '../xdr/index.js';
import {
  AcceptStat,
  MsgType,
  ReplyStat,
  endRecord,
  readHeader,
  startRecord,
  writeCallHeader,
  writeReplyHeader,
  type CallHeader,
  type ReplyHeader,
} from '../rpc/message.js';
import { hasPayload, payloadChunks, payloadLength, type ProcDef } from './procedure.js';
import { findProgram } from './registry.js';

export interface DecodedCall {
  header: CallHeader;
  def: ProcDef;
  args: any;
}

export interface DecodedReply {
  header: ReplyHeader;
  /** Present only for accepted SUCCESS replies. */
  results?: any;
}

/** Decodes a CALL record (without its record mark) of a known program. */
export function decodeCall(record: Buffer): DecodedCall {
  const r = new XdrReader(record);
  const h = readHeader(r);
  if (h.type !== MsgType.CALL) throw new XdrError('XDR_BAD_VALUE', 'expected a CALL', 4);
  const def = findProgram(h.prog, h.vers)?.procs.get(h.proc);
  if (!def) throw new XdrError('XDR_BAD_VALUE', `unknown procedure ${h.prog}/${h.vers}/${h.proc}`, 12);
  const args = def.args.read(r);
  r.finish();
  return { header: h, def, args };
}

/** Decodes a REPLY record, given the procedure of the call it answers. */
export function decodeReply(record: Buffer, def: ProcDef): DecodedReply {
  const r = new XdrReader(record);
  const h = readHeader(r);
  if (h.type !== MsgType.REPLY) throw new XdrError('XDR_BAD_VALUE', 'expected a REPLY', 4);
  const header: ReplyHeader = h;
  if (header.replyStat !== ReplyStat.MSG_ACCEPTED || header.acceptStat !== AcceptStat.SUCCESS) {
    r.finish();
    return { header };
  }
  const results = def.results.read(r);
  r.finish();
  return { header, results };
}

/**
 * Encodes a CALL record: the first chunk holds record mark, header and arguments; raw
 * payload buffers (WRITE data) follow as they are, uncopied.
 */
export function encodeCall(
  header: Omit<CallHeader, 'rpcvers'> & { rpcvers?: number },
  def: ProcDef,
  args: any,
): Buffer[] {
  const w = startRecord();
  writeCallHeader(w, header);
  def.args.write(w, args);
  return finish(w, def.args, args);
}

export function encodeReply(header: ReplyHeader, def: ProcDef, results?: any): Buffer[] {
  const w = startRecord();
  writeReplyHeader(w, header);
  const ok = header.replyStat === ReplyStat.MSG_ACCEPTED && header.acceptStat === AcceptStat.SUCCESS;
  if (!ok) return [endRecord(w)];
  def.results.write(w, results);
  return finish(w, def.results, results);
}

function finish(w: ReturnType<typeof startRecord>, codec: ProcDef['args'], value: any): Buffer[] {
  if (!hasPayload(codec)) return [endRecord(w)];
  const chunks = payloadChunks(value.payload);
  return [endRecord(w, payloadLength(value.payload)), ...chunks];
}
