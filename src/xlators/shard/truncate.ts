/**
 * TRUNCATE and FTRUNCATE of a sharded file, and OPEN with O_TRUNC (turned into an open
 * plus a truncate to 0, so the shards go too). Growing only adds to the size in the
 * file-size xattr (the new bytes are holes: missing shards). Shrinking unlinks every
 * whole shard past the new end (each UNLINK asks the brick for the removed file's block
 * count, `gf_get_file_block_count`), truncates the new last shard (or the base file) to
 * the new end inside it, and subtracts both from the xattr in one ADD_ARRAY64.
 * Truncation excludes every other data fop of this client on the file while it runs.
 */
import { uintValue, type GfxDict } from '../../protocol/dict.js';
import type { Iatt } from '../../protocol/iatt.js';
import type { OpenFd } from '../../xlator/fd.js';
import { fanout } from '../../xlator/fanout.js';
import type { FopContext, FopTable } from '../../xlator/translator.js';
import {
  DOT_SHARD_GFID,
  GET_FILE_BLOCK_COUNT,
  isAbsent,
  withFileSize,
  type FileState,
  type Shard,
} from './context.js';
import { lastBlock, shardName } from './geometry.js';

const O_TRUNC = 0o1000;

export interface TwoStats {
  prestat: Iatt;
  poststat: Iatt;
  xdata: GfxDict;
}

/** Unlinks shards `from`..`to` of `base` (missing ones are fine); resolves the blocks they held. */
export async function unlinkShards(
  shard: Shard,
  base: Buffer,
  from: number,
  to: number,
  ctx: FopContext,
): Promise<number> {
  if (to < from) return 0;
  const root = shard.asRoot(ctx);
  const blocks = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const removed = await fanout(
    blocks,
    async (block) => {
      shard.forgetShard(base, block);
      try {
        const r = await shard.call(
          'UNLINK',
          {
            pargfid: DOT_SHARD_GFID,
            bname: shardName(base, block),
            xflags: 0,
            xdata: new Map([[GET_FILE_BLOCK_COUNT, uintValue(64)]]),
          },
          root,
        );
        const v = r.xdata?.get(GET_FILE_BLOCK_COUNT)?.value;
        return typeof v === 'bigint' ? Number(v) : 0;
      } catch (err) {
        if (isAbsent(err)) return 0;
        throw err;
      }
    },
    { limit: shard.options.deletionRate },
  );
  removed.require('all');
  return removed.values().reduce((n, b) => n + b, 0);
}

export function truncateOps(shard: Shard): FopTable {
  async function truncate(
    base: Buffer,
    fd: OpenFd | undefined,
    st: FileState,
    size: number,
    ctx: FopContext,
    truncateBase: (offset: number) => Promise<TwoStats>,
  ): Promise<TwoStats> {
    return st.gate.run(true, async () => {
      st.changing++;
      try {
        const before = { ...st.known! };
        const iatt = st.iatt!;
        if (size === before.size)
          return { prestat: withFileSize(iatt, before), poststat: withFileSize(iatt, before), xdata: null };
        let blocks = 0;
        if (size < before.size) {
          const bs = st.blockSize;
          const last = lastBlock(size, bs);
          // Past the old end too: a shard left behind by a crash is not data.
          blocks -= await unlinkShards(shard, base, last + 1, lastBlock(before.size, bs), ctx);
          for (const b of [...st.dirty]) if (b > last) st.dirty.delete(b);
          const inLast = size - last * bs;
          if (last === 0) {
            const r = await truncateBase(inLast);
            blocks += r.poststat.blocks - r.prestat.blocks;
          } else {
            const root = shard.asRoot(ctx);
            const gfid = await shard.shardGfid(base, last, ctx, false);
            if (gfid) {
              try {
                const r = await shard.call('TRUNCATE', { gfid, offset: inLast, xdata: null }, root);
                blocks += r.poststat.blocks - r.prestat.blocks;
              } catch (err) {
                if (!isAbsent(err)) throw err;
                shard.forgetShard(base, last);
              }
            }
          }
        }
        // Bricks' block counts drift a little after the fact (ext4 allocates extent blocks
        // at writeback), so what shards held when removed can exceed what was added: never
        // let the sum go below zero (a negative word reads as 2^64 - n to every client).
        blocks = Math.max(blocks, -before.blocks);
        st.known = { size, blocks: before.blocks + blocks };
        await shard.addToFileSize(base, fd, { size: size - before.size, blocks }, ctx);
        return {
          prestat: withFileSize(iatt, before),
          poststat: withFileSize(iatt, st.known),
          xdata: null,
        };
      } catch (err) {
        st.stale = true;
        throw err;
      } finally {
        st.changing--;
      }
    });
  }

  return {
    async TRUNCATE(req, ctx, next) {
      const st = await shard.sharded(req.gfid, undefined, ctx);
      if (!st) return next(req);
      return truncate(req.gfid, undefined, st, req.offset, ctx, (offset) => next({ ...req, offset }));
    },

    async FTRUNCATE(req, ctx, next) {
      const st = await shard.sharded(req.fd.gfid, req.fd, ctx);
      if (!st) return next(req);
      return truncate(req.fd.gfid, req.fd, st, req.offset, ctx, (offset) => next({ ...req, offset }));
    },

    async OPEN(req, ctx, next) {
      if (!(req.flags & O_TRUNC)) return next(req);
      const st = await shard.sharded(req.gfid, undefined, ctx);
      if (!st) return next(req);
      const r = await next({ ...req, flags: req.flags & ~O_TRUNC });
      await truncate(req.gfid, req.fd, st, 0, ctx, (offset) =>
        shard.call('FTRUNCATE', { gfid: req.gfid, fd: req.fd, offset, xdata: null }, ctx),
      );
      return r;
    },
  };
}
