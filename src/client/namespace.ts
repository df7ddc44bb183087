/**
 * The namespace calls of Volume (glfs_stat … glfs_opendir), its third layer (see
 * runner.ts): each resolves its path (resolve.ts) and runs one or two fops.
 */
import { gfuuidValue, ptrValue, type GfxDict } from '../protocol/dict.js';
import { randomGfid } from '../protocol/gfid.js';
import { Limits } from '../protocol/limits.js';
import { SetattrValid, zeroIatt, type Iatt } from '../protocol/iatt.js';
import { OpenFd, type Caller, type Graph } from '../xlator/index.js';
import { GlusterError } from './errors.js';
import { Directory, type OpendirOptions } from './directory.js';
import { File, openFlags, O, type OpenFlags } from './file.js';
import type { Inode } from './inodes.js';
import { PathResolver } from './resolve.js';
import type { CallOptions, Where } from './runner.js';
import { S_IFDIR, S_IFLNK, Stats, statVfs, type DirEntry, type StatVfs } from './stats.js';

export abstract class VolumeCalls extends PathResolver {
  /** Open files and directories, closed by close(). */
  protected readonly handles = new Set<File | Directory>();
  private readonly umask: number;

  protected constructor(
    graph: Graph,
    opts: {
      caller?: Partial<Caller> | undefined;
      entryTimeoutMs?: number | undefined;
      umask?: number | undefined;
    },
  ) {
    super(graph, opts.caller, opts.entryTimeoutMs ?? 1000);
    this.umask = opts.umask ?? 0o022;
  }

  // ---- namespace -------------------------------------------------------------------

  /** glfs_stat: follows a final symlink. */
  stat(path: string, opts: CallOptions = {}): Promise<Stats> {
    return this.existing(path, 'glfs_stat', opts, async (_i, r) => new Stats(r.iatt!));
  }

  /** glfs_lstat: a final symlink is described itself. */
  lstat(path: string, opts: CallOptions = {}): Promise<Stats> {
    return this.existing(path, 'glfs_lstat', { ...opts, follow: false }, async (_i, r) => new Stats(r.iatt!));
  }

  /** Whether the path exists (following symlinks); other failures are thrown. */
  async exists(path: string, opts: CallOptions = {}): Promise<boolean> {
    try {
      return await this.at(path, 'glfs_stat', opts, async (r) => r.inode !== null);
    } catch (err) {
      if (err instanceof GlusterError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return false;
      throw err;
    }
  }

  /** glfs_access: F_OK 0, X_OK 1, W_OK 2, R_OK 4. */
  access(path: string, mode = 0, opts: CallOptions = {}): Promise<void> {
    return this.existing(path, 'glfs_access', opts, async (inode, _r, where) => {
      await this.fop('ACCESS', { gfid: inode.gfid, mask: mode, xdata: null }, where);
    });
  }

  /** glfs_mkdir. */
  mkdir(path: string, mode = 0o777, opts: CallOptions = {}): Promise<void> {
    return this.at(path, 'glfs_mkdir', { ...opts, follow: false }, async (r, where) => {
      if (r.inode) throw new GlusterError('EEXIST', where.syscall, path);
      const gfid = randomGfid();
      const reply = await this.fop(
        'MKDIR',
        { pargfid: r.parent.gfid, mode, umask: this.umask, bname: r.name, xdata: gfidReq(gfid) },
        where,
      );
      this.cache.link(r.parent, r.name, this.cache.inode(reply.stat.gfid, reply.stat.mode));
    });
  }

  /** glfs_rmdir. */
  rmdir(path: string, opts: CallOptions = {}): Promise<void> {
    return this.existing(path, 'glfs_rmdir', { ...opts, follow: false }, async (inode, r, where) => {
      if (r.name === '') throw new GlusterError('EBUSY', where.syscall, path);
      if (inode.type !== S_IFDIR) throw new GlusterError('ENOTDIR', where.syscall, path);
      await this.fop('RMDIR', { pargfid: r.parent.gfid, xflags: 0, bname: r.name, xdata: null }, where);
      this.cache.unlink(r.parent, r.name);
      this.cache.forget(inode.gfid);
    });
  }

  /** glfs_unlink. */
  unlink(path: string, opts: CallOptions = {}): Promise<void> {
    return this.existing(path, 'glfs_unlink', { ...opts, follow: false }, async (inode, r, where) => {
      if (inode.type === S_IFDIR) throw new GlusterError('EISDIR', where.syscall, path);
      await this.fop('UNLINK', { pargfid: r.parent.gfid, bname: r.name, xflags: 0, xdata: null }, where);
      this.cache.unlink(r.parent, r.name);
    });
  }

  /** glfs_rename: replaces an existing target as rename(2) does. */
  rename(from: string, to: string, opts: CallOptions = {}): Promise<void> {
    return this.existing(from, 'glfs_rename', { ...opts, follow: false }, async (inode, src, where) => {
      if (src.name === '') throw new GlusterError('EBUSY', where.syscall, from);
      const dst = await this.resolve(to, false, { ...where, path: to }, true);
      if (dst.name === '') throw new GlusterError('EBUSY', where.syscall, to);
      await this.fop(
        'RENAME',
        {
          oldgfid: src.parent.gfid,
          newgfid: dst.parent.gfid,
          oldbname: src.name,
          newbname: dst.name,
          xdata: null,
        },
        where,
      );
      this.cache.unlink(src.parent, src.name);
      if (dst.inode && dst.inode.key !== inode.key) this.cache.forget(dst.inode.gfid);
      this.cache.link(dst.parent, dst.name, inode);
    });
  }

  /** glfs_link: a hard link `to` for the existing `from`. */
  link(from: string, to: string, opts: CallOptions = {}): Promise<void> {
    return this.existing(from, 'glfs_link', { ...opts, follow: false }, async (inode, _src, where) => {
      const dst = await this.resolve(to, false, { ...where, path: to }, true);
      if (dst.inode) throw new GlusterError('EEXIST', where.syscall, to);
      await this.fop(
        'LINK',
        { oldgfid: inode.gfid, newgfid: dst.parent.gfid, newbname: dst.name, xdata: null },
        { ...where, path: to },
      );
      this.cache.link(dst.parent, dst.name, inode);
    });
  }

  /** glfs_symlink: creates `path` pointing at `target` (stored as given). */
  symlink(target: string, path: string, opts: CallOptions = {}): Promise<void> {
    return this.at(path, 'glfs_symlink', { ...opts, follow: false }, async (r, where) => {
      if (r.inode) throw new GlusterError('EEXIST', where.syscall, path);
      // symlink(2)'s bound (PATH_MAX with its NUL), as the brick would answer it.
      if (Buffer.byteLength(target) >= Limits.PATH)
        throw new GlusterError('ENAMETOOLONG', where.syscall, path);
      const reply = await this.fop(
        'SYMLINK',
        {
          pargfid: r.parent.gfid,
          bname: r.name,
          umask: this.umask,
          linkname: target,
          xdata: gfidReq(randomGfid()),
        },
        where,
      );
      this.cache.link(r.parent, r.name, this.cache.inode(reply.stat.gfid, reply.stat.mode));
    });
  }

  /** glfs_readlink. */
  readlink(path: string, opts: CallOptions = {}): Promise<string> {
    return this.existing(path, 'glfs_readlink', { ...opts, follow: false }, async (inode, _r, where) => {
      if (inode.type !== S_IFLNK) throw new GlusterError('EINVAL', where.syscall, path);
      return this.readlinkInode(inode, where);
    });
  }

  /** glfs_truncate. */
  truncate(path: string, length = 0, opts: CallOptions = {}): Promise<void> {
    return this.existing(path, 'glfs_truncate', opts, async (inode, _r, where) => {
      if (inode.type === S_IFDIR) throw new GlusterError('EISDIR', where.syscall, path);
      await this.fop('TRUNCATE', { gfid: inode.gfid, offset: length, xdata: null }, where);
    });
  }

  /** glfs_chmod: permission bits (and setuid/setgid/sticky). */
  chmod(path: string, mode: number, opts: CallOptions = {}): Promise<void> {
    return this.setattr(path, 'glfs_chmod', opts, { mode: mode & 0o7777 }, SetattrValid.MODE);
  }

  /** glfs_chown: -1 leaves the uid or gid unchanged. */
  chown(path: string, uid: number, gid: number, opts: CallOptions = {}): Promise<void> {
    const valid = (uid >= 0 ? SetattrValid.UID : 0) | (gid >= 0 ? SetattrValid.GID : 0);
    return this.setattr(path, 'glfs_chown', opts, { uid: Math.max(uid, 0), gid: Math.max(gid, 0) }, valid);
  }

  /**
   * glfs_utimens: access and modification times as Dates, milliseconds since the epoch,
   * or exact nanoseconds (bigint).
   */
  utimens(path: string, atime: TimeValue, mtime: TimeValue, opts: CallOptions = {}): Promise<void> {
    const [as, an] = splitTime(atime);
    const [ms, mn] = splitTime(mtime);
    return this.setattr(
      path,
      'glfs_utimens',
      opts,
      { atime: as, atimeNsec: an, mtime: ms, mtimeNsec: mn },
      SetattrValid.ATIME | SetattrValid.MTIME,
    );
  }

  private setattr(
    path: string,
    syscall: string,
    opts: CallOptions,
    fields: Partial<Iatt>,
    valid: number,
  ): Promise<void> {
    return this.existing(path, syscall, opts, async (inode, _r, where) => {
      const stbuf = { ...zeroIatt(), ...fields };
      await this.fop('SETATTR', { gfid: inode.gfid, stbuf, valid, xdata: null }, where);
    });
  }

  /** glfs_statvfs (STATFS on the path's inode; the root by default). */
  statvfs(path = '/', opts: CallOptions = {}): Promise<StatVfs> {
    return this.existing(path, 'glfs_statvfs', opts, async (inode, _r, where) => {
      const r = await this.fop('STATFS', { gfid: inode.gfid, xdata: null }, where);
      return statVfs(r.statfs);
    });
  }

  // ---- xattrs ----------------------------------------------------------------------

  /** glfs_getxattr: the value's bytes; ENODATA when absent. */
  getxattr(path: string, name: string, opts: CallOptions = {}): Promise<Buffer> {
    return this.existing(path, 'glfs_getxattr', opts, async (inode, _r, where) => {
      checkXattrName(name, where);
      const r = await this.fop('GETXATTR', { gfid: inode.gfid, namelen: 1, name, xdata: null }, where);
      const v = r.dict?.get(name);
      if (!v || !Buffer.isBuffer(v.value)) throw new GlusterError('ENODATA', where.syscall, path);
      return Buffer.from(v.value);
    });
  }

  /** glfs_listxattr: the names. */
  listxattr(path: string, opts: CallOptions = {}): Promise<string[]> {
    return this.existing(path, 'glfs_listxattr', opts, async (inode, _r, where) => {
      const r = await this.fop('GETXATTR', { gfid: inode.gfid, namelen: 0, name: '', xdata: null }, where);
      return [...(r.dict?.keys() ?? [])];
    });
  }

  /** glfs_setxattr; flags XATTR_CREATE (1) fails EEXIST, XATTR_REPLACE (2) fails ENODATA. */
  setxattr(
    path: string,
    name: string,
    value: Buffer | string,
    flags = 0,
    opts: CallOptions = {},
  ): Promise<void> {
    return this.existing(path, 'glfs_setxattr', opts, async (inode, _r, where) => {
      checkXattrName(name, where);
      const bytes = typeof value === 'string' ? Buffer.from(value) : value;
      const dict = new Map([[name, ptrValue(bytes)]]);
      await this.fop('SETXATTR', { gfid: inode.gfid, flags, dict, xdata: null }, where);
    });
  }

  /** glfs_removexattr. */
  removexattr(path: string, name: string, opts: CallOptions = {}): Promise<void> {
    return this.existing(path, 'glfs_removexattr', opts, async (inode, _r, where) => {
      checkXattrName(name, where);
      await this.fop('REMOVEXATTR', { gfid: inode.gfid, name, xdata: null }, where);
    });
  }

  // ---- files and directories ---------------------------------------------------------

  /**
   * glfs_open. With O_CREAT in the flags it behaves as `create` (glfs_creat). Directories
   * are refused with EISDIR, as gfapi does.
   */
  async open(
    path: string,
    flags: OpenFlags = 'r',
    opts: CallOptions & { mode?: number } = {},
  ): Promise<File> {
    const f = openFlags(flags);
    if (f & O.CREAT) return this.create(path, f, opts.mode ?? 0o666, opts);
    return this.existing(path, 'glfs_open', opts, (inode, _r, where) => this.openInode(inode, f, where));
  }

  /** glfs_creat: creates the file (O_EXCL: EEXIST if present), or opens the existing one. */
  async create(path: string, flags: OpenFlags = 'w', mode = 0o666, opts: CallOptions = {}): Promise<File> {
    const f = openFlags(flags) | O.CREAT;
    return this.at(path, 'glfs_creat', opts, async (r, where) => {
      if (r.inode) {
        if (f & O.EXCL) throw new GlusterError('EEXIST', where.syscall, path);
        return this.openInode(r.inode, f & ~(O.CREAT | O.EXCL), where);
      }
      if (r.name === '') throw new GlusterError('EISDIR', where.syscall, path);
      const gfid = randomGfid();
      const fd = new OpenFd(gfid, f, false);
      const reply = await this.fop(
        'CREATE',
        {
          pargfid: r.parent.gfid,
          flags: f,
          mode,
          umask: this.umask,
          bname: r.name,
          xdata: gfidReq(gfid),
          fd,
        },
        where,
      );
      this.cache.link(r.parent, r.name, this.cache.inode(reply.stat.gfid, reply.stat.mode));
      return this.track(new File(this, path, fd, f));
    });
  }

  private async openInode(inode: Inode, flags: number, where: Where): Promise<File> {
    if (inode.type === S_IFDIR) throw new GlusterError('EISDIR', where.syscall, where.path);
    const fd = new OpenFd(inode.gfid, flags, false);
    await this.fop('OPEN', { gfid: inode.gfid, flags, xdata: null, fd }, where);
    return this.track(new File(this, where.path!, fd, flags));
  }

  /** glfs_opendir: a Directory to iterate (READDIRP) and close. */
  opendir(path: string, opts: CallOptions & OpendirOptions = {}): Promise<Directory> {
    return this.existing(path, 'glfs_opendir', opts, async (inode, _r, where) => {
      if (inode.type !== S_IFDIR) throw new GlusterError('ENOTDIR', where.syscall, path);
      const fd = new OpenFd(inode.gfid, 0, true);
      await this.fop('OPENDIR', { gfid: inode.gfid, xdata: null, fd }, where);
      return this.track(new Directory(this, path, fd, opts));
    });
  }

  /** The entries of a directory (without "." and ".."), opened and closed around the iteration. */
  async *readdir(path: string, opts: CallOptions & OpendirOptions = {}): AsyncGenerator<DirEntry> {
    const dir = await this.opendir(path, opts);
    try {
      yield* dir.entries(opts);
    } finally {
      await dir.close();
    }
  }

  private track<T extends File | Directory>(h: T): T {
    this.handles.add(h);
    h.onClose(() => this.handles.delete(h));
    return h;
  }
}

/** Times: a Date, milliseconds since the epoch, or nanoseconds as a bigint. */
export type TimeValue = Date | number | bigint;

function splitTime(t: TimeValue): [number, number] {
  if (typeof t === 'bigint') return [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)];
  const ms = t instanceof Date ? t.getTime() : t;
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
}

function gfidReq(gfid: Buffer): GfxDict {
  return new Map([['gfid-req', gfuuidValue(gfid)]]);
}

/** XATTR_NAME_MAX counts bytes; longer names are ERANGE, as the *xattr(2) calls answer. */
function checkXattrName(name: string, where: Where): void {
  if (Buffer.byteLength(name) > Limits.XATTR_NAME)
    throw new GlusterError('ERANGE', where.syscall, where.path);
}
