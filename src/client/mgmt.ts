/**
 * The management connection of a client (gfapi's `glfs_set_volfile_server` list): GETSPEC
 * from the first server that answers, trying the next on failure, then the connection
 * stays open for glusterd's FETCHSPEC callback, after which the volfile is fetched again.
 * When the connection drops, the servers are tried again in order every 3 s (unref'd
 * timers, cleared by close()).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  HandshakeProcs,
  Program,
  callProcedure,
  legacyDict,
  CallbackProc,
  readBrickSignin,
} from '../protocol/index.js';
import { errnoName } from '../protocol/errno.js';
import { RpcClient, encodeCredential, glusterV2, type RpcCallback } from '../rpc/index.js';
import { GlusterError, abortError } from './errors.js';

/** A volfile server: glusterd over TCP (port 24007 by default) or a unix socket. */
export type VolfileServer = { host: string; port?: number } | { socket: string };

export { GLUSTERD_PORT } from '../protocol/portmap.js';
import { GLUSTERD_PORT } from '../protocol/portmap.js';
const RECONNECT_MS = 3000;

export function describeServer(s: VolfileServer): string {
  return 'socket' in s ? `unix:${s.socket}` : `${s.host}:${s.port ?? GLUSTERD_PORT}`;
}

export interface MgmtEvents {
  /** FETCHSPEC arrived and GETSPEC returned a different volfile. */
  volfileChanged: [text: string];
  /** The management connection dropped (reconnection follows). */
  disconnected: [server: string];
  /** The management connection is back (after a drop). */
  reconnected: [server: string];
  /** glusterts's daemon: a brick of the volume signed in to portmap (sent to self-heal daemons). */
  brickSignedIn: [brick: string, port: number];
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Per connection attempt and per call. */
  timeoutMs: number;
}

/** Opens a connection honouring a signal and a timeout (RpcClient.connect has neither). */
function connectTo(server: VolfileServer, opts: FetchOptions): Promise<RpcClient> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal, 'glfs_init'));
    const socket =
      'socket' in server
        ? net.connect({ path: server.socket })
        : net.connect({ host: server.host, port: server.port ?? GLUSTERD_PORT });
    const done = (err?: unknown) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        socket.setNoDelay(true);
        resolve(new RpcClient(socket));
      }
    };
    const onError = (e: Error) => done(GlusterError.from(e, 'glfs_init', describeServer(server)));
    const onAbort = () => done(abortError(opts.signal!, 'glfs_init', describeServer(server)));
    const timer = setTimeout(
      () => done(new GlusterError('ETIMEDOUT', 'glfs_init', describeServer(server))),
      opts.timeoutMs,
    );
    socket.once('error', onError);
    socket.once('connect', () => done());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class MgmtConnection extends EventEmitter<MgmtEvents> {
  private rpc: RpcClient | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private refetching: Promise<void> | undefined;

  private constructor(
    private readonly servers: readonly VolfileServer[],
    private readonly volume: string,
    private readonly timeoutMs: number,
    /** The volfile text last fetched. */
    public volfile: string,
    /** The server that answered. */
    public server: VolfileServer,
    rpc: RpcClient,
  ) {
    super();
    this.attach(rpc);
  }

  /** GETSPEC from the first server that answers; every failure is tried in order. */
  static async open(
    servers: readonly VolfileServer[],
    volume: string,
    opts: FetchOptions,
  ): Promise<MgmtConnection> {
    if (servers.length === 0) throw new GlusterError('EINVAL', 'glfs_set_volfile_server', undefined);
    const { rpc, server, text } = await firstAnswer(servers, volume, opts);
    return new MgmtConnection(servers, volume, opts.timeoutMs, text, server, rpc);
  }

  private attach(rpc: RpcClient): void {
    this.rpc = rpc;
    rpc.on('callback', (cb) => this.onCallback(cb));
    rpc.on('close', () => {
      if (this.closed || this.rpc !== rpc) return;
      this.rpc = undefined;
      this.emit('disconnected', describeServer(this.server));
      this.scheduleReconnect();
    });
  }

  private onCallback(cb: RpcCallback): void {
    if (cb.header.prog !== Program.CALLBACK.prog) return;
    if (cb.header.proc === CallbackProc.FETCHSPEC) void this.refetch().catch(() => undefined);
    if (cb.header.proc !== CallbackProc.EVENT_NOTIFY) return;
    let signin: { brick: string; port: number } | undefined;
    try {
      signin = readBrickSignin(cb.args);
    } catch {
      return; // not ours to understand: ignored, as stock's client does
    }
    if (signin && !this.closed) this.emit('brickSignedIn', signin.brick, signin.port);
  }

  /** GETSPEC again; emits volfileChanged when the text differs. */
  refetch(signal?: AbortSignal): Promise<void> {
    this.refetching ??= (async () => {
      try {
        const rpc = this.rpc;
        if (!rpc) throw new GlusterError('ENOTCONN', 'glfs_get_volfile', this.volume);
        const text = await getspec(rpc, this.volume, { timeoutMs: this.timeoutMs, signal });
        if (typeof text !== 'string') throw text;
        if (text !== this.volfile) {
          this.volfile = text;
          if (!this.closed) this.emit('volfileChanged', text);
        }
      } finally {
        this.refetching = undefined;
      }
    })();
    return this.refetching;
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      firstAnswer(this.servers, this.volume, { timeoutMs: this.timeoutMs }).then(
        ({ rpc, server, text }) => {
          if (this.closed) return rpc.close();
          this.server = server;
          this.attach(rpc);
          this.emit('reconnected', describeServer(server));
          if (text !== this.volfile) {
            this.volfile = text;
            this.emit('volfileChanged', text);
          }
        },
        () => this.scheduleReconnect(),
      );
    }, RECONNECT_MS);
    this.timer.unref();
  }

  get connected(): boolean {
    return this.rpc !== undefined && !this.rpc.closed;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.rpc?.close();
    this.rpc = undefined;
  }
}

async function firstAnswer(
  servers: readonly VolfileServer[],
  volume: string,
  opts: FetchOptions,
): Promise<{ rpc: RpcClient; server: VolfileServer; text: string }> {
  let unreachable: GlusterError | undefined;
  // A server that answered (e.g. ENOENT: no such volume) says more than one that did not.
  let refused: GlusterError | undefined;
  for (const server of servers) {
    if (opts.signal?.aborted) throw abortError(opts.signal, 'glfs_init', volume);
    let rpc: RpcClient | undefined;
    try {
      rpc = await connectTo(server, opts);
      const text = await getspec(rpc, volume, opts);
      if (typeof text === 'string') return { rpc, server, text };
      refused ??= text;
      rpc.close();
    } catch (err) {
      rpc?.close();
      const e = GlusterError.from(err, 'glfs_init', volume);
      if (e.code === 'ECANCELED') throw e;
      unreachable ??= e;
    }
  }
  throw refused ?? unreachable!;
}

const OP_VERSION = { 'min-op-version': '1', 'max-op-version': '100000' };

/** The volfile text, or the server's refusal. */
async function getspec(rpc: RpcClient, volume: string, opts: FetchOptions): Promise<string | GlusterError> {
  const reply = await callProcedure(
    rpc,
    Program.HANDSHAKE,
    HandshakeProcs.GETSPEC,
    // flags 1 = GF_GETSPEC_FLAG_SERVERS_LIST, as gfapi sends.
    { flags: 1, key: volume, xdata: legacyDict(OP_VERSION) },
    { cred: encodeCredential(glusterV2(process.pid)), timeoutMs: opts.timeoutMs, signal: opts.signal },
  );
  if (reply.opRet < 0) {
    return new GlusterError(errnoName(reply.opErrno), 'glfs_init', volume, {
      detail: 'the volfile server refused GETSPEC',
    });
  }
  // op_ret is the volfile's length in bytes.
  return Buffer.from(reply.spec, 'utf8').subarray(0, reply.opRet).toString('utf8');
}
