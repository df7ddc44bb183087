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

/** Open fds counted across sessions: the brick-wide bound (docs/limits.md). */
export class FdBudget {
  open = 0;
  constructor(readonly max: number) {}
}

/**
 * Numbers → OpenFd for one client session: lowest free number first, starting at 0,
 * as stock bricks do. Bounded per session and, with a budget, across sessions, so a
 * client cannot exhaust memory or the process's fds with OPENs. Once drained (the session
 * ended) it numbers nothing more: an OPEN that finishes after the disconnect is refused,
 * and its opener releases it.
 */
export class FdTable {
  private readonly slots: (OpenFd | undefined)[] = [];
  private count = 0;
  /** No slot below this is free: allocation scans from here, not from 0. */
  private lowestFree = 0;
  private drained = false;

  constructor(
    readonly max = 65536,
    private readonly budget?: FdBudget,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Throws EMFILE (or EBADF once drained) unless one more fd could be numbered. */
  checkRoom(): void {
    if (this.drained) throw FopError.of('EBADF', 'session ended');
    if (this.count >= this.max) throw FopError.of('EMFILE', `session has ${this.count} open fds`);
    if (this.budget && this.budget.open >= this.budget.max)
      throw FopError.of('EMFILE', `brick has ${this.budget.open} open fds`);
  }

  allocate(fd: OpenFd): number {
    this.checkRoom();
    let n = this.lowestFree;
    while (n < this.slots.length && this.slots[n] !== undefined) n++;
    this.slots[n] = fd;
    this.lowestFree = n + 1;
    this.count++;
    if (this.budget) this.budget.open++;
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
      if (this.budget) this.budget.open--;
      if (n < this.lowestFree) this.lowestFree = n;
      while (this.slots.length > 0 && this.slots.at(-1) === undefined) this.slots.pop();
    }
    return fd;
  }

  /** Empties the table for good, returning what was open (session teardown). */
  drain(): OpenFd[] {
    const open = this.slots.filter((f): f is OpenFd => f !== undefined);
    this.slots.length = 0;
    if (this.budget) this.budget.open -= this.count;
    this.count = 0;
    this.lowestFree = 0;
    this.drained = true;
    return open;
  }
}
