/**
 * Encoders for what the server sends: option replies during the handshake, simple and
 * structured replies during transmission. Each returns the header bytes only; data (READ
 * payloads) travels beside it as its own chunk, never concatenated.
 */
import {
  OPTION_REPLY_MAGIC,
  REPLY_FLAG_DONE,
  REPLY_TYPE,
  SIMPLE_REPLY_MAGIC,
  SIMPLE_REPLY_SIZE,
  STRUCTURED_HEADER_SIZE,
  STRUCTURED_REPLY_MAGIC,
} from './protocol.js';

/** An option reply: magic, option, type, length, data. */
export function optionReply(option: number, type: number, data?: Buffer): Buffer {
  const n = data?.length ?? 0;
  const b = Buffer.allocUnsafe(20 + n);
  b.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(type >>> 0, 12);
  b.writeUInt32BE(n, 16);
  if (data) data.copy(b, 20);
  return b;
}

/** A u32 length then the UTF-8 bytes (NBD_REP_SERVER, NBD_REP_META_CONTEXT's tail is bare). */
export function lengthPrefixed(s: string, tail?: string): Buffer {
  const name = Buffer.from(s, 'utf8');
  const rest = tail ? Buffer.from(tail, 'utf8') : undefined;
  const b = Buffer.allocUnsafe(4 + name.length + (rest?.length ?? 0));
  b.writeUInt32BE(name.length, 0);
  name.copy(b, 4);
  if (rest) rest.copy(b, 4 + name.length);
  return b;
}

export function simpleReply(handle: bigint, error: number): Buffer {
  const b = Buffer.allocUnsafe(SIMPLE_REPLY_SIZE);
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error >>> 0, 4);
  b.writeBigUInt64BE(handle, 8);
  return b;
}

/** A structured chunk header followed by `extra` bytes of the payload's own header. */
function chunk(handle: bigint, type: number, flags: number, length: number, extra: number): Buffer {
  const b = Buffer.allocUnsafe(STRUCTURED_HEADER_SIZE + extra);
  b.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  b.writeBigUInt64BE(handle, 8);
  b.writeUInt32BE(length, 16);
  return b;
}

/** NBD_REPLY_TYPE_NONE with DONE: success without data. */
export function structuredDone(handle: bigint): Buffer {
  return chunk(handle, REPLY_TYPE.NONE, REPLY_FLAG_DONE, 0, 0);
}

/** The header of an OFFSET_DATA chunk whose `length` data bytes follow separately. */
export function offsetDataHeader(handle: bigint, offset: number, length: number, done: boolean): Buffer {
  const b = chunk(handle, REPLY_TYPE.OFFSET_DATA, done ? REPLY_FLAG_DONE : 0, 8 + length, 8);
  b.writeBigUInt64BE(BigInt(offset), STRUCTURED_HEADER_SIZE);
  return b;
}

/** An OFFSET_HOLE chunk: `length` bytes of zeros at `offset`, not sent. */
export function offsetHole(handle: bigint, offset: number, length: number, done: boolean): Buffer {
  const b = chunk(handle, REPLY_TYPE.OFFSET_HOLE, done ? REPLY_FLAG_DONE : 0, 12, 12);
  b.writeBigUInt64BE(BigInt(offset), STRUCTURED_HEADER_SIZE);
  b.writeUInt32BE(length, STRUCTURED_HEADER_SIZE + 8);
  return b;
}

/** An ERROR chunk (always the last): errno, then a message for humans. */
export function structuredError(handle: bigint, error: number, message: string): Buffer {
  const text = Buffer.from(message.slice(0, 1024), 'utf8').subarray(0, 4096);
  const b = chunk(handle, REPLY_TYPE.ERROR, REPLY_FLAG_DONE, 6 + text.length, 6 + text.length);
  b.writeUInt32BE(error >>> 0, STRUCTURED_HEADER_SIZE);
  b.writeUInt16BE(text.length, STRUCTURED_HEADER_SIZE + 4);
  text.copy(b, STRUCTURED_HEADER_SIZE + 6);
  return b;
}

/** A BLOCK_STATUS chunk: the context id, then (length, flags) pairs. */
export function blockStatusReply(
  handle: bigint,
  contextId: number,
  extents: readonly { length: number; flags: number }[],
): Buffer {
  const n = 4 + 8 * extents.length;
  const b = chunk(handle, REPLY_TYPE.BLOCK_STATUS, REPLY_FLAG_DONE, n, n);
  let at = STRUCTURED_HEADER_SIZE;
  b.writeUInt32BE(contextId, at);
  at += 4;
  for (const e of extents) {
    b.writeUInt32BE(e.length, at);
    b.writeUInt32BE(e.flags, at + 4);
    at += 8;
  }
  return b;
}
