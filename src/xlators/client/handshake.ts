/**
 * One connection attempt of protocol/client, as stock's client-handshake.c makes it:
 *
 *     connect host:port ─► DUMP (v2) ─┬─ Portmap listed (glusterd): PORTBYBRICK, close,
 *                                     │  connect host:<brick port> ─► DUMP (v2) ─┐
 *                                     └─ no Portmap (a brick) ──────────────────┴─►
 *     1298437/400 listed? ─► SETVOLUME (v3) ─► op_ret ≥ 0: the session is established
 *
 * Every step is bounded by `timeoutMs` and by `signal`. Failures are HandshakeErrors;
 * `refused` marks the answers that will not change by retrying (the brick or portmap
 * does not know remote-subvolume, or authentication failed).
 */
import { GlusterTsError } from '../../errors/index.js';
import { RpcClient } from '../../rpc/client.js';
import { connectReading } from '../../rpc/socket-reader.js';
import { connectTls, type TlsConfig } from '../../rpc/tls.js';
import { encodeCredential, glusterV2, glusterV3 } from '../../rpc/auth.js';
import {
  callProcedure,
  DumpProcs,
  DUMP_GFS_ID,
  Errno,
  errnoName,
  HandshakeProcs,
  legacyString,
  PortmapProcs,
  Program,
  SetvolumeKeys,
  type LegacyDict,
  type ProgDetail,
} from '../../protocol/index.js';
import type { OpaqueAuth } from '../../rpc/message.js';

export { GLUSTERD_PORT } from '../../protocol/portmap.js';
import { GLUSTERD_PORT } from '../../protocol/portmap.js';

const V2: OpaqueAuth = encodeCredential(glusterV2(0));
const V3: OpaqueAuth = encodeCredential(glusterV3(0));

export interface HandshakeConfig {
  host: string;
  /** Where to connect first (remote-port, or 24007). */
  port: number;
  family: 4 | 6 | undefined;
  /** transport.socket.source-addr: the local address to connect from. */
  localAddress?: string;
  /** remote-subvolume. */
  brick: string;
  /** Bound on the TCP connect and on each call; 0 = none. */
  timeoutMs: number;
  keepAlive: boolean;
  keepAliveDelayMs: number;
  /** TLS to the brick (transport.socket.ssl-enabled); none = plain TCP. */
  tls?: TlsConfig;
  /** TLS to glusterd's port 24007 (secure-access); stock picks by that port number too. */
  mgmtTls?: TlsConfig;
  /** The SETVOLUME dict (built per attempt: RECON_NO changes). */
  setvolume: LegacyDict;
  signal: AbortSignal;
}

/** HANDSHAKE_REFUSED: the brick or portmap said no; HANDSHAKE_FAILED: anything else. */
export class HandshakeError extends GlusterTsError {
  static readonly codes = ['HANDSHAKE_REFUSED', 'HANDSHAKE_FAILED'] as const;

  constructor(
    message: string,
    /** A refusal that retrying will not change (the brick or portmap said no). */
    readonly refused: boolean,
    /** The errno the peer answered with; ENOTCONN when it did not answer. */
    errno: number = Errno.ENOTCONN,
    options?: { cause?: unknown; brickNotRunning?: boolean },
  ) {
    super(refused ? 'HANDSHAKE_REFUSED' : 'HANDSHAKE_FAILED', errno, message, options);
    this.brickNotRunning = options?.brickNotRunning ?? false;
  }

  /** Portmap has no port for the brick: it is not running now (down, restarting), maybe later. */
  readonly brickNotRunning: boolean;
}

export interface Established {
  rpc: RpcClient;
  /** The brick's port (the one actually connected to). */
  port: number;
  reply: LegacyDict;
}

function hasProgram(progs: readonly ProgDetail[], p: { prog: number; vers: number }): boolean {
  return progs.some((d) => d.prognum === p.prog && d.progver === p.vers);
}

/** Opens a TCP (or, with `tls`, TLS) connection, bounded by the timeout and the signal. */
export function connectRpc(
  cfg: Pick<
    HandshakeConfig,
    'host' | 'family' | 'localAddress' | 'timeoutMs' | 'keepAlive' | 'keepAliveDelayMs' | 'signal'
  >,
  port: number,
  tls?: TlsConfig,
): Promise<RpcClient> {
  return new Promise((resolve, reject) => {
    if (cfg.signal.aborted) return reject(new HandshakeError('stopped', false));
    const target = {
      host: cfg.host,
      port,
      ...(cfg.family ? { family: cfg.family } : {}),
      ...(cfg.localAddress ? { localAddress: cfg.localAddress } : {}),
    };
    // Large plain READ replies are read straight into their records (SocketReader); TLS
    // decrypts into its own buffers.
    const { socket, reader } = tls
      ? { socket: connectTls(tls, target), reader: undefined }
      : connectReading(target);
    const ready = tls ? 'secureConnect' : 'connect';
    const done = (err?: Error): void => {
      clearTimeout(timer);
      cfg.signal.removeEventListener('abort', onAbort);
      socket.off('error', done);
      socket.off(ready, onConnect);
      if (err) {
        socket.destroy();
        reject(
          new HandshakeError(`connect ${cfg.host}:${port}: ${err.message}`, false, undefined, { cause: err }),
        );
      }
    };
    const onAbort = (): void => done(new Error('stopped'));
    const onConnect = (): void => {
      done();
      socket.setNoDelay(true);
      socket.setKeepAlive(cfg.keepAlive, cfg.keepAliveDelayMs);
      resolve(new RpcClient(socket, reader ? { reader } : {}));
    };
    const timer =
      cfg.timeoutMs > 0
        ? setTimeout(() => done(new Error(`timed out after ${cfg.timeoutMs} ms`)), cfg.timeoutMs)
        : undefined;
    cfg.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', done);
    socket.once(ready, onConnect);
  });
}

/**
 * Runs the whole handshake. On success the connection is ready for v400 FOPs with v3
 * credentials; on failure every socket it opened is closed.
 */
export async function establish(cfg: HandshakeConfig): Promise<Established> {
  let port = cfg.port;
  let hopped = false;
  for (;;) {
    const rpc = await connectRpc(cfg, port, hopped || port !== GLUSTERD_PORT ? cfg.tls : cfg.mgmtTls);
    const where = `${cfg.host}:${port}`;
    const v2 = { cred: V2, timeoutMs: cfg.timeoutMs, signal: cfg.signal };
    const v3 = { ...v2, cred: V3 };
    try {
      const dump = await callProcedure(rpc, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID }, v2);
      if (dump.opRet < 0) throw new HandshakeError(`DUMP on ${where} failed`, false);
      if (hasProgram(dump.progs, Program.PORTMAP)) {
        if (hopped)
          throw new HandshakeError(
            `${where}, the port portmap gave for ${cfg.brick}, is glusterd again`,
            false,
          );
        const pm = await callProcedure(
          rpc,
          Program.PORTMAP,
          PortmapProcs.PORTBYBRICK,
          { brick: cfg.brick },
          v2,
        );
        if (pm.opRet < 0 || pm.port <= 0 || pm.port > 65535) {
          throw new HandshakeError(
            `portmap on ${where} knows no brick ${cfg.brick} (PORTBYBRICK: op_ret ${pm.opRet}, port ${pm.port})`,
            true,
            Errno.ENOENT,
            { brickNotRunning: true },
          );
        }
        rpc.close();
        port = pm.port;
        hopped = true;
        continue;
      }
      if (!hasProgram(dump.progs, Program.FOP)) {
        throw new HandshakeError(
          `${where} does not offer the FOP program ${Program.FOP.prog}/${Program.FOP.vers} ` +
            `(offers ${dump.progs.map((p) => `${p.prognum}/${p.progver}`).join(', ') || 'nothing'})`,
          false,
        );
      }
      const sv = await callProcedure(
        rpc,
        Program.HANDSHAKE,
        HandshakeProcs.SETVOLUME,
        { dict: cfg.setvolume },
        v3,
      );
      if (sv.opRet < 0) {
        const why = legacyString(sv.dict, SetvolumeKeys.ERROR) ?? errnoName(sv.opErrno);
        const refused = sv.opErrno === Errno.EACCES || sv.opErrno === Errno.ENOENT;
        throw new HandshakeError(
          `brick ${where} refused remote-subvolume ${cfg.brick}: ${why} (${errnoName(sv.opErrno)})`,
          refused,
          sv.opErrno,
        );
      }
      return { rpc, port, reply: sv.dict };
    } catch (err) {
      rpc.close();
      if (err instanceof HandshakeError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new HandshakeError(`handshake with ${where} for ${cfg.brick} failed: ${msg}`, false, undefined, {
        cause: err,
      });
    }
  }
}
