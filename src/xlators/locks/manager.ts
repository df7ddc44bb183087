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
  /** Keys by inode (the part before the NUL), so per-inode counts visit only that inode's. */
  private readonly byInode = new Map<string, Set<string>>();

  constructor(private readonly make: (onEmpty: () => void) => T) {}

  get(key: string): T | undefined {
    return this.map.get(key);
  }

  /** The tables of one inode (every domain). */
  *ofInode(inode: string): Iterable<T> {
    for (const key of this.byInode.get(inode) ?? []) {
      const t = this.map.get(key);
      if (t) yield t;
    }
  }

  /** The table for `key`, created if needed, and forgotten again if `use` leaves it empty. */
  async with<R>(key: string, use: (t: T) => Promise<R> | R): Promise<R> {
    let t = this.map.get(key);
    if (!t) {
      const made: T = this.make(() => this.forget(key, made));
      this.map.set(key, (t = made));
      const inode = inodeOf(key);
      let keys = this.byInode.get(inode);
      if (!keys) this.byInode.set(inode, (keys = new Set()));
      keys.add(key);
    }
    try {
      return await use(t);
    } finally {
      this.forget(key, t);
    }
  }

  private forget(key: string, t: T): void {
    if (!t.empty || this.map.get(key) !== t) return;
    this.map.delete(key);
    const inode = inodeOf(key);
    const keys = this.byInode.get(inode);
    keys?.delete(key);
    if (keys?.size === 0) this.byInode.delete(inode);
  }
}

const inodeOf = (key: string) => key.split('\0', 1)[0]!;

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

  // ---- counts AFR asks for in xdata (granted plus blocked, as stock) --------------------

  /** Inode locks on `gfid`, in one domain or (domain undefined) in all. */
  inodelkCount(gfid: Buffer, domain?: string): number {
    if (domain !== undefined) return this.inode.get(LockManager.domainKey(gfid, domain))?.count ?? 0;
    let n = 0;
    for (const t of this.inode.ofInode(hex(gfid))) n += t.count;
    return n;
  }

  /** Entry locks held or awaited in directory `gfid`, all domains. */
  entrylkCount(gfid: Buffer): number {
    let n = 0;
    for (const t of this.entry.ofInode(hex(gfid))) n += t.count;
    return n;
  }

  /** Whether some domain holds an entry lock on `name` in directory `parent`. */
  entrylkHeldOn(parent: Buffer, name: string): boolean {
    for (const t of this.entry.ofInode(hex(parent))) if (t.granted.some((l) => l.name === name)) return true;
    return false;
  }

  posixlkCount(gfid: Buffer): number {
    return this.posix.get(LockManager.posixKey(gfid))?.count ?? 0;
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
