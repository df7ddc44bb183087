/**
 * features/heal-ranges: while an inode is in the xattrop or dirty index (some AFR counter
 * on it is non-zero on this brick), remembers which byte ranges of it changed here, so a
 * heal copies those and not the whole file (docs/replication.md "Changed ranges"). A
 * glusterts extra: stock bricks have no such translator; it sits right below features/index
 * in replicated brick volfiles and watches the same keys.
 *
 * - XATTROP/FXATTROP (ADD_ARRAY, ADD_ARRAY64 on watched keys), one at a time per inode:
 *   a non-zero request value starts a record (as index adds its entry before the op); the
 *   reply's values decide membership per kind, and a record leaves with its inode's last
 *   index entry, whoever zeroed the counters. Entering xattrop/ writes the record to disk
 *   before the reply.
 * - WRITE, DISCARD, ZEROFILL, FALLOCATE, COPY_FILE_RANGE (its destination) add their range
 *   before they go down, PUT after; TRUNCATE, FTRUNCATE and [F]SETATTR add the span between
 *   the old and the new size. A write past EOF adds only itself: replayed on the sink it
 *   makes the same hole there (and heal sets the sink's size to the source's anyway).
 * - FSYNC of an inode in xattrop/ writes its record alongside the data sync, before the reply.
 * - WRITE with `glusterts.write-vector` in xdata (the shd's vectored copy, served by
 *   storage/posix: src/protocol/vector-io.ts) adds each of its ranges.
 * - GETXATTR/FGETXATTR `glusterts.heal-ranges` answers the record (contract.ts); setting or
 *   removing that name is EPERM; it is never a real xattr, so never listed.
 * - Start: a missing clean-shutdown marker damages every record found; a record failing its
 *   checksum, or whose file changed since the clean stop sealed it, is damaged; an indexed
 *   inode without a record gets a damaged one. A clean stop writes every record, sealed, then
 *   the marker.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ptrValue, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { parseGfid } from '../../protocol/gfid.js';
import { zeroIatt, type Iatt } from '../../protocol/iatt.js';
import { FdTable } from '../../xlator/fd.js';
import type { Layer } from '../../xlator/layer.js';
import type { FopContext } from '../../xlator/translator.js';
import { defineTranslator } from '../../xlator/translator.js';
import { HEAL_RANGES_KEY, encodeHealRanges } from './contract.js';
import { KeyedQueue } from './queue.js';
import { RangeRecords, type RangeRecord } from './records.js';
import { MAX_STORED_RANGES, RangeStore, type Seal } from './store.js';
import { nonZero, parseWatchlist, WATCHLIST_OPTIONS } from '../index/watchlist.js';
import { requestRanges, WRITE_VECTOR_KEY } from '../../protocol/vector-io.js';

export { HEAL_RANGES_KEY } from './contract.js';

const ADD_ARRAY = 0;
const ADD_ARRAY64 = 1;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/** GF_O_APPEND (Linux x86). */
const O_APPEND = 0o2000;
/** Records written at once at a clean stop. */
const FINI_PARALLEL = 16;
const GFID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const key = (gfid: Buffer) => gfid.toString('hex');

/** The context of the translator's own calls below it (start-up and stop). */
function ownContext(): FopContext {
  return {
    caller: { uid: 0, gid: 0, groups: [], pid: 0, lkOwner: Buffer.alloc(0) },
    session: { id: 'heal-ranges', fds: new FdTable() },
  };
}

export const healRanges = defineTranslator({
  type: 'features/heal-ranges',
  children: 'one',
  options: {
    // The index's own options: a record is kept while the inode is indexed.
    ...WATCHLIST_OPTIONS,
    'max-ranges-per-inode': {
      type: 'int',
      default: 16384,
      min: 8,
      max: MAX_STORED_RANGES,
      description: 'Ranges one record holds before its smallest gaps are merged.',
    },
    'max-ranges-total': {
      type: 'int',
      default: 1 << 20,
      min: 8,
      max: 1 << 26,
      description: 'Ranges all records hold together; a record growing past it is marked damaged.',
    },
  },
  create({ options: o, children }) {
    const below: Layer = children[0]!;
    const pendingKeys = parseWatchlist(o['xattrop-pending-watchlist']);
    const dirtyKeys = parseWatchlist(o['xattrop-dirty-watchlist']);
    const indexBase = o['index-base'];
    const store = new RangeStore(indexBase);
    const records = new RangeRecords({ perInode: o['max-ranges-per-inode'], total: o['max-ranges-total'] });
    /** XATTROPs of one inode, one at a time: membership follows the order posix applied them. */
    const xattrops = new KeyedQueue();
    /** Disk writes and removals of one inode's record, in order. */
    const io = new KeyedQueue();

    function snapshot(rec: RangeRecord) {
      return { complete: rec.ranges !== null, ranges: rec.ranges?.toArray() ?? [] };
    }

    /** Writes the record if it changed since it was last written (over its file, if it has one). */
    function persist(gfid: Buffer): Promise<void> {
      const k = key(gfid);
      return io.run(k, async () => {
        const rec = records.get(k);
        if (!rec || rec.saved === rec.version) return;
        const version = rec.version;
        const update = rec.onDisk;
        rec.onDisk = true;
        try {
          await store.write(gfid, { ...snapshot(rec), seal: null }, update);
          rec.saved = version;
        } catch {
          // Not written: the record can no longer promise to be complete after a restart.
          records.damage(rec);
        }
      });
    }

    function drop(gfid: Buffer): void {
      const k = key(gfid);
      const rec = records.drop(k);
      if (rec?.onDisk) void io.run(k, () => store.remove(gfid)).catch(() => undefined);
    }

    function note(gfid: Buffer, offset: number, length: number): void {
      records.note(key(gfid), offset, length);
    }

    /** The span between the old and the new size, when a reply shows the size changed. */
    function noteResize(gfid: Buffer, pre: Iatt | undefined, post: Iatt | undefined): void {
      if (!pre || !post || pre.size === post.size) return;
      const from = Math.min(pre.size, post.size);
      note(gfid, from, Math.max(pre.size, post.size) - from);
    }

    async function xattrop<R extends { dict: GfxDict }>(
      gfid: Buffer,
      req: { flags: number; dict: GfxDict },
      wind: () => Promise<R>,
    ): Promise<R> {
      const asked = { pending: nonZero(req.dict, pendingKeys), dirty: nonZero(req.dict, dirtyKeys) };
      const adds = req.flags === ADD_ARRAY || req.flags === ADD_ARRAY64;
      if (!adds || (asked.pending === undefined && asked.dirty === undefined)) return wind();
      const k = key(gfid);
      return xattrops.run(k, async () => {
        const wasPending = records.get(k)?.pending ?? false;
        // As index: a non-zero request value indexes the inode before the op goes down.
        if (asked.pending || asked.dirty) {
          const rec = records.ensure(k);
          rec.pending ||= asked.pending === true;
          rec.dirty ||= asked.dirty === true;
        }
        const reply = await wind();
        const now = { pending: nonZero(reply.dict, pendingKeys), dirty: nonZero(reply.dict, dirtyKeys) };
        const rec = records.get(k) ?? (now.pending || now.dirty ? records.ensure(k) : undefined);
        if (!rec) return reply;
        if (now.pending !== undefined) rec.pending = now.pending;
        if (now.dirty !== undefined) rec.dirty = now.dirty;
        if (!rec.pending && !rec.dirty) drop(gfid);
        else if (rec.pending && (!wasPending || !rec.onDisk)) await persist(gfid);
        return reply;
      });
    }

    async function answer(gfid: Buffer, ctx: FopContext) {
      const { stat } = await below.call('STAT', { gfid, xdata: null }, ctx);
      if ((stat.mode & S_IFMT) !== S_IFREG)
        throw FopError.of('ENODATA', 'changed ranges are kept for files only');
      const rec = records.get(key(gfid));
      if (!rec) throw FopError.of('ENODATA', 'no changed-range record: nothing to heal from here');
      const value = encodeHealRanges(snapshot(rec));
      return {
        opRet: value.length,
        dict: new Map([[HEAL_RANGES_KEY, ptrValue(value)]]),
        xdata: null,
        prestat: zeroIatt(),
        poststat: zeroIatt(),
      };
    }

    const refuseOurs = (d: GfxDict) => {
      if (d?.has(HEAL_RANGES_KEY)) throw FopError.of('EPERM', `${HEAL_RANGES_KEY} is read-only`);
    };
    const refuseName = (name: string) => {
      if (name === HEAL_RANGES_KEY) throw FopError.of('EPERM', `${HEAL_RANGES_KEY} is read-only`);
    };

    /** The file as a clean stop saw it, or null when it cannot be seen. */
    async function seal(gfid: Buffer, ctx: FopContext): Promise<Seal | null> {
      try {
        const { stat } = await below.call('STAT', { gfid, xdata: null }, ctx);
        return { ctimeSec: stat.ctime, ctimeNsec: stat.ctimeNsec, size: stat.size };
      } catch {
        return null;
      }
    }

    /** The gfids in one index folder (base files and anything else left out). */
    async function indexed(kind: 'xattrop' | 'dirty'): Promise<string[]> {
      const names = await fsp.readdir(join(indexBase, kind)).catch(() => [] as string[]);
      return names.filter((n) => GFID_NAME.test(n));
    }

    async function load(): Promise<void> {
      await store.init();
      const clean = await store.takeCleanMarker();
      const ctx = ownContext();
      const members = new Map<string, { pending: boolean; dirty: boolean }>();
      for (const kind of ['xattrop', 'dirty'] as const)
        for (const name of await indexed(kind)) {
          const m = members.get(name) ?? { pending: false, dirty: false };
          m[kind === 'xattrop' ? 'pending' : 'dirty'] = true;
          members.set(name, m);
        }
      for (const name of await store.list()) {
        if (!GFID_NAME.test(name)) continue;
        const gfid = parseGfid(name);
        if (!members.has(name)) {
          // Its counters went back to zero while this translator was not watching.
          await store.remove(gfid);
          continue;
        }
        const stored = await store.read(gfid);
        const now = stored?.seal ? await seal(gfid, ctx) : null;
        const trusted =
          clean &&
          stored?.complete &&
          now !== null &&
          now.ctimeSec === stored.seal!.ctimeSec &&
          now.ctimeNsec === stored.seal!.ctimeNsec &&
          now.size === stored.seal!.size;
        const rec = records.ensure(key(gfid), { ranges: trusted ? stored.ranges : null, onDisk: true });
        // A damaged record stays unsaved: the next write replaces what is on disk.
        if (trusted) rec.saved = rec.version;
      }
      for (const [name, m] of members) {
        // Indexed but never recorded here (a crash before the first write of it, or a brick
        // that stock glusterfsd served meanwhile): nobody knows what changed.
        const rec = records.ensure(key(parseGfid(name)), { ranges: null });
        rec.pending = m.pending;
        rec.dirty = m.dirty;
      }
    }

    async function stop(): Promise<void> {
      await xattrops.drain();
      await io.drain();
      const ctx = ownContext();
      const all = [...records.entries()];
      let written = true;
      for (let i = 0; i < all.length; i += FINI_PARALLEL) {
        await Promise.all(
          all.slice(i, i + FINI_PARALLEL).map(async ([k, rec]) => {
            const gfid = Buffer.from(k, 'hex');
            const sealed = rec.ranges ? await seal(gfid, ctx) : null;
            await store.write(gfid, { ...snapshot(rec), seal: sealed }).catch(() => {
              written = false;
            });
          }),
        );
      }
      if (written) await store.putCleanMarker();
    }

    return {
      init: load,
      fini: stop,
      fops: {
        XATTROP: (req, _ctx, next) => xattrop(req.gfid, req, () => next(req)),
        FXATTROP: (req, _ctx, next) => xattrop(req.fd.gfid, req, () => next(req)),

        async WRITE(req, _ctx, next) {
          const gfid = req.fd.gfid;
          // The hot path: no record (every counter zero), nothing to do.
          if (!records.get(key(gfid))) return next(req);
          // The shd's vectored copy (storage/posix writes it): each of its ranges.
          const ranges = requestRanges(req.xdata, WRITE_VECTOR_KEY);
          if (ranges) {
            for (const r of ranges) note(gfid, r.offset, r.length);
            return next(req);
          }
          const append = (req.fd.flags & O_APPEND) !== 0;
          if (!append) note(gfid, req.offset, req.size);
          return next(req).then((reply) => {
            // An O_APPEND fd writes at EOF, wherever the offset says.
            if (append) noteResize(gfid, reply.prestat, reply.poststat);
            return reply;
          });
        },
        async DISCARD(req, _ctx, next) {
          note(req.fd.gfid, req.offset, req.size);
          return next(req);
        },
        async ZEROFILL(req, _ctx, next) {
          note(req.fd.gfid, req.offset, req.size);
          return next(req);
        },
        async FALLOCATE(req, _ctx, next) {
          note(req.fd.gfid, req.offset, req.size);
          return next(req);
        },
        async TRUNCATE(req, _ctx, next) {
          const reply = await next(req);
          noteResize(req.gfid, reply.prestat, reply.poststat);
          return reply;
        },
        async FTRUNCATE(req, _ctx, next) {
          const reply = await next(req);
          noteResize(req.fd.gfid, reply.prestat, reply.poststat);
          return reply;
        },
        async SETATTR(req, _ctx, next) {
          const reply = await next(req);
          noteResize(req.gfid, reply.prestat, reply.poststat);
          return reply;
        },
        async FSETATTR(req, _ctx, next) {
          const reply = await next(req);
          noteResize(req.fd.gfid, reply.prestat, reply.poststat);
          return reply;
        },
        async COPY_FILE_RANGE(req, _ctx, next) {
          note(req.fdOut.gfid, req.offOut, req.size);
          return next(req);
        },
        async PUT(req, _ctx, next) {
          const reply = await next(req);
          note(reply.stat.gfid, req.offset, req.size);
          return reply;
        },

        async FSYNC(req, _ctx, next) {
          // Only an inode in xattrop/ keeps its record on disk current: a dirty-only one has
          // none there yet (it is written when a post-op charges a brick), and a crash before
          // that damages it anyway (docs/replication.md "Changed ranges", durability).
          if (!records.get(key(req.fd.gfid))?.pending) return next(req);
          const [reply] = await Promise.all([next(req), persist(req.fd.gfid)]);
          return reply;
        },

        async GETXATTR(req, ctx, next) {
          if (req.name !== HEAL_RANGES_KEY) return next(req);
          return answer(req.gfid, ctx);
        },
        async FGETXATTR(req, ctx, next) {
          if (req.name !== HEAL_RANGES_KEY) return next(req);
          return answer(req.fd.gfid, ctx);
        },
        async SETXATTR(req, _ctx, next) {
          refuseOurs(req.dict);
          return next(req);
        },
        async FSETXATTR(req, _ctx, next) {
          refuseOurs(req.dict);
          return next(req);
        },
        async REMOVEXATTR(req, _ctx, next) {
          refuseName(req.name);
          return next(req);
        },
        async FREMOVEXATTR(req, _ctx, next) {
          refuseName(req.name);
          return next(req);
        },
      },
    };
  },
});
