/** Fops on an inode by gfid: STAT, SETATTR, ACCESS, TRUNCATE, READLINK, STATFS. */
import { constants, promises as fsp } from 'node:fs';
import { FopError } from '../../protocol/errno.js';
import type { FopTable } from '../../xlator/translator.js';
import { applySetattr, truncatePath } from './attrs.js';
import type { Posix } from './context.js';
import { nodeXattrs, requestedXattrs } from './xattrs.js';
import { Limits } from '../../protocol/limits.js';

const R_OK = 4;
const W_OK = 2;
const X_OK = 1;

/** access(2) for the caller, from the inode's owner, group and mode bits. */
function permits(
  mode: number,
  uid: number,
  gid: number,
  caller: { uid: number; gid: number; groups: readonly number[] },
  mask: number,
): boolean {
  if (caller.uid === 0) {
    // root: read and write anything; execute if anyone may (or it is a directory).
    return !(mask & X_OK) || (mode & 0o111) !== 0 || (mode & constants.S_IFMT) === constants.S_IFDIR;
  }
  const shift = caller.uid === uid ? 6 : caller.gid === gid || caller.groups.includes(gid) ? 3 : 0;
  const bits = (mode >> shift) & 7;
  return (mask & bits & (R_OK | W_OK | X_OK)) === (mask & (R_OK | W_OK | X_OK));
}

export function inodeOps(p: Posix): FopTable {
  const { brick } = p;
  return {
    async STAT(req) {
      return brick.with(req.gfid, async (node) => ({
        stat: brick.iatt(node),
        xdata: await requestedXattrs(nodeXattrs(node), req.xdata),
      }));
    },

    async SETATTR(req) {
      return brick.with(req.gfid, async (node) => {
        const prestat = brick.iatt(node);
        await brick.dropMdata(node);
        await applySetattr(
          node.isDir ? { fd: node.fd, isDir: true } : { path: node.path },
          req.stbuf,
          req.valid,
        );
        return { prestat, poststat: await brick.restat(node), xdata: null };
      });
    },

    async ACCESS(req, ctx) {
      return brick.with(req.gfid, async (node) => {
        const st = node.stat;
        if (!permits(Number(st.mode), Number(st.uid), Number(st.gid), ctx.caller, req.mask & 7)) {
          throw FopError.of('EACCES');
        }
        return { xdata: null };
      });
    },

    async TRUNCATE(req) {
      return brick.with(req.gfid, async (node) => {
        if (node.isDir) throw FopError.of('EISDIR');
        const prestat = brick.iatt(node);
        await brick.dropMdata(node);
        await truncatePath(node.path, req.offset);
        return { prestat, poststat: await brick.restat(node), xdata: null };
      });
    },

    async READLINK(req) {
      return brick.with(req.gfid, async (node) => {
        if (node.isDir || !node.stat.isSymbolicLink()) throw FopError.of('EINVAL', 'not a symlink');
        let target = await fsp.readlink(node.path, { encoding: 'buffer' });
        // readlink(2) truncates to the buffer it is given.
        const max = Math.min(req.size || Limits.PATH, Limits.PATH);
        if (target.length > max) target = target.subarray(0, max);
        // Stock clients take the target's length from op_ret (fuse_readlink_cbk).
        return { opRet: target.length, buf: brick.iatt(node), path: target.toString('utf8'), xdata: null };
      });
    },

    async STATFS() {
      const s = await fsp.statfs(brick.root, { bigint: true });
      return {
        statfs: {
          bsize: s.bsize,
          frsize: s.bsize,
          blocks: s.blocks,
          bfree: s.bfree,
          bavail: s.bavail,
          files: s.files,
          ffree: s.ffree,
          favail: s.ffree,
          fsid: 0n,
          flag: 0n,
          namemax: BigInt(Limits.NAME),
        },
        xdata: null,
      };
    },
  };
}
