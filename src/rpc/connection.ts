/**
 * RpcConnection: the server's side of one client connection. It frames records, hands
 * each to the server's dispatcher, writes replies in completion order, and applies
 * backpressure: it stops reading while `maxInFlight` calls are unanswered or while
 * the socket's write side waits for 'drain', so a fast client cannot queue unbounded
 * work or unbounded replies. It knows nothing of programs; RpcServer does.
 */
import type { Duplex } from 'node:stream';
import { XdrError, type XdrWriter } from '../xdr/index.js';
import { ByteAccount, type Admission } from './admission.js';
import { AUTH_NONE_VERIFIER, endRecord, startRecord, writeCallHeader } from './message.js';
import { RecordDecoder } from './record.js';
import { payloadLength, writeRecord } from './send.js';

/** A record ready to send: header bytes (record mark included) and uncopied payload. */
export interface OutgoingRecord {
  head: Buffer;
  payload?: readonly Buffer[];
}

/** The bytes one call holds, from its record's arrival until its reply leaves (admission.ts). */
export interface CallCharge {
  held: number;
}

/** What the server does with one record; null means "send nothing". */
export type Dispatch<S> = (
  conn: RpcConnection<S>,
  record: Buffer,
  charge: CallCharge,
) => OutgoingRecord | null | Promise<OutgoingRecord | null>;

export interface ConnectionOptions<S> {
  id: number;
  maxRecordSize: number;
  allocateRecord?: (length: number) => Buffer;
  maxInFlight: number;
  idleTimeoutMs: number;
  /** The server's connection and byte bounds, shared by its connections. */
  admission: Admission;
  /** The peer's address, for limits and log lines. */
  peer: string;
  dispatch: Dispatch<S>;
  onError: (error: unknown) => void;
}

/** Replies gathered for one writev at most: beyond this they are written at once. */
const CORK_BYTES = 64 * 1024;

export type CloseHook = () => void | Promise<void>;

export class RpcConnection<S = unknown> {
  readonly id: number;
  readonly peer: string;
  /** A slot for the layer above: SETVOLUME state, open fds, locks. */
  state: S | undefined = undefined;

  private readonly decoder: RecordDecoder;
  private readonly options: ConnectionOptions<S>;
  private readonly closeHooks: CloseHook[] = [];
  private inFlightCalls = 0;
  private writeBlocked = false;
  private readPaused = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleTimerMs = 0;
  private authTimer: NodeJS.Timeout | undefined;
  private isAuthenticated: boolean;
  private readonly account: ByteAccount;
  private readonly admission: Admission;
  private lastCallbackXid = 0;
  private isClosed = false;
  /** True while replies are being gathered for one writev at the end of this loop turn. */
  private corked = false;

  constructor(
    readonly socket: Duplex,
    options: ConnectionOptions<S>,
  ) {
    this.id = options.id;
    this.peer = options.peer;
    this.options = options;
    this.admission = options.admission;
    const preAuth = this.admission.limits.preAuth;
    this.isAuthenticated = !preAuth;
    this.account = new ByteAccount(preAuth?.maxRecord ?? this.admission.limits.maxBytesPerConnection);
    this.decoder = new RecordDecoder({
      maxRecordSize: preAuth ? Math.min(preAuth.maxRecord, options.maxRecordSize) : options.maxRecordSize,
      allocate: options.allocateRecord,
    });
    if (preAuth && preAuth.deadlineMs > 0) {
      const ms = preAuth.deadlineMs;
      this.authTimer = setTimeout(
        () => this.refuse('pre-auth-deadline', `not authenticated within ${ms} ms`),
        ms,
      );
      this.authTimer.unref();
    }
    // The pre-authentication idle timer runs from the connect, not only from the first record.
    if (preAuth) this.updateFlow();
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

  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  /** Bytes this connection holds (records being answered, reserved reply buffers). */
  get bytesHeld(): number {
    return this.account.used;
  }

  /**
   * The peer proved who it is (a brick's SETVOLUME, a daemon's GETSPEC or SIGNIN): the
   * pre-authentication bounds give way to the ordinary ones.
   */
  authenticate(): void {
    if (this.isAuthenticated) return;
    this.isAuthenticated = true;
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.decoder.maxRecordSize = this.options.maxRecordSize;
    this.account.limit = this.admission.limits.maxBytesPerConnection;
    this.pump();
  }

  /**
   * Takes `bytes` more for the call (a reply buffer about to be allocated), waiting while
   * the connection or the server holds its bound; held until the reply has been written.
   */
  async reserve(charge: CallCharge, bytes: number): Promise<void> {
    const waiting = this.admission.reserve(this.account, charge.held, bytes);
    if (waiting) {
      this.admission.hit(
        'bytes-in-flight',
        `a call of ${bytes} bytes from ${this.peer} waits (connection holds ${this.account.used}, server ${this.admission.bytesInUse})`,
      );
      await waiting;
    }
    charge.held += bytes;
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
    this.send({ head: endRecord(w) }, { held: 0 });
    return true;
  }

  /** Closes the connection for breaking a limit, with a log line. */
  private refuse(reason: string, detail: string): void {
    if (this.isClosed) return;
    this.admission.hit(reason, `${detail}; closing the connection from ${this.peer}`);
    this.destroy(new Error(detail));
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
        const reason = this.isAuthenticated ? 'max-record-size' : 'pre-auth-record-size';
        this.refuse(reason, (err as Error).message);
        return;
      }
      if (!record) break;
      if (record.length < 4) {
        // Not even an xid: there is nobody to answer.
        this.destroy(new XdrError('XDR_TRUNCATED', `record of ${record.length} bytes`));
        return;
      }
      const charge: CallCharge = { held: record.length };
      this.admission.charge(this.account, record.length);
      this.dispatch(record, charge);
    }
    this.updateFlow();
  }

  private mustPause(): boolean {
    return (
      this.inFlightCalls >= this.options.maxInFlight || this.writeBlocked || this.admission.full(this.account)
    );
  }

  private dispatch(record: Buffer, charge: CallCharge): void {
    let out: OutgoingRecord | null | Promise<OutgoingRecord | null>;
    try {
      out = this.options.dispatch(this, record, charge);
    } catch (err) {
      this.options.onError(err);
      this.settle(charge);
      return;
    }
    if (!(out instanceof Promise)) {
      if (out) this.send(out, charge);
      else this.settle(charge);
      return;
    }
    this.inFlightCalls += 1;
    out.then(
      (reply) => this.complete(reply, charge),
      (err: unknown) => {
        this.options.onError(err);
        this.complete(null, charge);
      },
    );
  }

  private complete(reply: OutgoingRecord | null, charge: CallCharge): void {
    this.inFlightCalls -= 1;
    if (reply) this.send(reply, charge);
    else this.settle(charge);
    this.pump();
  }

  /** The call's bytes are free again; calls waiting on any connection may go on. */
  private settle(charge: CallCharge): void {
    const held = charge.held;
    charge.held = 0;
    this.admission.release(this.account, held);
    // This connection may have stopped reading for its bytes; others resume in their pump.
    if (held > 0 && this.readPaused && !this.isClosed) this.updateFlow();
  }

  private send(out: OutgoingRecord, charge: CallCharge): void {
    // Calls that finish after the client left are answered to nobody.
    if (!this.writable) {
      this.settle(charge);
      return;
    }
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
    // The reply's bytes stay charged until the socket has handed them to the kernel.
    const size = out.head.length + payloadLength(out.payload);
    if (charge.held > 0 && size > 0)
      writeRecord(this.socket, out.head, out.payload, () => this.settle(charge));
    else {
      this.settle(charge);
      writeRecord(this.socket, out.head, out.payload);
    }
    // Large replies, and bursts that add up, do not wait for the end of the callback.
    if (this.socket.writableLength >= CORK_BYTES) this.flush();
  }

  private readonly onRoom = (): void => {
    if (!this.isClosed) this.pump();
  };

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
    if (pause && this.admission.full(this.account)) {
      if (!this.readPaused)
        this.admission.hit(
          'bytes-in-flight',
          `${this.peer} holds ${this.account.used} bytes, server ${this.admission.bytesInUse}; reading paused`,
        );
      this.admission.whenRoom(this.onRoom);
    }
    if (pause !== this.readPaused) {
      this.readPaused = pause;
      if (pause) this.socket.pause();
      else this.socket.resume();
    }
    // A peer that stops in the middle of a record is timed out; one that is merely idle
    // between records is not once it has authenticated, nor one that we stopped reading.
    const ms = pause
      ? 0
      : this.decoder.partial
        ? this.options.idleTimeoutMs
        : this.isAuthenticated || this.inFlightCalls > 0
          ? 0
          : (this.admission.limits.preAuth?.idleMs ?? 0);
    if (ms === 0 || ms !== this.idleTimerMs) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      this.idleTimerMs = 0;
    }
    if (ms === 0) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    const reason = this.decoder.partial ? 'idle-mid-record' : 'pre-auth-idle';
    this.idleTimerMs = ms;
    this.idleTimer = setTimeout(() => this.refuse(reason, `no complete record for ${ms} ms`), ms);
    this.idleTimer.unref();
  }

  private handleClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.authTimer);
    this.admission.close(this.account);
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
