/**
 * RpcConnection: the server's side of one client connection. It frames records, hands
 * each to the server's dispatcher, writes replies in completion order, and applies
 * backpressure: it stops reading while `maxInFlight` calls are unanswered or while
 * the socket's write side waits for 'drain', so a fast client cannot queue unbounded
 * work or unbounded replies. It knows nothing of programs; RpcServer does.
 */
import type { Duplex } from 'node:stream';
import { XdrError, type XdrWriter } from '../xdr/index.js';
import { AUTH_NONE_VERIFIER, endRecord, startRecord, writeCallHeader } from './message.js';
import { RecordDecoder } from './record.js';
import { writeRecord } from './send.js';

/** A record ready to send: header bytes (record mark included) and uncopied payload. */
export interface OutgoingRecord {
  head: Buffer;
  payload?: readonly Buffer[];
}

/** What the server does with one record; null means "send nothing". */
export type Dispatch<S> = (
  conn: RpcConnection<S>,
  record: Buffer,
) => OutgoingRecord | null | Promise<OutgoingRecord | null>;

export interface ConnectionOptions<S> {
  id: number;
  maxRecordSize: number;
  allocateRecord?: (length: number) => Buffer;
  maxInFlight: number;
  idleTimeoutMs: number;
  dispatch: Dispatch<S>;
  onError: (error: unknown) => void;
}

/** Replies gathered for one writev at most: beyond this they are written at once. */
const CORK_BYTES = 64 * 1024;

export type CloseHook = () => void | Promise<void>;

export class RpcConnection<S = unknown> {
  readonly id: number;
  /** A slot for the layer above: SETVOLUME state, open fds, locks. */
  state: S | undefined = undefined;

  private readonly decoder: RecordDecoder;
  private readonly options: ConnectionOptions<S>;
  private readonly closeHooks: CloseHook[] = [];
  private inFlightCalls = 0;
  private writeBlocked = false;
  private readPaused = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastCallbackXid = 0;
  private isClosed = false;
  /** True while replies are being gathered for one writev at the end of this loop turn. */
  private corked = false;

  constructor(
    readonly socket: Duplex,
    options: ConnectionOptions<S>,
  ) {
    this.id = options.id;
    this.options = options;
    this.decoder = new RecordDecoder({
      maxRecordSize: options.maxRecordSize,
      allocate: options.allocateRecord,
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.pump();
    });
    // Errors are followed by 'close'; the listener keeps them from being thrown.
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
    socket.on('close', () => this.handleClose());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Calls received and not yet answered. */
  get inFlight(): number {
    return this.inFlightCalls;
  }

  /** True while reading is paused by the in-flight limit or by write backpressure. */
  get paused(): boolean {
    return this.readPaused;
  }

  /** Runs `hook` once when the connection closes (drop fds, release locks). */
  onClose(hook: CloseHook): void {
    if (this.isClosed) this.runHook(hook);
    else this.closeHooks.push(hook);
  }

  /** Ends the connection at once; unanswered calls get no reply. */
  destroy(error?: Error): void {
    this.socket.destroy(error);
  }

  /**
   * Sends a server → client CALL (a GlusterFS callback) with the connection's own xid
   * counter and AUTH_NONE. No reply is expected. Returns false if the connection is gone.
   */
  sendCallback(prog: number, vers: number, proc: number, args?: (w: XdrWriter) => void): boolean {
    if (!this.writable) return false;
    this.lastCallbackXid = (this.lastCallbackXid + 1) >>> 0 || 1;
    const w = startRecord();
    writeCallHeader(w, {
      xid: this.lastCallbackXid,
      prog,
      vers,
      proc,
      cred: AUTH_NONE_VERIFIER,
      verf: AUTH_NONE_VERIFIER,
    });
    args?.(w);
    this.send({ head: endRecord(w) });
    return true;
  }

  private get writable(): boolean {
    return !this.isClosed && !this.socket.destroyed && !this.socket.writableEnded;
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    this.pump();
  }

  /** Dispatches buffered records while the limits allow, then sets reading and the idle timer. */
  private pump(): void {
    while (!this.isClosed && !this.mustPause()) {
      let record: Buffer | null;
      try {
        record = this.decoder.next();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (!record) break;
      if (record.length < 4) {
        // Not even an xid: there is nobody to answer.
        this.destroy(new XdrError('XDR_TRUNCATED', `record of ${record.length} bytes`));
        return;
      }
      this.dispatch(record);
    }
    this.updateFlow();
  }

  private mustPause(): boolean {
    return this.inFlightCalls >= this.options.maxInFlight || this.writeBlocked;
  }

  private dispatch(record: Buffer): void {
    let out: OutgoingRecord | null | Promise<OutgoingRecord | null>;
    try {
      out = this.options.dispatch(this, record);
    } catch (err) {
      this.options.onError(err);
      return;
    }
    if (!(out instanceof Promise)) {
      if (out) this.send(out);
      return;
    }
    this.inFlightCalls += 1;
    out.then(
      (reply) => this.complete(reply),
      (err: unknown) => {
        this.options.onError(err);
        this.complete(null);
      },
    );
  }

  private complete(reply: OutgoingRecord | null): void {
    this.inFlightCalls -= 1;
    if (reply) this.send(reply);
    this.pump();
  }

  private send(out: OutgoingRecord): void {
    // Calls that finish after the client left are answered to nobody.
    if (!this.writable) return;
    // Replies finished in the same callback (several IO completions, or calls that arrived
    // in one chunk) leave in one writev: one syscall and one wakeup of the peer. The flush
    // runs once the callback's promise reactions are done (a tick queued from them runs after
    // the microtasks), not at the end of the loop turn: a turn that reads a burst of large
    // requests lasts milliseconds, and replies held that long leave the client's window shut.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.flush);
    }
    writeRecord(this.socket, out.head, out.payload);
    // Large replies, and bursts that add up, do not wait for the end of the callback.
    if (this.socket.writableLength >= CORK_BYTES) this.flush();
  }

  private readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
    // What the kernel did not take stays buffered: stop reading until 'drain'.
    if (this.socket.writableLength >= this.socket.writableHighWaterMark) {
      this.writeBlocked = true;
      this.updateFlow();
    }
  };

  private updateFlow(): void {
    if (this.isClosed) return;
    const pause = this.mustPause();
    if (pause !== this.readPaused) {
      this.readPaused = pause;
      if (pause) this.socket.pause();
      else this.socket.resume();
    }
    // A peer that stops in the middle of a record is timed out; one that is merely
    // idle between records, or that we stopped reading, is not.
    const stalled = !pause && this.decoder.partial && this.options.idleTimeoutMs > 0;
    if (!stalled) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    } else if (this.idleTimer) {
      this.idleTimer.refresh();
    } else {
      const ms = this.options.idleTimeoutMs;
      this.idleTimer = setTimeout(() => this.destroy(new Error(`no complete record for ${ms} ms`)), ms);
      this.idleTimer.unref();
    }
  }

  private handleClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.idleTimer);
    for (const hook of this.closeHooks.splice(0)) this.runHook(hook);
  }

  private runHook(hook: CloseHook): void {
    try {
      const done = hook();
      if (done instanceof Promise) done.catch((err: unknown) => this.options.onError(err));
    } catch (err) {
      this.options.onError(err);
    }
  }
}
