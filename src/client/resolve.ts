/**
 * Path resolution, the second layer of Volume (see runner.ts). Paths are resolved from
 * the root by LOOKUP per component, through a small inode cache (inodes.ts); the last
 * component is always looked up, so attributes are fresh. Symlinks are followed in
 * intermediate components (and in the last one where POSIX follows them), at most 40
 * times (ELOOP). `.` and `..` are resolved lexically within the path given. A call
 * answered ESTALE (a cached gfid vanished) is resolved afresh and retried once.
 */
import { gfuuidValue, type GfxDict } from '../protocol/dict.js';
import { NULL_GFID, ROOT_GFID, randomGfid } from '../protocol/gfid.js';
import { Limits } from '../protocol/limits.js';
import type { Iatt } from '../protocol/iatt.js';
import type { Caller, Graph } from '../xlator/index.js';
import { GlusterError } from './errors.js';
import { InodeCache, type Inode } from './inodes.js';
import { FopRunner, type CallOptions, type Where } from './runner.js';
import { S_IFDIR, S_IFLNK } from './stats.js';

/** Result of resolving a path: its parent directory and name, and the inode if it exists. */
export interface Resolved {
  parent: Inode;
  name: string;
  inode: Inode | null;
  /** Fresh attributes of `inode` (null when it does not exist). */
  iatt: Iatt | null;
}

const MAX_SYMLINK_HOPS = 40;
/** What a named LOOKUP carries: a fresh gfid-req, so a gfid-less file gets one (stock does the same). */
const lookupXdata = (): GfxDict => new Map([['gfid-req', gfuuidValue(randomGfid())]]);

export abstract class PathResolver extends FopRunner {
  protected readonly cache: InodeCache;
  private readonly root: Inode;

  protected constructor(graph: Graph, caller: Partial<Caller> | undefined, entryTimeoutMs: number) {
    super(graph, caller);
    this.cache = new InodeCache(entryTimeoutMs);
    this.root = this.cache.inode(ROOT_GFID, S_IFDIR);
  }

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

  protected async resolve(path: string, follow: boolean, where: Where, useCache: boolean): Promise<Resolved> {
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
  protected async at<T>(
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
  protected existing<T>(
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

  protected async readlinkInode(inode: Inode, where: Where): Promise<string> {
    const r = await this.fop('READLINK', { gfid: inode.gfid, size: 4096, xdata: null }, where);
    return r.path;
  }
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
    // NAME_MAX counts bytes: 128 two-byte characters are already too long.
    if (Buffer.byteLength(part) > Limits.NAME)
      throw new GlusterError('ENAMETOOLONG', where.syscall, where.path);
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (relative && !path.startsWith('/')) out.push('..');
      continue;
    }
    out.push(part);
  }
  return out;
}
