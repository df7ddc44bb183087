/**
 * Removing a sharded file (its last name goes by UNLINK, or by a RENAME over it), with
 * stock's on-brick protocol, so either client finishes what the other started:
 *
 * 1. INODELK on the base file, domain = this xlator's name (`<vol>-shard`), blocking.
 * 2. `/.shard/.remove_me` made if missing; ENTRYLK on it for the base gfid's name.
 * 3. A marker `/.shard/.remove_me/<base gfid>` (MKNOD, mode 0) carrying the block size
 *    and the file size [size, 0, 0, 0]: what deletion needs once the base file is gone.
 * 4. The UNLINK or RENAME itself; then both locks are released.
 * 5. In the background: every marker in `.remove_me` (ENTRYLK non-blocking, so two
 *    clients never delete the same file's shards) has its shards 1..N unlinked,
 *    `shard-deletion-rate` at a time, then the marker itself. This also runs after the
 *    first LOOKUP through the graph, finishing what a crashed client left.
 *
 * A file with other hard links (nlink > 1) keeps its shards: only the name goes.
 */
import { randomBytes } from 'node:crypto';
import { gfuuidValue, intValue, ptrValue, type Dict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import { gfidToString, NULL_GFID, parseGfid, randomGfid } from '../../protocol/gfid.js';
import { EntrylkCmd, EntrylkType, LockCmd, LockType } from '../../protocol/locks.js';
import type { Iatt } from '../../protocol/iatt.js';
import { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopTable } from '../../xlator/translator.js';
import { refuseHiddenName } from './attrs.js';
import {
  askShardXattrs,
  INTERNAL_FOP,
  isAbsent,
  REMOVE_ME_GFID,
  shardXattrsOf,
  type Shard,
} from './context.js';
import { lastBlock } from './geometry.js';
import { BLOCK_SIZE_XATTR, encodeBlockSize, encodeFileSize, FILE_SIZE_XATTR } from './size-xattr.js';
import { unlinkShards } from './truncate.js';

/** A context with its own lock owner (locks taken and released by one removal). */
function owning(shard: Shard, ctx: FopContext): FopContext {
  const root = shard.asRoot(ctx);
  return { caller: { ...root.caller, lkOwner: randomBytes(8) }, session: ctx.session };
}

function inodelk(shard: Shard, gfid: Buffer, unlock: boolean, ctx: FopContext) {
  const type = unlock ? LockType.UNLCK : LockType.WRLCK;
  const flock = { type, whence: 0, start: 0n, len: 0n, pid: ctx.caller.pid, lkOwner: ctx.caller.lkOwner };
  const cmd = unlock ? LockCmd.SETLK : LockCmd.SETLKW;
  return shard.call('INODELK', { gfid, cmd, type, flock, volume: shard.name, xdata: null }, ctx);
}

function entrylk(shard: Shard, name: string, cmd: number, ctx: FopContext) {
  return shard.call(
    'ENTRYLK',
    { gfid: REMOVE_ME_GFID, cmd, type: EntrylkType.WRLCK, namelen: 1, name, volume: shard.name, xdata: null },
    ctx,
  );
}

/** The sharded regular file at (parent, name) with its only link, or undefined. */
async function shardedTarget(
  shard: Shard,
  pargfid: Buffer,
  bname: string,
  ctx: FopContext,
): Promise<{ iatt: Iatt; blockSize: number; size: number } | undefined> {
  let r;
  try {
    r = await shard.call(
      'LOOKUP',
      { gfid: NULL_GFID, pargfid, flags: 0, bname, xdata: askShardXattrs(null) },
      shard.asRoot(ctx),
    );
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
  const st = shard.learn(r.prestat, r.xdata);
  const { fileSize } = shardXattrsOf(r.xdata);
  if (!st?.blockSize || r.prestat.nlink > 1) return undefined;
  return { iatt: r.prestat, blockSize: st.blockSize, size: fileSize?.size ?? 0 };
}

export function removeOps(shard: Shard): FopTable {
  /** Steps 1–4 around `op` (the UNLINK or RENAME). */
  async function withMarker<T>(
    target: { iatt: Iatt; blockSize: number; size: number },
    ctx: FopContext,
    op: () => Promise<T>,
  ): Promise<T> {
    const base = target.iatt.gfid;
    const name = gfidToString(base);
    const locked = owning(shard, ctx);
    await inodelk(shard, base, false, locked);
    try {
      await shard.ensureDir('remove_me', ctx);
      await entrylk(shard, name, EntrylkCmd.LOCK, locked);
      try {
        const marker: Dict = new Map([
          [BLOCK_SIZE_XATTR, ptrValue(encodeBlockSize(target.blockSize))],
          [FILE_SIZE_XATTR, ptrValue(encodeFileSize({ size: target.size, blocks: 0 }))],
        ]);
        try {
          const xdata: Dict = new Map([
            ...marker,
            ['gfid-req', gfuuidValue(randomGfid())],
            [INTERNAL_FOP, intValue(1)],
          ]);
          await shard.call(
            'MKNOD',
            { pargfid: REMOVE_ME_GFID, bname: name, mode: 0, dev: 0n, umask: 0o644, xdata },
            locked,
          );
        } catch (err) {
          // A marker left by an earlier removal of the same gfid: give it this size.
          if (!(err instanceof FopError && err.errno === Errno.EEXIST)) throw err;
          const m = await shard.call(
            'LOOKUP',
            { gfid: NULL_GFID, pargfid: REMOVE_ME_GFID, flags: 0, bname: name, xdata: null },
            locked,
          );
          await shard.call('SETXATTR', { gfid: m.prestat.gfid, flags: 0, dict: marker, xdata: null }, locked);
        }
        return await op();
      } finally {
        await entrylk(shard, name, EntrylkCmd.UNLOCK, locked).catch(() => undefined);
      }
    } finally {
      await inodelk(shard, base, true, locked).catch(() => undefined);
      shard.forgetFile(base);
    }
  }

  return {
    async UNLINK(req, ctx, next) {
      refuseHiddenName(req.pargfid, req.bname);
      const target = await shardedTarget(shard, req.pargfid, req.bname, ctx);
      if (!target) return next(req);
      const r = await withMarker(target, ctx, () => next(req));
      shard.startBackgroundDeletion(ctx, true);
      return r;
    },

    async RENAME(req, ctx, next) {
      refuseHiddenName(req.oldgfid, req.oldbname);
      refuseHiddenName(req.newgfid, req.newbname);
      const target = await shardedTarget(shard, req.newgfid, req.newbname, ctx);
      if (!target) return next(req);
      const r = await withMarker(target, ctx, () => next(req));
      shard.startBackgroundDeletion(ctx, true);
      return r;
    },
  };
}

/**
 * Step 5: deletes the shards of every file marked in `.remove_me`. Resolves when the
 * directory has been gone through once; markers locked by another client are left to it.
 */
export async function deleteMarked(shard: Shard, ctx: FopContext): Promise<number> {
  const root = shard.asRoot(ctx);
  try {
    await shard.ensureDirExists('remove_me', ctx);
  } catch (err) {
    if (isAbsent(err)) return 0;
    throw err;
  }
  const markers: { name: string; blockSize?: number; size?: number }[] = [];
  const fd = new OpenFd(REMOVE_ME_GFID, 0, true);
  await shard.call('OPENDIR', { gfid: REMOVE_ME_GFID, xdata: null, fd }, root);
  try {
    let offset = 0n;
    for (;;) {
      const r = await shard.call(
        'READDIRP',
        { gfid: REMOVE_ME_GFID, fd, offset, size: 131072, xdata: askShardXattrs(null) },
        root,
      );
      for (const e of r.entries) {
        offset = e.off;
        if (e.name === '.' || e.name === '..') continue;
        const { blockSize, fileSize } = shardXattrsOf(e.dict);
        markers.push({ name: e.name, blockSize, size: fileSize?.size });
      }
      if (r.entries.length === 0 || r.opErrno === Errno.ENOENT) break;
    }
  } finally {
    await shard.call('RELEASEDIR', { gfid: REMOVE_ME_GFID, fd, xdata: null }, root).catch(() => undefined);
  }
  let deleted = 0;
  for (const m of markers) {
    let base: Buffer;
    try {
      base = parseGfid(m.name);
    } catch {
      continue; // not a marker
    }
    const locked = owning(shard, ctx);
    try {
      await entrylk(shard, m.name, EntrylkCmd.LOCK_NB, locked);
    } catch (err) {
      if (err instanceof FopError && err.errno === Errno.EAGAIN) continue;
      throw err;
    }
    try {
      if (m.blockSize) await unlinkShards(shard, base, 1, lastBlock(m.size ?? 0, m.blockSize), ctx);
      await shard
        .call('UNLINK', { pargfid: REMOVE_ME_GFID, bname: m.name, xflags: 0, xdata: null }, root)
        .catch((err: unknown) => {
          if (!isAbsent(err)) throw err;
        });
      deleted++;
    } finally {
      await entrylk(shard, m.name, EntrylkCmd.UNLOCK, locked).catch(() => undefined);
    }
  }
  return deleted;
}
