/**
 * Record marking (RFC 5531 §11): turns a byte stream into RPC records.
 *
 * Error reporting: "need more bytes" is the return value `null`. A framing violation
 * (a record longer than `maxRecordSize`, or more than `maxFragments` fragments in one
 * record) leaves the stream with no way to find the next record boundary, so `next()`
 * throws an XdrError, and keeps throwing it: the decoder is spent and its caller must
 * drop the connection. Nothing else throws.
 *
 * Memory: received chunks are kept as they are and fragment bodies are taken as views
 * of them. A record that sits in one fragment of one chunk comes back as a `subarray`
 * of that chunk (no copy); any other record is concatenated exactly once. Lengths are
 * checked against the maximum before they can size anything.
 *
 * Direct mode (`directMin`, a client's large READ replies): a single-fragment record of at
 * least `directMin` bytes gets its buffer when its header arrives; the bytes already
 * received are copied in and `readTarget()` offers the rest of it to the socket, so the
 * kernel writes the body where the record lives (SocketReader), with no chunk per read
 * and no reassembly copy.
 */
import { XdrError } from '../xdr/index.js';
import { LAST_FRAGMENT } from './message.js';

/** QEMU writes up to 512 MiB at once; 1 MiB more leaves room for the headers. */
export const DEFAULT_MAX_RECORD_SIZE = 513 * 1024 * 1024;
/**
 * Real peers send one fragment per record. The bound keeps a hostile peer from building
 * a record out of millions of tiny fragments, each costing an object; it still allows
 * a maximum-size record cut into 4 KiB fragments.
 */
export const DEFAULT_MAX_FRAGMENTS = 131_072;
/**
 * Direct mode allocates a record's buffer from its header, before the bytes arrive; above
 * this the record is assembled from what was received, so a peer's claim alone cannot
 * make the client allocate hundreds of MiB.
 */
const DIRECT_MAX = 64 * 1024 * 1024;

const FRAGMENT_LENGTH_MASK = 0x7fff_ffff;

export interface RecordDecoderOptions {
  maxRecordSize?: number;
  maxFragments?: number;
  /** Direct mode for single-fragment records of at least this many bytes (0: off). */
  directMin?: number;
  /**
   * Memory for a record that has to be joined from several chunks (the brick passes one that
   * suits O_DIRECT); `Buffer.allocUnsafe` when absent. Records that sit in one chunk are
   * never copied.
   */
  allocate?: (length: number) => Buffer;
}

export class RecordDecoder {
  /** Checked at each fragment header; a server raises it once the peer authenticates. */
  maxRecordSize: number;
  readonly maxFragments: number;
  readonly directMin: number;
  private readonly allocate: ((length: number) => Buffer) | undefined;

  /** Received bytes not yet consumed; `chunks[0]` is consumed up to `headOffset`. */
  private readonly chunks: Buffer[] = [];
  private headOffset = 0;
  private bufferedBytes = 0;

  /** The record being assembled: fragment bodies as views, their total length. */
  private pieces: Buffer[] = [];
  private recordLength = 0;
  private fragments = 0;
  /** Body bytes of the current fragment still to come; -1 while a header is expected. */
  private fragmentLeft = -1;
  private lastFragment = false;
  /** Direct mode: the record's own buffer and how much of it is filled. */
  private direct: Buffer | null = null;
  private directFill = 0;

  private failure: XdrError | null = null;

  constructor(options: RecordDecoderOptions = {}) {
    this.maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
    this.maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
    this.directMin = options.directMin ?? 0;
    this.allocate = options.allocate;
  }

  push(chunk: Buffer): void {
    if (this.failure || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /** True while bytes of an unfinished record are held (a peer stalled mid-record). */
  get partial(): boolean {
    return this.bufferedBytes > 0 || this.fragmentLeft >= 0 || this.fragments > 0;
  }

  /** The next complete record body, or `null` until more bytes arrive. */
  next(): Buffer | null {
    if (this.failure) throw this.failure;
    for (;;) {
      if (this.fragmentLeft < 0) {
        if (this.bufferedBytes < 4) return null;
        this.startFragment(this.takeU32());
        continue;
      }
      if (this.fragmentLeft > 0) {
        if (this.bufferedBytes === 0) return null;
        this.takeBody();
        continue;
      }
      // The fragment is complete.
      this.fragmentLeft = -1;
      if (this.lastFragment) return this.finishRecord();
    }
  }

  private startFragment(mark: number): void {
    const length = mark & FRAGMENT_LENGTH_MASK;
    this.lastFragment = (mark & LAST_FRAGMENT) !== 0;
    this.fragments += 1;
    if (this.recordLength + length > this.maxRecordSize) {
      this.fail(`record of at least ${this.recordLength + length} bytes exceeds ${this.maxRecordSize}`);
    }
    if (this.fragments > this.maxFragments) {
      this.fail(`record has more than ${this.maxFragments} fragments`);
    }
    this.fragmentLeft = length;
    const single = this.lastFragment && this.fragments === 1;
    if (single && this.directMin > 0 && length >= this.directMin && length <= DIRECT_MAX) {
      this.direct = Buffer.allocUnsafe(length);
      this.directFill = 0;
    }
  }

  /**
   * Where the socket should read next: the unfilled rest of a direct-mode record when no
   * other byte is buffered (so the read cannot run past the record), else null.
   */
  readTarget(): Buffer | null {
    if (!this.direct || this.bufferedBytes > 0 || this.fragmentLeft <= 0) return null;
    return this.direct.subarray(this.directFill, this.directFill + this.fragmentLeft);
  }

  /** The socket put `n` bytes at the start of the last `readTarget()`. */
  filled(n: number): void {
    if (!this.direct || this.bufferedBytes > 0 || n > this.fragmentLeft || n < 0) {
      throw new RangeError(`filled(${n}) without a matching read target`);
    }
    this.directFill += n;
    this.recordLength += n;
    this.fragmentLeft -= n;
  }

  /**
   * The pushed chunks are about to be overwritten (a reused read buffer): what is still
   * held of them, unconsumed bytes and bodies of an unfinished record, is copied out.
   */
  detach(): void {
    if (this.bufferedBytes > 0) {
      const rest = Buffer.allocUnsafe(this.bufferedBytes);
      let at = 0;
      for (const [i, chunk] of this.chunks.entries())
        at += chunk.copy(rest, at, i === 0 ? this.headOffset : 0);
      this.chunks.length = 0;
      this.chunks.push(rest);
      this.headOffset = 0;
    }
    if (this.pieces.length > 0) this.pieces = [Buffer.concat(this.pieces, this.recordLength)];
  }

  private fail(message: string): never {
    this.failure = new XdrError('XDR_TOO_LONG', message);
    this.chunks.length = 0;
    this.pieces = [];
    this.direct = null;
    this.bufferedBytes = 0;
    throw this.failure;
  }

  /** Reads a fragment header, which may straddle chunks, without joining them. */
  private takeU32(): number {
    const head = this.chunks[0]!;
    if (head.length - this.headOffset >= 4) {
      const v = head.readUInt32BE(this.headOffset);
      this.consume(4);
      return v;
    }
    let v = 0;
    for (let i = 0; i < 4; i++) {
      v = v * 256 + this.chunks[0]![this.headOffset]!;
      this.consume(1);
    }
    return v;
  }

  /** Takes as much of the current fragment as the head chunk holds, as a view. */
  private takeBody(): void {
    const head = this.chunks[0]!;
    const n = Math.min(head.length - this.headOffset, this.fragmentLeft);
    if (this.direct)
      this.directFill += head.copy(this.direct, this.directFill, this.headOffset, this.headOffset + n);
    else this.pieces.push(head.subarray(this.headOffset, this.headOffset + n));
    this.recordLength += n;
    this.fragmentLeft -= n;
    this.consume(n);
  }

  private consume(n: number): void {
    this.headOffset += n;
    this.bufferedBytes -= n;
    if (this.headOffset === this.chunks[0]!.length) {
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  private finishRecord(): Buffer {
    const { pieces, recordLength, direct } = this;
    this.pieces = [];
    this.recordLength = 0;
    this.fragments = 0;
    if (direct) {
      this.direct = null;
      return direct;
    }
    if (pieces.length === 1) return pieces[0]!;
    if (pieces.length === 0) return Buffer.alloc(0);
    if (!this.allocate) return Buffer.concat(pieces, recordLength);
    const record = this.allocate(recordLength);
    let at = 0;
    for (const p of pieces) at += p.copy(record, at);
    return record;
  }
}

/** The 4-byte header of a fragment of `length` bytes (the last one, unless told otherwise). */
export function encodeRecordMark(length: number, last = true): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > FRAGMENT_LENGTH_MASK) {
    throw new RangeError(`fragment length ${length} out of range`);
  }
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE((last ? LAST_FRAGMENT | length : length) >>> 0);
  return b;
}
