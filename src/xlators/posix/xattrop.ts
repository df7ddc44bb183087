/**
 * XATTROP arithmetic, as stock posix does it (_posix_handle_xattr_keyvalue_pair), kept
 * free of IO so it can be tested alone:
 * - the stored value is read into a buffer as long as the request's array (half the
 *   request for the *_WITH_DEFAULT ops, whose value is [delta | default]); missing counts
 *   as zeros, a longer stored value is ERANGE (getxattr into too small a buffer);
 * - an all-zero request changes nothing: the reply carries the current value (zeros for a
 *   missing xattr, which is not created) — AFR's zero-valued pending keys rely on this;
 * - otherwise the words are added (big-endian int32 or int64, wrapping) and written back,
 *   and the reply carries the new value;
 * - GET_AND_SET stores the request, zeros too, and replies with the old value (no reply
 *   key when there was none);
 * - OR_ARRAY and AND_ARRAY are not implemented by stock posix: EINVAL.
 * Malformed requests (empty, or a length that is not a whole number of words) are EINVAL;
 * stock adds the whole words and keeps the odd tail bytes, which no client relies on.
 */
import { FopError } from '../../protocol/errno.js';

/** XATTROP flags (glusterfs gf_xattrop_flags_t). */
export const XattropOp = {
  ADD_ARRAY: 0,
  ADD_ARRAY64: 1,
  OR_ARRAY: 2,
  AND_ARRAY: 3,
  GET_AND_SET: 4,
  ADD_ARRAY_WITH_DEFAULT: 5,
  ADD_ARRAY64_WITH_DEFAULT: 6,
} as const;

/** Keys one XATTROP may carry: AFR sends one per replica plus dirty. */
export const MAX_XATTROP_KEYS = 256;

export interface XattropStep {
  /** What to store, or null to leave the xattr alone. */
  write: Buffer | null;
  /** The reply value for the key, or null for no reply key. */
  reply: Buffer | null;
}

function wordWidth(op: number): 4 | 8 {
  return op === XattropOp.ADD_ARRAY64 || op === XattropOp.ADD_ARRAY64_WITH_DEFAULT ? 8 : 4;
}

function withDefault(op: number): boolean {
  return op === XattropOp.ADD_ARRAY_WITH_DEFAULT || op === XattropOp.ADD_ARRAY64_WITH_DEFAULT;
}

/** EINVAL for op codes posix does not implement. */
export function checkXattropOp(op: number): void {
  const known =
    op === XattropOp.ADD_ARRAY ||
    op === XattropOp.ADD_ARRAY64 ||
    op === XattropOp.GET_AND_SET ||
    withDefault(op);
  if (!known) throw FopError.of('EINVAL', `xattrop op ${op} is not supported`);
}

/** The length of the stored array a request of `valueLen` bytes works on; EINVAL if malformed. */
export function arrayLength(op: number, key: string, valueLen: number): number {
  if (valueLen === 0) throw FopError.of('EINVAL', `xattrop value for ${key} is empty`);
  if (op === XattropOp.GET_AND_SET) return valueLen;
  const unit = wordWidth(op) * (withDefault(op) ? 2 : 1);
  if (valueLen % unit !== 0) {
    throw FopError.of('EINVAL', `xattrop value for ${key}: ${valueLen} bytes is not a whole array`);
  }
  return withDefault(op) ? valueLen / 2 : valueLen;
}

function isZero(b: Buffer): boolean {
  for (const byte of b) if (byte !== 0) return false;
  return true;
}

function addWord(out: Buffer, at: number, width: 4 | 8, delta: Buffer, deltaAt: number): void {
  if (width === 4) out.writeInt32BE((out.readInt32BE(at) + delta.readInt32BE(deltaAt)) | 0, at);
  else out.writeBigInt64BE(BigInt.asIntN(64, out.readBigInt64BE(at) + delta.readBigInt64BE(deltaAt)), at);
}

function wordIsZero(b: Buffer, at: number, width: number): boolean {
  return isZero(b.subarray(at, at + width));
}

/**
 * One key of an XATTROP: `have` is the stored value (null when absent), `value` the
 * request's bytes. The op must have passed checkXattropOp.
 */
export function xattropStep(op: number, key: string, have: Buffer | null, value: Buffer): XattropStep {
  const len = arrayLength(op, key, value.length);
  if (have && have.length > len) {
    throw FopError.of('ERANGE', `${key} holds ${have.length} bytes, the request works on ${len}`);
  }
  const current = Buffer.alloc(len);
  have?.copy(current);
  // GET_AND_SET stores whatever it is given, zeros included (checked on stock 10.3).
  if (op === XattropOp.GET_AND_SET) return { write: value, reply: have ? current : null };
  if (isZero(value)) return { write: null, reply: current };
  const width = wordWidth(op);
  const out = Buffer.from(current);
  for (let at = 0; at < len; at += width) {
    if (withDefault(op) && wordIsZero(out, at, width)) {
      // Nothing stored here yet: start from the default (the request's second half).
      value.copy(out, at, len + at, len + at + width);
    }
    addWord(out, at, width, value, at);
  }
  return { write: out, reply: out };
}
