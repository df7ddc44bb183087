/**
 * Inode locks and entry locks: lock records that are never merged or split. Every grant
 * is its own record, an owner may hold overlapping ones (nested), and an unlock removes
 * one record that matches exactly (EINVAL if none does), as stock's inodelk.c
 * (find_matching_inodelk) and entrylk.c (__find_matching_lock).
 *
 * Fairness as stock's __lock_inodelk/__lock_entrylk: a compatible request still waits
 * behind an earlier conflicting waiter, unless its owner already holds or awaits a lock
 * in the domain, so a holder's nested locks cannot deadlock behind its own victims.
 */
import { FopError } from '../../protocol/errno.js';
import type { Ledger, LockTable, Owner } from './owner.js';
import { WRLCK } from './posix.js';
import { overlaps, type Range } from './range.js';
import { Waiters, type Waiter } from './waiters.js';

export interface RecordKind<L> {
  readonly what: string;
  /** Whether a and b exclude each other when held by different owners. */
  conflict(a: L, b: L): boolean;
  /** Whether `held` is what an unlock request `req` (same owner) names. */
  matches(held: L, req: L): boolean;
}

/** INODELK/FINODELK: ranges; read locks share. Unlock by exact range, any type. */
export interface InodeLock extends Range {
  type: 0 | 1;
  owner: Owner;
}

export const inodeLocks: RecordKind<InodeLock> = {
  what: 'inode lock',
  conflict: (a, b) => overlaps(a, b) && (a.type === WRLCK || b.type === WRLCK),
  matches: (held, req) => held.start === req.start && held.end === req.end,
};

/**
 * ENTRYLK/FENTRYLK: a name in a directory, or the whole directory (name null), which
 * conflicts with every name. As stock's __conflicting_entrylks, the type does not matter
 * for conflicts (every entry lock is exclusive); it only has to match on unlock.
 */
export interface EntryLock {
  name: string | null;
  type: 0 | 1;
  owner: Owner;
}

export const entryLocks: RecordKind<EntryLock> = {
  what: 'entry lock',
  conflict: (a, b) => a.name === null || b.name === null || a.name === b.name,
  matches: (held, req) => held.name === req.name && held.type === req.type,
};

/** The locks of one inode (or directory) in one domain. */
export class RecordLocks<L extends { owner: Owner }> implements LockTable {
  private locks: L[] = [];
  private readonly waiters: Waiters<L>;

  constructor(
    private readonly kind: RecordKind<L>,
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

  get granted(): readonly L[] {
    return this.locks;
  }

  private grantable(req: L, waiting: Iterable<Waiter<L>>): boolean {
    const key = req.owner.key;
    if (this.locks.some((l) => l.owner.key !== key && this.kind.conflict(l, req))) return false;
    const queued = [...waiting];
    if (!queued.some((w) => this.kind.conflict(w.req, req))) return true;
    return this.locks.some((l) => l.owner.key === key) || queued.some((w) => w.owner.key === key);
  }

  /** Takes the lock, waiting for it if `blocking`, else EAGAIN on conflict. */
  async lock(req: L, blocking: boolean, signal?: AbortSignal): Promise<void> {
    if (this.grantable(req, this.waiters)) {
      this.ledger.checkRecords(req.owner.session, 1);
      this.locks.push(req);
      this.ledger.records(req.owner.session, this, 1);
      return;
    }
    if (!blocking) throw FopError.of('EAGAIN', `conflicting ${this.kind.what}`);
    try {
      await this.waiters.wait(req, req.owner, signal);
    } finally {
      this.tidy();
    }
  }

  unlock(req: L): void {
    const i = this.locks.findIndex((l) => l.owner.key === req.owner.key && this.kind.matches(l, req));
    if (i < 0) {
      this.tidy();
      throw FopError.of('EINVAL', `no such ${this.kind.what} to unlock`);
    }
    this.locks.splice(i, 1);
    this.ledger.records(req.owner.session, this, -1);
    this.wake();
    this.tidy();
  }

  dropSession(session: string): void {
    this.waiters.fail(
      (w) => w.owner.session === session,
      () => FopError.of('EAGAIN', 'session ended'),
    );
    const before = this.locks.length;
    this.locks = this.locks.filter((l) => l.owner.session !== session);
    this.ledger.records(session, this, this.locks.length - before);
    this.wake();
    this.tidy();
  }

  private wake(): void {
    // The waiter's own record becomes the granted one: no cap check needed.
    this.waiters.pass((w, stillWaiting) => {
      if (!this.grantable(w.req, stillWaiting)) return false;
      this.locks.push(w.req);
      this.ledger.records(w.owner.session, this, 1);
      return true;
    });
  }

  private tidy(): void {
    if (this.empty) this.onEmpty();
  }
}
