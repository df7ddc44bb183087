/**
 * Volume: the libgfapi role (`glfs_t`). `Volume.connect` does what glfs_new +
 * glfs_set_volfile_server (once per server) + glfs_init do: GETSPEC from the first volfile
 * server that answers, build the client graph from the volfile, wait until every
 * translator is ready (protocol/client's CHILD_UP), LOOKUP the root. The management
 * connection stays open for FETCHSPEC. `close()` is glfs_fini, minus its ten seconds.
 *
 * Paths are resolved from the root by LOOKUP per component, through a small inode cache
 * (inodes.ts); the last component is always looked up, so attributes are fresh. Symlinks
 * are followed in intermediate components (and in the last one where POSIX follows them),
 * at most 40 times (ELOOP). `.` and `..` are resolved lexically within the path given.
 * A call answered ESTALE (a cached gfid vanished) is resolved afresh and retried once.
 *
 * Every async method takes `{ signal }`; an aborted call rejects with ECANCELED at once
 * (a late OPEN/OPENDIR reply is released). Failures are thrown as GlusterError, never
 * returned as op_ret.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { defaultLkOwner } from '../rpc/auth.js';
import { gfuuidValue, ptrValue, type GfxDict } from '../protocol/dict.js';
import type { FopName } from '../protocol/fops.js';
import { NULL_GFID, ROOT_GFID, randomGfid } from '../protocol/gfid.js';
import { zeroIatt, type Iatt } from '../protocol/iatt.js';
import {
  FdTable,
  Graph,
  OpenFd,
  openedFd,
  parseVolfile,
  type Caller,
  type FopContext,
  type FopReply,
  type FopRequest,
  type TranslatorRegistry,
} from '../xlator/index.js';
import { CLIENT_TRANSLATORS } from '../xlators/client-registry.js';
import { GlusterError, abortError } from './errors.js';
import { Directory, type OpendirOptions } from './directory.js';
import { File, openFlags, O, type OpenFlags } from './file.js';
import { InodeCache, type Inode } from './inodes.js';
import { MgmtConnection, describeServer, type VolfileServer } from './mgmt.js';
import { trimVolfile } from './stack.js';
import { S_IFDIR, S_IFLNK, Stats, statVfs, type DirEntry, type StatVfs } from './stats.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface VolumeOptions {
  /**
   * The trimmed client stack: keep only protocol/client, cluster/distribute and
   * debug/io-stats from the volfile (see stack.ts). Default false: the volfile as served,
   * with the pass-through stand-ins documented in docs/client.md.
   */
  trimmed?: boolean;
  /** Who the calls run as (uid, gid, groups, pid, lock owner); default: this process. */
  caller?: Partial<Caller>;
  /** Translator types by volfile `type`; default CLIENT_TRANSLATORS. */
  registry?: TranslatorRegistry;
  /** Applied to the mode of created files, directories and symlinks; default 0o022. */
  umask?: number;
  /** How long a cached (parent, name) → gfid entry is trusted; default 1000 ms, 0 = no cache. */
  entryTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface ConnectOptions extends VolumeOptions {
  /** The volume name (GETSPEC key), as given to glfs_new. */
  volume: string;
  /** Volfile servers, tried in order (glfs_set_volfile_server once per entry). */
  servers: readonly VolfileServer[];
  /** Deadline for the whole connect, and for each management call; default 30000 ms. */
  timeoutMs?: number;
}

export interface VolumeEvents {
  /** glusterd sent FETCHSPEC and the volfile differs. The running graph is kept (docs/client.md). */
  volfileChanged: [text: string];
  /** The management connection dropped; reconnection is tried every 3 s. */
  mgmtDisconnected: [server: string];
  mgmtReconnected: [server: string];
}

/** Result of resolving a path: its parent directory and name, and the inode if it exists. */
interface Resolved {
  parent: Inode;
  name: string;
  inode: Inode | null;
  /** Fresh attributes of `inode` (null when it does not exist). */
  iatt: Iatt | null;
}

const MAX_SYMLINK_HOPS = 40;
/** What a named LOOKUP carries: a fresh gfid-req, so a gfid-less file gets one (stock does the same). */
const lookupXdata = (): GfxDict => new Map([['gfid-req', gfuuidValue(randomGfid())]]);

export class Volume extends EventEmitter<VolumeEvents> {
  /** The volfile text the graph was built from (before trimming). */
  readonly volfile: string;
  private readonly ctx: FopContext;
  private readonly cache: InodeCache;
  private readonly root: Inode;
  private readonly umask: number;
  private readonly handles = new Set<File | Directory>();
  private closing: Promise<void> | undefined;

  private constructor(
    /** The volume name. */
    readonly name: string,
    /** The running client graph; graph.top is where fops enter. */
    readonly graph: Graph,
    volfile: string,
    private readonly mgmt: MgmtConnection | undefined,
    opts: VolumeOptions,
  ) {
    super();
    this.volfile = volfile;
    this.umask = opts.umask ?? 0o022;
    this.cache = new InodeCache(opts.entryTimeoutMs ?? 1000);
    this.root = this.cache.inode(ROOT_GFID, S_IFDIR);
    const pid = opts.caller?.pid ?? process.pid;
    this.ctx = {
      caller: {
        uid: opts.caller?.uid ?? process.getuid?.() ?? 0,
        gid: opts.caller?.gid ?? process.getgid?.() ?? 0,
        groups: opts.caller?.groups ?? process.getgroups?.() ?? [],
        pid,
        lkOwner: opts.caller?.lkOwner ?? defaultLkOwner(pid),
      },
      session: { id: `glusterts-client-${randomUUID()}`, fds: new FdTable() },
    };
    if (mgmt) {
      mgmt.on('volfileChanged', (text) => this.emit('volfileChanged', text));
      mgmt.on('disconnected', (s) => this.emit('mgmtDisconnected', s));
      mgmt.on('reconnected', (s) => this.emit('mgmtReconnected', s));
    }
  }

  /** glfs_new + glfs_set_volfile_server×N + glfs_init. */
  static async connect(opts: ConnectOptions): Promise<Volume> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const registry = opts.registry ?? CLIENT_TRANSLATORS;
    let mgmt: MgmtConnection | undefined;
    try {
      mgmt = await MgmtConnection.open(opts.servers, opts.volume, { signal, timeoutMs });
      return await Volume.start(opts.volume, mgmt.volfile, mgmt, { ...opts, registry, signal });
    } catch (err) {
      mgmt?.close();
      if (deadline.aborted && !opts.signal?.aborted) {
        throw new GlusterError('ETIMEDOUT', 'glfs_init', opts.volume, {
          cause: err,
          detail: `not ready within ${timeoutMs} ms (servers ${opts.servers.map(describeServer).join(', ')})`,
        });
      }
      throw GlusterError.from(err, 'glfs_init', opts.volume);
    }
  }

  /**
   * A volume from a volfile text, without a volfile server: the graph runs in this
   * process (tests put storage/posix at the bottom; a volfile of protocol/client
   * translators reaches bricks directly, as glfs_set_volfile does).
   */
  static async fromVolfile(text: string, opts: VolumeOptions & { name?: string } = {}): Promise<Volume> {
    const registry = opts.registry ?? CLIENT_TRANSLATORS;
    return Volume.start(opts.name ?? 'local', text, undefined, { ...opts, registry });
  }

  private static async start(
    name: string,
    text: string,
    mgmt: MgmtConnection | undefined,
    opts: VolumeOptions & { registry: TranslatorRegistry },
  ): Promise<Volume> {
    let graph: Graph | undefined;
    try {
      const parsed = parseVolfile(text);
      graph = await Graph.build(opts.trimmed ? trimVolfile(parsed) : parsed, opts.registry);
      await graph.ready(opts.signal);
      const vol = new Volume(name, graph, text, mgmt, opts);
      // glfs_init ends with a LOOKUP of the root (and chdir "/").
      await vol.fop('LOOKUP', rootLookup(), { signal: opts.signal, syscall: 'glfs_init', path: '/' });
      return vol;
    } catch (err) {
      await graph?.fini().catch(() => undefined);
      if (opts.signal?.aborted) throw abortError(opts.signal, 'glfs_init', name);
      throw GlusterError.from(err, 'glfs_init', name);
    }
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Whether the management (volfile server) connection is up; false for fromVolfile volumes. */
  get mgmtConnected(): boolean {
    return this.mgmt?.connected ?? false;
  }

  /** GETSPEC again now (what FETCHSPEC triggers); resolves to whether the volfile changed. */
  async refetchVolfile(opts: CallOptions = {}): Promise<boolean> {
    if (!this.mgmt) throw new GlusterError('ENOTSUP', 'glfs_get_volfile', this.name);
    const before = this.mgmt.volfile;
    try {
      await this.mgmt.refetch(opts.signal);
    } catch (err) {
      throw GlusterError.from(err, 'glfs_get_volfile', this.name);
    }
    return this.mgmt.volfile !== before;
  }

  /**
   * Runs one fop down the graph (the layer every method here uses; public for tools and
   * tests). Failures become GlusterError naming `syscall` and `path`.
   */
  async fop<N extends FopName>(
    name: N,
    req: FopRequest<N>,
    where: { signal?: AbortSignal | undefined; syscall: string; path?: string | undefined },
  ): Promise<FopReply<N>> {
    const { signal, syscall, path } = where;
    if (this.closing && name !== 'RELEASE' && name !== 'RELEASEDIR' && name !== 'FLUSH') {
      throw new GlusterError('EBADF', syscall, path, { detail: 'the volume is closed' });
    }
    if (signal?.aborted) throw abortError(signal, syscall, path);
    const ctx: FopContext = signal ? { ...this.ctx, signal } : this.ctx;
    const running = this.graph.top.call(name, req, ctx);
    try {
      return signal ? await raceAbort(running, signal) : await running;
    } catch (err) {
      const fd = signal?.aborted ? openedFd(name, req) : undefined;
      if (fd) {
        // The layer below may still open it: release what arrives late.
        running.then(
          () => this.release(fd),
          () => undefined,
        );
      }
      if (signal?.aborted) throw abortError(signal, syscall, path);
      throw GlusterError.from(err, syscall, path);
    }
  }

  /** RELEASE / RELEASEDIR, never failing (stock: it cannot fail). */
  async release(fd: OpenFd): Promise<void> {
    const where = { syscall: 'glfs_close' };
    const req = { gfid: fd.gfid, fd, xdata: null };
    await (fd.isDirectory ? this.fop('RELEASEDIR', req, where) : this.fop('RELEASE', req, where)).catch(
      () => undefined,
    );
  }

  // ---- path resolution ---------------------------------------------------------------

  private async lookupNamed(dir: Inode, name: string, where: Where): Promise<Iatt | null> {
    try {
      const r = await this.fop(
        'LOOKUP',
        { gfid: NULL_GFID, pargfid: dir.gfid, flags: 0, bname: name, xdata: lookupXdata() },
        where,
      );
      return r.prestat;
    } catch (err) {
      if (err instanceof GlusterError && err.code === 'ENOENT') return null;
      throw err;
    }
  }

  private async lookupInode(inode: Inode, where: Where): Promise<Iatt> {
    const r = await this.fop(
      'LOOKUP',
      { gfid: inode.gfid, pargfid: NULL_GFID, flags: 0, bname: '', xdata: null },
      where,
    );
    return r.prestat;
  }

  private async resolve(path: string, follow: boolean, where: Where, useCache: boolean): Promise<Resolved> {
    let queue = components(path, where);
    const stack: Inode[] = [this.root];
    const fromCache = new Set<Inode>();
    let hops = 0;
    for (;;) {
      const name = queue.shift();
      if (name === undefined) {
        // The path names a directory already on the stack: the root, or one reached by "..".
        const dir = stack[stack.length - 1]!;
        const iatt = await this.lookupInode(dir, where);
        return { parent: stack[stack.length - 2] ?? dir, name: '', inode: dir, iatt };
      }
      if (name === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const dir = stack[stack.length - 1]!;
      const last = queue.length === 0;
      let child = !last && useCache ? this.cache.lookup(dir, name) : undefined;
      if (child) fromCache.add(child);
      let iatt: Iatt | null = null;
      if (!child) {
        iatt = await this.lookupNamed(dir, name, where);
        if (!iatt) {
          // Under a directory known only from the cache, ENOENT may mean the directory
          // itself is gone: check it, and resolve afresh (via ESTALE) if so.
          if (fromCache.has(dir)) await this.revalidate(dir, where);
          if (last) return { parent: dir, name, inode: null, iatt: null };
          throw new GlusterError('ENOENT', where.syscall, where.path);
        }
        child = this.cache.inode(iatt.gfid, iatt.mode);
        this.cache.link(dir, name, child);
      }
      if (child.type === S_IFLNK && (!last || follow)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new GlusterError('ELOOP', where.syscall, where.path);
        const target = await this.readlinkInode(child, where);
        if (target.startsWith('/')) stack.length = 1;
        queue = [...components(target, where, true), ...queue];
        continue;
      }
      if (last) return { parent: dir, name, inode: child, iatt };
      if (child.type !== S_IFDIR) throw new GlusterError('ENOTDIR', where.syscall, where.path);
      stack.push(child);
    }
  }

  private async revalidate(dir: Inode, where: Where): Promise<void> {
    try {
      await this.lookupInode(dir, where);
    } catch (err) {
      if (err instanceof GlusterError && (err.code === 'ENOENT' || err.code === 'ESTALE')) {
        this.cache.forget(dir.gfid);
        throw new GlusterError('ESTALE', where.syscall, where.path);
      }
      throw err;
    }
  }

  /** Resolves `path` and runs `fn`; on ESTALE resolves again without the cache and retries once. */
  private async at<T>(
    path: string,
    syscall: string,
    opts: CallOptions & { follow?: boolean },
    fn: (r: Resolved, where: Where) => Promise<T>,
  ): Promise<T> {
    const where: Where = { signal: opts.signal, syscall, path };
    const follow = opts.follow ?? true;
    try {
      return await fn(await this.resolve(path, follow, where, true), where);
    } catch (err) {
      if (!(err instanceof GlusterError) || err.code !== 'ESTALE') throw err;
      return fn(await this.resolve(path, follow, where, false), where);
    }
  }

  /** Like `at`, for calls on an inode that must exist. */
  private existing<T>(
    path: string,
    syscall: string,
    opts: CallOptions & { follow?: boolean },
    fn: (inode: Inode, r: Resolved, where: Where) => Promise<T>,
  ): Promise<T> {
    return this.at(path, syscall, opts, (r, where) => {
      if (!r.inode) throw new GlusterError('ENOENT', syscall, path);
      return fn(r.inode, r, where);
    });
  }

  private async readlinkInode(inode: Inode, where: Where): Promise<string> {
    const r = await this.fop('READLINK', { gfid: inode.gfid, size: 4096, xdata: null }, where);
    return r.path;
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
      const bytes = typeof value === 'string' ? Buffer.from(value) : value;
      const dict = new Map([[name, ptrValue(bytes)]]);
      await this.fop('SETXATTR', { gfid: inode.gfid, flags, dict, xdata: null }, where);
    });
  }

  /** glfs_removexattr. */
  removexattr(path: string, name: string, opts: CallOptions = {}): Promise<void> {
    return this.existing(path, 'glfs_removexattr', opts, async (inode, _r, where) => {
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

  /**
   * glfs_fini: closes open files and directories (FLUSH, RELEASE), tears the graph down
   * (protocol/client disconnects) and closes the management connection. No timers are
   * left behind; safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const pending = [...this.handles].map((h) => h.close().catch(() => undefined));
      await Promise.race([Promise.all(pending), delay(2000)]);
      this.mgmt?.close();
      await this.graph.fini();
      this.cache.clear();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

type Where = { signal?: AbortSignal | undefined; syscall: string; path?: string | undefined };

/** Times: a Date, milliseconds since the epoch, or nanoseconds as a bigint. */
export type TimeValue = Date | number | bigint;

const SetattrValid = { MODE: 0x1, UID: 0x2, GID: 0x4, SIZE: 0x8, ATIME: 0x10, MTIME: 0x20 } as const;

function splitTime(t: TimeValue): [number, number] {
  if (typeof t === 'bigint') return [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)];
  const ms = t instanceof Date ? t.getTime() : t;
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
}

function gfidReq(gfid: Buffer): GfxDict {
  return new Map([['gfid-req', gfuuidValue(gfid)]]);
}

function rootLookup(): FopRequest<'LOOKUP'> {
  return { gfid: ROOT_GFID, pargfid: NULL_GFID, flags: 0, bname: '', xdata: null };
}

/**
 * Splits a path into names with "." and ".." resolved lexically; `relative` keeps leading
 * ".." (a symlink target climbs from the link's directory). Empty paths are ENOENT.
 */
function components(path: string, where: Where, relative = false): string[] {
  if (path === '') throw new GlusterError('ENOENT', where.syscall, where.path);
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part.length > 255) throw new GlusterError('ENAMETOOLONG', where.syscall, where.path);
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (relative && !path.startsWith('/')) out.push('..');
      continue;
    }
    out.push(part);
  }
  return out;
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms).unref());
}
