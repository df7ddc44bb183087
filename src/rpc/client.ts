/**
 * RpcClient: ONC-RPC calls over one connection, as GlusterFS's rpc-clnt makes them.
 *
 * Calls are pipelined and replies matched by xid in any order. Each call may carry a
 * timeout and an AbortSignal; a reply that arrives after its call gave up is dropped.
 * CALL messages from the server are GlusterFS callbacks: they are emitted as
 * 'callback' events and never answered. When the connection ends, every pending call
 * fails with NOT_CONNECTED (ENOTCONN). Bytes the client cannot frame or decode end the
 * connection; they never throw out of it. ('callback' listeners run synchronously
 * inside the socket's 'data' handler, so they must not throw.)
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { XdrError, XdrReader, type XdrWriter } from '../xdr/index.js';
import { RpcError } from './errors.js';
import {
  AcceptStat,
  AUTH_NONE_VERIFIER,
  endRecord,
  MsgType,
  readHeader,
  ReplyStat,
  startRecord,
  writeCallHeader,
  type CallHeader,
  type OpaqueAuth,
  type ReplyHeader,
} from './message.js';
import { RecordDecoder } from './record.js';
import { payloadLength, writeRecord } from './send.js';
import { connectReading, SocketReader } from './socket-reader.js';

export interface CallRequest {
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  /** Defaults to AUTH_NONE, as every GlusterFS peer sends. */
  verf?: OpaqueAuth;
  /** Writes the procedure's arguments after the call header. */
  args?: (w: XdrWriter) => void;
  /** Raw bytes appended after the arguments in the same record, unpadded and uncopied. */
  payload?: readonly Buffer[];
  /** Overrides the client's default timeout; 0 means none. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CallReply {
  /** An accepted SUCCESS header. */
  header: ReplyHeader;
  /** The whole reply record; `results` reads a window of it. */
  record: Buffer;
  /** Positioned at the procedure's results. */
  results: XdrReader;
}

/** A server → client CALL. GlusterFS never replies to these, and neither does this client. */
export interface RpcCallback {
  header: CallHeader;
  /** Positioned at the callback's arguments. */
  args: XdrReader;
  record: Buffer;
}

export interface RpcClientOptions {
  maxRecordSize?: number;
  /** Default per-call timeout in milliseconds; 0 (the default) means none. */
  timeoutMs?: number;
  /**
   * The socket was made by `connectReading` and reads through this reader (large replies
   * straight into their records); without it the client listens to 'data'.
   */
  reader?: SocketReader;
}

export interface RpcClientEvents {
  callback: [RpcCallback];
  /** The connection is gone; `error` says why when it was not a clean close. */
  close: [error: Error | undefined];
}

interface Outgoing {
  head: Buffer;
  payload: readonly Buffer[] | undefined;
  cancelled: boolean;
}

interface PendingCall {
  resolve(reply: CallReply): void;
  reject(error: RpcError): void;
  /** Still waiting in the send queue, if it has not been written yet. */
  outgoing: Outgoing;
  cleanup(): void;
}

/** Calls gathered for one writev at most: beyond this they are written at once. */
const CORK_BYTES = 64 * 1024;

/** xids are u32; 0 is skipped because stock servers answer undecodable calls with xid 0. */
const MAX_XID = 0xffff_ffff;

export class RpcClient extends EventEmitter<RpcClientEvents> {
  private readonly decoder: RecordDecoder;
  private readonly reader: SocketReader | undefined;
  private readonly timeoutMs: number;
  private readonly pending = new Map<number, PendingCall>();
  /** Records waiting for 'drain'; written in order once the socket takes more. */
  private readonly sendQueue: Outgoing[] = [];
  private needDrain = false;
  /** True while this turn's calls are gathered for one writev. */
  private corked = false;
  /** GlusterFS clients start at 1 and increment before use: the first call is xid 2. */
  private lastXid = 1;
  private closeReason: RpcError | null = null;
  private socketError: Error | undefined;

  constructor(
    readonly socket: Duplex,
    options: RpcClientOptions = {},
  ) {
    super();
    this.reader = options.reader;
    this.timeoutMs = options.timeoutMs ?? 0;
    if (this.reader) {
      this.decoder = this.reader.decoder;
      this.reader.onBytes = () => this.drain();
    } else {
      this.decoder = new RecordDecoder({ maxRecordSize: options.maxRecordSize });
      socket.on('data', (chunk: Buffer) => {
        this.decoder.push(chunk);
        this.drain();
      });
    }
    socket.on('drain', () => this.flush());
    socket.on('error', (err) => (this.socketError = err));
    socket.on('end', () => socket.destroy());
    socket.on('close', () => this.onClose());
  }

  /** Opens a TCP or unix-socket connection and wraps it. */
  static connect(target: net.NetConnectOpts, options: RpcClientOptions = {}): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const { socket, reader } = connectReading(target, { maxRecordSize: options.maxRecordSize });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RpcClient(socket, { ...options, reader }));
      });
    });
  }

  /** Calls waiting for a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  get closed(): boolean {
    return this.closeReason !== null;
  }

  /** Drops the connection; pending calls fail with NOT_CONNECTED. */
  close(): void {
    this.socket.destroy();
  }

  call(req: CallRequest): Promise<CallReply> {
    return new Promise<CallReply>((resolve, reject) => {
      if (this.closeReason) {
        throw new RpcError('NOT_CONNECTED', 'not connected', { cause: this.closeReason.cause });
      }
      if (req.signal?.aborted) throw aborted(req.signal);
      const xid = this.allocateXid();
      const w = startRecord();
      const { prog, vers, proc, cred } = req;
      writeCallHeader(w, { xid, prog, vers, proc, cred, verf: req.verf ?? AUTH_NONE_VERIFIER });
      req.args?.(w);
      const outgoing: Outgoing = {
        head: endRecord(w, payloadLength(req.payload)),
        payload: req.payload,
        cancelled: false,
      };

      const timeoutMs = req.timeoutMs ?? this.timeoutMs;
      const timer =
        timeoutMs > 0
          ? setTimeout(
              () => this.fail(xid, new RpcError('RPC_TIMEOUT', `call ${xid} timed out`, { xid })),
              timeoutMs,
            )
          : undefined;
      const signal = req.signal;
      const onAbort = (): void => this.fail(xid, aborted(signal!, xid));
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };

      this.pending.set(xid, { resolve, reject, outgoing, cleanup });
      this.send(outgoing);
    });
  }

  private allocateXid(): number {
    do {
      this.lastXid = this.lastXid >= MAX_XID ? 1 : this.lastXid + 1;
    } while (this.pending.has(this.lastXid));
    return this.lastXid;
  }

  private fail(xid: number, error: RpcError): void {
    const call = this.pending.get(xid);
    if (!call) return;
    this.pending.delete(xid);
    call.cleanup();
    call.outgoing.cancelled = true;
    call.reject(error);
  }

  private send(outgoing: Outgoing): void {
    if (this.needDrain) {
      this.sendQueue.push(outgoing);
      return;
    }
    // Calls made in the same event-loop turn (a burst of guest requests, a fan-out after
    // replies) leave in one writev at its end, or as soon as they add up to CORK_BYTES.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    this.needDrain = !writeRecord(this.socket, outgoing.head, outgoing.payload);
    if (this.socket.writableLength >= CORK_BYTES) this.uncork();
  }

  private readonly uncork = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

  private flush(): void {
    this.needDrain = false;
    while (!this.needDrain && this.sendQueue.length > 0) {
      const outgoing = this.sendQueue.shift()!;
      // A call that timed out or was aborted before it left is not sent at all.
      if (!outgoing.cancelled) this.send(outgoing);
    }
  }

  /** Handles every complete record the decoder holds. */
  private drain(): void {
    while (!this.closeReason) {
      let record: Buffer | null;
      let header;
      let r: XdrReader;
      try {
        record = this.decoder.next();
        if (!record) return;
        if (this.reader) record = this.reader.own(record);
        r = new XdrReader(record);
        header = readHeader(r);
      } catch (err) {
        if (!(err instanceof XdrError)) throw err;
        this.socketError = err;
        this.socket.destroy();
        return;
      }
      if (header.type === MsgType.CALL) this.emit('callback', { header, args: r, record });
      else this.onReply(header, record, r);
    }
  }

  private onReply(header: ReplyHeader, record: Buffer, results: XdrReader): void {
    const call = this.pending.get(header.xid);
    // Unknown xids: late replies to abandoned calls, or a confused server.
    if (!call) return;
    this.pending.delete(header.xid);
    call.cleanup();
    if (header.replyStat === ReplyStat.MSG_ACCEPTED && header.acceptStat === AcceptStat.SUCCESS) {
      call.resolve({ header, record, results });
    } else {
      call.reject(RpcError.fromReply(header));
    }
  }

  private onClose(): void {
    const cause = this.socketError;
    this.closeReason = new RpcError('NOT_CONNECTED', 'connection closed', { cause });
    this.sendQueue.length = 0;
    for (const xid of [...this.pending.keys()]) this.fail(xid, this.closeReason);
    this.emit('close', cause);
  }
}

function aborted(signal: AbortSignal, xid?: number): RpcError {
  return new RpcError('RPC_ABORTED', xid === undefined ? 'call aborted' : `call ${xid} aborted`, {
    xid,
    cause: signal.reason,
  });
}
