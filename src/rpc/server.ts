/**
 * RpcServer: a table of RPC programs served on any number of listeners and sockets.
 *
 * It answers the way a stock glusterfsd does: unknown program PROG_UNAVAIL, unknown
 * procedure PROC_UNAVAIL, arguments that fail to decode GARBAGE_ARGS, and a message
 * that is not a well-formed version-2 CALL GARBAGE_ARGS with xid 0 while the
 * connection stays up. One deliberate difference: for a known program with an unknown
 * version, PROG_MISMATCH carries the lowest and highest registered versions (the stock
 * brick sends 0 and 0; RFC 5531 asks for the real range and clients only check the
 * status). Per-connection framing and flow control live in RpcConnection.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { XdrError, XdrReader, type XdrWriter } from '../xdr/index.js';
import { Admission, admissionLimits, type AdmissionLimits, type PreAuthLimits } from './admission.js';
import { decodeCredential, type Credential } from './auth.js';
import { RpcConnection, type CallCharge, type OutgoingRecord } from './connection.js';
import { RpcError } from './errors.js';
import {
  AcceptStat,
  AUTH_NONE_VERIFIER,
  endRecord,
  MsgType,
  readHeader,
  RejectStat,
  ReplyStat,
  RPC_VERSION,
  startRecord,
  successReply,
  writeReplyHeader,
  type CallHeader,
  type ReplyHeader,
} from './message.js';
import { DEFAULT_MAX_RECORD_SIZE } from './record.js';
import { payloadLength } from './send.js';
import { createTlsServer, type TlsConfig } from './tls.js';

export interface RpcContext<S = unknown> {
  header: CallHeader;
  /** The decoded credential, or null for a flavor the auth codecs do not know. */
  cred: Credential | null;
  /** Positioned at the procedure's arguments. */
  args: XdrReader;
  /** The whole call record; `args` reads a window of it. */
  record: Buffer;
  conn: RpcConnection<S>;
  /** The bytes this call holds until its reply is written (RpcConnection.reserve). */
  charge: CallCharge;
}

/** A SUCCESS reply: results written after the reply header, then raw payload chunks. */
export interface RpcResult {
  results?: (w: XdrWriter) => void;
  payload?: readonly Buffer[];
}

/**
 * A procedure. Throwing an XdrError answers GARBAGE_ARGS; throwing an RpcError answers
 * the status it names; anything else answers SYSTEM_ERR and is reported to `onError`.
 */
export type RpcHandler<S = unknown> = (ctx: RpcContext<S>) => RpcResult | void | Promise<RpcResult | void>;

export interface RpcProgram<S = unknown> {
  prog: number;
  vers: number;
  name: string;
  procs: ReadonlyMap<number, RpcHandler<S>> | Readonly<Record<number, RpcHandler<S>>>;
}

export interface RpcServerOptions {
  maxRecordSize?: number;
  /** Unanswered calls per connection before reading pauses (stock rpc.outstanding-rpc-limit). */
  maxInFlight?: number;
  /** How long a peer may stall in the middle of a record; 0 disables the timer. */
  idleTimeoutMs?: number;
  /** Handler failures answered with SYSTEM_ERR, and failing close hooks. */
  onError?: (error: unknown, conn: RpcConnection<any>) => void;
  /** Memory for records joined from several chunks (RecordDecoderOptions.allocate). */
  allocateRecord?: (length: number) => Buffer;
  /** Connection and byte bounds (admission.ts); `preAuth` turns on the unauthenticated stage. */
  admission?: Partial<Omit<AdmissionLimits, 'preAuth'>> & { preAuth?: Partial<PreAuthLimits> | false };
  /** Where limit hits are reported. */
  log?: (message: string) => void;
}

export interface RpcServerEvents<S> {
  connection: [RpcConnection<S>];
  /** A TLS peer refused before any RPC (handshake failed, certificate not acceptable). */
  tlsRefused: [why: string, remote: string];
}

interface Registered<S> {
  program: RpcProgram<S>;
  procs: ReadonlyMap<number, RpcHandler<S>>;
}

/** AUTH_BADCRED: the credential body does not decode. */
const AUTH_BADCRED = 1;

export class RpcServer<S = unknown> extends EventEmitter<RpcServerEvents<S>> {
  readonly admission: Admission;
  private readonly options: Required<Omit<RpcServerOptions, 'allocateRecord' | 'admission' | 'log'>> &
    Pick<RpcServerOptions, 'allocateRecord'>;
  /** prog → vers → program. */
  private readonly table = new Map<number, Map<number, Registered<S>>>();
  private readonly registered: RpcProgram<S>[] = [];
  private readonly netServers = new Set<net.Server>();
  private readonly conns = new Set<RpcConnection<S>>();
  private lastConnId = 0;
  private isClosed = false;

  constructor(options: RpcServerOptions = {}) {
    super();
    this.options = {
      maxRecordSize: options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE,
      maxInFlight: options.maxInFlight ?? 64,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      onError: options.onError ?? ((err) => console.error('glusterts rpc: call failed:', err)),
      allocateRecord: options.allocateRecord,
    };
    const log = options.log ?? ((m: string) => console.error(`glusterts rpc: ${m}`));
    this.admission = new Admission(admissionLimits(options.admission), log);
  }

  register(program: RpcProgram<S>): this {
    let versions = this.table.get(program.prog);
    if (!versions) this.table.set(program.prog, (versions = new Map()));
    if (versions.has(program.vers))
      throw new Error(`program ${program.prog} v${program.vers} already registered`);
    const procs =
      program.procs instanceof Map
        ? program.procs
        : new Map(Object.entries(program.procs).map(([proc, fn]) => [Number(proc), fn]));
    versions.set(program.vers, { program, procs });
    this.registered.push(program);
    return this;
  }

  /** Registered programs in registration order (what DUMP lists). */
  get programs(): readonly RpcProgram<S>[] {
    return this.registered;
  }

  get connections(): ReadonlySet<RpcConnection<S>> {
    return this.conns;
  }

  /** Listens on a TCP port or unix socket path and serves it; with `tls`, every connection is TLS. */
  async listen(options: net.ListenOptions, tls?: TlsConfig): Promise<net.Server> {
    const server = tls
      ? createTlsServer(
          tls,
          (socket) => this.serve(socket),
          (why, remote) => this.emit('tlsRefused', why, remote),
        )
      : net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.netServers.add(server);
    return server;
  }

  /** Serves every connection an existing server accepts; `close()` closes it. */
  attach(server: net.Server): void {
    this.netServers.add(server);
    server.on('connection', (socket) => this.serve(socket));
  }

  /** Serves one already-connected socket (or any Duplex). */
  serve(socket: Duplex): RpcConnection<S> {
    const peer = socket instanceof net.Socket ? (socket.remoteAddress ?? 'local') : 'local';
    const conn = new RpcConnection<S>(socket, {
      id: ++this.lastConnId,
      admission: this.admission,
      peer: peer.replace(/^::ffff:/, ''),
      maxRecordSize: this.options.maxRecordSize,
      allocateRecord: this.options.allocateRecord,
      maxInFlight: this.options.maxInFlight,
      idleTimeoutMs: this.options.idleTimeoutMs,
      dispatch: (c, record, charge) => this.dispatch(c, record, charge),
      onError: (err) => this.options.onError(err, conn),
    });
    if (this.isClosed || !this.admission.connect(conn.peer)) {
      socket.destroy();
      return conn;
    }
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    this.conns.add(conn);
    conn.onClose(() => {
      this.conns.delete(conn);
      this.admission.disconnect(conn.peer);
    });
    this.emit('connection', conn);
    return conn;
  }

  /** Stops listening and drops every connection; resolves once their close hooks have run. */
  async close(): Promise<void> {
    this.isClosed = true;
    const closing = [...this.netServers].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    this.netServers.clear();
    for (const conn of this.conns) {
      closing.push(new Promise<void>((resolve) => conn.onClose(resolve)));
      conn.destroy();
    }
    await Promise.all(closing);
  }

  private dispatch(
    conn: RpcConnection<S>,
    record: Buffer,
    charge: CallCharge,
  ): OutgoingRecord | Promise<OutgoingRecord> {
    const args = new XdrReader(record);
    let header;
    try {
      header = readHeader(args);
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      return garbageWithoutXid();
    }
    // A REPLY or another RPC version: stock glusterfsd answers these as undecodable.
    if (header.type !== MsgType.CALL || header.rpcvers !== RPC_VERSION) return garbageWithoutXid();

    const { xid } = header;
    const versions = this.table.get(header.prog);
    if (!versions) return statusReply(xid, AcceptStat.PROG_UNAVAIL);
    const entry = versions.get(header.vers);
    if (!entry) {
      const known = [...versions.keys()];
      const mismatch = { low: Math.min(...known), high: Math.max(...known) };
      const verf = AUTH_NONE_VERIFIER;
      return replyRecord({
        xid,
        replyStat: ReplyStat.MSG_ACCEPTED,
        verf,
        acceptStat: AcceptStat.PROG_MISMATCH,
        mismatch,
      });
    }
    const handler = entry.procs.get(header.proc);
    if (!handler) return statusReply(xid, AcceptStat.PROC_UNAVAIL);

    let cred: Credential | null;
    try {
      cred = decodeCredential(header.cred);
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      return replyRecord({
        xid,
        replyStat: ReplyStat.MSG_DENIED,
        rejectStat: RejectStat.AUTH_ERROR,
        authStat: AUTH_BADCRED,
      });
    }

    const ctx: RpcContext<S> = { header, cred, args, record, conn, charge };
    try {
      const result = handler(ctx);
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(
          (res) => this.success(ctx, res),
          (err: unknown) => this.failure(ctx, err),
        );
      }
      return this.success(ctx, result);
    } catch (err) {
      return this.failure(ctx, err);
    }
  }

  private success(ctx: RpcContext<S>, result: RpcResult | void): OutgoingRecord {
    const w = startRecord();
    writeReplyHeader(w, successReply(ctx.header.xid));
    try {
      result?.results?.(w);
      return { head: endRecord(w, payloadLength(result?.payload)), payload: result?.payload };
    } catch (err) {
      // Results that cannot be encoded are the server's fault, never GARBAGE_ARGS.
      this.options.onError(err, ctx.conn);
      return statusReply(ctx.header.xid, AcceptStat.SYSTEM_ERR);
    }
  }

  private failure(ctx: RpcContext<S>, err: unknown): OutgoingRecord {
    const { xid } = ctx.header;
    if (err instanceof XdrError) return statusReply(xid, AcceptStat.GARBAGE_ARGS);
    const asked = err instanceof RpcError ? err.toReply(xid, AUTH_NONE_VERIFIER) : null;
    if (asked) return replyRecord(asked);
    this.options.onError(err, ctx.conn);
    return statusReply(xid, AcceptStat.SYSTEM_ERR);
  }
}

function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as PromiseLike<T> | undefined)?.then === 'function';
}

function acceptedHeader(xid: number, acceptStat: AcceptStat): ReplyHeader {
  return { xid, replyStat: ReplyStat.MSG_ACCEPTED, verf: AUTH_NONE_VERIFIER, acceptStat };
}

function replyRecord(header: ReplyHeader): OutgoingRecord {
  const w = startRecord(32);
  writeReplyHeader(w, header);
  return { head: endRecord(w) };
}

function statusReply(xid: number, acceptStat: AcceptStat): OutgoingRecord {
  return replyRecord(acceptedHeader(xid, acceptStat));
}

/** What stock glusterfsd sends for a message it cannot take apart: GARBAGE_ARGS, xid 0. */
function garbageWithoutXid(): OutgoingRecord {
  return statusReply(0, AcceptStat.GARBAGE_ARGS);
}
