// A fake brick for hostile-server tests: a raw net.Server that answers the handshake
// correctly (DUMP without Portmap, SETVOLUME ok, PING) unless told otherwise, and hands
// every other call to the scenario, which may answer with anything at all.
import net from 'node:net';
import { once } from 'node:events';
import { XdrReader } from '../../../src/xdr/index.js';
import {
  AcceptStat,
  AUTH_NONE_VERIFIER,
  MsgType,
  readHeader,
  RecordDecoder,
  ReplyStat,
  startRecord,
  endRecord,
  writeCallHeader,
  successReply,
  type CallHeader,
  type ReplyHeader,
} from '../../../src/rpc/index.js';
import {
  CallbackProcs,
  DumpProcs,
  encodeReply,
  findProgram,
  HandshakeProcs,
  legacyDict,
  PortmapProcs,
  Program,
  type ProcDef,
  type ProgDetail,
} from '../../../src/protocol/index.js';

export const BRICK_PROGS: ProgDetail[] = [
  { progname: 'GlusterFS 4.x v1', prognum: 1298437, progver: 400 },
  { progname: 'GF-DUMP', prognum: 123451501, progver: 1 },
  { progname: 'GlusterFS Handshake', prognum: 14398633, progver: 2 },
];
export const GLUSTERD_PROGS: ProgDetail[] = [
  { progname: 'GF-DUMP', prognum: 123451501, progver: 1 },
  { progname: 'Gluster Portmap', prognum: 34123456, progver: 1 },
  { progname: 'Gluster Handshake', prognum: 14398633, progver: 2 },
];

export interface IncomingCall {
  header: CallHeader;
  record: Buffer;
  /** The procedure's definition, when the program is known. */
  def: ProcDef | undefined;
  /** Decoded arguments (undefined if they did not decode). */
  args: any;
}

export class FakeConn {
  constructor(readonly socket: net.Socket) {}

  write(...chunks: Buffer[]): void {
    if (!this.socket.destroyed) for (const c of chunks) this.socket.write(c);
  }

  reply(
    xid: number,
    def: Omit<ProcDef, 'name'>,
    results: unknown,
    header: ReplyHeader = successReply(xid),
  ): void {
    this.write(...encodeReply(header, def as ProcDef, results));
  }

  /** A reply header with another accept_stat, no results. */
  status(xid: number, acceptStat: AcceptStat): void {
    this.write(
      ...encodeReply(
        { xid, replyStat: ReplyStat.MSG_ACCEPTED, verf: AUTH_NONE_VERIFIER, acceptStat },
        DumpProcs.NULL as never,
      ),
    );
  }

  /** A SUCCESS header for xid followed by raw bytes, in one well-framed record. */
  rawReply(xid: number, body: Buffer): void {
    const w = startRecord();
    w.u32(xid).u32(MsgType.REPLY).u32(ReplyStat.MSG_ACCEPTED).u32(0).u32(0).u32(AcceptStat.SUCCESS);
    w.raw(body);
    this.write(endRecord(w));
  }

  /** A server → client CALL (callback) with raw arguments. */
  callback(xid: number, prog: number, vers: number, proc: number, args = Buffer.alloc(0)): void {
    const w = startRecord();
    writeCallHeader(w, { xid, prog, vers, proc, cred: AUTH_NONE_VERIFIER, verf: AUTH_NONE_VERIFIER });
    w.raw(args);
    this.write(endRecord(w));
  }
}

export interface FakeBrickOptions {
  progs?: ProgDetail[];
  /** Called when a client connects, before anything is read. */
  onConnect?(conn: FakeConn): void;
  /** SETVOLUME's answer; default op_ret 0. */
  setvolume?(call: IncomingCall, conn: FakeConn): void;
  /** PORTBYBRICK's answer (only asked when progs list Portmap). */
  portByBrick?(call: IncomingCall, conn: FakeConn): void;
  /** Answer PINGs (default true). */
  answerPing?: boolean;
  /** Every FOP call. Default: no answer. */
  onFop?(call: IncomingCall, conn: FakeConn): void;
}

export class FakeBrick {
  readonly connections: FakeConn[] = [];
  readonly calls: IncomingCall[] = [];
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(opts: FakeBrickOptions, host = '127.0.0.35'): Promise<FakeBrick> {
    const server = net.createServer();
    server.listen(0, host);
    await once(server, 'listening');
    const brick = new FakeBrick(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (socket) => brick.serve(socket, opts));
    return brick;
  }

  private serve(socket: net.Socket, opts: FakeBrickOptions): void {
    const conn = new FakeConn(socket);
    this.connections.push(conn);
    socket.on('error', () => undefined);
    const decoder = new RecordDecoder();
    opts.onConnect?.(conn);
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      try {
        for (let record = decoder.next(); record; record = decoder.next()) this.dispatch(record, conn, opts);
      } catch {
        socket.destroy();
      }
    });
  }

  private dispatch(record: Buffer, conn: FakeConn, opts: FakeBrickOptions): void {
    const r = new XdrReader(record);
    const h = readHeader(r);
    if (h.type !== MsgType.CALL) return;
    const def = findProgram(h.prog, h.vers)?.procs.get(h.proc);
    let args: unknown;
    try {
      args = def?.args.read(r);
    } catch {
      args = undefined;
    }
    const call: IncomingCall = { header: h, record, def, args };
    this.calls.push(call);
    const is = (p: { prog: number; vers: number }, proc: number) =>
      h.prog === p.prog && h.vers === p.vers && h.proc === proc;
    if (is(Program.DUMP, DumpProcs.DUMP.proc)) {
      conn.reply(h.xid, DumpProcs.DUMP, {
        gfsId: 0n,
        opRet: 0,
        opErrno: 0,
        progs: opts.progs ?? BRICK_PROGS,
      });
    } else if (is(Program.DUMP, DumpProcs.PING.proc)) {
      if (opts.answerPing ?? true)
        conn.reply(h.xid, DumpProcs.PING, { opRet: 0, opErrno: 0, xdata: Buffer.alloc(0) });
    } else if (is(Program.HANDSHAKE, HandshakeProcs.SETVOLUME.proc)) {
      if (opts.setvolume) opts.setvolume(call, conn);
      else
        conn.reply(h.xid, HandshakeProcs.SETVOLUME, {
          opRet: 0,
          opErrno: 0,
          dict: legacyDict({ ERROR: 'Success', child_up: '1' }),
        });
    } else if (is(Program.PORTMAP, PortmapProcs.PORTBYBRICK.proc)) {
      opts.portByBrick?.(call, conn);
    } else if (h.prog === Program.FOP.prog) {
      opts.onFop?.(call, conn);
    }
  }

  /** Drops every client connection (the client sees a disconnect). */
  dropAll(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export { CallbackProcs };
