/**
 * features/arbiter: the third brick of a `replica 3 arbiter 1` set keeps every name, its
 * metadata and AFR's changelog xattrs, but no file data. Stock puts it right above posix
 * (observed on a stock 10.3 arbiter volume: files stay zero bytes, xattrs and modes match
 * the data bricks, data writes leave even mtime alone). So:
 * - WRITE succeeds with the byte count and the inode's cached stat, storing nothing; its
 *   AFR xdata is answered here as stock does (write-is-append always 1 on a zero-byte
 *   file, open-fd-count; open-active-fd-count is left unanswered, as stock);
 * - TRUNCATE, FTRUNCATE, FALLOCATE, DISCARD and ZEROFILL succeed with the cached stat;
 * - READ and SEEK fail ENOSYS: an arbiter is never a data source;
 * - everything else (names, metadata, xattrs, XATTROP, locks below it) passes through.
 * The cached stat is the last one seen going by (LOOKUP, STAT, FSTAT, SETATTR, CREATE…),
 * or one FSTAT/STAT asked below when none was seen since start. (Stock caches only
 * LOOKUP's and answers zeros before one; AFR never uses an arbiter's data stat.)
 */
import { uintValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import type { Iatt } from '../../protocol/iatt.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopName } from '../../protocol/fops.js';
import type { FopContext, FopHandler, FopReply, FopTable } from '../../xlator/translator.js';
import { defineTranslator } from '../../xlator/translator.js';
import type { Layer } from '../../xlator/layer.js';

export const WRITE_IS_APPEND = 'glusterfs.write-is-append';
export const OPEN_FD_COUNT = 'glusterfs.open-fd-count';

/** Inodes whose stat is remembered; beyond this the cache starts over (it is only a cache). */
const MAX_CACHED = 65536;

export const arbiter = defineTranslator({
  type: 'features/arbiter',
  children: 'one',
  options: {},
  create({ children }) {
    const below: Layer = children[0]!;
    const stats = new Map<string, Iatt>();
    /** Open fds per inode, counted here since posix never sees the writes it would count for. */
    const openFds = new Map<string, number>();
    const key = (gfid: Buffer) => gfid.toString('hex');

    function remember(st: Iatt | undefined): void {
      if (!st || st.gfid.every((b) => b === 0)) return;
      if (stats.size >= MAX_CACHED && !stats.has(key(st.gfid))) stats.clear();
      stats.set(key(st.gfid), st);
    }

    async function cached(fd: OpenFd, ctx: FopContext): Promise<Iatt> {
      const have = stats.get(key(fd.gfid));
      if (have) return have;
      const { stat } = await below.call('FSTAT', { gfid: fd.gfid, fd, xdata: null }, ctx);
      remember(stat);
      return stat;
    }

    /** A data fop answered from the cache: success, nothing stored. */
    const noData =
      () =>
      async (
        req: { fd: OpenFd },
        ctx: FopContext,
      ): Promise<{ prestat: Iatt; poststat: Iatt; xdata: null }> => {
        const st = await cached(req.fd, ctx);
        return { prestat: st, poststat: st, xdata: null };
      };

    const noSource = (): Promise<never> =>
      Promise.reject(FopError.of('ENOSYS', 'an arbiter brick holds no data'));

    function writeXdata(asked: GfxDict, gfid: Buffer): Dict | null {
      if (!asked || asked.size === 0) return null;
      const out: Dict = new Map();
      // Stock: always "at EOF" on a zero-byte file, whatever the offset.
      if (asked.has(WRITE_IS_APPEND)) out.set(WRITE_IS_APPEND, uintValue(1));
      // Stock answers open-fd-count here but leaves open-active-fd-count unanswered.
      if (asked.has(OPEN_FD_COUNT)) out.set(OPEN_FD_COUNT, uintValue(openFds.get(key(gfid)) ?? 0));
      return out.size ? out : null;
    }

    const opened = (gfid: Buffer, delta: number) => {
      const n = (openFds.get(key(gfid)) ?? 0) + delta;
      if (n > 0) openFds.set(key(gfid), n);
      else openFds.delete(key(gfid));
    };

    /** A fop passed down whose reply's stat (`statOf`) is remembered on the way up. */
    const remembering =
      <N extends FopName>(statOf: (reply: FopReply<N>) => Iatt): FopHandler<N> =>
      async (req, _ctx, next) => {
        const reply = await next(req);
        remember(statOf(reply));
        return reply;
      };

    const fops: FopTable = {
      LOOKUP: remembering<'LOOKUP'>((r) => r.prestat),
      STAT: remembering<'STAT'>((r) => r.stat),
      FSTAT: remembering<'FSTAT'>((r) => r.stat),
      SETATTR: remembering<'SETATTR'>((r) => r.poststat),
      FSETATTR: remembering<'FSETATTR'>((r) => r.poststat),
      MKNOD: remembering<'MKNOD'>((r) => r.stat),
      async CREATE(req, _ctx, next) {
        const reply = await next(req);
        remember(reply.stat);
        opened(req.fd.gfid, 1);
        return reply;
      },
      async READDIRP(req, _ctx, next) {
        const reply = await next(req);
        for (const e of reply.entries) remember(e.stat);
        return reply;
      },
      async OPEN(req, _ctx, next) {
        const reply = await next(req);
        opened(req.fd.gfid, 1);
        return reply;
      },
      async RELEASE(req, _ctx, next) {
        opened(req.fd.gfid, -1);
        return next(req);
      },

      async WRITE(req, ctx) {
        const st = await cached(req.fd, ctx);
        return { opRet: req.size, prestat: st, poststat: st, xdata: writeXdata(req.xdata, req.fd.gfid) };
      },
      TRUNCATE: async (req, ctx) => {
        const st =
          stats.get(key(req.gfid)) ?? (await below.call('STAT', { gfid: req.gfid, xdata: null }, ctx)).stat;
        return { prestat: st, poststat: st, xdata: null };
      },
      FTRUNCATE: noData(),
      FALLOCATE: noData(),
      DISCARD: noData(),
      ZEROFILL: noData(),
      READ: noSource,
      SEEK: noSource,
    };
    return { fops };
  },
});
