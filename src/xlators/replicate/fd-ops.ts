/**
 * Fops about open files and locks, which every up brick must see: OPEN/OPENDIR (the same OpenFd
 * goes to each child; protocol/client keeps each brick's remote fd on it), FLUSH (ends the eager
 * lock first), RELEASE, FSYNCDIR, and the lock fops of layers above (POSIX locks, inodelk,
 * entrylk), which need a quorum of bricks to grant them. Directory listings stay on one brick
 * per fd, since directory offsets are that brick's cookies.
 */
import { Errno, FopError } from '../../protocol/errno.js';
import type { FopName } from '../../protocol/fops.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopReply, FopRequest, FopTable } from '../../xlator/translator.js';
import { readableState } from './reads.js';
import { chooseReadChild } from './read-child.js';
import type { ChildResult, Replica } from './replica.js';
import { fixOpen, recordOpen } from './open-fds.js';
import { flushDataLock } from './transaction.js';

type Everywhere =
  'OPEN' | 'OPENDIR' | 'FLUSH' | 'FSYNCDIR' | 'LK' | 'INODELK' | 'FINODELK' | 'ENTRYLK' | 'FENTRYLK';

/** Answer from a quorum of up bricks; fewer is ENOTCONN, none is the bricks' common errno. */
function quorumAnswer<R>(r: Replica, what: string, results: ChildResult<R>[]): R {
  return r.quorumSuccesses(results, what)[0]!.value;
}

export function fdOps(r: Replica): FopTable {
  const everywhere =
    <N extends Everywhere>(fop: N) =>
    async (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> => {
      const up = r.upVector();
      r.requireQuorum(up, fop);
      return quorumAnswer(r, fop, await r.fanOut(r.upChildren(), fop as FopName as N, req, ctx));
    };
  const readdir =
    <N extends 'READDIR' | 'READDIRP'>(fop: N) =>
    async (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> => {
      r.requireQuorum(r.upVector(), fop);
      const fd = (req as { fd: OpenFd }).fd;
      let child = fd.get<number>(r);
      if (child === undefined || !r.isUp(child)) {
        if (child !== undefined && (req as { offset: bigint }).offset !== 0n)
          throw new FopError(
            Errno.ENOTCONN,
            `${r.domain}: ${fop}: the brick listing this directory went away`,
          );
        const st = await readableState(r, fd.gfid, ctx);
        const up = r.upVector();
        child = chooseReadChild({
          readable: st.dataReadable!.map((x, i) => x && up[i]!),
          gfid: fd.gfid,
          hashMode: r.cfg.readHashMode,
        });
        if (child < 0) child = up.indexOf(true);
        fd.set(r, child);
      }
      await fixOpen(r, fd, [child], ctx);
      const res = await r.callChild(child, fop, req, ctx);
      if (res.ok) return res.value;
      throw res.error;
    };
  const opening =
    <N extends 'OPEN' | 'OPENDIR'>(fop: N) =>
    async (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> => {
      r.requireQuorum(r.upVector(), fop);
      const results = await r.fanOut(r.upChildren(), fop as FopName as N, req, ctx);
      recordOpen(
        r,
        (req as { fd: OpenFd }).fd,
        results.flatMap((x) => (x.ok ? [x.target] : [])),
      );
      return quorumAnswer(r, fop, results);
    };
  /** RELEASE or RELEASEDIR to every child, then the fd drops this translator's state. */
  const releasing =
    <N extends 'RELEASE' | 'RELEASEDIR'>(fop: N) =>
    async (req: FopRequest<N>, ctx: FopContext): Promise<{ xdata: null }> => {
      await r.fanOut(
        r.cfg.children.map((_, i) => i),
        fop as FopName as N,
        req,
        ctx,
      );
      req.fd.delete(r);
      return { xdata: null };
    };
  return {
    OPEN: opening('OPEN'),
    OPENDIR: opening('OPENDIR'),
    FSYNCDIR: everywhere('FSYNCDIR'),
    LK: everywhere('LK'),
    INODELK: everywhere('INODELK'),
    FINODELK: everywhere('FINODELK'),
    ENTRYLK: everywhere('ENTRYLK'),
    FENTRYLK: everywhere('FENTRYLK'),
    async FLUSH(req, ctx) {
      await flushDataLock(r, req.fd.gfid, ctx);
      return everywhere('FLUSH')(req, ctx);
    },
    async RELEASE(req, ctx) {
      await flushDataLock(r, req.fd.gfid, ctx);
      return releasing('RELEASE')(req, ctx);
    },
    RELEASEDIR: releasing('RELEASEDIR'),
    READDIR: readdir('READDIR'),
    READDIRP: readdir('READDIRP'),
  };
}
