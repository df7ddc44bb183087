/**
 * features/failed-writes (glusterts's own, on the data bricks of replicated volumes): the
 * brick remembers which byte ranges of an inode it failed to store, and refuses to serve
 * them (READ fails EIO) until they are written again here or the inode's transaction ends.
 *
 * Why: when a WRITE fails on one brick only (its disk is full: ENOSPC), stock AFR (10.3)
 * answers the application with the other bricks' success, drops this brick from its read
 * map and asks for a refresh, then charges this brick on the others in the post-op. A READ
 * arriving before that post-op lands refreshes the inode (FSTAT with the changelog keys),
 * finds nobody accused yet, counts this brick readable again and may read here the block
 * the write never reached (seen on the wire with fio gfapi: docs/replication.md "Stale
 * reads after a failed write"). Stock AFR and our replicate try the next readable brick on
 * a READ error, so an EIO here sends the read to a brick that holds the write.
 *
 * What is recorded, per inode (gfid): the range of a WRITE, ZEROFILL, DISCARD, FALLOCATE or
 * COPY_FILE_RANGE (its destination) that failed, or the tail a short WRITE did not store; a
 * failed [F]TRUNCATE records everything from the smaller of the old and the requested size
 * (or the whole file when the size cannot be read). A WRITE, ZEROFILL, DISCARD or
 * COPY_FILE_RANGE that succeeds takes its range out (a heal's copy does so too); a
 * successful [F]TRUNCATE takes out everything past the new size (gone on every brick).
 *
 * What ends a record: an XATTROP/FXATTROP that lowers this brick's `trusted.afr.dirty` data
 * counter (a post-op, or the end of a heal). AFR sends the post-op of a transaction only to
 * the bricks that did all its fops, so a post-op reaching this brick after a failure here
 * means either the failure was everyone's (a symmetric error: nobody holds the data, and
 * nothing was charged) or it comes from a later transaction, whose lock was taken after the
 * failing one's post-op had charged this brick on the others. Either way the changelogs now
 * say what is true and reads no longer need refusing here.
 *
 * The shd's vectored READ and WRITE (src/protocol/vector-io.ts) count range by range.
 *
 * Not marked: FSTAT and LOOKUP (no `glusterfs.bad-inode`). After a failure on every brick
 * the same range is recorded everywhere until the post-op: a marker would make the whole
 * file unreadable meanwhile, while READ refuses only the ranges no brick stored.
 *
 * Bounds: `max-inodes` records (the oldest dropped first: the window they guard ends at the
 * failing transaction's post-op, well before) and `max-ranges` per record (past it, the
 * smallest gaps merge: more refused, never less). In memory only: a restart ends every
 * client's transaction with this brick, so the post-ops have landed (or the client is gone)
 * before it serves again.
 */
import { type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { defineTranslator, type FopContext } from '../../xlator/translator.js';
import type { Layer } from '../../xlator/layer.js';
import { RangeSet } from '../heal-ranges/range-set.js';
import { bytesOf } from '../index/watchlist.js';
import { endsDataLock } from '../rejoin-guard/afr-locks.js';
import { READ_VECTOR_KEY, requestRanges, WRITE_VECTOR_KEY } from '../../protocol/vector-io.js';

export const AFR_DIRTY = 'trusted.afr.dirty';
const ADD_ARRAY = 0;
const ADD_ARRAY64 = 1;
/** GF_O_APPEND (Linux x86). */
const O_APPEND = 0o2000;
/** "To the end of the file, whatever it becomes." */
const EOF_ON = Number.MAX_SAFE_INTEGER;

/** Whether an XATTROP lowers the data counter of `trusted.afr.dirty` (a post-op's undirty). */
export function lowersDirty(flags: number, dict: GfxDict): boolean {
  const v = bytesOf(dict?.get(AFR_DIRTY));
  if (!v) return false;
  if (flags === ADD_ARRAY && v.length >= 4) return v.readInt32BE(0) < 0;
  if (flags === ADD_ARRAY64 && v.length >= 8) return v.readBigInt64BE(0) < 0n;
  return false;
}

interface InodeRecord {
  /** Failed since this brick last saw the inode's dirty counter lowered. */
  live: RangeSet;
  /** Failed before that: dropped at the next release of an AFR data lock on the inode. */
  closing: RangeSet | null;
}

/** The failed ranges of every inode, oldest record first. */
export class FailedRanges {
  private readonly byInode = new Map<string, InodeRecord>();

  constructor(private readonly limits: { inodes: number; ranges: number }) {}

  get size(): number {
    return this.byInode.size;
  }

  note(gfid: Buffer, offset: number, length: number): void {
    if (!(length > 0)) return;
    const k = gfid.toString('hex');
    let rec = this.byInode.get(k);
    if (!rec) {
      if (this.byInode.size >= this.limits.inodes) this.byInode.delete(this.byInode.keys().next().value!);
      this.byInode.set(k, (rec = { live: new RangeSet(), closing: null }));
    }
    rec.live.add(offset, Math.min(length, EOF_ON - offset));
    if (rec.live.count > this.limits.ranges) rec.live.coarsen(Math.ceil((this.limits.ranges * 7) / 8));
  }

  /** Takes out [offset, offset + length): stored now. */
  stored(gfid: Buffer, offset: number, length: number): void {
    if (!this.byInode.size) return; // the hot path: nothing ever failed here
    const k = gfid.toString('hex');
    const rec = this.byInode.get(k);
    if (!rec || !(length > 0)) return;
    const len = Math.min(length, EOF_ON - offset);
    rec.live.remove(offset, len);
    rec.closing?.remove(offset, len);
    if (!rec.closing?.count) rec.closing = null;
    if (!rec.live.count && !rec.closing) this.byInode.delete(k);
  }

  /** The file now ends at `size` here: nothing past it can be stale. */
  truncated(gfid: Buffer, size: number): void {
    this.stored(gfid, size, EOF_ON - size);
  }

  /**
   * The inode's dirty counter went down here (a post-op or a heal's end): what failed so far
   * is refused only until the lock it was done under is released (its other post-ops landed).
   */
  undirtied(gfid: Buffer): void {
    const rec = this.byInode.get(gfid.toString('hex'));
    if (!rec?.live.count) return;
    const closing = rec.closing ?? new RangeSet();
    for (const r of rec.live) closing.add(r.offset, r.length);
    rec.closing = closing;
    rec.live = new RangeSet();
  }

  /** An AFR data lock on the inode was released here: the closing ranges go. */
  unlocked(gfid: Buffer): void {
    const k = gfid.toString('hex');
    const rec = this.byInode.get(k);
    if (!rec?.closing) return;
    rec.closing = null;
    if (!rec.live.count) this.byInode.delete(k);
  }

  overlaps(gfid: Buffer, offset: number, length: number): boolean {
    if (!this.byInode.size) return false;
    const rec = this.byInode.get(gfid.toString('hex'));
    if (!rec) return false;
    const len = Math.max(length, 1);
    return rec.live.overlaps(offset, len) || (rec.closing?.overlaps(offset, len) ?? false);
  }

  has(gfid: Buffer): boolean {
    return this.byInode.has(gfid.toString('hex'));
  }
}

export const failedWrites = defineTranslator({
  type: 'features/failed-writes',
  children: 'one',
  options: {
    'max-inodes': {
      type: 'int',
      default: 4096,
      min: 1,
      max: 1 << 20,
      description: 'Inodes with failed ranges remembered at once; the oldest record goes first.',
    },
    'max-ranges': {
      type: 'int',
      default: 1024,
      min: 8,
      max: 65536,
      description: 'Ranges one inode keeps before its smallest gaps merge (refusing more, never less).',
    },
  },
  create({ options: o, children }) {
    const below: Layer = children[0]!;
    const failed = new FailedRanges({ inodes: o['max-inodes'], ranges: o['max-ranges'] });

    /** Runs `op`; on failure records [offset, offset + length) before passing the error on. */
    async function recording<R>(
      gfid: Buffer,
      offset: number,
      length: number,
      op: () => Promise<R>,
    ): Promise<R> {
      try {
        return await op();
      } catch (e) {
        failed.note(gfid, offset, length);
        throw e;
      }
    }

    /** A failed truncate: everything from the smaller of the old and the new size. */
    async function truncateFailed(gfid: Buffer, size: number, ctx: FopContext): Promise<void> {
      const old = await below
        .call('STAT', { gfid, xdata: null }, ctx)
        .then((r) => r.stat.size)
        .catch(() => 0);
      failed.note(gfid, Math.min(old, size), EOF_ON);
    }

    return {
      fops: {
        async WRITE(req, _ctx, next) {
          const gfid = req.fd.gfid;
          const ranges = requestRanges(req.xdata, WRITE_VECTOR_KEY);
          if (ranges) {
            // The shd's vectored copy (src/protocol/vector-io.ts): all of its ranges or, on
            // failure, none of them may be stored (posix stops at the first failing one).
            try {
              const reply = await next(req);
              for (const r of ranges) failed.stored(gfid, r.offset, r.length);
              return reply;
            } catch (e) {
              for (const r of ranges) failed.note(gfid, r.offset, r.length);
              throw e;
            }
          }
          if ((req.fd.flags & O_APPEND) !== 0) {
            // Lands at EOF, wherever the offset says: its place is known only from the reply.
            const reply = await recording(gfid, 0, EOF_ON, () => next(req));
            if ((reply.opRet ?? 0) < req.size) failed.note(gfid, reply.poststat.size, EOF_ON);
            return reply;
          }
          const reply = await recording(gfid, req.offset, req.size, () => next(req));
          const done = Math.max(reply.opRet ?? req.size, 0);
          failed.stored(gfid, req.offset, done);
          failed.note(gfid, req.offset + done, req.size - done);
          return reply;
        },
        async ZEROFILL(req, _ctx, next) {
          const reply = await recording(req.fd.gfid, req.offset, req.size, () => next(req));
          failed.stored(req.fd.gfid, req.offset, req.size);
          return reply;
        },
        async DISCARD(req, _ctx, next) {
          const reply = await recording(req.fd.gfid, req.offset, req.size, () => next(req));
          failed.stored(req.fd.gfid, req.offset, req.size);
          return reply;
        },
        // A successful allocation stores no data: it takes nothing out.
        FALLOCATE: (req, _ctx, next) => recording(req.fd.gfid, req.offset, req.size, () => next(req)),
        async COPY_FILE_RANGE(req, _ctx, next) {
          const gfid = req.fdOut.gfid;
          const reply = await recording(gfid, req.offOut, req.size, () => next(req));
          failed.stored(gfid, req.offOut, Math.max(reply.opRet ?? 0, 0));
          return reply;
        },
        async TRUNCATE(req, ctx, next) {
          try {
            const reply = await next(req);
            failed.truncated(req.gfid, reply.poststat.size);
            return reply;
          } catch (e) {
            await truncateFailed(req.gfid, req.offset, ctx);
            throw e;
          }
        },
        async FTRUNCATE(req, ctx, next) {
          try {
            const reply = await next(req);
            failed.truncated(req.fd.gfid, reply.poststat.size);
            return reply;
          } catch (e) {
            await truncateFailed(req.fd.gfid, req.offset, ctx);
            throw e;
          }
        },
        async XATTROP(req, _ctx, next) {
          const reply = await next(req);
          if (lowersDirty(req.flags, req.dict)) failed.undirtied(req.gfid);
          return reply;
        },
        async FXATTROP(req, _ctx, next) {
          const reply = await next(req);
          if (lowersDirty(req.flags, req.dict)) failed.undirtied(req.fd.gfid);
          return reply;
        },
        async INODELK(req, _ctx, next) {
          const reply = await next(req);
          if (endsDataLock(req)) failed.unlocked(req.gfid);
          return reply;
        },
        async FINODELK(req, _ctx, next) {
          const reply = await next(req);
          if (endsDataLock(req)) failed.unlocked(req.fd.gfid);
          return reply;
        },
        async READ(req, _ctx, next) {
          if (failed.size) {
            const ranges = requestRanges(req.xdata, READ_VECTOR_KEY) ?? [
              { offset: req.offset, length: req.size },
            ];
            if (ranges.some((r) => failed.overlaps(req.fd.gfid, r.offset, r.length)))
              throw FopError.of('EIO', 'this brick failed to store part of that range: read another replica');
          }
          return next(req);
        },
      },
    };
  },
});
