/**
 * Messages start in a shared slab, as Node's own Buffer pool does: carving a region off a
 * slab costs a few nanoseconds, where allocating a Buffer and a DataView for each small
 * message cost ~300 ns. A writer that outgrows its region moves to a buffer of its own.
 * Finished messages are views of the slab and keep it alive until they are written.
 */
const SLAB_SIZE = 64 * 1024;

class Slab {
  readonly buf = Buffer.allocUnsafe(SLAB_SIZE);
  readonly view = new DataView(this.buf.buffer, this.buf.byteOffset, SLAB_SIZE);
  used = 0;
}

let slab = new Slab();

/**
 * Appends XDR values to a growable buffer. Payloads that should not be copied (WRITE
 * data, READ replies) are not written here: encoders return them beside the header as
 * separate chunks, and the transport writes the chunks back to back.
 */
export class XdrWriter {
  // DataView stores are inlined by the JIT; Buffer's writeUInt32BE & co. validate every
  // argument and cost several times more on small messages. `base` is where this
  // message starts inside `buf`; `limit` is the end of the room it may use.
  private buf: Buffer;
  private view: DataView;
  private base: number;
  private limit: number;
  private pos = 0;
  private slab: Slab | null;

  constructor(initialSize = 512) {
    if (initialSize <= SLAB_SIZE / 8) {
      if (slab.used + initialSize > SLAB_SIZE) slab = new Slab();
      this.slab = slab;
      this.buf = slab.buf;
      this.view = slab.view;
      this.base = slab.used;
      slab.used += initialSize;
    } else {
      this.slab = null;
      this.buf = Buffer.allocUnsafe(initialSize);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
      this.base = 0;
    }
    this.limit = this.base + initialSize;
  }

  get length(): number {
    return this.pos;
  }

  /**
   * Makes room for n bytes and returns their absolute offset in `this.buf`. Read
   * `this.buf` and `this.view` only after calling it: they change when the writer grows.
   */
  private reserve(n: number): number {
    const at = this.base + this.pos;
    if (at + n > this.limit) return this.grow(n);
    this.pos += n;
    return at;
  }

  private grow(n: number): number {
    let size = (this.limit - this.base) * 2;
    while (size < this.pos + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, this.base, this.base + this.pos);
    this.releaseSlab();
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    this.base = 0;
    this.limit = size;
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Gives the unused tail of the slab region back when this writer was the last to carve. */
  private releaseSlab(): void {
    const s = this.slab;
    if (s && s.used === this.limit) s.used = this.base + this.pos;
    this.slab = null;
  }

  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v);
    return this;
  }

  i32(v: number): this {
    const at = this.reserve(4);
    this.view.setInt32(at, v);
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** Unsigned hyper from a bigint or a non-negative safe integer. */
  u64(v: bigint | number): this {
    const at = this.reserve(8);
    if (typeof v === 'number') {
      this.view.setUint32(at, Math.floor(v / 0x1_0000_0000));
      this.view.setUint32(at + 4, v >>> 0);
    } else {
      this.view.setBigUint64(at, BigInt.asUintN(64, v));
    }
    return this;
  }

  /** Signed hyper from a bigint or a safe integer. */
  i64(v: bigint | number): this {
    const at = this.reserve(8);
    if (typeof v === 'number') {
      // Two's complement split without BigInt: floor division keeps the sign in the high word.
      const hi = Math.floor(v / 0x1_0000_0000);
      this.view.setInt32(at, hi);
      this.view.setUint32(at + 4, (v - hi * 0x1_0000_0000) >>> 0);
    } else {
      this.view.setBigInt64(at, BigInt.asIntN(64, v));
    }
    return this;
  }

  f64(v: number): this {
    const at = this.reserve(8);
    this.view.setFloat64(at, v);
    return this;
  }

  fixedOpaque(bytes: Uint8Array, n = bytes.length): this {
    if (bytes.length !== n) throw new RangeError(`fixed opaque needs ${n} bytes, got ${bytes.length}`);
    this.copyIn(bytes);
    return this.pad(n);
  }

  opaque(bytes: Uint8Array): this {
    this.u32(bytes.length);
    this.copyIn(bytes);
    return this.pad(bytes.length);
  }

  string(s: string): this {
    if (!this.asciiOpaque(s, false)) {
      const len = Buffer.byteLength(s, 'utf8');
      this.u32(len);
      const at = this.reserve(len);
      this.buf.write(s, at, len, 'utf8');
      this.pad(len);
    }
    return this;
  }

  /** A string as an `opaque<>` holding its UTF-8 bytes plus a NUL (GlusterFS dict keys). */
  cstringOpaque(s: string): this {
    if (!this.asciiOpaque(s, true)) {
      const len = Buffer.byteLength(s, 'utf8');
      this.u32(len + 1);
      const at = this.reserve(len + 1);
      this.buf.write(s, at, len, 'utf8');
      this.buf[at + len] = 0;
      this.pad(len + 1);
    }
    return this;
  }

  /**
   * Fast path for short ASCII strings (names, dict keys): writes the opaque byte by byte
   * and returns true, or writes nothing and returns false when `s` has non-ASCII
   * characters or is long (Buffer's UTF-8 encoder is faster there).
   */
  private asciiOpaque(s: string, nul: boolean): boolean {
    const n = s.length;
    if (n > 64) return false;
    const len = nul ? n + 1 : n;
    const start = this.pos;
    const at = this.reserve(4 + len) + 4;
    const buf = this.buf;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.pos = start;
        return false;
      }
      buf[at + i] = c;
    }
    if (nul) buf[at + n] = 0;
    this.view.setUint32(at - 4, len);
    this.pad(len);
    return true;
  }

  /** Bytes with no length prefix and no padding. */
  raw(bytes: Uint8Array): this {
    this.copyIn(bytes);
    return this;
  }

  /** Small copies by hand: TypedArray#set has a fixed cost that dominates below ~64 bytes. */
  private copyIn(bytes: Uint8Array): void {
    const n = bytes.length;
    const at = this.reserve(n);
    if (n > 32) {
      this.buf.set(bytes, at);
      return;
    }
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[at + i] = bytes[i]!;
  }

  /** Overwrites a u32 written earlier (a length known only after its body was written). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(this.base + at, v);
  }

  private pad(len: number): this {
    const pad = (4 - (len & 3)) & 3;
    if (pad) {
      const at = this.reserve(pad);
      for (let i = 0; i < pad; i++) this.buf[at + i] = 0;
    }
    return this;
  }

  /** The bytes written so far, as a view of the internal buffer; the writer is spent. */
  finish(): Buffer {
    this.releaseSlab();
    return this.buf.subarray(this.base, this.base + this.pos);
  }
}
