/**
 * The management daemon (the glusterd role). Today it answers GF-DUMP (DUMP, PING) and
 * the handshake PING on TCP and, optionally, a unix socket; volumes, volfiles and
 * portmap arrive with the volume service.
 */
import type { Server } from 'node:net';
import { RpcServer, type RpcProgram } from '../rpc/index.js';
import { DumpProcs, HandshakeProcs, Program, procedureHandler } from '../protocol/index.js';

export interface DaemonOptions {
  host: string;
  port: number;
  /** A unix socket to listen on as well (for `gluster+unix://`). */
  socketPath?: string;
}

export interface Daemon {
  /** The TCP address actually bound (port 0 picks a free port). */
  address: { host: string; port: number };
  programs: readonly RpcProgram[];
  close(): Promise<void>;
}

const pingResult = () => ({ opRet: 0, opErrno: 0, xdata: Buffer.alloc(0) });

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const rpc = new RpcServer();
  rpc.register({
    ...Program.DUMP,
    name: 'GF-DUMP',
    procs: {
      [DumpProcs.NULL.proc]: () => undefined,
      [DumpProcs.DUMP.proc]: procedureHandler(DumpProcs.DUMP, () => ({
        gfsId: 0n,
        opRet: 0,
        opErrno: 0,
        progs: rpc.programs.map((p) => ({ progname: p.name, prognum: p.prog, progver: p.vers })),
      })),
      [DumpProcs.PING.proc]: procedureHandler(DumpProcs.PING, pingResult),
    },
  });
  rpc.register({
    ...Program.HANDSHAKE,
    name: 'Gluster Handshake',
    procs: {
      [HandshakeProcs.NULL.proc]: () => undefined,
      [HandshakeProcs.PING.proc]: procedureHandler(HandshakeProcs.PING, pingResult),
    },
  });
  const servers: Server[] = [await rpc.listen({ host: opts.host, port: opts.port })];
  if (opts.socketPath) servers.push(await rpc.listen({ path: opts.socketPath }));
  const bound = servers[0]!.address();
  const port = typeof bound === 'object' && bound ? bound.port : opts.port;
  return {
    address: { host: opts.host, port },
    programs: rpc.programs,
    close: () => rpc.close(),
  };
}
