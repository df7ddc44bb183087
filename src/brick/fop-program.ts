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
  MAX_IO,
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
import { callerFrom, SYSTEM_CALLER, type BrickConnectionState, type BrickSession } from './session.js';

export interface FopProgramOptions {
  /** The top of the brick graph: the layer clients name as remote-subvolume. */
  top: Layer;
  /** Reports unexpected (non-FopError) failures; they still answer EIO. */
  onError?: (err: unknown, fop: FopName) => void;
  /** Who the brick acts for, from the caller the credential names (root-squash). */
  actingAs?: (caller: Caller, session: BrickSession) => Caller;
  /** A limit refused a call (rate-limited by the caller). */
  onLimit?: (reason: string, detail: string) => void;
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
    // A READ's reply buffer counts against the connection's and the brick's bytes in flight
    // before it is allocated: 64 pipelined 512 MiB READs wait their turn instead of asking
    // for 32 GiB at once. Sizes beyond MAX_IO are refused below without allocating.
    const replyBytes = name === 'READ' ? (args as FopArgs<'READ'>).size : 0;
    if (replyBytes > 0 && replyBytes <= MAX_IO) await rpc.conn.reserve(rpc.charge, replyBytes);

    let results: FopResults<N>;
    try {
      const caller = callerFrom(rpc.cred);
      results = await runFop(name, args, session, opts.actingAs?.(caller, session) ?? caller, opts);
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
  opts: FopProgramOptions,
): Promise<FopResults<N>> {
  const { top } = opts;
  const def = fopDef(name);
  // Refused before anything is opened when the session (or the brick) holds its bound.
  if (def.opens) {
    try {
      session.fds.checkRoom();
    } catch (err) {
      opts.onLimit?.('max-fds', `${name} from session ${session.id}: ${(err as Error).message}`);
      throw err;
    }
  }
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
  if (!opened) return resultsToWire(name, reply);
  let number: number;
  try {
    number = session.fds.allocate(opened);
  } catch (err) {
    // The session ended while the OPEN ran, or another OPEN took the last slot: the fd
    // was opened below and nobody will ever RELEASE it, so it is released here.
    const release = opened.isDirectory ? 'RELEASEDIR' : 'RELEASE';
    await top
      .call(release, { gfid: opened.gfid, fd: opened, xdata: null }, { caller: SYSTEM_CALLER, session })
      .catch((e: unknown) => opts.onError?.(e, release));
    throw err;
  }
  return resultsToWire(name, reply, number);
}
