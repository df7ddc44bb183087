/**
 * Fops on names: LOOKUP, CREATE, MKDIR, MKNOD, SYMLINK, LINK, UNLINK, RMDIR, RENAME. Each
 * resolves the parent directory by gfid, checks the basename, acts on
 * `/proc/self/fd/<parent>/<name>` with calls that do not follow a final symlink, and keeps
 * the handle store and gfid2path in step (posix-entry-ops.c).
 */
import { constants, promises as fsp, type BigIntStats } from 'node:fs';
import { gfuuidValue, uintValue } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { zeroIatt } from '../../protocol/iatt.js';
import { O_PATH, mknodat, openBeneath } from '../../sys/index.js';
import type { Caller, FopTable } from '../../xlator/translator.js';
import type { Node } from './brick.js';
import { gfidReq, type Posix } from './context.js';
import { closeQuietly, errCode, fchmod, fchown, lstat, open } from './fsx.js';
import { iattFromStat } from './iatt.js';
import { checkLinkTarget, checkName, openFlags, openRegularFile } from './security.js';
import {
  checkParentPrecondition,
  fdXattrs,
  hasPrecondition,
  nodeXattrs,
  pathXattrs,
  requestedXattrs,
  setCreateXattrs,
} from './xattrs.js';

const PERMS = 0o7777;
const S_ISGID = 0o2000;

/** Owner of a new inode: the caller, with the parent's group if the parent is setgid. */
function owner(caller: Caller, parent: Node): { uid: number; gid: number } {
  const setgid = (Number(parent.stat.mode) & S_ISGID) !== 0;
  return { uid: caller.uid, gid: setgid ? Number(parent.stat.gid) : caller.gid };
}

function sameInode(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

export function entryOps(p: Posix): FopTable {
  const { brick } = p;

  /**
   * Names being created, by `<parent gfid>/<name>`: settled once the new entry carries its
   * gfid. A new name is visible before its gfid xattr is set; a LOOKUP racing the creation
   * (stock shard's concurrent writes to one missing piece look it up while another MKNODs
   * it) waits here instead of answering a null gfid, which stock clients crash on.
   */
  const creating = new Map<string, Promise<void>>();
  function whileCreating<T>(parent: Buffer, name: string, make: () => Promise<T>): Promise<T> {
    const key = `${parent.toString('hex')}/${name}`;
    const run = make();
    // Racing creators of one name (all but one get EEXIST): wait for every one of them.
    const settled = Promise.all([
      creating.get(key),
      run.then(
        () => undefined,
        () => undefined,
      ),
    ]).then(() => undefined);
    creating.set(key, settled);
    void settled.then(() => {
      if (creating.get(key) === settled) creating.delete(key);
    });
    return run;
  }

  /** Removes what a failed creation left behind. */
  const undo = (path: string, dir = false) =>
    (dir ? fsp.rmdir(path) : fsp.unlink(path)).catch(() => undefined);

  /** After a name went away: drop the handle if it is now the inode's only link. */
  async function dropHandleIfLast(gfid: Buffer, st: BigIntStats): Promise<void> {
    const h = await lstat(brick.handlePath(gfid)).catch(() => null);
    if (h && sameInode(h, st) && h.nlink === 1n) await brick.removeHandle(gfid);
  }

  return {
    async LOOKUP(req) {
      if (!req.bname) {
        // Nameless: by gfid alone; an unknown gfid is ENOENT here, not ESTALE.
        const node = await brick.resolve(req.gfid).catch((e: unknown) => {
          throw FopError.from(e).code === 'ESTALE' ? FopError.of('ENOENT', 'unknown gfid') : e;
        });
        try {
          if (brick.isHidden(node.stat)) throw FopError.of('ENOENT');
          const xdata = await requestedXattrs(nodeXattrs(node), req.xdata, () => p.fds.openCount(node.gfid));
          return { prestat: brick.iatt(node), poststat: zeroIatt(), xdata };
        } finally {
          await brick.release(node);
        }
      }
      checkName(req.bname, false, brick.isRoot(req.pargfid));
      return brick.withDir(req.pargfid, async (dir) => {
        if (req.bname === '.' || req.bname === '..') {
          const node = req.bname === '.' ? dir : await brick.parentOf(dir);
          try {
            const xdata = await requestedXattrs(nodeXattrs(node), req.xdata, () =>
              p.fds.openCount(node.gfid),
            );
            return { prestat: brick.iatt(node), poststat: brick.iatt(dir), xdata };
          } finally {
            if (node !== dir) await brick.release(node);
          }
        }
        const path = brick.entryPath(dir, req.bname);
        let entry = await brick.statEntry(path);
        const pending = entry.gfid ? undefined : creating.get(`${dir.gfid.toString('hex')}/${req.bname}`);
        if (pending) {
          await pending;
          entry = await brick.statEntry(path);
        }
        let gfid = entry.gfid;
        const heal = gfid ? null : gfidReq(req.xdata, false);
        if (heal) {
          // A file put into the brick behind GlusterFS's back: adopt the client's gfid.
          if (entry.stat.isDirectory()) {
            const sub = await brick.openSubdir(dir, req.bname, heal);
            try {
              gfid = await brick.adoptDir(sub, heal, dir.gfid, req.bname);
            } finally {
              await brick.release(sub);
            }
          } else {
            gfid = await brick.adoptFile(path, heal, dir.gfid, req.bname);
          }
        }
        const known = gfid;
        const xdata = await requestedXattrs(
          pathXattrs(path),
          req.xdata,
          known ? () => p.fds.openCount(known) : undefined,
        );
        return {
          prestat: iattFromStat(await lstat(path), gfid ?? Buffer.alloc(16)),
          poststat: brick.iatt(dir),
          xdata,
        };
      });
    },

    async CREATE(req, ctx) {
      checkName(req.bname, true, brick.isRoot(req.pargfid));
      const gfid = gfidReq(req.xdata)!;
      return brick.withDir(req.pargfid, (dir) =>
        whileCreating(dir.gfid, req.bname, async () => {
          const preparent = brick.iatt(dir);
          await brick.dropMdata(dir);
          const path = brick.entryPath(dir, req.bname);
          const { flags, direct } = openFlags(req.flags, p.oDirect);
          // DHT's parent-layout precondition is checked only when the name is new (as stock).
          const isNew = !hasPrecondition(req.xdata) || (await lstat(path).catch(() => null)) === null;
          const xdata = await checkParentPrecondition(nodeXattrs(dir), req.xdata, isNew);
          let created = true;
          let fd: number;
          try {
            fd = await open(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
          } catch (e) {
            if (errCode(e) !== 'EEXIST' || req.flags & constants.O_EXCL) throw e;
            created = false;
            fd = await openRegularFile(path, flags);
          }
          let used = gfid;
          try {
            if (created) {
              await fchmod(fd, req.mode & ~req.umask & PERMS);
              const o = owner(ctx.caller, dir);
              await fchown(fd, o.uid, o.gid);
            }
            used = (await brick.pathGfid(path)) ?? (await brick.adoptFile(path, gfid, dir.gfid, req.bname));
            if (created) await setCreateXattrs(fdXattrs(fd), xdata);
            p.fds.attach(req.fd, fd, false, direct);
          } catch (e) {
            await closeQuietly(fd);
            if (created) await undo(path);
            throw e;
          }
          const stat = iattFromStat(await lstat(path), used);
          return {
            stat,
            preparent,
            postparent: await brick.restat(dir),
            xdata: new Map([['gfid-req', gfuuidValue(gfid)]]),
          };
        }),
      );
    },

    async MKDIR(req, ctx) {
      checkName(req.bname, true, brick.isRoot(req.pargfid));
      const gfid = gfidReq(req.xdata)!;
      return brick.withDir(req.pargfid, (dir) =>
        whileCreating(dir.gfid, req.bname, async () => {
          const preparent = brick.iatt(dir);
          const xdata = await checkParentPrecondition(nodeXattrs(dir), req.xdata);
          await brick.dropMdata(dir);
          const path = brick.entryPath(dir, req.bname);
          await fsp.mkdir(path, 0o700);
          let sub: Node | undefined;
          try {
            sub = await brick.openSubdir(dir, req.bname, gfid);
            const setgid = Number(dir.stat.mode) & S_ISGID;
            await fchmod(sub.fd, (req.mode & ~req.umask & PERMS) | setgid);
            const o = owner(ctx.caller, dir);
            await fchown(sub.fd, o.uid, o.gid);
            await brick.adoptDir(sub, gfid, dir.gfid, req.bname);
            await setCreateXattrs(fdXattrs(sub.fd), xdata);
            const stat = await brick.restat(sub);
            return { stat, preparent, postparent: await brick.restat(dir), xdata: null };
          } catch (e) {
            await undo(path, true);
            throw e;
          } finally {
            if (sub) await brick.release(sub);
          }
        }),
      );
    },

    async MKNOD(req, ctx) {
      checkName(req.bname, true, brick.isRoot(req.pargfid));
      const gfid = gfidReq(req.xdata)!;
      const type = req.mode & constants.S_IFMT || constants.S_IFREG;
      if (type === constants.S_IFDIR || type === constants.S_IFLNK)
        throw FopError.of('EINVAL', 'MKNOD of a directory or symlink');
      return brick.withDir(req.pargfid, (dir) =>
        whileCreating(dir.gfid, req.bname, async () => {
          const preparent = brick.iatt(dir);
          await brick.dropMdata(dir);
          const path = brick.entryPath(dir, req.bname);
          await mknodat(dir.fd, req.bname, type | (req.mode & ~req.umask & PERMS), req.dev);
          try {
            // chmod through an O_PATH fd: exact permissions (the process umask applied), and
            // never through a name someone could swap for a symlink meanwhile.
            const pathFd = await openBeneath(dir.fd, req.bname, O_PATH | constants.O_NOFOLLOW);
            try {
              await fsp.chmod(`/proc/self/fd/${pathFd}`, req.mode & ~req.umask & PERMS);
            } finally {
              await closeQuietly(pathFd);
            }
            const o = owner(ctx.caller, dir);
            await fsp.lchown(path, o.uid, o.gid);
            await brick.adoptFile(path, gfid, dir.gfid, req.bname);
            await setCreateXattrs(pathXattrs(path), req.xdata);
          } catch (e) {
            await undo(path);
            throw e;
          }
          const stat = iattFromStat(await lstat(path), gfid);
          return { stat, preparent, postparent: await brick.restat(dir), xdata: null };
        }),
      );
    },

    async SYMLINK(req, ctx) {
      checkName(req.bname, true, brick.isRoot(req.pargfid));
      const gfid = gfidReq(req.xdata)!;
      checkLinkTarget(req.linkname);
      return brick.withDir(req.pargfid, (dir) =>
        whileCreating(dir.gfid, req.bname, async () => {
          const preparent = brick.iatt(dir);
          await brick.dropMdata(dir);
          const path = brick.entryPath(dir, req.bname);
          // The target is stored, never followed by the brick.
          await fsp.symlink(req.linkname, path);
          try {
            const o = owner(ctx.caller, dir);
            await fsp.lchown(path, o.uid, o.gid);
            await brick.adoptFile(path, gfid, dir.gfid, req.bname);
          } catch (e) {
            await undo(path);
            throw e;
          }
          const stat = iattFromStat(await lstat(path), gfid);
          return { stat, preparent, postparent: await brick.restat(dir), xdata: null };
        }),
      );
    },

    async LINK(req) {
      checkName(req.newbname, true, brick.isRoot(req.newgfid));
      return brick.with(req.oldgfid, async (node) => {
        if (node.isDir) throw FopError.of('EPERM', 'hard link to a directory');
        return brick.withDir(req.newgfid, async (dir) => {
          const preparent = brick.iatt(dir);
          await Promise.all([brick.dropMdata(dir), brick.dropMdata(node)]);
          const path = brick.entryPath(dir, req.newbname);
          await fsp.link(node.path, path);
          await brick.addGfid2path(path, dir.gfid, req.newbname).catch(async (e: unknown) => {
            await undo(path);
            throw e;
          });
          return {
            stat: await brick.restat(node),
            preparent,
            postparent: await brick.restat(dir),
            xdata: null,
          };
        });
      });
    },

    async UNLINK(req) {
      checkName(req.bname, true, brick.isRoot(req.pargfid));
      return brick.withDir(req.pargfid, async (dir) => {
        const prestat = brick.iatt(dir);
        const path = brick.entryPath(dir, req.bname);
        const { stat, gfid } = await brick.statEntry(path);
        if (stat.isDirectory()) throw FopError.of('EISDIR');
        await Promise.all([brick.dropMdata(dir), brick.dropMdata(path)]);
        // Other names remain: this name's gfid2path goes (stock keeps it on the last).
        if (gfid && stat.nlink > 2n) await brick.removeGfid2path(path, dir.gfid, req.bname);
        await fsp.unlink(path);
        if (gfid) await dropHandleIfLast(gfid, stat);
        // Shard asks how many 512-byte blocks the removed file held (its size accounting).
        const xdata = req.xdata?.has('gf_get_file_block_count')
          ? new Map([['gf_get_file_block_count', uintValue(stat.blocks)]])
          : null;
        return { prestat, poststat: await brick.restat(dir), xdata };
      });
    },

    async RMDIR(req) {
      checkName(req.bname, true, brick.isRoot(req.pargfid));
      return brick.withDir(req.pargfid, async (dir) => {
        const prestat = brick.iatt(dir);
        const path = brick.entryPath(dir, req.bname);
        const { stat, gfid } = await brick.statEntry(path);
        if (!stat.isDirectory()) throw FopError.of('ENOTDIR');
        await brick.dropMdata(dir);
        await fsp.rmdir(path);
        if (gfid) await brick.removeHandle(gfid);
        return { prestat, poststat: await brick.restat(dir), xdata: null };
      });
    },

    async RENAME(req) {
      checkName(req.oldbname, true, brick.isRoot(req.oldgfid));
      checkName(req.newbname, true, brick.isRoot(req.newgfid));
      return brick.withDir(req.oldgfid, (od) =>
        brick.withDir(req.newgfid, async (nd) => {
          const preoldparent = brick.iatt(od);
          const prenewparent = brick.iatt(nd);
          const oldPath = brick.entryPath(od, req.oldbname);
          const newPath = brick.entryPath(nd, req.newbname);
          const src = await brick.statEntry(oldPath);
          const dst = await brick.statEntry(newPath).catch((e: unknown) => {
            if (errCode(e) === 'ENOENT' || FopError.from(e).code === 'ENOENT') return null;
            throw e;
          });
          const gfid = src.gfid ?? Buffer.alloc(16);
          if (dst && sameInode(src.stat, dst.stat)) {
            // Two names of one inode: rename(2) does nothing.
            return {
              stat: iattFromStat(src.stat, gfid),
              preoldparent,
              postoldparent: preoldparent,
              prenewparent,
              postnewparent: prenewparent,
              xdata: null,
            };
          }
          // A replaced non-directory that keeps other names changes too (one link fewer, a new
          // ctime): its stock times must not outlive the rename either.
          await Promise.all([
            brick.dropMdata(od),
            brick.dropMdata(nd),
            brick.dropMdata(oldPath),
            ...(dst && !dst.stat.isDirectory() ? [brick.dropMdata(newPath)] : []),
          ]);
          await fsp.rename(oldPath, newPath);
          if (src.gfid) {
            if (src.stat.isDirectory()) {
              await brick.repointDirHandle(src.gfid, nd.gfid, req.newbname);
            } else {
              await brick.removeGfid2path(newPath, od.gfid, req.oldbname);
              await brick.addGfid2path(newPath, nd.gfid, req.newbname);
            }
          }
          if (dst?.gfid) {
            if (dst.stat.isDirectory()) await brick.removeHandle(dst.gfid);
            else await dropHandleIfLast(dst.gfid, dst.stat);
          }
          return {
            stat: iattFromStat(await lstat(newPath), gfid),
            preoldparent,
            postoldparent: await brick.restat(od),
            prenewparent,
            postnewparent: await brick.restat(nd),
            xdata: null,
          };
        }),
      );
    },
  };
}
