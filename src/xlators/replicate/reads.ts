/**
 * LOOKUP and the fops that read: LOOKUP goes to every up brick (with the changelog keys) and
 * learns which bricks hold readable data and metadata; reads go to one readable brick, chosen
 * as stock does (read-child.ts), and fail over to the next readable brick when that one is
 * unreachable (or a READ fails EIO there). No readable brick at all is a split-brain: EIO. Without client quorum reads fail
 * with ENOTCONN, as in GlusterFS 10. A brick that rejoined moments ago is not read for a file
 * under a transaction (distrustRejoined).
 */
import { strValue, uintValue, type Dict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import type { FopName } from '../../protocol/fops.js';
import { NULL_GFID } from '../../protocol/gfid.js';
import { zeroIatt } from '../../protocol/iatt.js';
import type { Success } from '../../xlator/fanout.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopReply, FopRequest, FopTable } from '../../xlator/translator.js';
import { TxnType, type BrickChangelog } from './changelog.js';
import { readableFrom } from './heal-direction.js';
import { fixOpen } from './open-fds.js';
import { chooseReadChild } from './read-child.js';
import { commonErrno, isNotConnected, Replica, type ChildResult, type InodeState } from './replica.js';

/** Which readable set a read fop needs. */
const DATA_READS = new Set<FopName>(['READ', 'SEEK', 'RCHECKSUM', 'FSTAT', 'STAT', 'READDIR', 'READDIRP']);

const SPLIT_BRAIN_STATUS = 'replica.split-brain-status';

interface LookupOutcome {
  replies: ChildResult<FopReply<'LOOKUP'>>[];
  state: InodeState | undefined;
}

/**
 * How long after a brick rejoined its copy of a file under a transaction is not read. A stock
 * client whose eager lock was taken while the brick was away charges it only in that lock's
 * post-op, which comes at its first write after the return or post-op-delay-secs (1 s) after
 * its last one; until then the survivors show `dirty` and no accusation. The brick's
 * features/rejoin-guard covers clients that reconnect; this covers this client's first
 * connection to it, which the brick cannot tell from a volume start (docs/replication.md).
 * The same bound as the guard's default guard-seconds.
 */
export const REJOIN_READ_WINDOW_MS = 5000;
/** Stock AFR's LOOKUP key: inodelks granted or waiting on the inode, in any domain. */
const INODELK_COUNT = 'glusterfs.inodelk-count';

/** LOOKUP on every up brick; records the inode's readable sets. */
export async function lookupAll(
  r: Replica,
  req: FopRequest<'LOOKUP'>,
  ctx: FopContext,
): Promise<LookupOutcome> {
  const up = r.upVector();
  r.requireQuorum(up, 'LOOKUP');
  const generation = r.generation;
  const which = up.flatMap((u, i) => (u ? [i] : []));
  const xdata = r.changelogRequest(req.xdata);
  xdata.set(INODELK_COUNT, uintValue(0));
  const replies = await r.fanOut(which, 'LOOKUP', { ...req, xdata }, ctx);
  const ok = replies.filter((x) => x.ok);
  if (!ok.length) return { replies, state: undefined };
  const gfid = ok[0]!.value.prestat.gfid;
  if (ok.some((x) => !x.value.prestat.gfid.equals(gfid)))
    throw new FopError(
      Errno.EIO,
      `${r.domain}: gfid mismatch between bricks for ${req.bname || 'a nameless lookup'} (split-brain)`,
    );
  const changelogs = r.cfg.children.map((_, i) => {
    const reply = ok.find((x) => x.target === i);
    return reply ? r.changelogOf(reply.value.xdata) : undefined;
  });
  const st = r.inode(gfid);
  st.isDirectory = (ok[0]!.value.prestat.mode & 0o170000) === 0o040000;
  st.metadataReadable = readableFrom(TxnType.METADATA, changelogs);
  st.dataReadable = readableFrom(st.isDirectory ? TxnType.ENTRY : TxnType.DATA, changelogs).map(
    (readable, i) => readable && (st.isDirectory || !r.isArbiter(i)),
  );
  st.recheckAt = 0;
  if (!st.isDirectory) distrustRejoined(r, st, changelogs, ok, up);
  st.generation = generation;
  return { replies, state: st };
}

/**
 * A file possibly under a transaction (a dirty mark, an inodelk held: stock's
 * afr_is_possibly_under_txn looks at the same count) is not read from a brick that rejoined
 * moments ago while another readable brick is up: the survivors may not accuse it yet
 * (REJOIN_READ_WINDOW_MS). The readable sets are looked at again when the window ends.
 */
function distrustRejoined(
  r: Replica,
  st: InodeState,
  changelogs: readonly (BrickChangelog | undefined)[],
  ok: readonly Success<FopReply<'LOOKUP'>>[],
  up: readonly boolean[],
): void {
  const locked = ok.some((x) => Number(x.value.xdata?.get(INODELK_COUNT)?.value ?? 0) > 0);
  const dirty = changelogs.some((c) => c && c.dirty[TxnType.DATA] !== 0);
  if (!locked || !dirty) return;
  const rejoined = r.rejoinedWithin(REJOIN_READ_WINDOW_MS);
  const trusted = st.dataReadable!.map((x, i) => x && rejoined[i] === undefined);
  if (!trusted.some((x, i) => x && up[i])) return;
  const left = rejoined.filter((at, i): at is number => at !== undefined && st.dataReadable![i]!);
  if (!left.length) return;
  st.dataReadable = trusted;
  st.recheckAt = Math.min(...left) + REJOIN_READ_WINDOW_MS;
}

/** The inode's readable sets, refreshed with a nameless LOOKUP when unknown or stale. */
export async function readableState(r: Replica, gfid: Buffer, ctx: FopContext): Promise<InodeState> {
  const st = r.inode(gfid);
  r.upVector();
  const recheck = st.recheckAt !== 0 && Date.now() >= st.recheckAt;
  if (st.dataReadable && st.generation === r.generation && !recheck) return st;
  const { replies, state } = await lookupAll(
    r,
    { gfid, pargfid: NULL_GFID, flags: 0, bname: '', xdata: null },
    ctx,
  );
  if (!state) throw commonErrno(replies);
  return state;
}

/** Runs a read on one readable brick, failing over to the next readable one. */
export async function readFromOne<N extends FopName>(
  r: Replica,
  fop: N,
  gfid: Buffer,
  req: FopRequest<N>,
  ctx: FopContext,
  pinned?: number,
): Promise<FopReply<N>> {
  const up = r.upVector();
  r.requireQuorum(up, fop);
  if (pinned !== undefined) {
    const res = await r.callChild(pinned, fop, req, ctx);
    if (res.ok) return res.value;
    throw res.error;
  }
  const st = await readableState(r, gfid, ctx);
  const readable = (DATA_READS.has(fop) ? st.dataReadable! : st.metadataReadable!).map((x, i) => x && up[i]!);
  const tried = new Set<number>();
  let lastError: FopError | undefined;
  for (;;) {
    const candidates = readable.map((x, i) => x && !tried.has(i));
    const child = chooseReadChild({
      readable: candidates,
      gfid,
      hashMode: r.cfg.readHashMode,
      ...(r.cfg.preferredChild !== undefined ? { preferred: r.cfg.preferredChild } : {}),
    });
    if (child < 0) {
      if (lastError) throw lastError;
      const anyReadable = (DATA_READS.has(fop) ? st.dataReadable! : st.metadataReadable!).some(Boolean);
      throw anyReadable
        ? new FopError(Errno.ENOTCONN, `${r.domain}: ${fop}: no readable brick is up`)
        : new FopError(Errno.EIO, `${r.domain}: ${fop}: no brick holds a good copy (split-brain)`);
    }
    tried.add(child);
    await fixOpen(r, (req as { fd?: OpenFd }).fd, [child], ctx);
    const res = await r.callChild(child, fop, req, ctx);
    if (res.ok) return res.value;
    // EIO on READ: a brick that cannot vouch for its copy (features/rejoin-guard after we
    // reconnected) or a failing disk; stock AFR tries the next readable brick on any error.
    if (!isNotConnected(res.error) && !(fop === 'READ' && res.error.errno === Errno.EIO)) throw res.error;
    lastError = res.error;
  }
}

export function readOps(r: Replica): FopTable {
  const byGfid =
    <N extends 'STAT' | 'READLINK' | 'ACCESS' | 'GETXATTR'>(fop: N) =>
    (req: FopRequest<N>, ctx: FopContext) =>
      readFromOne(r, fop, (req as { gfid: Buffer }).gfid, req, ctx);
  const byFd =
    <N extends 'FSTAT' | 'READ' | 'SEEK' | 'RCHECKSUM' | 'FGETXATTR'>(fop: N) =>
    (req: FopRequest<N>, ctx: FopContext) =>
      readFromOne(r, fop, (req as { fd: { gfid: Buffer } }).fd.gfid, req, ctx);
  const strip = <T extends { dict: Dict | null }>(reply: T): T => ({
    ...reply,
    dict: Replica.stripChangelog(reply.dict),
  });

  return {
    async LOOKUP(req, ctx) {
      const { replies, state } = await lookupAll(r, req, ctx);
      const ok = replies.filter((x): x is Success<FopReply<'LOOKUP'>> => x.ok);
      if (!state || !ok.length) throw commonErrno(replies);
      // Attributes from a brick holding good metadata (and, for files, good data).
      const pick =
        ok.find((x) => state.dataReadable![x.target] && state.metadataReadable![x.target]) ??
        ok.find((x) => state.metadataReadable![x.target]) ??
        ok[0]!;
      return { ...pick.value, xdata: Replica.stripChangelog(pick.value.xdata) };
    },
    STAT: byGfid('STAT'),
    READLINK: byGfid('READLINK'),
    ACCESS: byGfid('ACCESS'),
    FSTAT: byFd('FSTAT'),
    READ: byFd('READ'),
    SEEK: byFd('SEEK'),
    RCHECKSUM: byFd('RCHECKSUM'),
    async GETXATTR(req, ctx) {
      if (req.name === SPLIT_BRAIN_STATUS) return splitBrainStatus(r, req.gfid, ctx);
      return strip(await readFromOne(r, 'GETXATTR', req.gfid, req, ctx));
    },
    async FGETXATTR(req, ctx) {
      if (req.name === SPLIT_BRAIN_STATUS) return splitBrainStatus(r, req.fd.gfid, ctx);
      return strip(await readFromOne(r, 'FGETXATTR', req.fd.gfid, req, ctx));
    },
    async STATFS(req, ctx) {
      const up = r.upChildren();
      for (const i of up.filter((i) => !r.isArbiter(i)).concat(up.filter((i) => r.isArbiter(i)))) {
        const res = await r.callChild(i, 'STATFS', req, ctx);
        if (res.ok || !isNotConnected(res.error)) {
          if (res.ok) return res.value;
          throw res.error;
        }
      }
      throw new FopError(Errno.ENOTCONN, `${r.domain}: STATFS: no brick is up`);
    },
  };
}

/** The `replica.split-brain-status` virtual xattr, worded as stock's. */
async function splitBrainStatus(r: Replica, gfid: Buffer, ctx: FopContext): Promise<FopReply<'GETXATTR'>> {
  r.inode(gfid).generation = -1;
  const st = await readableState(r, gfid, ctx);
  const data = !st.isDirectory && !st.dataReadable!.some(Boolean);
  const metadata = !st.metadataReadable!.some(Boolean);
  const value =
    data || metadata
      ? `data-split-brain:${data ? 'yes' : 'no'}    metadata-split-brain:${metadata ? 'yes' : 'no'}    Choices:` +
        r.cfg.children.map((c) => c.name).join(',')
      : 'The file is not under data or metadata split-brain';
  const dict: Dict = new Map([[SPLIT_BRAIN_STATUS, strValue(value)]]);
  return { opRet: value.length + 1, xdata: null, dict, prestat: zeroIatt(), poststat: zeroIatt() };
}
