/**
 * POSIX record locks (LK) on one inode, with fcntl semantics: shared read locks,
 * exclusive write locks, and an owner's own locks never conflicting with each other but
 * being replaced in the requested range (upgrade, downgrade, split on UNLCK) and merged
 * with touching locks of the same type, as Linux does. An owner's locks never overlap
 * one another.
 *
 * Differences from stock's features/locks (xlators/features/locks/src/common.c), chosen
 * deliberately:
 * - stock merges only overlapping locks (add_locks); adjacent ones are merged here too,
 *   which is what a local fcntl does and keeps fewer records;
 * - stock grants a blocked lock only when no granted lock overlaps it at all
 *   (__grant_blocked_locks/first_overlap); here it is granted as soon as it is compatible.
 * Kept from stock: before a blocking request waits, the owner's locks in its range are
 * released (pl_send_prelock_unlock), so two readers upgrading to a writer do not deadlock.
 */
import { FopError } from '../../protocol/errno.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { Ledger, LockTable, Owner } from './owner.js';
import { overlaps, type Range } from './range.js';
import { Waiters } from './waiters.js';

export const RDLCK = 0;
export const WRLCK = 1;
export const UNLCK = 2;
export type LockType = typeof RDLCK | typeof WRLCK | typeof UNLCK;

export interface PosixLock extends Range {
  type: typeof RDLCK | typeof WRLCK;
  owner: Owner;
  /** flock.pid of the request that set it: GETLK reports it (stock's user_flock.l_pid). */
  pid: number;
  /** The fd it was set through; RELEASE of that fd drops it. */
  fd: OpenFd | undefined;
}

export interface PosixRequest extends Range {
  type: LockType;
  owner: Owner;
  pid: number;
  fd: OpenFd | undefined;
}

function conflicts(a: PosixLock, b: PosixRequest): boolean {
  return (
    a.owner.key !== b.owner.key &&
    overlaps(a, b) &&
    b.type !== UNLCK &&
    (a.type === WRLCK || b.type === WRLCK)
  );
}

/** `locks` (one owner's, non-overlapping) after applying `req` of the same owner. */
function applyOwn(locks: PosixLock[], req: PosixRequest): PosixLock[] {
  const out: PosixLock[] = [];
  for (const l of locks) {
    if (!overlaps(l, req)) {
      out.push(l);
      continue;
    }
    if (l.start < req.start) out.push({ ...l, end: req.start - 1n });
    if (l.end > req.end) out.push({ ...l, start: req.end + 1n });
  }
  if (req.type === UNLCK) return out;
  const added: PosixLock = { ...req, type: req.type };
  // What is left touches the new range at most once on each side; merge same-type ones.
  return out
    .filter((l) => {
      const touches = l.end + 1n === added.start || added.end + 1n === l.start;
      if (!touches || l.type !== added.type) return true;
      added.start = l.start < added.start ? l.start : added.start;
      added.end = l.end > added.end ? l.end : added.end;
      return false;
    })
    .concat(added);
}

export class PosixLocks implements LockTable {
  private locks: PosixLock[] = [];
  private readonly waiters: Waiters<PosixRequest>;

  constructor(
    private readonly ledger: Ledger,
    /** Called when the table holds nothing any more, so the owner map can forget it. */
    private readonly onEmpty: () => void,
  ) {
    this.waiters = new Waiters(ledger, this, () => this.wake());
  }

  get empty(): boolean {
    return this.locks.length === 0 && this.waiters.size === 0;
  }

  /** Granted plus waiting: what stock reports as the lock count. */
  get count(): number {
    return this.locks.length + this.waiters.size;
  }

  /** The granted locks (tests, dumps). */
  get granted(): readonly PosixLock[] {
    return this.locks;
  }

  /** GETLK: the first granted lock of another owner that conflicts. */
  conflict(req: PosixRequest): PosixLock | undefined {
    return this.locks.find((l) => conflicts(l, req));
  }

  /** SETLK/SETLKW. Resolves once the lock is set (or the range unlocked). */
  async set(req: PosixRequest, blocking: boolean, signal?: AbortSignal): Promise<void> {
    if (!this.conflict(req)) {
      this.apply(req, 0);
      this.wake();
      this.tidy();
      return;
    }
    if (!blocking) throw FopError.of('EAGAIN', 'conflicting lock held');
    // Check the caps before giving anything up.
    this.ledger.checkWaiting(req.owner.session);
    this.ledger.checkRecords(req.owner.session, 1);
    this.apply({ ...req, type: UNLCK }, 0);
    this.wake();
    try {
      await this.waiters.wait(req, req.owner, signal);
    } finally {
      this.tidy();
    }
  }

  /** Whether `fd` still has locks here (stock answers an unlock with RDLCK then, for NLM). */
  hasLocksOf(fd: OpenFd): boolean {
    return this.locks.some((l) => l.fd === fd);
  }

  /** FLUSH: drops an owner's granted locks (POSIX: close releases the process's locks). */
  dropOwner(owner: Owner): void {
    this.drop((l) => l.owner.key === owner.key);
  }

  /** RELEASE: drops locks set through `fd`, and fails requests waiting through it. */
  dropFd(fd: OpenFd): void {
    this.waiters.fail(
      (w) => w.req.fd === fd,
      () => FopError.of('EAGAIN', 'fd released'),
    );
    this.drop((l) => l.fd === fd);
  }

  dropSession(session: string): void {
    this.waiters.fail(
      (w) => w.owner.session === session,
      () => FopError.of('EAGAIN', 'session ended'),
    );
    this.drop((l) => l.owner.session === session);
  }

  private drop(which: (l: PosixLock) => boolean): void {
    const kept: PosixLock[] = [];
    for (const l of this.locks) {
      if (which(l)) this.ledger.records(l.owner.session, this, -1);
      else kept.push(l);
    }
    if (kept.length !== this.locks.length) {
      this.locks = kept;
      this.wake();
    }
    this.tidy();
  }

  /**
   * Replaces the owner's locks with the result of `req`. `held` is how many records the
   * caller already counts for this request (1 for a granted waiter), for the cap.
   */
  private apply(req: PosixRequest, held: number): void {
    const mine = this.locks.filter((l) => l.owner.key === req.owner.key);
    const next = applyOwn(mine, req);
    const delta = next.length - mine.length;
    this.ledger.checkRecords(req.owner.session, delta - held);
    this.locks = this.locks.filter((l) => l.owner.key !== req.owner.key).concat(next);
    this.ledger.records(req.owner.session, this, delta);
  }

  private wake(): void {
    // Granting can release the grantee's own overlapping locks, so go again until stable.
    while (
      this.waiters.pass((w) => {
        if (this.conflict(w.req)) return false;
        this.apply(w.req, 1);
        return true;
      }) > 0
    );
  }

  private tidy(): void {
    if (this.empty) this.onEmpty();
  }
}
