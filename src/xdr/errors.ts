/**
 * The one error type the codec layers throw. Every decoder in src/xdr, src/rpc and
 * src/protocol reports malformed or hostile input with it, and nothing else: callers
 * that turn bytes into values catch exactly this class.
 */
export type XdrErrorCode =
  | 'TRUNCATED' // the message ends before a field does
  | 'TOO_LONG' // a variable-length field exceeds its declared maximum
  | 'BAD_PADDING' // XDR padding bytes are not zero
  | 'BAD_VALUE' // a value outside the field's domain (enum, union arm, range)
  | 'TRAILING'; // bytes left over after the message was fully decoded

export class XdrError extends Error {
  override readonly name = 'XdrError';
  constructor(
    readonly code: XdrErrorCode,
    message: string,
    /** Offset into the decoded buffer where the problem was found. */
    readonly offset = -1,
  ) {
    super(message);
  }
}
