/**
 * The one error type the codec layers throw. Every decoder in src/xdr, src/rpc and
 * src/protocol reports malformed or hostile input with it, and nothing else: callers
 * that turn bytes into values catch exactly this class. Its errno is EBADMSG.
 */
import { Errno, GlusterTsError } from '../errors/index.js';

const CODES = [
  'XDR_TRUNCATED', // the message ends before a field does
  'XDR_TOO_LONG', // a variable-length field exceeds its declared maximum
  'XDR_BAD_PADDING', // XDR padding bytes are not zero
  'XDR_BAD_VALUE', // a value outside the field's domain (enum, union arm, range)
  'XDR_TRAILING', // bytes left over after the message was fully decoded
] as const;

export type XdrErrorCode = (typeof CODES)[number];

export class XdrError extends GlusterTsError {
  static readonly codes: readonly XdrErrorCode[] = CODES;
  declare readonly code: XdrErrorCode;

  constructor(
    code: XdrErrorCode,
    message: string,
    /** Offset into the decoded buffer where the problem was found. */
    readonly offset = -1,
  ) {
    super(code, Errno.EBADMSG, message);
  }
}
