/**
 * Who owns a lock, and how much each session may hold. A lock owner is the pair
 * (client connection, lk_owner from the RPC credential), as stock's same_owner() compares
 * client and lk_owner: two connections sending the same lk_owner bytes are different
 * owners. The Ledger counts each session's lock records and waiters so that one client
 * cannot grow the brick's memory without bound, and remembers which tables hold a
 * session's locks so a disconnect visits only those.
 */
import { FopError } from '../../protocol/errno.js';
import type { FopContext } from '../../xlator/translator.js';

export interface Owner {
  readonly session: string;
  readonly lkOwner: Buffer;
  /** session and lk_owner in one string, for comparisons. */
  readonly key: string;
}

export function makeOwner(session: string, lkOwner: Buffer): Owner {
  return { session, lkOwner, key: `${session}\0${lkOwner.toString('hex')}` };
}

/** The owner of a lock request; EINVAL without an lk_owner. */
export function ownerOf(ctx: FopContext): Owner {
  const lkOwner = ctx.caller.lkOwner;
  // Stock (op-version >= 7, pl_is_lk_owner_valid) refuses a missing or all-zero owner:
  // every lock would otherwise belong to one shared owner per connection.
  if (lkOwner.length === 0 || lkOwner.every((b) => b === 0)) {
    throw FopError.of('EINVAL', 'lock request without an lk_owner');
  }
  return makeOwner(ctx.session.id, lkOwner);
}

/** Something holding locks for sessions: it can drop all of one session's. */
export interface LockTable {
  /** Drops the session's locks and fails its waiters; wakes whoever can now proceed. */
  dropSession(session: string): void;
}

interface SessionUsage {
  records: number;
  waiting: number;
  /** Tables with records or waiters of this session, with how many. */
  tables: Map<LockTable, number>;
}

export interface LedgerLimits {
  /** Lock records (granted or waiting) per session. */
  maxRecords: number;
  /** Waiting (blocking) requests per session. */
  maxWaiting: number;
  /** Lock records of all sessions together (0: no bound beyond the per-session one). */
  maxRecordsTotal?: number;
}

export class Ledger {
  private readonly sessions = new Map<string, SessionUsage>();
  /** Records of every session. */
  private total = 0;

  constructor(readonly limits: LedgerLimits) {}

  private usage(session: string): SessionUsage {
    let u = this.sessions.get(session);
    if (!u) this.sessions.set(session, (u = { records: 0, waiting: 0, tables: new Map() }));
    return u;
  }

  /** Throws ENOLCK unless the session may hold `extra` more records (extra may be <= 0). */
  checkRecords(session: string, extra: number): void {
    const records = this.sessions.get(session)?.records ?? 0;
    if (extra > 0 && records + extra > this.limits.maxRecords) {
      throw FopError.of('ENOLCK', `session holds ${records} locks (limit ${this.limits.maxRecords})`);
    }
    const maxTotal = this.limits.maxRecordsTotal ?? 0;
    if (extra > 0 && maxTotal > 0 && this.total + extra > maxTotal) {
      throw FopError.of('ENOLCK', `the brick holds ${this.total} locks (limit ${maxTotal})`);
    }
  }

  checkWaiting(session: string): void {
    const waiting = this.sessions.get(session)?.waiting ?? 0;
    if (waiting >= this.limits.maxWaiting) {
      throw FopError.of(
        'ENOLCK',
        `session has ${waiting} blocked lock requests (limit ${this.limits.maxWaiting})`,
      );
    }
  }

  /** Adds (or with negative n removes) records a session has in a table. */
  records(session: string, table: LockTable, n: number, waiting = 0): void {
    if (n === 0 && waiting === 0) return;
    const u = this.usage(session);
    u.records += n;
    this.total += n;
    u.waiting += waiting;
    const inTable = (u.tables.get(table) ?? 0) + n;
    if (inTable > 0) u.tables.set(table, inTable);
    else u.tables.delete(table);
    if (u.records <= 0 && u.waiting <= 0) this.sessions.delete(session);
  }

  tablesOf(session: string): LockTable[] {
    return [...(this.sessions.get(session)?.tables.keys() ?? [])];
  }

  usageOf(session: string): { records: number; waiting: number } {
    const u = this.sessions.get(session);
    return { records: u?.records ?? 0, waiting: u?.waiting ?? 0 };
  }
}
