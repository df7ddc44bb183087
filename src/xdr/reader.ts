import { XdrError } from './errors.js';

const EMPTY = Buffer.alloc(0);

/**
 * A bounds-checked cursor over untrusted XDR bytes (RFC 4506).
 *
 * Variable-length reads take a maximum and check it before touching memory, so a
 * hostile length can never size an allocation. Opaques come back as `subarray` views
 * of the input: nothing is copied, and a view keeps the input alive as long as it lives.
 */
export class XdrReader {
  private pos: number;
  private readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError(`XdrReader window [${start}, ${end}) outside buffer of ${buf.length}`);
    }
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Fails unless every byte was consumed: a message with trailing bytes is malformed. */
  finish(): void {
    if (this.pos !== this.end) {
      throw new XdrError('XDR_TRAILING', `${this.end - this.pos} unexpected trailing bytes`, this.pos);
    }
  }

  private need(n: number): number {
    const at = this.pos;
    if (n > this.end - at) {
      throw new XdrError('XDR_TRUNCATED', `need ${n} bytes, ${this.end - at} left`, at);
    }
    this.pos = at + n;
    return at;
  }

  // Hand-inlined big-endian loads: Buffer's readUInt32BE validates its argument on every
  // call, and `need` has already checked the bounds.
  u32(): number {
    const at = this.need(4);
    const b = this.buf;
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  }

  i32(): number {
    const at = this.need(4);
    const b = this.buf;
    return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  }

  bool(): boolean {
    const at = this.pos;
    const v = this.u32();
    if (v > 1) throw new XdrError('XDR_BAD_VALUE', `boolean must be 0 or 1, got ${v}`, at);
    return v === 1;
  }

  u64(): bigint {
    return this.buf.readBigUInt64BE(this.need(8));
  }

  i64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }

  /** An unsigned hyper that must fit a JS number (offsets, sizes): larger values are refused. */
  u64n(): number {
    const at = this.pos;
    const hi = this.u32();
    if (hi > 0x1fffff) {
      throw new XdrError('XDR_BAD_VALUE', `64-bit value exceeds 2^53-1`, at);
    }
    return hi * 0x1_0000_0000 + this.u32();
  }

  /** A signed hyper that must fit a JS number (fds, times). */
  i64n(): number {
    const at = this.pos;
    if (this.remaining < 8) this.need(8);
    const hi = this.i32();
    const lo = this.u32();
    // Safe integers are below 2^53 in magnitude: the high word must lie in [-2^21, 2^21).
    if (hi >= 0x200000 || hi < -0x200000 || (hi === -0x200000 && lo === 0)) {
      throw new XdrError('XDR_BAD_VALUE', `64-bit value outside the safe integer range`, at);
    }
    return hi * 0x1_0000_0000 + lo;
  }

  f64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }

  /** Fixed-length opaque (`opaque x[n]`): n bytes plus padding, as a view. */
  fixedOpaque(n: number): Buffer {
    const at = this.need(n);
    this.skipPadding(n);
    return this.buf.subarray(at, at + n);
  }

  /** Variable-length opaque (`opaque x<max>`), as a view. */
  opaque(max: number): Buffer {
    const lenAt = this.pos;
    const len = this.u32();
    if (len > max) {
      throw new XdrError('XDR_TOO_LONG', `opaque of ${len} bytes exceeds maximum ${max}`, lenAt);
    }
    if (len === 0) return EMPTY; // common (verifiers, empty xdata): skip creating a view
    const at = this.need(len);
    this.skipPadding(len);
    return this.buf.subarray(at, at + len);
  }

  /** Variable-length string (`string x<max>`), decoded as UTF-8. */
  string(max: number): string {
    const lenAt = this.pos;
    const len = this.u32();
    if (len > max) {
      throw new XdrError('XDR_TOO_LONG', `string of ${len} bytes exceeds maximum ${max}`, lenAt);
    }
    const at = this.need(len);
    this.skipPadding(len);
    return this.buf.toString('utf8', at, at + len);
  }

  /**
   * An `opaque<max>` holding a C string (GlusterFS dict keys): decoded as UTF-8 without
   * its trailing NUL, and without creating a view.
   */
  cstringOpaque(max: number): string {
    const lenAt = this.pos;
    const len = this.u32();
    if (len > max) {
      throw new XdrError('XDR_TOO_LONG', `key of ${len} bytes exceeds maximum ${max}`, lenAt);
    }
    const at = this.need(len);
    this.skipPadding(len);
    const end = len > 0 && this.buf[at + len - 1] === 0 ? at + len - 1 : at + len;
    return this.buf.toString('utf8', at, end);
  }

  /**
   * The length prefix of a counted array, checked against `max` and against what the
   * remaining bytes could possibly hold (`minElementSize` each), so callers never
   * allocate for elements that cannot be there.
   */
  arrayLength(max: number, minElementSize: number): number {
    const at = this.pos;
    const n = this.u32();
    if (n > max) throw new XdrError('XDR_TOO_LONG', `array of ${n} elements exceeds maximum ${max}`, at);
    if (n * minElementSize > this.remaining) {
      throw new XdrError('XDR_TRUNCATED', `array of ${n} elements cannot fit in ${this.remaining} bytes`, at);
    }
    return n;
  }

  /** The rest of the window as a view, consuming it (unpadded trailing payloads). */
  rest(): Buffer {
    const at = this.pos;
    this.pos = this.end;
    return this.buf.subarray(at, this.end);
  }

  /** `n` raw bytes with no padding (payloads placed after an XDR header). */
  raw(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  private skipPadding(len: number): void {
    const pad = (4 - (len & 3)) & 3;
    if (pad === 0) return;
    const at = this.need(pad);
    for (let i = 0; i < pad; i++) {
      if (this.buf[at + i] !== 0) throw new XdrError('XDR_BAD_PADDING', 'non-zero XDR padding', at + i);
    }
  }
}
