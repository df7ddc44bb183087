/**
 * The lock state of one features/locks instance: POSIX lock tables per inode, inode and
 * entry lock tables per (inode, domain), created on first use and forgotten when empty,
 * and the per-session ledger that caps them and finds a session's locks on disconnect.
 */
import type { OpenFd } from '../../xlator/fd.js';
import { Ledger, makeOwner, type LedgerLimits } from './owner.js';
import { PosixLocks } from './posix.js';
import { RecordLocks, entryLocks, inodeLocks, type EntryLock, type InodeLock } from './records.js';

type Table = { readonly empty: boolean };

/** A map of tables that drops a table as soon as it holds nothing. */
class Tables<T extends Table> {
  readonly map = new Map<string, T>();

  constructor(private readonly make: (onEmpty: () => void) => T) {}

  get(key: string): T | undefined {
    return this.map.get(key);
  }

  /** The table for `key`, created if needed, and forgotten again if `use` leaves it empty. */
  async with<R>(key: string, use: (t: T) => Promise<R> | R): Promise<R> {
    let t = this.map.get(key);
    if (!t) {
      const made: T = this.make(() => this.forget(key, made));
      this.map.set(key, (t = made));
    }
    try {
      return await use(t);
    } finally {
      this.forget(key, t);
    }
  }

  private forget(key: string, t: T): void {
    if (t.empty && this.map.get(key) === t) this.map.delete(key);
  }
}

const hex = (gfid: Buffer) => gfid.toString('hex');

export class LockManager {
  readonly ledger: Ledger;
  readonly posix: Tables<PosixLocks>;
  readonly inode: Tables<RecordLocks<InodeLock>>;
  readonly entry: Tables<RecordLocks<EntryLock>>;

  constructor(limits: LedgerLimits) {
    const ledger = (this.ledger = new Ledger(limits));
    this.posix = new Tables((onEmpty) => new PosixLocks(ledger, onEmpty));
    this.inode = new Tables((onEmpty) => new RecordLocks(inodeLocks, ledger, onEmpty));
    this.entry = new Tables((onEmpty) => new RecordLocks(entryLocks, ledger, onEmpty));
  }

  static posixKey(gfid: Buffer): string {
    return hex(gfid);
  }

  static domainKey(gfid: Buffer, domain: string): string {
    return `${hex(gfid)}\0${domain}`;
  }

  /** FLUSH: an empty lk_owner means "every lock set through this fd" (stock pl_flush). */
  flush(fd: OpenFd, session: string, lkOwner: Buffer): void {
    const t = this.posix.get(LockManager.posixKey(fd.gfid));
    if (!t) return;
    if (lkOwner.length === 0) t.dropFd(fd);
    else t.dropOwner(makeOwner(session, lkOwner));
  }

  release(fd: OpenFd): void {
    this.posix.get(LockManager.posixKey(fd.gfid))?.dropFd(fd);
  }

  sessionEnded(session: string): void {
    for (const t of this.ledger.tablesOf(session)) t.dropSession(session);
  }

  /** How much is held: tables alive and one session's records (tests, dumps). */
  usage(session?: string): {
    inodes: number;
    inodeDomains: number;
    entryDomains: number;
    records: number;
    waiting: number;
  } {
    const u = session === undefined ? { records: 0, waiting: 0 } : this.ledger.usageOf(session);
    return {
      inodes: this.posix.map.size,
      inodeDomains: this.inode.map.size,
      entryDomains: this.entry.map.size,
      ...u,
    };
  }
}
