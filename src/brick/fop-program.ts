/**
 * The FOP program (1298437 v400) on a brick: decodes each call with the FOP table,
 * turns wire fd numbers into the session's OpenFds (src/xlator/wire.ts), runs the fop
 * down the brick graph and encodes the reply. Failures become op_ret -1 with the errno
 * and zeroed fields, as stock bricks send them, plus whatever xdata the FopError carries.
 */
import { RpcError, type RpcContext, type RpcHandler, type RpcProgram } from '../rpc/index.js';
import {
  FopError,
  Fops,
  Program,
  fopDef,
  hasPayload,
  payloadChunks,
  zeroValue,
  type FopArgs,
  type FopName,
  type FopResults,
  type Payload,
} from '../protocol/index.js';
import {
  openedFd,
  requestFromWire,
  resultsToWire,
  type Caller,
  type FopContext,
  type FopRequest,
  type Layer,
} from '../xlator/index.js';
import { callerFrom, type BrickConnectionState, type BrickSession } from './session.js';

export interface FopProgramOptions {
  /** The top of the brick graph: the layer clients name as remote-subvolume. */
  top: Layer;
  /** Reports unexpected (non-FopError) failures; they still answer EIO. */
  onError?: (err: unknown, fop: FopName) => void;
  /** Who the brick acts for, from the caller the credential names (root-squash). */
  actingAs?: (caller: Caller, session: BrickSession) => Caller;
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

function fopHandler<N extends FopName>(name: N, opts: FopProgramOptions): RpcHandler<BrickConnectionState> {
  const def = fopDef(name);
  const withPayload = hasPayload(def.results);
  // The failure reply: the procedure's zero value, computed at the first failure (finding
  // it decodes many zero runs: done for every procedure at start, it slowed the brick's
  // boot by a tenth of a second or more), then copied per use.
  let failureTemplate: FopResults<N> | undefined;
  return async (rpc: RpcContext<BrickConnectionState>) => {
    const session = rpc.conn.state?.session;
    // Stock bricks answer any FOP before a successful SETVOLUME with GARBAGE_ARGS.
    if (!session) throw new RpcError('GARBAGE_ARGS', `${name} before SETVOLUME`);
    const args = def.args.read(rpc.args);
    rpc.args.finish();

    let results: FopResults<N>;
    try {
      const caller = callerFrom(rpc.cred);
      results = await runFop(name, args, session, opts.actingAs?.(caller, session) ?? caller, opts.top);
    } catch (err) {
      const fopErr = FopError.from(err);
      if (!(err instanceof FopError)) opts.onError?.(err, name);
      const failed = { opRet: -1, opErrno: fopErr.errno, xdata: fopErr.xdata };
      failureTemplate ??= zeroValue(def.results);
      results = { ...failureTemplate, ...failed, ...(withPayload ? { payload: EMPTY } : {}) };
    }
    const written = results;
    const payload = withPayload ? payloadChunks((written as { payload: Payload }).payload) : undefined;
    return { results: (w) => def.results.write(w, written), ...(payload ? { payload } : {}) };
  };
}

const EMPTY = Buffer.alloc(0);

async function runFop<N extends FopName>(
  name: N,
  args: FopArgs<N>,
  session: BrickSession,
  caller: Caller,
  top: Layer,
): Promise<FopResults<N>> {
  const def = fopDef(name);
  let releasing: number | undefined;
  let req: FopRequest<N>;
  try {
    req = requestFromWire(name, args, (n) => {
      if (def.releases) releasing = n;
      return session.fds.get(n);
    });
  } catch (err) {
    // RELEASE never fails (stock): an unknown fd is already released.
    if (def.releases) return resultsToWire(name, undefined);
    throw err;
  }
  const ctx: FopContext = { caller, session };
  const reply = await top.call(name, req, ctx);
  if (releasing !== undefined) session.fds.release(releasing);
  const opened = openedFd(name, req);
  return resultsToWire(name, reply, opened && session.fds.allocate(opened));
}
