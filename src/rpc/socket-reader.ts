/**
 * SocketReader: a client socket that reads straight into RPC records (net.connect's
 * `onread`). While a large record (a READ reply) is being received, each read lands in the
 * record's own buffer (RecordDecoder's direct mode): no 64 KiB chunk per read, no
 * reassembly copy, and far less garbage for the collector. Between large records, reads
 * land in one reused scratch buffer; whatever the decoder or the caller keeps of it is
 * copied out before the next read overwrites it (`own`, RecordDecoder.detach).
 */
import net from 'node:net';
import { RecordDecoder, type RecordDecoderOptions } from './record.js';

/** Reads between large records; replies that fit are copied out at their own size. */
const SCRATCH_BYTES = 64 * 1024;
/** Records from this size on are read in place: a READ reply of 32 KiB or more. */
export const DIRECT_RECORD_MIN = 32 * 1024;

export class SocketReader {
  readonly decoder: RecordDecoder;
  /** Runs after each read; it drains the decoder (taking each record through `own`). */
  onBytes: () => void = () => undefined;
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private readingScratch = false;

  constructor(options: RecordDecoderOptions = {}) {
    this.decoder = new RecordDecoder({ directMin: DIRECT_RECORD_MIN, ...options });
  }

  /** The `onread` option of net.connect / new net.Socket (the client never stops reading). */
  readonly onread = {
    buffer: (): Buffer => this.nextBuffer(),
    callback: (n: number, buf: Uint8Array): boolean => {
      this.received(n, buf);
      return true;
    },
  };

  /** A record the decoder returned, as the caller may keep it past this read. */
  own(record: Buffer): Buffer {
    return this.readingScratch && record.buffer === this.scratch.buffer ? Buffer.from(record) : record;
  }

  private nextBuffer(): Buffer {
    return this.decoder.readTarget() ?? this.scratch;
  }

  private received(n: number, buf: Uint8Array): void {
    if (buf !== this.scratch) {
      this.decoder.filled(n);
      this.onBytes();
      return;
    }
    this.readingScratch = true;
    try {
      this.decoder.push(this.scratch.subarray(0, n));
      this.onBytes();
      this.decoder.detach();
    } finally {
      this.readingScratch = false;
    }
  }
}

/** A TCP or unix-socket connection that reads through a SocketReader. */
export function connectReading(
  target: net.NetConnectOpts,
  options: RecordDecoderOptions = {},
): { socket: net.Socket; reader: SocketReader } {
  const reader = new SocketReader(options);
  const socket = net.connect({ ...target, onread: reader.onread });
  return { socket, reader };
}
