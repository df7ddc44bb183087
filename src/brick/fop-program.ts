/**
 * The FOP program (1298437 v400) on a brick: decodes each call with the FOP table,
 * turns wire fd numbers into the session's OpenFds, runs the fop down the brick graph
 * and encodes the reply. Failures become op_ret -1 with the errno and zeroed fields,
 * as stock bricks send them, plus whatever xdata the FopError carries.
 */
import { RpcError, type RpcContext, type RpcHandler, type RpcProgram } from '../rpc/index.js';
import {
  DictType,
  Errno,
  FopError,
  Fops,
  NULL_GFID,
  Program,
  hasPayload,
  payloadChunks,
  zeroValue,
  type FopName,
  type Payload,
} from '../protocol/index.js';
import { ANONYMOUS_FD, OpenFd, type FopContext, type Layer } from '../xlator/index.js';
import { callerFrom, type BrickConnectionState, type BrickSession } from './session.js';

const O_DIRECTORY_FOPS = new Set<FopName>(['OPENDIR']);
const OPENS: ReadonlySet<FopName> = new Set<FopName>(['OPEN', 'CREATE', 'OPENDIR']);
const RELEASES: ReadonlySet<FopName> = new Set<FopName>(['RELEASE', 'RELEASEDIR']);
const FD_FIELDS = ['fd', 'fdIn', 'fdOut'] as const;

export interface FopProgramOptions {
  /** The top of the brick graph: the layer clients name as remote-subvolume. */
  top: Layer;
  /** Reports unexpected (non-FopError) failures; they still answer EIO. */
  onError?: (err: unknown, fop: FopName) => void;
}

export function fopProgram(opts: FopProgramOptions): RpcProgram<BrickConnectionState> {
  const procs = new Map<number, RpcHandler<BrickConnectionState>>();
  for (const name of Object.keys(Fops) as FopName[]) {
    if (name === 'NULL') continue;
    procs.set(Fops[name].proc, fopHandler(name, opts));
  }
  procs.set(Fops.NULL.proc, () => undefined);
  return { ...Program.FOP, name: 'GlusterFS 4.x v1', procs };
}

function fopHandler(name: FopName, opts: FopProgramOptions): RpcHandler<BrickConnectionState> {
  const def = Fops[name];
  // The failure reply: the procedure's zero value, computed once, copied per use.
  const failureTemplate = zeroValue(def.results as never) as Record<string, unknown>;
  return async (rpc: RpcContext<BrickConnectionState>) => {
    const session = rpc.conn.state?.session;
    // Stock bricks answer any FOP before a successful SETVOLUME with GARBAGE_ARGS.
    if (!session) throw new RpcError('GARBAGE_ARGS', `${name} before SETVOLUME`);
    const args = def.args.read(rpc.args) as Record<string, unknown>;
    rpc.args.finish();

    let results: Record<string, unknown>;
    try {
      results = await runFop(name, args, session, rpc, opts.top);
    } catch (err) {
      const fopErr = FopError.from(err);
      if (!(err instanceof FopError)) opts.onError?.(err, name);
      results = { ...failureTemplate, opRet: -1, opErrno: fopErr.errno, xdata: fopErr.xdata };
      if (hasPayload(def.results)) results.payload = EMPTY;
    }
    const payload = hasPayload(def.results) ? payloadChunks(results.payload as Payload) : undefined;
    return { results: (w) => def.results.write(w, results as never), ...(payload ? { payload } : {}) };
  };
}

const EMPTY = Buffer.alloc(0);

async function runFop(
  name: FopName,
  args: Record<string, unknown>,
  session: BrickSession,
  rpc: RpcContext<BrickConnectionState>,
  top: Layer,
): Promise<Record<string, unknown>> {
  const req: Record<string, unknown> = { ...args };
  let releasing: number | undefined;
  for (const field of FD_FIELDS) {
    if (!(field in args) || OPENS.has(name)) continue;
    const n = args[field] as number;
    const gfid = (field === 'fdOut' ? args.gfid2 : (args.gfid ?? args.gfid1)) as Buffer;
    if (n === ANONYMOUS_FD) {
      req[field] = OpenFd.anonymous(gfid);
      continue;
    }
    const fd = session.fds.get(n);
    if (!fd) {
      // RELEASE never fails (stock): an unknown fd is already released.
      if (RELEASES.has(name)) return { opRet: 0, opErrno: 0, xdata: new Map() };
      throw new FopError(Errno.EBADF, `${name}: fd ${n} is not open on this connection`);
    }
    req[field] = fd;
    if (RELEASES.has(name)) releasing = n;
  }
  let opened: OpenFd | undefined;
  if (OPENS.has(name)) {
    const gfid = name === 'CREATE' ? gfidReq(args) : (args.gfid as Buffer);
    const flags = name === 'OPENDIR' ? 0 : (args.flags as number);
    opened = new OpenFd(gfid, flags, O_DIRECTORY_FOPS.has(name));
    req.fd = opened;
  }
  const ctx: FopContext = { caller: callerFrom(rpc.cred), session };
  const reply = (await top.call(name, req as never, ctx)) as Record<string, unknown>;
  if (releasing !== undefined) session.fds.release(releasing);
  const results: Record<string, unknown> = { ...reply, opRet: reply.opRet ?? 0, opErrno: reply.opErrno ?? 0 };
  if (opened) results.fd = session.fds.allocate(opened);
  // RELEASE(DIR) replies carry an empty (not NULL) dict, like stock.
  if (RELEASES.has(name) && results.xdata == null) results.xdata = new Map();
  return results;
}

/** The gfid a client asks a new inode to get (CREATE's xdata `gfid-req`). */
function gfidReq(args: Record<string, unknown>): Buffer {
  const v = (args.xdata as Map<string, { type: DictType; value: unknown }> | null)?.get('gfid-req');
  return v?.type === DictType.GFUUID ? (v.value as Buffer) : NULL_GFID;
}
