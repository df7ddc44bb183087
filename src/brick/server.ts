/**
 * A brick's RPC face (the glusterfsd role): GF-DUMP, the handshake (SETVOLUME, PING)
 * and the FOP program in front of a brick graph. Each connection gets a session at
 * SETVOLUME; when it goes, its open fds are released down the graph and the graph is
 * told the session ended (locks dropped).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { Socket } from 'node:net';
import { RpcServer, type RpcConnection, type RpcServerOptions } from '../rpc/index.js';
import {
  Errno,
  HandshakeProcs,
  Program,
  gfDumpProgram,
  pingResult,
  procedureHandler,
} from '../protocol/index.js';
import { carveEndAlignedUnsafe, DIRECT_ALIGNMENT } from '../sys/index.js';
import { FdBudget, type Graph, type FopContext } from '../xlator/index.js';
import { fopProgram } from './fop-program.js';
import { DEFAULT_FDS_PER_SESSION } from './server-options.js';
import { newSession, SYSTEM_CALLER, type BrickConnectionState, type BrickSession } from './session.js';
import { authenticate, type AuthRules } from './auth.js';
import { authRequest, checkSetvolume, type ExportPolicy } from './setvolume.js';
import { peerCommonName, type TlsConfig } from '../rpc/tls.js';
import { NO_SQUASH, squashCaller, type SquashPolicy } from './squash.js';

/** What protocol/server's options say about who may attach and as whom they act. */
export interface AccessSettings {
  auth: AuthRules;
  squash: SquashPolicy;
}

export const OPEN_ACCESS: AccessSettings = {
  auth: { allow: '*', loginAllow: [], passwords: new Map(), strictAuth: false },
  squash: NO_SQUASH,
};

export interface BrickServerOptions extends RpcServerOptions {
  graph: Graph;
  /** Name of the graph's top layer as clients send it in remote-subvolume (the brick path). */
  exportName: string;
  volumeId?: string;
  /** Default OPEN_ACCESS: anyone may attach, nobody is squashed. */
  access?: AccessSettings;
  /** Open fds per session (limits.max-fds-per-session). */
  maxFdsPerSession?: number;
  /** Open fds of all sessions together (limits.max-fds); default: from the process's fd limit. */
  maxFds?: number;
}

/**
 * Records joined from several socket chunks (every 128 KiB WRITE) are assembled so that they end
 * on an O_DIRECT boundary: the WRITE payload, the record's tail, then reaches the disk without
 * posix copying it into aligned memory again. Records too small to carry a block are not.
 * The memory is not zero-filled: the decoder copies every byte of the record into it.
 */
function directRecord(length: number): Buffer {
  return length >= DIRECT_ALIGNMENT ? carveEndAlignedUnsafe(length) : Buffer.allocUnsafe(length);
}

export class BrickServer {
  readonly rpc: RpcServer<BrickConnectionState>;
  private readonly policy: ExportPolicy;
  private squash: SquashPolicy;
  /** Open fds across sessions. */
  readonly fdBudget: FdBudget;
  readonly maxFdsPerSession: number;

  constructor(private readonly opts: BrickServerOptions) {
    if (!opts.graph.top || opts.graph.top.name !== opts.exportName) {
      throw new Error(`brick graph top is ${opts.graph.top?.name}, expected the export ${opts.exportName}`);
    }
    this.policy = {
      exportName: opts.exportName,
      ...(opts.volumeId ? { volumeId: opts.volumeId } : {}),
      brickUuid: randomUUID(),
      auth: (opts.access ?? OPEN_ACCESS).auth,
    };
    this.squash = (opts.access ?? OPEN_ACCESS).squash;
    this.fdBudget = new FdBudget(opts.maxFds || defaultMaxFds());
    // One session never takes more than half of the brick's fds, so others can still open.
    this.maxFdsPerSession = Math.min(
      opts.maxFdsPerSession ?? DEFAULT_FDS_PER_SESSION,
      Math.max(1, Math.floor(this.fdBudget.max / 2)),
    );
    const log = opts.log ?? ((m: string) => console.error(`brick ${opts.exportName}: ${m}`));
    // Bricks authenticate their clients (SETVOLUME): the pre-authentication bounds apply.
    const admission = { preAuth: {}, ...opts.admission };
    this.rpc = new RpcServer<BrickConnectionState>({ allocateRecord: directRecord, ...opts, admission, log });
    // DUMP lists these in registration order; stock bricks put the FOP program first.
    this.rpc.register(
      fopProgram({
        top: opts.graph.top,
        onError: (err, fop) => this.report(err, fop),
        actingAs: (caller, session) => squashCaller(caller, this.squash, session.trusted),
        onLimit: (reason, detail) => this.rpc.admission.hit(reason, detail),
      }),
    );
    this.rpc.register(gfDumpProgram(this.rpc));
    this.rpc.register({
      ...Program.HANDSHAKE,
      name: 'GlusterFS Handshake',
      procs: {
        [HandshakeProcs.NULL.proc]: () => undefined,
        [HandshakeProcs.SETVOLUME.proc]: procedureHandler(HandshakeProcs.SETVOLUME, (args, ctx) =>
          this.setvolume(args.dict, ctx.conn),
        ),
        // Bricks do not serve volfiles; stock answers ENOSYS and points at glusterd.
        [HandshakeProcs.GETSPEC.proc]: procedureHandler(HandshakeProcs.GETSPEC, () => ({
          opRet: -1,
          opErrno: Errno.ENOSYS,
          spec: '',
          xdata: new Map(),
        })),
        [HandshakeProcs.PING.proc]: procedureHandler(HandshakeProcs.PING, pingResult),
        [HandshakeProcs.SET_LK_VER.proc]: procedureHandler(HandshakeProcs.SET_LK_VER, (args) => ({
          opRet: 0,
          opErrno: 0,
          lkVer: args.lkVer,
        })),
      },
    });
    this.rpc.on('connection', (conn) => {
      conn.state = {};
      conn.onClose(() => this.endSession(conn.state?.session));
    });
  }

  /** Listens on host:port; with `tls` every connection is mutual TLS (docs/tls.md). */
  listen(host: string, port: number, tls?: TlsConfig): Promise<Server> {
    if (tls)
      this.rpc.on('tlsRefused', (why, remote) =>
        console.error(`brick ${this.opts.exportName}: TLS connection from ${remote} refused: ${why}`),
      );
    return this.rpc.listen({ host, port }, tls);
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  /**
   * New access settings on a running brick (stock's reconfigure of protocol/server): later
   * SETVOLUMEs and FOPs follow them, and every session is authenticated again with what it
   * sent at SETVOLUME, and one no longer admitted is disconnected. Resolves with the number
   * of connections dropped.
   */
  async reconfigure(access: AccessSettings): Promise<number> {
    this.policy.auth = access.auth;
    this.squash = access.squash;
    let dropped = 0;
    for (const conn of [...this.rpc.connections]) {
      const session = conn.state?.session;
      if (!session) continue;
      if ((await authenticate(access.auth, session.auth)).admitted) continue;
      dropped++;
      conn.destroy();
    }
    return dropped;
  }

  private async setvolume(dict: Map<string, Buffer>, conn: RpcConnection<BrickConnectionState>) {
    const peer = (conn.socket instanceof Socket ? (conn.socket.remoteAddress ?? '') : '').replace(
      /^::ffff:/,
      '',
    );
    const sslName = peerCommonName(conn.socket);
    const outcome = await checkSetvolume(dict, peer, this.policy, sslName);
    if (!outcome.ok) {
      if (sslName !== undefined && outcome.errno === Errno.EACCES)
        console.error(`brick ${this.opts.exportName}: TLS client CN "${sslName}" refused (auth.ssl-allow)`);
      return { opRet: -1, opErrno: outcome.errno, dict: outcome.reply };
    }
    // A repeated SETVOLUME starts over: the old session's fds and locks go.
    const previous = conn.state?.session;
    conn.state = {
      session: newSession(
        outcome.processUuid,
        conn.id,
        outcome.clientVersion,
        outcome.trusted,
        authRequest(dict, peer, sslName),
        { maxPerSession: this.maxFdsPerSession, budget: this.fdBudget },
      ),
    };
    conn.authenticate();
    await this.endSession(previous);
    return { opRet: 0, opErrno: 0, dict: outcome.reply };
  }

  /** Releases a session's open fds down the graph, then tells the graph it ended. */
  private async endSession(session: BrickSession | undefined): Promise<void> {
    if (!session) return;
    const ctx: FopContext = { caller: SYSTEM_CALLER, session };
    const top = this.opts.graph.top;
    for (const fd of session.fds.drain()) {
      const fop = fd.isDirectory ? 'RELEASEDIR' : 'RELEASE';
      await top.call(fop, { gfid: fd.gfid, fd, xdata: null }, ctx).catch((err) => this.report(err, fop));
    }
    await this.opts.graph.sessionEnded(session).catch((err) => this.report(err, 'sessionEnded'));
  }

  private report(err: unknown, what: string): void {
    console.error(
      `brick ${this.opts.exportName}: ${what}: ${err instanceof Error ? err.stack : String(err)}`,
    );
  }
}

/** Fds left for sessions: the process's limit less room for sockets, volfiles and logs. */
function defaultMaxFds(): number {
  let soft = 1024;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) soft = m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    // not Linux: the conservative default
  }
  return Math.max(256, soft - 2048);
}
