/**
 * Byte handling for NBD: an Inbox that frames the incoming stream without repeated copies
 * (chunks kept as received, headers taken as views, payloads handed out as lists of views),
 * and a bounds-checked big-endian cursor for option payloads. NBD strings carry no padding
 * and no terminator, so XDR's string codec does not apply.
 */
import { Errno, GlusterTsError } from '../errors/index.js';

/** Received bytes not yet consumed. */
export class Inbox {
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private bytes = 0;

  get available(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Drops everything buffered (STARTTLS: plaintext must not reach the TLS session). */
  clear(): number {
    const n = this.bytes;
    this.chunks.length = 0;
    this.head = 0;
    this.bytes = 0;
    return n;
  }

  /**
   * Takes `n` bytes (n ≤ available) as one buffer: a view when they lie in one chunk, else
   * one copy. Meant for headers and bounded option payloads.
   */
  take(n: number): Buffer {
    if (n > this.bytes) throw new RangeError(`take(${n}) with ${this.bytes} buffered`);
    const first = this.chunks[0];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.consume(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const chunk = this.chunks[0]!;
      const k = Math.min(chunk.length - this.head, n - at);
      chunk.copy(out, at, this.head, this.head + k);
      at += k;
      this.consume(k);
    }
    return out;
  }

  /** Takes `n` bytes (n ≤ available) as views of the received chunks, copying nothing. */
  takeViews(n: number): Buffer[] {
    if (n > this.bytes) throw new RangeError(`takeViews(${n}) with ${this.bytes} buffered`);
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const k = Math.min(chunk.length - this.head, left);
      out.push(chunk.subarray(this.head, this.head + k));
      left -= k;
      this.consume(k);
    }
    return out;
  }

  /** Discards up to `n` bytes; returns how many were discarded. */
  skip(n: number): number {
    const k = Math.min(n, this.bytes);
    let left = k;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const m = Math.min(chunk.length - this.head, left);
      left -= m;
      this.consume(m);
    }
    return k;
  }

  private consume(n: number): void {
    this.head += n;
    this.bytes -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}

/** Thrown by WireReader when a payload is shorter than its fields, or a length too big. */
export class WireError extends GlusterTsError {
  static readonly codes = ['NBD_MALFORMED'] as const;
  constructor(message: string) {
    super('NBD_MALFORMED', Errno.EINVAL, message);
  }
}

/** A cursor over one untrusted option payload. */
export class WireReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): number {
    if (n > this.buf.length - this.pos) {
      throw new WireError(`need ${n} bytes, ${this.buf.length - this.pos} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }

  u32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }

  /** `n` bytes as a view. */
  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** A u32 length then that many bytes of UTF-8, the length checked against `max` first. */
  string(max: number): string {
    const n = this.u32();
    if (n > max) throw new WireError(`string of ${n} bytes exceeds ${max}`);
    return this.bytes(n).toString('utf8');
  }

  /** Fails unless everything was consumed. */
  finish(): void {
    if (this.pos !== this.buf.length) throw new WireError(`${this.buf.length - this.pos} trailing bytes`);
  }
}
