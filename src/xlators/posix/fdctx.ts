/**
 * posix's state on an OpenFd: the OS fd. Calls in flight hold a reference, so a RELEASE
 * racing them (a hostile or confused client) closes the OS fd only after they finish and
 * can never make them act on a recycled fd number.
 */
import { constants } from 'node:fs';
import { FopError } from '../../protocol/errno.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { Brick } from './brick.js';
import { closeQuietly, open } from './fsx.js';
import { checkDataFile } from './security.js';
import type { DirCursor } from './dir-ops.js';

/** Inodes whose anonymous-fd OS fd stays open (each one OS fd of the brick process). */
export const ANONYMOUS_FDS_KEPT = 256;

export interface FdState {
  fd: number;
  isDir: boolean;
  /** Opened with O_DIRECT: IO must go through aligned buffers. */
  direct: boolean;
  /** Directory listing position (READDIR/READDIRP). */
  cursor?: DirCursor;
  refs: number;
  released: boolean;
  /** The inode's gfid in hex, for the per-inode open count. */
  gfid?: string;
  /** stock's time xattr was dropped through this fd (anonymous fds have no OPEN that did). */
  mdataDropped?: boolean;
}

export class FdStates {
  /** Every OS fd still open, so graph teardown can close what clients never released. */
  private readonly live = new Set<FdState>();
  /** Open (not yet released) fds per inode, from every client: `glusterfs.open-fd-count`. */
  private readonly perInode = new Map<string, number>();
  /**
   * The OS fd behind anonymous fds (IO by gfid without OPEN: stock shard's IO on /.shard
   * files), kept open per inode as stock keeps its anonymous fd, so a sharded image's write
   * is one pwrite rather than resolve, open, write and close. Least recently used first;
   * bounded by ANONYMOUS_FDS_KEPT; dropped when the inode's last name goes.
   */
  private readonly anonymous = new Map<string, FdState>();

  constructor(
    readonly owner: object,
    private readonly brick: Brick,
  ) {
    brick.onHandleRemoved((gfid) => this.forgetAnonymous(gfid.toString('hex')));
  }

  attach(fd: OpenFd, osFd: number, isDir: boolean, direct: boolean, cursor?: DirCursor): void {
    const gfid = fd.gfid.toString('hex');
    const s: FdState = { fd: osFd, isDir, direct, cursor, refs: 0, released: false, gfid };
    fd.set(this.owner, s);
    this.live.add(s);
    this.perInode.set(gfid, (this.perInode.get(gfid) ?? 0) + 1);
  }

  /** How many fds clients hold open on an inode (stock: inode->fd_count). */
  openCount(gfid: Buffer): number {
    return this.perInode.get(gfid.toString('hex')) ?? 0;
  }

  /**
   * Runs `fn` with the OS fd behind `fd`. An anonymous fd uses the inode's kept OS fd,
   * opening its gfid handle the first time (O_RDWR, as stock's anonymous fds); an unknown or
   * released fd is EBADF.
   */
  async use<T>(fd: OpenFd, fn: (s: FdState) => Promise<T>): Promise<T> {
    if (fd.anonymous) return this.useAnonymous(fd, fn);
    const s = fd.get<FdState>(this.owner);
    if (!s || s.released) throw FopError.of('EBADF');
    s.refs++;
    try {
      return await fn(s);
    } finally {
      if (--s.refs === 0 && s.released) await closeQuietly(s.fd);
    }
  }

  private async useAnonymous<T>(fd: OpenFd, fn: (s: FdState) => Promise<T>): Promise<T> {
    const key = fd.gfid.toString('hex');
    let s = this.anonymous.get(key);
    if (s) {
      // Most recently used last, so eviction takes the oldest.
      this.anonymous.delete(key);
      this.anonymous.set(key, s);
    } else {
      const opened = await this.brick.with(fd.gfid, async (node) => {
        // A directory is served through its handle's fd, for this call only.
        if (node.isDir)
          return {
            done: await fn({ fd: node.fd, isDir: true, direct: false, refs: 1, released: false }),
            osFd: undefined,
          };
        checkDataFile(node.stat);
        return { done: undefined, osFd: await open(node.path, constants.O_RDWR | constants.O_NOFOLLOW) };
      });
      if (opened.osFd === undefined) return opened.done as T;
      // Another call may have opened the same inode meanwhile: keep one.
      s = this.anonymous.get(key);
      if (s) await closeQuietly(opened.osFd);
      else s = this.cacheAnonymous(key, opened.osFd);
    }
    s.refs++;
    try {
      return await fn(s);
    } finally {
      if (--s.refs === 0 && s.released) await closeQuietly(s.fd);
    }
  }

  private cacheAnonymous(key: string, osFd: number): FdState {
    const s: FdState = { fd: osFd, isDir: false, direct: false, refs: 0, released: false };
    this.anonymous.set(key, s);
    if (this.anonymous.size > ANONYMOUS_FDS_KEPT) {
      const [oldest] = this.anonymous.keys();
      void this.forgetAnonymous(oldest!);
    }
    return s;
  }

  /** The inode's last name is gone: its cached anonymous fd must not keep the data alive. */
  async forgetAnonymous(key: string): Promise<void> {
    const s = this.anonymous.get(key);
    if (!s) return;
    this.anonymous.delete(key);
    s.released = true;
    if (s.refs === 0) await closeQuietly(s.fd);
  }

  /** RELEASE/RELEASEDIR: never fails; the OS fd closes once no call uses it. */
  async release(fd: OpenFd): Promise<void> {
    const s = fd.get<FdState>(this.owner);
    if (!s || s.released) return;
    fd.delete(this.owner);
    await this.close(s);
  }

  private async close(s: FdState): Promise<void> {
    s.released = true;
    this.live.delete(s);
    if (s.gfid !== undefined) {
      const left = (this.perInode.get(s.gfid) ?? 1) - 1;
      if (left > 0) this.perInode.set(s.gfid, left);
      else this.perInode.delete(s.gfid);
    }
    await s.cursor?.close();
    if (s.refs === 0) await closeQuietly(s.fd);
  }

  /** Graph teardown: closes every fd still open. */
  async closeAll(): Promise<void> {
    for (const s of [...this.live]) await this.close(s);
    for (const key of [...this.anonymous.keys()]) await this.forgetAnonymous(key);
  }
}
