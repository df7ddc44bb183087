/**
 * protocol/client: the leaf of every client graph, speaking to one brick over the
 * GlusterFS 10 wire protocol. Every fop of the FOP table goes over the wire as it is;
 * the translator adds only what the wire needs: remote fd numbers for OpenFds, the
 * caller's credential, and the connection's life cycle (connection.ts).
 *
 * Semantics (README.md in this folder has the full table):
 * - A fop issued while up goes out at once; calls pipeline freely on the one connection.
 * - A fop issued while not up waits for up at most reconnect-wait-ms (default 10 s;
 *   0 = fail at once, as stock does). Then: if a session exists that is still re-opening
 *   fds, the fop goes out on it; otherwise it fails ENOTCONN. A translator that failed
 *   (refused before ever being up) or was stopped fails fops ENOTCONN at once.
 * - A fop on the wire when the connection drops fails ENOTCONN at once; it is never
 *   re-sent (the brick may have executed it). So does one unanswered for frame-timeout.
 * - fds: OPEN, CREATE and OPENDIR record the remote fd, the flags and the gfid on the
 *   OpenFd. After a reconnect every recorded fd is re-opened by gfid (OPEN with the
 *   original flags minus O_CREAT|O_EXCL|O_TRUNC, OPENDIR for directories) before the
 *   translator is up again; a failed re-open is retried on the next reconnect. An fd
 *   with no remote fd on the current connection (anonymous, re-open pending or failed,
 *   opened elsewhere) goes out as fd -2 for the FOP rows marked `anonymous` (READ,
 *   WRITE, FSYNC, FINODELK, FXATTROP, COPY_FILE_RANGE) and fails EBADF for every other fd
 *   fop. RELEASE(DIR) always succeeds: it forgets the fd and tells the brick when the fd is open on the current
 *   connection.
 * - Replies: op_ret -1 becomes FopError(op_errno) (out-of-range errnos become EIO); a
 *   reply that does not decode fails EINVAL (as stock); RPC-level rejections ENOTCONN,
 *   AUTH_ERROR EACCES, an aborted call ECANCELED. READ's payload is a view of the
 *   received record; WRITE's chunks are sent as the caller's buffers.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import { RpcError } from '../../rpc/errors.js';
import { encodeCredential, glusterV3 } from '../../rpc/auth.js';
import type { RpcClient } from '../../rpc/client.js';
import { XdrError } from '../../xdr/index.js';
import {
  callProcedure,
  Errno,
  errnoName,
  FopError,
  Fops,
  fopDef,
  GF_O_DIRECT,
  legacyDict,
  replyStatus,
  Program,
  SetvolumeKeys as K,
  type FopName,
  type FopResults,
  type OpeningFop,
} from '../../protocol/index.js';
import { ANONYMOUS_FD, OpenFd } from '../../xlator/fd.js';
import {
  defineTranslator,
  fopTable,
  type Caller,
  type FopContext,
  type FopReply,
  type FopRequest,
  type FopTable,
  type Translator,
} from '../../xlator/translator.js';
import { requestToWire, resultsFromWire } from '../../xlator/wire.js';
import { OptionError, type OptionsOf } from '../../xlator/options.js';
import { loadTls, secureAccess, tlsSettingsFrom, TlsConfigError, type TlsConfig } from '../../rpc/tls.js';
import type { VolumeDecl } from '../../xlator/volfile.js';
import { BrickConnection, type RemoteSession, type ClientState } from './connection.js';
import { fopCredential } from './credentials.js';
import { GLUSTERD_PORT } from './handshake.js';
import { checkSupported, clientOptions, LOCAL_ONLY_KEYS, type ClientOptionSchema } from './options.js';

export { clientOptions } from './options.js';
export type { ClientState, RemoteSession } from './connection.js';

const log = debuglog('glusterts-client');

const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;

const RELEASE_CRED = encodeCredential(glusterV3(0));
const ROOT: Caller = { uid: 0, gid: 0, groups: [], pid: 0, lkOwner: Buffer.alloc(4) };

/** What the translator keeps on each OpenFd it opened. */
interface FdState {
  remoteFd: number;
  /** The session the remote fd belongs to. */
  generation: number;
  gfid: Buffer;
  /** As sent on the wire (after filter-O_DIRECT). */
  flags: number;
  isDirectory: boolean;
  /** Who opened it: the re-open goes out with the same credential. */
  caller: Caller;
}

export interface ClientTranslator extends Translator {
  readonly state: ClientState;
  /** The RPC connection of the current session, while reopening or up (tests, diagnostics). */
  readonly rpc: RpcClient | undefined;
  /** Why the last attempt or connection failed. */
  readonly lastError: Error | undefined;
  /** OpenFds this translator tracks (for re-open). */
  readonly openFds: number;
  /** The brick path it connects to (remote-subvolume). */
  readonly remoteSubvolume: string;
  /** The brick serves now (its sign-in was announced): connect without waiting for the retry. */
  retryNow(): void;
  /** Calls `listener` on every connection state change; returns how to stop. */
  onStateChange(listener: (state: ClientState) => void): () => void;
}

type ClientOptions = OptionsOf<ClientOptionSchema>;

class ProtocolClient implements ClientTranslator {
  readonly fops: FopTable;
  private readonly conn: BrickConnection;
  private readonly open = new Set<OpenFd>();
  private readonly brick: string;
  private readonly frameTimeoutMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly name: string,
    private readonly o: ClientOptions,
    decl: VolumeDecl,
  ) {
    this.brick = `${o['remote-host']}:${o['remote-subvolume']}`;
    this.frameTimeoutMs = o['frame-timeout'] * 1000;
    this.waitMs = o['reconnect-wait-ms'];
    const pingMs = o['ping-timeout'] * 1000;
    const family = o['transport.address-family'];
    const ctxId = randomUUID();
    const setvolumeBase = setvolumeEntries(decl, o);
    this.conn = new BrickConnection({
      name,
      handshake: {
        host: o['remote-host'],
        port: o['remote-port'] || GLUSTERD_PORT,
        family: family === 'inet' ? 4 : family === 'inet6' ? 6 : undefined,
        ...(o['transport.socket.source-addr'] ? { localAddress: o['transport.socket.source-addr'] } : {}),
        brick: o['remote-subvolume'],
        timeoutMs: o['handshake-timeout-ms'] || pingMs || this.frameTimeoutMs,
        keepAlive: o['transport.socket.keepalive'],
        keepAliveDelayMs: o['transport.socket.keepalive-time'] * 1000,
        ...clientTls(name, o, decl),
      },
      setvolume: (reconnects) =>
        legacyDict({
          ...setvolumeBase.head,
          [K.PROCESS_UUID]:
            `CTX_ID:${ctxId}-GRAPH_ID:0-PID:${process.pid}-HOST:${hostname()}` +
            `-PC_NAME:${name}-RECON_NO:-${reconnects}`,
          [K.FOPS_VERSION]: String(Program.FOP.prog),
          ...setvolumeBase.options,
        }),
      reconnectIntervalMs: o['reconnect-interval-ms'],
      pingTimeoutMs: pingMs,
      reopen: (session) => this.reopen(session),
    });

    const names = (Object.keys(Fops) as FopName[]).filter((fop) => fop !== 'NULL');
    this.fops = {
      ...fopTable(names, (fop) => (req, ctx) => this.wire(fop, req, ctx)),
      OPEN: (req, ctx) => {
        const flags = this.wireFlags(req.flags);
        return this.opening('OPEN', { ...req, flags }, ctx, { fd: req.fd, flags, inode: () => req.gfid });
      },
      CREATE: (req, ctx) => {
        const flags = this.wireFlags(req.flags);
        // The new inode is the one the brick made (its reply's stat).
        return this.opening('CREATE', { ...req, flags }, ctx, {
          fd: req.fd,
          flags,
          inode: (r) => r.stat.gfid,
        });
      },
      OPENDIR: (req, ctx) =>
        this.opening('OPENDIR', req, ctx, { fd: req.fd, flags: 0, inode: () => req.gfid }),
      RELEASE: (req) => this.release('RELEASE', req),
      RELEASEDIR: (req) => this.release('RELEASEDIR', req),
    };
  }

  get state(): ClientState {
    return this.conn.state;
  }

  get rpc(): RpcClient | undefined {
    return this.conn.session?.rpc;
  }

  get lastError(): Error | undefined {
    return this.conn.lastError;
  }

  get openFds(): number {
    return this.open.size;
  }

  get remoteSubvolume(): string {
    return this.o['remote-subvolume'];
  }

  retryNow(): void {
    this.conn.retryNow();
  }

  onStateChange(listener: (state: ClientState) => void): () => void {
    return this.conn.onStateChange(listener);
  }

  async init(): Promise<void> {
    this.conn.start();
  }

  async fini(): Promise<void> {
    await this.conn.stop();
    for (const fd of this.open) fd.delete(this);
    this.open.clear();
  }

  whenReady(signal?: AbortSignal): Promise<void> {
    this.conn.start();
    return this.conn.whenUp(signal);
  }

  // ---- fops --------------------------------------------------------------------------

  /** Sends one fop on the current session; op_ret -1 and failed calls throw FopError. */
  private async send<N extends FopName>(
    name: N,
    req: FopRequest<N>,
    ctx: FopContext | undefined,
  ): Promise<{ results: FopResults<N>; generation: number; caller: Caller }> {
    const session = await this.conn.acquire(this.waitMs, ctx?.signal);
    const args = requestToWire(name, req, (fd) => this.remoteFd(name, fd, session.generation));
    const caller = ctx?.caller ?? ROOT;
    const cred = fopCredential(caller, this.o['send-gids']);
    let results: FopResults<N>;
    this.conn.callStarted();
    try {
      results = await callProcedure(session.rpc, Program.FOP, fopDef(name), args, {
        cred,
        timeoutMs: this.frameTimeoutMs,
        ...(ctx?.signal ? { signal: ctx.signal } : {}),
      });
      this.conn.callEnded(true);
    } catch (err) {
      this.conn.callEnded(answered(err));
      throw this.asFopError(name, err);
    }
    const status = replyStatus(results);
    if (status.opRet < 0) {
      const errno = validErrno(status.opErrno);
      const xdata = status.xdata instanceof Map ? { xdata: status.xdata } : {};
      throw new FopError(errno, `${errnoName(errno)}: ${name} on ${this.brick}`, xdata);
    }
    return { results, generation: session.generation, caller };
  }

  private async wire<N extends FopName>(
    name: N,
    req: FopRequest<N>,
    ctx: FopContext | undefined,
  ): Promise<FopReply<N>> {
    return resultsFromWire(name, (await this.send(name, req, ctx)).results).reply;
  }

  /** OPEN and CREATE send GF_O_* flags, minus O_DIRECT under filter-O_DIRECT. */
  private wireFlags(flags: number): number {
    return this.o['filter-O_DIRECT'] ? flags & ~GF_O_DIRECT : flags;
  }

  /** OPEN, CREATE, OPENDIR: records the brick's fd number, and what a re-open needs, on the OpenFd. */
  private async opening<N extends OpeningFop>(
    name: N,
    req: FopRequest<N>,
    ctx: FopContext | undefined,
    opened: { fd: unknown; flags: number; inode: (reply: FopReply<N>) => Buffer },
  ): Promise<FopReply<N>> {
    const fd = opened.fd;
    if (!(fd instanceof OpenFd)) {
      throw FopError.of('EINVAL', `${name}: the request carries no OpenFd to record the remote fd on`);
    }
    const sent = await this.send(name, req, ctx);
    const { reply, fd: remoteFd } = resultsFromWire(name, sent.results);
    if (!isRemoteFd(remoteFd)) {
      throw FopError.of('EIO', `${name} on ${this.brick}: the brick answered fd ${String(remoteFd)}`);
    }
    fd.set(this, {
      remoteFd,
      generation: sent.generation,
      gfid: Buffer.from(opened.inode(reply)),
      flags: opened.flags,
      isDirectory: fopDef(name).opens === 'dir',
      caller: { ...sent.caller, groups: [...sent.caller.groups] },
    } satisfies FdState);
    this.open.add(fd);
    return reply;
  }

  private remoteFd(name: FopName, fd: unknown, generation: number): number {
    const state = fd instanceof OpenFd && !fd.anonymous ? fd.get<FdState>(this) : undefined;
    if (state && state.generation === generation) return state.remoteFd;
    // An upper layer's own anonymous fd (shard's per-shard DISCARD, ZEROFILL, …) is -2 on any fd fop, as stock sends it.
    if (fopDef(name).anonymous || (fd instanceof OpenFd && fd.anonymous)) return ANONYMOUS_FD;
    const why = !(fd instanceof OpenFd)
      ? 'no fd'
      : fd.anonymous
        ? 'the anonymous fd'
        : state
          ? 'its re-open on the current connection is pending or failed'
          : 'it was not opened through this client';
    throw FopError.of('EBADF', `${name} on ${this.brick}: ${why}`);
  }

  private async release(
    name: 'RELEASE' | 'RELEASEDIR',
    req: FopRequest<'RELEASE' | 'RELEASEDIR'>,
  ): Promise<FopReply<'RELEASE'>> {
    const fd: unknown = req.fd;
    if (!(fd instanceof OpenFd)) return { xdata: null };
    const state = fd.get<FdState>(this);
    fd.delete(this);
    this.open.delete(fd);
    const session = this.conn.session;
    if (!state || !session || state.generation !== session.generation) return { xdata: null };
    try {
      const args = {
        gfid: state.gfid,
        fd: state.remoteFd,
        xdata: req.xdata ?? null,
      };
      const reply = await callProcedure(session.rpc, Program.FOP, Fops[name], args, {
        cred: RELEASE_CRED,
        timeoutMs: this.frameTimeoutMs,
      });
      return { xdata: reply.xdata };
    } catch (err) {
      // The connection went away: the brick closed the fd with it.
      log('%s: %s of fd %d: %s', this.name, name, state.remoteFd, (err as Error).message);
      return { xdata: null };
    }
  }

  /** Re-opens every fd that has no remote fd on `session`, in parallel. */
  private async reopen(session: RemoteSession): Promise<void> {
    const stale = [...this.open].filter((fd) => fd.get<FdState>(this)?.generation !== session.generation);
    if (stale.length) log('%s: re-opening %d fds', this.name, stale.length);
    await Promise.all(stale.map((fd) => this.reopenOne(fd, session)));
  }

  private async reopenOne(fd: OpenFd, session: RemoteSession): Promise<void> {
    const state = fd.get<FdState>(this);
    if (!state) return;
    const opts = {
      cred: fopCredential(state.caller, this.o['send-gids']),
      timeoutMs: this.conn.handshakeTimeoutMs,
    };
    let reply: { opRet: number; opErrno: number; fd: number };
    try {
      reply = state.isDirectory
        ? await callProcedure(session.rpc, Program.FOP, Fops.OPENDIR, { gfid: state.gfid, xdata: null }, opts)
        : await callProcedure(
            session.rpc,
            Program.FOP,
            Fops.OPEN,
            { gfid: state.gfid, flags: state.flags & ~(O_CREAT | O_EXCL | O_TRUNC), xdata: null },
            opts,
          );
    } catch (err) {
      log('%s: re-open failed: %s', this.name, (err as Error).message);
      return;
    }
    if (reply.opRet < 0 || !isRemoteFd(reply.fd)) {
      log('%s: re-open failed: %s', this.name, errnoName(reply.opErrno));
      return;
    }
    if (this.open.has(fd) && fd.get<FdState>(this) === state) {
      state.remoteFd = reply.fd;
      state.generation = session.generation;
      return;
    }
    // Released while the re-open was on the wire: release the new remote fd too.
    const release = state.isDirectory ? Fops.RELEASEDIR : Fops.RELEASE;
    await callProcedure(
      session.rpc,
      Program.FOP,
      release,
      { gfid: state.gfid, fd: reply.fd, xdata: null },
      { cred: RELEASE_CRED },
    ).catch(() => undefined);
  }

  private asFopError(name: FopName, err: unknown): FopError {
    if (err instanceof FopError) return err;
    const what = `${name} on ${this.brick}`;
    if (err instanceof RpcError) {
      const code =
        err.code === 'RPC_ABORTED' ? 'ECANCELED' : err.code === 'AUTH_ERROR' ? 'EACCES' : 'ENOTCONN';
      return new FopError(Errno[code], `${code}: ${what}: ${err.message}`, { cause: err });
    }
    if (err instanceof XdrError) {
      return new FopError(Errno.EINVAL, `EINVAL: ${what}: the reply did not decode: ${err.message}`, {
        cause: err,
      });
    }
    return FopError.from(err);
  }
}

/** Whether a failed call still got a whole reply record (a status reply, or results that did not decode). */
function answered(err: unknown): boolean {
  if (err instanceof RpcError) return !['NOT_CONNECTED', 'RPC_TIMEOUT', 'RPC_ABORTED'].includes(err.code);
  return err instanceof XdrError;
}

function validErrno(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 4096 ? n : Errno.EIO;
}

function isRemoteFd(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The SETVOLUME dict, as stock builds it: a few identity keys first, then the
 * translator's whole option dict (what the volfile gave, glusterts-only keys left out),
 * transport-type as "socket".
 */
function setvolumeEntries(
  decl: VolumeDecl,
  o: ClientOptions,
): { head: Record<string, string>; options: Record<string, string> } {
  const head: Record<string, string> = {
    [K.OPVERSION]: '100000',
    [K.CLNT_LK_VERSION]: '1',
    [K.VOLFILE_CHECKSUM]: '0',
  };
  if (o['volfile-key']) head[K.VOLFILE_KEY] = o['volfile-key'];
  head[K.CLIENT_VERSION] = '10.3';
  head[K.PROCESS_NAME] = o['process-name'];
  const options: Record<string, string> = {};
  for (const [key, value] of decl.options) if (!LOCAL_ONLY_KEYS.has(key)) options[key] = value;
  options[K.PING_TIMEOUT] = String(o['ping-timeout']);
  options[K.REMOTE_HOST] = o['remote-host'];
  options[K.REMOTE_SUBVOLUME] = o['remote-subvolume'];
  options[K.TRANSPORT_TYPE] = 'socket';
  return { head, options };
}

/**
 * TLS for this brick connection and for glusterd's portmap (docs/tls.md), loaded once so a
 * missing file fails the graph instead of each connection attempt.
 */
function clientTls(
  name: string,
  o: ClientOptions,
  decl: VolumeDecl,
): { tls?: TlsConfig; mgmtTls?: TlsConfig } {
  const on = o['transport.socket.ssl-enabled'] || o['client.ssl'];
  try {
    const settings = tlsSettingsFrom((k) => decl.options.get(k));
    const mgmt = secureAccess();
    return {
      ...(on ? { tls: loadTls(settings, 'client') } : {}),
      ...(mgmt ? { mgmtTls: loadTls({ ...settings, certDepth: mgmt.certDepth }, 'client') } : {}),
    };
  } catch (err) {
    if (err instanceof TlsConfigError) throw new OptionError(`volume ${name}: ${err.message}`);
    throw err;
  }
}

export const client = defineTranslator({
  type: 'protocol/client',
  options: clientOptions,
  children: 'none',
  create({ name, options, decl }): ClientTranslator {
    checkSupported(name, options);
    return new ProtocolClient(name, options, decl);
  },
});
