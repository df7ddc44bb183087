/**
 * Where the graph meets the wire. Wire values (src/protocol/fops.ts) carry fd numbers;
 * graph values (translator.ts) carry OpenFds, and replies leave out op_errno and the new
 * fd. The brick converts wire → graph → wire, protocol/client graph → wire → graph; both
 * do it here, from each FOP row's fd use (`opens`, `releases`, `fds`), so this is the
 * one place the two shapes are told apart.
 */
import { DictType, type GfxDict } from '../protocol/dict.js';
import { Errno, FopError } from '../protocol/errno.js';
import { fdFields, fopDef, type FopArgs, type FopName, type FopResults } from '../protocol/fops.js';
import { NULL_GFID } from '../protocol/gfid.js';
import { ANONYMOUS_FD, OpenFd } from './fd.js';
import type { FopReply, FopRequest } from './translator.js';

type Fields = Record<string, unknown>;

/**
 * Brick side: the graph's request for a decoded call. Each fd number becomes the OpenFd
 * `fdOf` finds (EBADF when none), the anonymous fd a fresh anonymous OpenFd on the inode
 * its gfid field names; OPEN, CREATE and OPENDIR get a new OpenFd in `fd`.
 */
export function requestFromWire<N extends FopName>(
  name: N,
  args: FopArgs<N>,
  fdOf: (n: number) => OpenFd | undefined,
): FopRequest<N> {
  const wire = args as Fields;
  const req: Fields = { ...wire };
  for (const [field, gfidField] of fdFields(name)) {
    const n = wire[field] as number;
    const fd = n === ANONYMOUS_FD ? OpenFd.anonymous(wire[gfidField] as Buffer) : fdOf(n);
    if (!fd) throw new FopError(Errno.EBADF, `${name}: fd ${n} is not open on this connection`);
    req[field] = fd;
  }
  const opens = fopDef(name).opens;
  if (opens) {
    // CREATE names no inode yet: the new one gets the gfid the client asked for.
    const gfid = name === 'CREATE' ? gfidReq(wire.xdata as GfxDict) : (wire.gfid as Buffer);
    req.fd = new OpenFd(gfid, opens === 'dir' ? 0 : (wire.flags as number), opens === 'dir');
  }
  return req as FopRequest<N>;
}

/**
 * Brick side: the wire reply for the graph's reply: op_ret and op_errno default to 0,
 * opening fops carry `fd` (the new fd's number), RELEASE(DIR) an empty (not NULL) dict
 * as stock sends. No reply: a RELEASE(DIR) of an fd that is not open, which succeeds.
 */
export function resultsToWire<N extends FopName>(
  name: N,
  reply: FopReply<N> | undefined,
  fd?: number,
): FopResults<N> {
  if (!reply && !fopDef(name).releases) throw new Error(`${name}: a reply is required`);
  const r = (reply ?? {}) as Fields;
  const results: Fields = { ...r, opRet: r.opRet ?? 0, opErrno: r.opErrno ?? 0 };
  if (fd !== undefined) results.fd = fd;
  if (fopDef(name).releases && results.xdata == null) results.xdata = new Map();
  return results as FopResults<N>;
}

/** The new OpenFd an opening fop (OPEN, CREATE, OPENDIR) carries; undefined for other fops. */
export function openedFd<N extends FopName>(name: N, req: FopRequest<N>): OpenFd | undefined {
  const fd = (req as Fields).fd;
  return fopDef(name).opens && fd instanceof OpenFd ? fd : undefined;
}

/**
 * Client side: the wire arguments for a graph request. Each OpenFd becomes the number
 * `numberOf` gives (it decides about the anonymous fd and EBADF); opening fops send no fd.
 */
export function requestToWire<N extends FopName>(
  name: N,
  req: FopRequest<N>,
  numberOf: (fd: unknown) => number,
): FopArgs<N> {
  const r = req as Fields;
  const args: Fields = { ...r };
  for (const [field] of fdFields(name)) args[field] = numberOf(r[field]);
  if (fopDef(name).opens) delete args.fd;
  return args as FopArgs<N>;
}

/** Client side: a successful wire reply for the graph, with the new fd's number split off. */
export function resultsFromWire<N extends FopName>(
  name: N,
  results: FopResults<N>,
): { reply: FopReply<N>; fd: unknown } {
  const { fd, ...reply } = results as Fields;
  if (fopDef(name).opens) return { reply: reply as FopReply<N>, fd };
  return { reply: results as FopReply<N>, fd: undefined };
}

/** The gfid a client asks a new inode to get (CREATE's xdata `gfid-req`). */
function gfidReq(xdata: GfxDict): Buffer {
  const v = xdata?.get('gfid-req');
  return v?.type === DictType.GFUUID ? v.value : NULL_GFID;
}
