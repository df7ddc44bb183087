/**
 * NbdServer: accepts TCP connections, runs the handshake under a deadline, then the
 * transmission phase, and closes each connection's backend when it ends. It caps the
 * number of connections, and close() stops accepting, ends every client (negotiating ones
 * at once, transmitting ones once their in-flight requests are answered, or after a grace
 * period) and waits for the backends to close, so no client outlives the server
 * (CVE-2024-7409).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { ExportProvider } from './backend.js';
import { Channel, ChannelClosedError, type TlsSettings } from './channel.js';
import { HandshakeAbort, negotiate, type HandshakeLimits } from './handshake.js';
import { Transmission, type TransmissionLimits } from './transmission.js';

export interface NbdTlsOptions {
  /** PEM certificate chain and private key of the server. */
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM CA certificates; with requestCert, client certificates must chain to them. */
  ca?: string | Buffer;
  /** Require and verify a client certificate. */
  requestCert?: boolean;
}

export interface NbdServerOptions {
  provider: ExportProvider;
  /** STARTTLS with these credentials; without, STARTTLS is refused (ERR_POLICY). */
  tls?: NbdTlsOptions;
  /** Refuse every option but STARTTLS and ABORT before TLS (FORCEDTLS). Needs `tls`. */
  requireTls?: boolean;
  /** Serve every export read-only. */
  readOnly?: boolean;
  /** Drop clients that have not finished negotiating after this long (10 s). */
  handshakeTimeoutMs?: number;
  /** Concurrent connections; further ones are closed at once (64). */
  maxConnections?: number;
  /** Requests in flight per connection before reading pauses (64). */
  maxInFlight?: number;
  /** READ/WRITE bytes in flight per connection before reading pauses (128 MiB). */
  maxInFlightBytes?: number;
  /** Largest READ/WRITE, advertised as the maximum block size (32 MiB). */
  maxPayload?: number;
  /** Largest option payload buffered (64 KiB); up to 1 MiB is skipped, beyond disconnects. */
  maxOptionLength?: number;
  /** How long close() lets in-flight requests finish before cutting connections (5 s). */
  shutdownGraceMs?: number;
  /** Diagnostics; default: silent. */
  log?: (message: string) => void;
}

export const DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  maxConnections: 64,
  maxInFlight: 64,
  maxInFlightBytes: 128 * 1024 * 1024,
  maxPayload: 32 * 1024 * 1024,
  maxOptionLength: 64 * 1024,
  maxOptionSkip: 1024 * 1024,
  shutdownGraceMs: 5000,
  minBlockSize: 1,
  preferredBlockSize: 4096,
  maxExtents: 65_536,
} as const;

interface Client {
  ch: Channel;
  abort: AbortController;
  transmission: Transmission | undefined;
  done: Promise<void>;
}

export class NbdServer {
  private readonly server: Server;
  private readonly clients = new Set<Client>();
  private readonly tls: TlsSettings | undefined;
  private readonly handshakeLimits: HandshakeLimits;
  private readonly transmissionLimits: TransmissionLimits;
  private closing: Promise<void> | undefined;
  private readonly log: (message: string) => void;

  constructor(private readonly options: NbdServerOptions) {
    if (options.requireTls && !options.tls) throw new TypeError('requireTls needs tls credentials');
    this.log = options.log ?? (() => undefined);
    const timeout = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
    this.tls = options.tls && {
      context: createSecureContext({
        cert: options.tls.cert,
        key: options.tls.key,
        ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        minVersion: 'TLSv1.2',
      }),
      requestCert: options.tls.requestCert ?? false,
      handshakeTimeoutMs: timeout,
    };
    const maxPayload = options.maxPayload ?? DEFAULTS.maxPayload;
    this.handshakeLimits = {
      maxOptionLength: options.maxOptionLength ?? DEFAULTS.maxOptionLength,
      maxOptionSkip: DEFAULTS.maxOptionSkip,
      minBlockSize: DEFAULTS.minBlockSize,
      preferredBlockSize: DEFAULTS.preferredBlockSize,
      maxPayload,
    };
    this.transmissionLimits = {
      maxPayload,
      maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
      maxInFlightBytes: options.maxInFlightBytes ?? DEFAULTS.maxInFlightBytes,
      maxExtents: DEFAULTS.maxExtents,
    };
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => this.log(`server: ${String(err)}`));
  }

  /** Listens; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | null {
    return this.server.address() as AddressInfo | null;
  }

  /** Connections open now. */
  get connections(): number {
    return this.clients.size;
  }

  private accept(socket: Socket): void {
    const max = this.options.maxConnections ?? DEFAULTS.maxConnections;
    if (this.closing || this.clients.size >= max) {
      this.log(`refusing connection from ${socket.remoteAddress}: ${this.closing ? 'closing' : 'too many'}`);
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const ch = new Channel(socket);
    const client: Client = {
      ch,
      abort: new AbortController(),
      transmission: undefined,
      done: Promise.resolve(),
    };
    this.clients.add(client);
    ch.onClose(() => client.abort.abort(new ChannelClosedError()));
    client.done = this.serve(client).finally(() => {
      ch.destroy();
      this.clients.delete(client);
    });
  }

  private async serve(client: Client): Promise<void> {
    const { ch } = client;
    const timeoutMs = this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
    const timer = setTimeout(() => {
      this.log(`handshake not finished after ${timeoutMs} ms; dropping the client`);
      ch.destroy();
    }, timeoutMs);
    timer.unref();
    let negotiated;
    try {
      negotiated = await negotiate(ch, {
        provider: this.options.provider,
        tls: this.tls,
        requireTls: this.options.requireTls ?? false,
        readOnly: this.options.readOnly ?? false,
        limits: this.handshakeLimits,
        shuttingDown: () => this.closing !== undefined,
        signal: client.abort.signal,
        log: this.log,
      });
    } catch (err) {
      if (!(err instanceof ChannelClosedError)) {
        this.log(`handshake: ${err instanceof HandshakeAbort ? err.message : String(err)}`);
      }
      return;
    } finally {
      clearTimeout(timer);
    }
    if (!negotiated) {
      ch.end();
      return;
    }
    const { backend } = negotiated;
    try {
      if (ch.closed || this.closing) return;
      const t = new Transmission(ch, negotiated, this.transmissionLimits, this.log);
      client.transmission = t;
      t.start();
      await t.done;
    } finally {
      await backend.close().catch((err: unknown) => this.log(`closing '${negotiated.name}': ${String(err)}`));
    }
  }

  /**
   * Stops accepting and ends every connection: negotiating clients at once, transmitting
   * ones after their in-flight requests are answered (at most shutdownGraceMs), then
   * resolves once all backends are closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const listening = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const c of this.clients) {
        if (c.transmission) c.transmission.stop();
        else c.ch.destroy();
      }
      const grace = this.options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
      const timer = setTimeout(() => {
        for (const c of this.clients) c.ch.destroy();
      }, grace);
      timer.unref();
      await Promise.all([...this.clients].map((c) => c.done));
      clearTimeout(timer);
      await listening;
    })();
    return this.closing;
  }
}
