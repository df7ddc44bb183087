/**
 * features/rejoin-guard (glusterts's own, on the data bricks of replicated volumes): a
 * client that reconnects to this brick is not served data from it for an inode until that
 * client has taken and released an AFR lock on the inode here.
 *
 * Why: stock AFR (10.3) charges a brick that was already down when its eager lock was taken
 * only in that lock's post-op (afr_txn_nothing_failed counts a brick without a pre-op as
 * "nothing failed", so the post-op stays delayed), and a client writing without pause keeps
 * the lock until its first write after the brick returns forces the release
 * (__need_previous_lock_unlocked). Until then the survivors hold only `dirty`, no
 * accusation. A read arriving in between refreshes the inode (FSTAT with the changelog
 * keys), finds nobody accused and may read the returned brick's stale blocks (seen on the
 * wire with stock bricks and with ours: docs/replication.md "Stale reads after a brick
 * returns"). The old lock's post-op lands before the client's next lock reaches this brick,
 * and that lock's pre-op replies tell the client whom to distrust; once the client releases
 * a lock here, its view is right again.
 *
 * So, for a session whose process-uuid says it is a reconnection (`RECON_NO:-N`, N ≥ 1: the
 * client had a connection to this brick, or to the process before a restart, and may have
 * written without it), every inode it opens is guarded until that session unlocks an
 * INODELK/FINODELK on it in an AFR data domain (not `…:self-heal`, not the metadata range
 * LLONG_MAX−1); opened again after that (a heal decides under the lock, then opens), it is
 * not guarded. While guarded:
 * - READ through the session's fds fails with EIO — stock AFR then refreshes and reads
 *   another readable brick (afr_readv_cbk → afr_read_txn_continue), as does our replicate;
 * - FSTAT replies carry `glusterfs.bad-inode`, which stock AFR's refresh takes as "not
 *   readable here" (afr_readables_fill), so reads are not even tried here meanwhile.
 * Heals lock before they read, so the self-heal daemons (ours and stock's) are never held up.
 * First connections (RECON_NO:-0) are not guarded: a client that started while this brick
 * was down and opens on it later is not covered here (the glusterts client covers itself:
 * cluster/replicate's reads.ts; docs/replication.md).
 *
 * The guard lasts at most `guard-seconds` (default 5) from the session's first fop here. The
 * window it closes ends at the client's first write after the return (which forces the old
 * lock's post-op) or, for a client that stopped writing, post-op-delay-secs (1 s) after its
 * last write; refreshes inside the window were told "bad here", so the client's read map
 * leaves this brick out until it refreshes again, and any later refresh sees the post-op's
 * accusation. Without the bound, a client reconnected to EVERY brick (the whole volume
 * restarted) that only reads, or keeps one eager lock for good, would get EIO from all of
 * them for as long as it runs. The tables are bounded by that time too: a session's entries
 * are dropped once its guard period is over.
 */
import { intValue, type Dict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { defineTranslator, type FopContext, type FopTable } from '../../xlator/translator.js';
import { endsDataLock } from './afr-locks.js';

export { endsDataLock } from './afr-locks.js';

export const BAD_INODE = 'glusterfs.bad-inode';

/** The reconnection count stock's protocol/client puts at the end of its process-uuid. */
export function reconnectCount(processUuid: string): number {
  const m = /-RECON_NO:-(\d+)$/.exec(processUuid);
  return m ? Number(m[1]) : 0;
}

export const rejoinGuard = defineTranslator({
  type: 'features/rejoin-guard',
  children: 'one',
  options: {
    'guard-seconds': {
      type: 'int',
      default: 5,
      min: 0,
      max: 600,
      description: "How long after a reconnected session's first fop its reads may be refused here.",
    },
  },
  create({ options: o }) {
    const guardMs = o['guard-seconds'] * 1000;
    /** Per reconnected session: when the guard period ends (ms, monotonic). */
    const until = new Map<string, number>();
    /** Per reconnected session: gfids (hex) still guarded, and those it has released a lock on. */
    const guarded = new Map<string, Set<string>>();
    const vouched = new Map<string, Set<string>>();
    const key = (gfid: Buffer) => gfid.toString('hex');
    const sessionUuid = (ctx: FopContext) => ctx.session.id.replace(/#\d+$/, '');

    /** Whether the session is a reconnection still inside its guard period (forgets it after). */
    function inPeriod(ctx: FopContext): boolean {
      const id = ctx.session.id;
      let end = until.get(id);
      if (end === undefined) {
        if (reconnectCount(sessionUuid(ctx)) < 1) return false;
        until.set(id, (end = performance.now() + guardMs));
      }
      if (performance.now() < end) return true;
      guarded.delete(id);
      vouched.delete(id);
      return false;
    }
    const isGuarded = (ctx: FopContext, gfid: Buffer) =>
      inPeriod(ctx) && (guarded.get(ctx.session.id)?.has(key(gfid)) ?? false);

    function guard(ctx: FopContext, gfid: Buffer): void {
      if (!inPeriod(ctx)) return;
      // Opened again after a lock cycle here (a heal opens after deciding): nothing to guard.
      if (vouched.get(ctx.session.id)?.has(key(gfid))) return;
      let set = guarded.get(ctx.session.id);
      if (!set) guarded.set(ctx.session.id, (set = new Set()));
      set.add(key(gfid));
    }

    function release(ctx: FopContext, gfid: Buffer): void {
      if (!inPeriod(ctx)) return;
      let done = vouched.get(ctx.session.id);
      if (!done) vouched.set(ctx.session.id, (done = new Set()));
      done.add(key(gfid));
      const set = guarded.get(ctx.session.id);
      if (!set?.delete(key(gfid))) return;
      if (!set.size) guarded.delete(ctx.session.id);
    }

    const fops: FopTable = {
      async OPEN(req, ctx, next) {
        const reply = await next(req);
        guard(ctx, req.fd.gfid);
        return reply;
      },
      async READ(req, ctx, next) {
        if (isGuarded(ctx, req.fd.gfid))
          throw FopError.of('EIO', 'reconnected client: no AFR lock released here on this inode yet');
        return next(req);
      },
      async FSTAT(req, ctx, next) {
        const reply = await next(req);
        if (!isGuarded(ctx, req.fd.gfid)) return reply;
        const xdata: Dict = new Map(reply.xdata ?? []);
        xdata.set(BAD_INODE, intValue(1));
        return { ...reply, xdata };
      },
      async INODELK(req, ctx, next) {
        const reply = await next(req);
        if (endsDataLock(req)) release(ctx, req.gfid);
        return reply;
      },
      async FINODELK(req, ctx, next) {
        const reply = await next(req);
        if (endsDataLock(req)) release(ctx, req.fd.gfid);
        return reply;
      },
    };
    return {
      fops,
      sessionEnded(session) {
        guarded.delete(session.id);
        vouched.delete(session.id);
        until.delete(session.id);
      },
    };
  },
});
