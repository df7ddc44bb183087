/**
 * Attributes and names as users see a sharded file: every stat (LOOKUP, STAT, FSTAT,
 * READDIRP entries, the stats of changing fops) carries the logical size and the block
 * count summed over all shards, read from the file-size xattr the brick returns; new
 * regular files get the block-size and file-size xattrs at CREATE/MKNOD; the shard xattrs
 * cannot be set, removed or read by users; `/.shard` is invisible in `/` and refused by
 * name (EPERM), as stock does.
 */
import { ptrValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { ROOT_GFID } from '../../protocol/gfid.js';
import type { Iatt } from '../../protocol/iatt.js';
import type { FopContext, FopTable } from '../../xlator/translator.js';
import {
  askShardXattrs,
  DOT_SHARD,
  DOT_SHARD_GFID,
  hideShardXattrs,
  REMOVE_ME_GFID,
  S_IFMT,
  S_IFREG,
  withFileSize,
  type Shard,
} from './context.js';
import { BLOCK_SIZE_XATTR, encodeBlockSize, encodeFileSize, FILE_SIZE_XATTR } from './size-xattr.js';

const isShardKey = (k: string) => k.startsWith('trusted.glusterfs.shard.');

/** Names users may not use: `.shard` in the root, anything inside the hidden directories. */
export function refuseHiddenName(pargfid: Buffer, bname: string): void {
  if ((pargfid.equals(ROOT_GFID) && bname === DOT_SHARD) || isHiddenDir(pargfid))
    throw FopError.of('EPERM', `${bname}: shard's own directory`);
}

function isHiddenDir(gfid: Buffer): boolean {
  return gfid.equals(DOT_SHARD_GFID) || gfid.equals(REMOVE_ME_GFID);
}

export function attrOps(shard: Shard): FopTable {
  /** The stat as users see it: the logical size and blocks when the file is sharded. */
  const present = (iatt: Iatt, dict: GfxDict): Iatt => {
    const st = shard.learn(iatt, dict);
    return st?.blockSize && st.known ? withFileSize(iatt, st.known) : iatt;
  };
  /** A stat of a changing fop's reply, with what this client knows of the file. */
  const known = (iatt: Iatt): Iatt => {
    const st = shard.state(iatt.gfid);
    return st?.blockSize && st.known ? withFileSize(iatt, st.known) : iatt;
  };

  /** Creation xdata: the block size and an all-zero file size, stored by the brick. */
  const creating = (xdata: GfxDict): Dict => {
    const d: Dict = new Map(xdata ?? []);
    d.set(BLOCK_SIZE_XATTR, ptrValue(encodeBlockSize(shard.options.blockSize)));
    d.set(FILE_SIZE_XATTR, ptrValue(encodeFileSize({ size: 0, blocks: 0 })));
    return d;
  };

  return {
    async LOOKUP(req, ctx, next) {
      if (req.bname) refuseHiddenName(req.pargfid, req.bname);
      else if (isHiddenDir(req.gfid)) throw FopError.of('EPERM', 'shard directory');
      const r = await next({ ...req, xdata: askShardXattrs(req.xdata) });
      shard.startBackgroundDeletion(ctx);
      return { ...r, prestat: present(r.prestat, r.xdata), xdata: hideShardXattrs(r.xdata) };
    },

    async STAT(req, _ctx, next) {
      const r = await next({ ...req, xdata: askShardXattrs(req.xdata) });
      return { ...r, stat: present(r.stat, r.xdata), xdata: hideShardXattrs(r.xdata) };
    },

    async FSTAT(req, _ctx, next) {
      const r = await next({ ...req, xdata: askShardXattrs(req.xdata) });
      return { ...r, stat: present(r.stat, r.xdata), xdata: hideShardXattrs(r.xdata) };
    },

    async READDIRP(req, _ctx, next) {
      const r = await next({ ...req, xdata: askShardXattrs(req.xdata) });
      const inRoot = req.fd.gfid.equals(ROOT_GFID);
      const entries = r.entries
        .filter((e) => !(inRoot && e.name === DOT_SHARD))
        .map((e) => ({ ...e, stat: present(e.stat, e.dict), dict: hideShardXattrs(e.dict) }));
      return { ...r, entries };
    },

    async READDIR(req, _ctx, next) {
      const r = await next(req);
      if (!req.fd.gfid.equals(ROOT_GFID)) return r;
      return { ...r, entries: r.entries.filter((e) => e.name !== DOT_SHARD) };
    },

    async CREATE(req, _ctx, next) {
      refuseHiddenName(req.pargfid, req.bname);
      const r = await next({ ...req, xdata: creating(req.xdata) });
      shard.learn(r.stat, new Map([[BLOCK_SIZE_XATTR, ptrValue(encodeBlockSize(shard.options.blockSize))]]));
      const st = shard.state(r.stat.gfid);
      if (st) st.known = { size: 0, blocks: r.stat.blocks };
      return r;
    },

    async MKNOD(req, _ctx, next) {
      refuseHiddenName(req.pargfid, req.bname);
      if ((req.mode & S_IFMT) !== S_IFREG && (req.mode & S_IFMT) !== 0) return next(req);
      return next({ ...req, xdata: creating(req.xdata) });
    },

    async MKDIR(req, _ctx, next) {
      refuseHiddenName(req.pargfid, req.bname);
      return next(req);
    },

    async SYMLINK(req, _ctx, next) {
      refuseHiddenName(req.pargfid, req.bname);
      return next(req);
    },

    async LINK(req, _ctx, next) {
      refuseHiddenName(req.newgfid, req.newbname);
      const r = await next(req);
      return { ...r, stat: known(r.stat) };
    },

    async GETXATTR(req, _ctx, next) {
      if (req.name && isShardKey(req.name)) throw FopError.of('ENODATA');
      const r = await next(req);
      return { ...r, dict: hideShardXattrs(r.dict) };
    },

    async FGETXATTR(req, _ctx, next) {
      if (req.name && isShardKey(req.name)) throw FopError.of('ENODATA');
      const r = await next(req);
      return { ...r, dict: hideShardXattrs(r.dict) };
    },

    async SETXATTR(req, _ctx, next) {
      refuseShardKeys(req.dict);
      return next(req);
    },

    async FSETXATTR(req, _ctx, next) {
      refuseShardKeys(req.dict);
      return next(req);
    },

    async REMOVEXATTR(req, _ctx, next) {
      if (isShardKey(req.name)) throw FopError.of('EPERM', req.name);
      return next(req);
    },

    async FREMOVEXATTR(req, _ctx, next) {
      if (isShardKey(req.name)) throw FopError.of('EPERM', req.name);
      return next(req);
    },

    async SETATTR(req, _ctx, next) {
      const r = await next(req);
      return { ...r, prestat: known(r.prestat), poststat: known(r.poststat) };
    },

    async FSETATTR(req, _ctx, next) {
      const r = await next(req);
      return { ...r, prestat: known(r.prestat), poststat: known(r.poststat) };
    },
  };
}

function refuseShardKeys(dict: GfxDict): void {
  for (const k of dict?.keys() ?? []) if (isShardKey(k)) throw FopError.of('EPERM', k);
}

export type { FopContext };
