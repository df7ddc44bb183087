/**
 * One brick directory: its layout at start-up, and resolution of gfids and entries to
 * things the kernel can act on without ever leaving the brick.
 *
 * - A directory is reached by openat2(RESOLVE_BENEATH) through its handle symlink chain,
 *   then checked to carry the gfid asked for; everything about it (stat, xattrs, entries
 *   inside it) goes through that fd. Entries are named `/proc/self/fd/<dirfd>/<name>`: the
 *   magic link pins the directory, so no rename or symlink swap elsewhere can redirect it,
 *   and the final name is acted on with calls that do not follow symlinks.
 * - A non-directory is reached by its hard-link handle `.glusterfs/xx/yy/<uuid>`, whose
 *   parents only posix creates, with lstat/l*xattr/O_NOFOLLOW.
 */
import { constants, promises as fsp, type BigIntStats } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { FopError } from '../../protocol/errno.js';
import { NULL_GFID, ROOT_GFID, parseGfid } from '../../protocol/gfid.js';
import { Limits } from '../../protocol/limits.js';
import type { Iatt } from '../../protocol/iatt.js';
import {
  fgetxattr,
  fremovexattr,
  fsetxattr,
  lgetxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  openBeneath,
  openDirectory,
  RESOLVE_NO_SYMLINKS,
  XATTR_CREATE,
} from '../../sys/index.js';
import { closeQuietly, errCode, fstat, lstat } from './fsx.js';
import { iattFromStat } from './iatt.js';
import {
  AUX_DIRS,
  GFID2PATH_PREFIX,
  GFID_XATTR,
  HIDDEN_DIR,
  MDATA_XATTR,
  ROOT_HANDLE_TARGET,
  VOLUME_ID_XATTR,
  dirHandleTarget,
  gfid2path,
  handleRelPath,
} from './on-disk.js';

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY;

/** A resolved inode. Directories hold an fd (closed by the caller through Brick.with*). */
export interface Node {
  gfid: Buffer;
  stat: BigIntStats;
  isDir: boolean;
  /** O_DIRECTORY fd for directories, -1 otherwise. */
  fd: number;
  /** Non-directories: the handle path. Directories: `/proc/self/fd/<fd>`. */
  path: string;
}

export interface BrickOptions {
  directory: string;
  volumeId: string;
}

export class Brick {
  readonly root: string;
  private rootFd = -1;
  private hiddenIno = -1n;
  private hiddenDev = -1n;
  private readonly locks = new Map<string, Promise<void>>();
  private readonly handleRemoved: ((gfid: Buffer) => Promise<void>)[] = [];

  constructor(readonly options: BrickOptions) {
    this.root = resolvePath(options.directory);
  }

  /** Prepares the layout like posix_init: volume-id, root gfid, handle store, aux dirs. */
  async init(): Promise<void> {
    const st = await fsp.stat(this.root).catch((e: unknown) => {
      throw new Error(`posix: brick directory ${this.root}: ${(e as Error).message}`);
    });
    if (!st.isDirectory()) throw new Error(`posix: ${this.root} is not a directory`);
    this.rootFd = await openDirectory(this.root);
    try {
      await this.checkXattr(VOLUME_ID_XATTR, this.options.volumeId ? parseGfid(this.options.volumeId) : null);
      await this.checkXattr(GFID_XATTR, ROOT_GFID);
      const hidden = `${this.root}/${HIDDEN_DIR}`;
      await fsp.mkdir(hidden, 0o600).catch(ignore('EEXIST'));
      const hst = await lstat(hidden);
      if (!hst.isDirectory()) throw new Error(`posix: ${hidden} is not a directory`);
      this.hiddenIno = hst.ino;
      this.hiddenDev = hst.dev;
      // Stock creates all 256 first-level hash directories up front. A brick that has them
      // (every start but its first) is told so by one listing, not 256 mkdir calls one after
      // the other (each a thread-pool hop; a returning brick's heal waits for its start).
      const present = new Set(await fsp.readdir(hidden));
      const make = (name: string, mode: number) =>
        present.has(name) ? undefined : fsp.mkdir(`${hidden}/${name}`, mode).catch(ignore('EEXIST'));
      await Promise.all([
        ...Array.from({ length: 256 }, (_, i) => make(i.toString(16).padStart(2, '0'), 0o700)),
        ...AUX_DIRS.map((d) => make(d, 0o600)),
      ]);
      const rootHandle = this.handlePath(ROOT_GFID);
      await fsp.mkdir(rootHandle.slice(0, rootHandle.lastIndexOf('/')), 0o700).catch(ignore('EEXIST'));
      await fsp.symlink(ROOT_HANDLE_TARGET, rootHandle).catch(ignore('EEXIST'));
      const viaHandle = await fsp.stat(rootHandle, { bigint: true });
      const rootSt = await fstat(this.rootFd);
      if (viaHandle.ino !== rootSt.ino || viaHandle.dev !== rootSt.dev) {
        throw new Error(`posix: ${rootHandle} does not lead back to ${this.root}`);
      }
    } catch (e) {
      await this.fini();
      throw e;
    }
  }

  /** Sets `name` on the brick root if absent; refuses to start if it holds another value. */
  private async checkXattr(name: string, want: Buffer | null): Promise<void> {
    const have = await fgetxattr(this.rootFd, name).catch((e: unknown) => {
      if (errCode(e) === 'ENODATA') return null;
      throw e;
    });
    if (want === null) return;
    if (have === null) await fsetxattr(this.rootFd, name, want, XATTR_CREATE);
    else if (!have.equals(want)) {
      throw new Error(
        `posix: ${this.root} has ${name} ${have.toString('hex')}, expected ${want.toString('hex')}: ` +
          'it belongs to another volume',
      );
    }
  }

  async fini(): Promise<void> {
    if (this.rootFd >= 0) await closeQuietly(this.rootFd);
    this.rootFd = -1;
  }

  handlePath(gfid: Uint8Array): string {
    return `${this.root}/${HIDDEN_DIR}/${handleRelPath(gfid)}`;
  }

  /** An entry inside a resolved directory. */
  entryPath(dir: Node, name: string): string {
    return `/proc/self/fd/${dir.fd}/${name}`;
  }

  isRoot(gfid: Uint8Array): boolean {
    return ROOT_GFID.equals(gfid);
  }

  /** True for the handle store itself, which no client may see under any name. */
  isHidden(st: BigIntStats): boolean {
    return st.ino === this.hiddenIno && st.dev === this.hiddenDev;
  }

  // ---- resolution -------------------------------------------------------------------

  /** Resolves a gfid; unknown → ESTALE. The caller must release() the node. */
  async resolve(gfid: Buffer): Promise<Node> {
    if (gfid.length !== 16 || NULL_GFID.equals(gfid)) throw FopError.of('EINVAL', 'null gfid');
    if (this.isRoot(gfid)) return this.openDirNode(gfid, '.');
    const handle = this.handlePath(gfid);
    const st = await lstat(handle).catch((e: unknown) => {
      throw errCode(e) === 'ENOENT' ? FopError.of('ESTALE', 'unknown gfid') : FopError.from(e);
    });
    // A directory's handle is a symlink with one link; a symlink's handle is a hard link.
    if (st.isSymbolicLink() && st.nlink === 1n) {
      return this.openDirNode(gfid, `${HIDDEN_DIR}/${handleRelPath(gfid)}`);
    }
    return { gfid, stat: st, isDir: false, fd: -1, path: handle };
  }

  private async openDirNode(gfid: Buffer, rel: string): Promise<Node> {
    let fd: number;
    try {
      fd = await openBeneath(this.rootFd, rel, O_DIR);
    } catch (e) {
      // The kernel follows at most 40 symlinks per lookup, one per directory level here;
      // deeper directories are found by walking the handle chain ourselves.
      if (errCode(e) !== 'ELOOP') throw FopError.of('ESTALE', `directory handle: ${errCode(e) ?? e}`);
      fd = await this.openByChain(gfid);
    }
    try {
      const have = await this.fdGfid(fd);
      if (!have?.equals(gfid)) throw FopError.of('ESTALE', 'directory handle leads to another gfid');
      const st = await fstat(fd);
      return { gfid, stat: st, isDir: true, fd, path: `/proc/self/fd/${fd}` };
    } catch (e) {
      await closeQuietly(fd);
      throw FopError.from(e);
    }
  }

  /** A directory handle's parent gfid and name, from its symlink. */
  private async handleLink(gfid: Uint8Array): Promise<{ parent: Buffer; name: string }> {
    const target = await fsp.readlink(this.handlePath(gfid)).catch(() => '');
    const m = /^\.\.\/\.\.\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f-]{36})\/([^/]+)$/.exec(target);
    if (!m || m[2] === '.' || m[2] === '..') throw FopError.of('ESTALE', 'malformed directory handle');
    return { parent: parseGfid(m[1]!), name: m[2]! };
  }

  /** Opens a directory by the brick-relative path its handle chain spells, symlink-free. */
  private async openByChain(gfid: Buffer): Promise<number> {
    const names: string[] = [];
    let at: Buffer = gfid;
    while (!this.isRoot(at)) {
      if (names.length > Limits.PATH / 2) throw FopError.of('ESTALE', 'directory handle chain too long');
      const { parent, name } = await this.handleLink(at);
      names.push(name);
      at = parent;
    }
    return openBeneath(this.rootFd, names.reverse().join('/'), O_DIR, 0, RESOLVE_NO_SYMLINKS).catch(
      (e: unknown) => {
        throw FopError.of('ESTALE', `directory path: ${errCode(e) ?? e}`);
      },
    );
  }

  /** A directory's brick-relative path ("/" for the root), read from its handle chain. */
  async dirPath(gfid: Buffer): Promise<string> {
    const names: string[] = [];
    let at: Buffer = gfid;
    while (!this.isRoot(at)) {
      if (names.length > Limits.PATH / 2) throw FopError.of('ESTALE', 'directory handle chain too long');
      const { parent, name } = await this.handleLink(at);
      names.push(name);
      at = parent;
    }
    return `/${names.reverse().join('/')}`;
  }

  /**
   * Every brick-relative path of an inode: a directory's one, a non-directory's from its
   * gfid2path xattrs (parent gfid + name per link); names whose parent is gone are skipped.
   */
  async pathsOf(node: Node): Promise<string[]> {
    if (node.isDir) return [await this.dirPath(node.gfid)];
    const out: string[] = [];
    for (const key of await llistxattr(node.path)) {
      if (!key.startsWith(GFID2PATH_PREFIX)) continue;
      const value = (await lgetxattr(node.path, key).catch(() => Buffer.alloc(0))).toString('utf8');
      const m = /^([0-9a-f-]{36})\/([^/]+)$/.exec(value);
      if (!m) continue;
      const dir = await this.dirPath(parseGfid(m[1]!)).catch(() => null);
      if (dir !== null) out.push(dir === '/' ? `/${m[2]}` : `${dir}/${m[2]}`);
    }
    return out.sort();
  }

  async release(node: Node): Promise<void> {
    if (node.fd >= 0) await closeQuietly(node.fd);
  }

  async with<T>(gfid: Buffer, fn: (node: Node) => Promise<T>): Promise<T> {
    const node = await this.resolve(gfid);
    try {
      return await fn(node);
    } finally {
      await this.release(node);
    }
  }

  async withDir<T>(gfid: Buffer, fn: (dir: Node) => Promise<T>): Promise<T> {
    return this.with(gfid, (node) => {
      if (!node.isDir) throw FopError.of('ENOTDIR');
      return fn(node);
    });
  }

  /** Opens a subdirectory of `dir` (not following a symlink at `name`) as a Node. */
  async openSubdir(dir: Node, name: string, gfid: Buffer): Promise<Node> {
    const fd = await openBeneath(dir.fd, name, O_DIR | constants.O_NOFOLLOW);
    try {
      return { gfid, stat: await fstat(fd), isDir: true, fd, path: `/proc/self/fd/${fd}` };
    } catch (e) {
      await closeQuietly(fd);
      throw e;
    }
  }

  /** A directory's parent as a Node (the root is its own parent). */
  async parentOf(dir: Node): Promise<Node> {
    if (this.isRoot(dir.gfid)) return this.openDirNode(ROOT_GFID, '.');
    return this.resolve((await this.handleLink(dir.gfid)).parent);
  }

  // ---- gfids and handles ------------------------------------------------------------

  async fdGfid(fd: number): Promise<Buffer | null> {
    return gfidOrNull(fgetxattr(fd, GFID_XATTR));
  }

  async pathGfid(path: string): Promise<Buffer | null> {
    return gfidOrNull(lgetxattr(path, GFID_XATTR));
  }

  nodeGfid(node: Node): Promise<Buffer | null> {
    return node.isDir ? this.fdGfid(node.fd) : this.pathGfid(node.path);
  }

  iatt(node: Node): Iatt {
    return iattFromStat(node.stat, node.gfid);
  }

  async restat(node: Node): Promise<Iatt> {
    node.stat = node.isDir ? await fstat(node.fd) : await lstat(node.path);
    return this.iatt(node);
  }

  /** Stat and gfid of an entry, by its path; ENOENT if absent or the handle store. */
  async statEntry(path: string): Promise<{ stat: BigIntStats; gfid: Buffer | null }> {
    const stat = await lstat(path);
    if (this.isHidden(stat)) throw FopError.of('ENOENT');
    return { stat, gfid: await this.pathGfid(path) };
  }

  private async hashDir(gfid: Uint8Array): Promise<void> {
    const h = this.handlePath(gfid);
    await fsp.mkdir(h.slice(0, h.lastIndexOf('/')), 0o700).catch(ignore('EEXIST'));
  }

  /**
   * Gives the non-directory at `path` the gfid `gfid` unless it already has one, and
   * returns the gfid it ends up with. trusted.gfid is set first (XATTR_CREATE settles
   * races between two healers), then the handle: if another inode already owns the gfid
   * (a client reusing one), the xattr is taken back and the call fails EEXIST.
   */
  async adoptFile(path: string, gfid: Buffer, parent: Buffer, name: string): Promise<Buffer> {
    try {
      await lsetxattr(path, GFID_XATTR, gfid, XATTR_CREATE);
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
      return (await this.pathGfid(path)) ?? gfid;
    }
    await this.hashDir(gfid);
    const handle = this.handlePath(gfid);
    try {
      await fsp.link(path, handle);
    } catch (e) {
      const same =
        errCode(e) === 'EEXIST' &&
        (await Promise.all([lstat(path), lstat(handle)]).then(
          ([a, b]) => a.ino === b.ino && a.dev === b.dev,
        ));
      if (!same) {
        await lremovexattr(path, GFID_XATTR).catch(() => undefined);
        throw errCode(e) === 'EEXIST' ? FopError.of('EEXIST', 'gfid already in use') : e;
      }
    }
    await this.addGfid2path(path, parent, name);
    return gfid;
  }

  /** The same for a directory (open as `dir`): trusted.gfid, then the handle symlink. */
  async adoptDir(dir: Node, gfid: Buffer, parent: Buffer, name: string): Promise<Buffer> {
    try {
      await fsetxattr(dir.fd, GFID_XATTR, gfid, XATTR_CREATE);
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
      return (await this.fdGfid(dir.fd)) ?? gfid;
    }
    await this.hashDir(gfid);
    try {
      await fsp.symlink(dirHandleTarget(parent, name), this.handlePath(gfid));
    } catch (e) {
      await fremovexattr(dir.fd, GFID_XATTR).catch(() => undefined);
      throw errCode(e) === 'EEXIST' ? FopError.of('EEXIST', 'gfid already in use') : e;
    }
    dir.gfid = gfid;
    return gfid;
  }

  /** Re-points a directory's handle after a rename, atomically. */
  async repointDirHandle(gfid: Buffer, parent: Buffer, name: string): Promise<void> {
    await this.hashDir(gfid);
    const handle = this.handlePath(gfid);
    const tmp = `${handle}.tmp${process.pid}.${Math.random().toString(36).slice(2)}`;
    await fsp.symlink(dirHandleTarget(parent, name), tmp);
    await fsp.rename(tmp, handle).catch(async (e: unknown) => {
      await fsp.unlink(tmp).catch(() => undefined);
      throw e;
    });
  }

  async removeHandle(gfid: Buffer): Promise<void> {
    await fsp.unlink(this.handlePath(gfid)).catch(ignore('ENOENT'));
    for (const fn of this.handleRemoved) await fn(gfid);
  }

  /** `fn` runs when an inode's handle goes (its last name was removed). */
  onHandleRemoved(fn: (gfid: Buffer) => Promise<void>): void {
    this.handleRemoved.push(fn);
  }

  async addGfid2path(path: string, parent: Buffer, name: string): Promise<void> {
    const [key, value] = gfid2path(parent, name);
    await lsetxattr(path, key, value, 0);
  }

  async removeGfid2path(path: string, parent: Buffer, name: string): Promise<void> {
    await lremovexattr(path, gfid2path(parent, name)[0]).catch(ignore('ENODATA'));
  }

  /**
   * Stock (features.ctime) reports times from trusted.glusterfs.mdata when present. glusterts
   * reports and changes the filesystem's times, so before it changes an inode it drops
   * that xattr: stock then falls back to stat, as for files from before ctime existed,
   * instead of serving stale times later. Best effort; absent is the usual case.
   */
  async dropMdata(target: Node | string | number): Promise<void> {
    const p =
      typeof target === 'number'
        ? fremovexattr(target, MDATA_XATTR)
        : typeof target === 'string'
          ? lremovexattr(target, MDATA_XATTR)
          : target.isDir
            ? fremovexattr(target.fd, MDATA_XATTR)
            : lremovexattr(target.path, MDATA_XATTR);
    await p.catch(() => undefined);
  }

  // ---- per-inode serialisation (xattrop) --------------------------------------------

  async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = prev.then(() => mine);
    this.locks.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      done();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

async function gfidOrNull(p: Promise<Buffer>): Promise<Buffer | null> {
  try {
    const v = await p;
    return v.length === 16 ? v : null;
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENODATA' || code === 'EOPNOTSUPP') return null;
    throw e;
  }
}

/** A rejection handler that swallows one errno name. */
export function ignore(code: string) {
  return (e: unknown): void => {
    if (errCode(e) !== code) throw e;
  };
}
