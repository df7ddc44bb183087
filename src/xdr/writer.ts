const ZEROS = Buffer.alloc(4);

/**
 * Appends XDR values to a growable buffer. Payloads that should not be copied (WRITE
 * data, READ replies) are not written here: encoders return them beside the header as
 * separate chunks, and the transport writes the chunks back to back.
 */
export class XdrWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** Makes room for n bytes and returns their offset. Read `this.buf` only after calling it: it may grow. */
  private reserve(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < at + n) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    this.pos = at + n;
    return at;
  }

  u32(v: number): this {
    const at = this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, at);
    return this;
  }

  i32(v: number): this {
    const at = this.reserve(4);
    this.buf.writeInt32BE(v | 0, at);
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** Unsigned hyper from a bigint or a non-negative safe integer. */
  u64(v: bigint | number): this {
    const at = this.reserve(8);
    if (typeof v === 'number') {
      this.buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000) >>> 0, at);
      this.buf.writeUInt32BE(v >>> 0, at + 4);
    } else {
      this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), at);
    }
    return this;
  }

  /** Signed hyper from a bigint or a safe integer. */
  i64(v: bigint | number): this {
    const at = this.reserve(8);
    if (typeof v === 'number') {
      // Two's complement split without BigInt: floor division keeps the sign in the high word.
      const hi = Math.floor(v / 0x1_0000_0000);
      this.buf.writeInt32BE(hi | 0, at);
      this.buf.writeUInt32BE((v - hi * 0x1_0000_0000) >>> 0, at + 4);
    } else {
      this.buf.writeBigInt64BE(BigInt.asIntN(64, v), at);
    }
    return this;
  }

  f64(v: number): this {
    const at = this.reserve(8);
    this.buf.writeDoubleBE(v, at);
    return this;
  }

  fixedOpaque(bytes: Uint8Array, n = bytes.length): this {
    if (bytes.length !== n) throw new RangeError(`fixed opaque needs ${n} bytes, got ${bytes.length}`);
    const at = this.reserve(n);
    this.buf.set(bytes, at);
    return this.pad(n);
  }

  opaque(bytes: Uint8Array): this {
    this.u32(bytes.length);
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
    return this.pad(bytes.length);
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.u32(len);
    const at = this.reserve(len);
    this.buf.write(s, at, len, 'utf8');
    return this.pad(len);
  }

  /** A string as an `opaque<>` holding its UTF-8 bytes plus a NUL (GlusterFS dict keys). */
  cstringOpaque(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.u32(len + 1);
    const at = this.reserve(len + 1);
    this.buf.write(s, at, len, 'utf8');
    this.buf[at + len] = 0;
    return this.pad(len + 1);
  }

  /** Bytes with no length prefix and no padding. */
  raw(bytes: Uint8Array): this {
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }

  /** Overwrites a u32 written earlier (a length known only after its body was written). */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  private pad(len: number): this {
    const pad = (4 - (len & 3)) & 3;
    if (pad) {
      const at = this.reserve(pad);
      this.buf.set(ZEROS.subarray(0, pad), at);
    }
    return this;
  }

  /** The bytes written so far, as a view of the internal buffer; the writer is spent. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
