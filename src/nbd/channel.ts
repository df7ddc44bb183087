/**
 * Channel: one client's byte stream, plain or TLS. It owns the socket and the Inbox, reads
 * with awaitable `need(n)` during the handshake and hands over to a synchronous `onBytes`
 * callback for transmission, and performs the STARTTLS upgrade so that nothing received in
 * plaintext after the STARTTLS option can reach the TLS session (CVE-2021-3716): buffered
 * plaintext is dropped, and bytes still in the socket go to the TLS engine, not to NBD.
 */
import type { Socket } from 'node:net';
import { Errno, GlusterTsError } from '../errors/index.js';
import { TLSSocket, type SecureContext } from 'node:tls';
import { Inbox } from './wire.js';

/** While negotiating, stop reading once this much is buffered and nobody asked for it. */
const HANDSHAKE_HIGH_WATER = 256 * 1024;
/** Replies gathered for one writev at most: beyond this they are written at once. */
const CORK_BYTES = 64 * 1024;

export class ChannelClosedError extends GlusterTsError {
  static readonly codes = ['NBD_CLOSED'] as const;
  constructor() {
    super('NBD_CLOSED', Errno.ENOTCONN, 'connection closed');
  }
}

export interface TlsSettings {
  context: SecureContext;
  /** Ask for and verify a client certificate. */
  requestCert: boolean;
  handshakeTimeoutMs: number;
}

export class Channel {
  readonly inbox = new Inbox();
  private current: Socket | TLSSocket;
  private waiter: { n: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  private closedFlag = false;
  /** The socket corked for this turn's replies (STARTTLS changes the socket). */
  private corked: Socket | TLSSocket | undefined;
  private secure = false;
  private readonly closeHooks: (() => void)[] = [];
  /** Transmission's reader; when set, `need` is not used any more. */
  onBytes: (() => void) | undefined;
  /** Called when a write that returned false has drained. */
  onDrain: (() => void) | undefined;

  private readonly dataListener = (chunk: Buffer): void => this.receive(chunk);
  private readonly drainListener = (): void => this.onDrain?.();

  constructor(readonly raw: Socket) {
    this.current = raw;
    this.attach(raw);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get tls(): boolean {
    return this.secure;
  }

  get socket(): Socket | TLSSocket {
    return this.current;
  }

  onClose(hook: () => void): void {
    if (this.closedFlag) hook();
    else this.closeHooks.push(hook);
  }

  private attach(s: Socket | TLSSocket): void {
    s.on('data', this.dataListener);
    s.on('drain', this.drainListener);
    s.on('error', () => undefined);
    s.on('close', () => this.handleClose());
    s.on('end', () => {
      // The client half-closed: it sends nothing more. Finish writing, then close.
      if (!s.destroyed) s.end();
    });
  }

  private receive(chunk: Buffer): void {
    this.inbox.push(chunk);
    if (this.onBytes) {
      this.onBytes();
      return;
    }
    const w = this.waiter;
    if (w && this.inbox.available >= w.n) {
      this.waiter = undefined;
      w.resolve();
    }
    if (this.inbox.available >= HANDSHAKE_HIGH_WATER && !this.waiter) this.current.pause();
  }

  private handleClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(new ChannelClosedError());
    for (const hook of this.closeHooks.splice(0)) hook();
  }

  /** Resolves once `n` bytes are buffered (handshake phase). */
  async need(n: number): Promise<void> {
    if (this.inbox.available >= n) return;
    if (this.closedFlag) throw new ChannelClosedError();
    if (this.waiter) throw new Error('Channel.need: already waiting');
    await new Promise<void>((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.current.resume();
    });
  }

  /** Takes `n` bytes, waiting for them. */
  async read(n: number): Promise<Buffer> {
    await this.need(n);
    return this.inbox.take(n);
  }

  /** Reads and discards `n` bytes as they arrive, holding at most one chunk. */
  async discard(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      left -= this.inbox.skip(left);
      if (left > 0) await this.need(1);
    }
  }

  /**
   * Writes buffers back to back; false means wait for onDrain. Replies written in one
   * event-loop turn leave together in one writev at its end (or as soon as they add up
   * to CORK_BYTES): one syscall and one wakeup of the client for a burst of completions.
   */
  write(head: Buffer, payload?: Buffer): boolean {
    const s = this.current;
    if (this.closedFlag || s.destroyed || s.writableEnded) return true;
    if (!this.corked) {
      this.corked = s;
      s.cork();
      setImmediate(this.uncork);
    }
    let ok = s.write(head);
    if (payload && payload.length > 0) ok = s.write(payload);
    if (s.writableLength >= CORK_BYTES) this.uncork();
    return ok;
  }

  private readonly uncork = (): void => {
    const s = this.corked;
    if (!s) return;
    this.corked = undefined;
    s.uncork();
  };

  /** Writes and resolves once the bytes left for the kernel (or the connection died). */
  flushWrite(head: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const s = this.current;
      if (this.closedFlag || s.destroyed) return resolve();
      s.write(head, () => resolve());
    });
  }

  /** Reading on or off (transmission backpressure). */
  setReading(on: boolean): void {
    if (on) this.current.resume();
    else this.current.pause();
  }

  /**
   * STARTTLS: the ACK has to go out in plaintext first. Pauses the plain socket, drops any
   * plaintext buffered after the option, sends `ack`, then wraps the socket and waits for
   * the TLS handshake. Rejects (and destroys the connection) when the handshake fails.
   */
  async startTls(ack: Buffer, settings: TlsSettings): Promise<void> {
    const plain = this.raw;
    plain.pause();
    plain.off('data', this.dataListener);
    plain.off('drain', this.drainListener);
    this.inbox.clear();
    await this.flushWrite(ack);
    this.inbox.clear();
    if (this.closedFlag) throw new ChannelClosedError();
    const secure = new TLSSocket(plain, {
      isServer: true,
      secureContext: settings.context,
      requestCert: settings.requestCert,
      rejectUnauthorized: settings.requestCert,
    });
    this.current = secure;
    this.secure = true;
    this.attach(secure);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), settings.handshakeTimeoutMs);
      timer.unref();
      const fail = (err: Error): void => {
        clearTimeout(timer);
        secure.destroy();
        plain.destroy();
        reject(err);
      };
      const onClose = (): void => fail(new ChannelClosedError());
      secure.once('secure', () => {
        clearTimeout(timer);
        secure.off('error', fail);
        secure.off('close', onClose);
        resolve();
      });
      secure.once('error', fail);
      secure.once('close', onClose);
    });
  }

  /** Ends gracefully after pending writes. */
  end(): void {
    if (!this.current.destroyed) this.current.end();
    // A TLS socket's end does not always close the TCP side promptly; make sure it goes.
    const timer = setTimeout(() => this.destroy(), 2000);
    timer.unref();
  }

  destroy(): void {
    this.current.destroy();
    if (this.current !== this.raw) this.raw.destroy();
  }
}
