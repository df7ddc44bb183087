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
}

export class FdStates {
  /** Every OS fd still open, so graph teardown can close what clients never released. */
  private readonly live = new Set<FdState>();
  /** Open (not yet released) fds per inode, from every client: `glusterfs.open-fd-count`. */
  private readonly perInode = new Map<string, number>();

  constructor(
    readonly owner: object,
    private readonly brick: Brick,
  ) {}

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
   * Runs `fn` with the OS fd behind `fd`. An anonymous fd opens the gfid's handle for
   * this call only (O_RDWR, as stock's anonymous fds); an unknown or released one is EBADF.
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
    return this.brick.with(fd.gfid, async (node) => {
      if (node.isDir) return fn({ fd: node.fd, isDir: true, direct: false, refs: 1, released: false });
      checkDataFile(node.stat);
      const osFd = await open(node.path, constants.O_RDWR | constants.O_NOFOLLOW);
      try {
        return await fn({ fd: osFd, isDir: false, direct: false, refs: 1, released: false });
      } finally {
        await closeQuietly(osFd);
      }
    });
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
  }
}
