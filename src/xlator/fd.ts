/**
 * Open files as translators see them. An OpenFd is created by whoever issues OPEN,
 * CREATE or OPENDIR (the brick's RPC layer, or the client API) and handed down the graph;
 * each translator keeps its own state on it (`ctx`), keyed by the translator. The
 * per-session FdTable turns them into the small integers the wire carries.
 */
import { FopError } from '../protocol/errno.js';

export class OpenFd {
  private readonly ctx = new Map<object, unknown>();

  constructor(
    /** The inode this fd is open on. */
    readonly gfid: Buffer,
    /** GF_O_* open flags (0 for directories). */
    readonly flags: number,
    readonly isDirectory: boolean,
    /** The anonymous fd (-2 on the wire): opened by gfid for one call, no OPEN before. */
    readonly anonymous = false,
  ) {}

  static anonymous(gfid: Buffer): OpenFd {
    return new OpenFd(gfid, 0, false, true);
  }

  get<T>(owner: object): T | undefined {
    return this.ctx.get(owner) as T | undefined;
  }

  set(owner: object, value: unknown): void {
    this.ctx.set(owner, value);
  }

  delete(owner: object): void {
    this.ctx.delete(owner);
  }
}

/** The wire number of the anonymous fd. */
export const ANONYMOUS_FD = -2;

/**
 * Numbers → OpenFd for one client session: lowest free number first, starting at 0,
 * as stock bricks do. Bounded, so a client cannot exhaust memory with OPENs.
 */
export class FdTable {
  private readonly slots: (OpenFd | undefined)[] = [];
  private count = 0;

  constructor(readonly max = 65536) {}

  get size(): number {
    return this.count;
  }

  allocate(fd: OpenFd): number {
    if (this.count >= this.max) throw FopError.of('EMFILE', `session has ${this.count} open fds`);
    let n = this.slots.indexOf(undefined);
    if (n < 0) n = this.slots.length;
    this.slots[n] = fd;
    this.count++;
    return n;
  }

  get(n: number): OpenFd | undefined {
    return Number.isInteger(n) && n >= 0 ? this.slots[n] : undefined;
  }

  release(n: number): OpenFd | undefined {
    const fd = this.get(n);
    if (fd) {
      this.slots[n] = undefined;
      this.count--;
    }
    return fd;
  }

  /** Empties the table, returning what was open (session teardown). */
  drain(): OpenFd[] {
    const open = this.slots.filter((f): f is OpenFd => f !== undefined);
    this.slots.length = 0;
    this.count = 0;
    return open;
  }
}
