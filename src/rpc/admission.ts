/**
 * Admission: what one peer may cost a server, in one place (docs/limits.md lists every
 * default and the option that changes it).
 *
 * - Connections: at most `maxConnections` in all and `maxConnectionsPerPeer` from one
 *   address; a connection beyond either is closed at once.
 * - Memory: the bytes a connection holds (records read and not yet answered, and what
 *   handlers reserve for their replies, e.g. a READ's buffer) until the reply has left for
 *   the kernel. Reading pauses, and reservations wait, while the connection holds
 *   `maxBytesPerConnection` or all connections together `maxBytesTotal`. A single call
 *   larger than the per-connection bound (QEMU's 512 MiB request) still runs, alone.
 * - Before authentication (SETVOLUME on a brick): records of at most `preAuth.maxRecord`
 *   bytes (a larger record mark closes the connection before anything is buffered), at most
 *   that many bytes held, silence between records of at most `preAuth.idleMs`, and
 *   authentication within `preAuth.deadlineMs` of connecting.
 */

export interface PreAuthLimits {
  /** The largest record a connection may send before it authenticates. */
  maxRecord: number;
  /** How long an unauthenticated connection may stay silent between records (0: no limit). */
  idleMs: number;
  /** How long a connection may stay unauthenticated at all (0: no limit). */
  deadlineMs: number;
}

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerPeer: number;
  maxBytesPerConnection: number;
  maxBytesTotal: number;
  /** Absent: connections count as authenticated from the start (a plain RPC server). */
  preAuth?: PreAuthLimits;
}

const MiB = 1024 * 1024;

/**
 * Defaults for any RPC server. A VM host opens one brick connection per disk image (plus
 * one per FUSE mount), so a thousand from one address is far beyond a real host; QEMU keeps
 * at most 64 requests of a few MiB in flight per disk, well under 256 MiB.
 */
export const DEFAULT_ADMISSION: AdmissionLimits = {
  maxConnections: 4096,
  maxConnectionsPerPeer: 1024,
  maxBytesPerConnection: 256 * MiB,
  maxBytesTotal: 1024 * MiB,
};

/**
 * Before SETVOLUME a stock client sends DUMP, PING and SETVOLUME, each under 4 KiB, one
 * right after the other; before anything else a daemon's peers send GETSPEC, PORTBYBRICK
 * or SIGNIN, all small.
 */
export const DEFAULT_PRE_AUTH: PreAuthLimits = {
  maxRecord: 64 * 1024,
  idleMs: 10_000,
  deadlineMs: 30_000,
};

export function admissionLimits(
  options: Partial<Omit<AdmissionLimits, 'preAuth'>> & { preAuth?: Partial<PreAuthLimits> | false } = {},
): AdmissionLimits {
  const { preAuth, ...rest } = options;
  const limits: AdmissionLimits = { ...DEFAULT_ADMISSION, ...definedOnly(rest) };
  if (preAuth) limits.preAuth = { ...DEFAULT_PRE_AUTH, ...definedOnly(preAuth) };
  const { preAuth: checked, ...bounds } = limits;
  for (const [key, value] of Object.entries({ ...bounds, ...checked }))
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`admission limit ${key}: ${value}`);
  return limits;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Bytes one connection holds; `Admission` keeps the sum. */
export class ByteAccount {
  used = 0;
  /** Closed connections release everything at once and ignore later releases. */
  closed = false;
  constructor(public limit: number) {}
}

interface Waiter {
  account: ByteAccount;
  /** What the waiting call already holds: it does not count against its own admission. */
  own: number;
  bytes: number;
  grant: () => void;
}

/** Rate-limited log lines: one per reason per interval, with how many were suppressed. */
class LimitLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: (message: string) => void,
    private readonly intervalMs = 5000,
  ) {}

  hit(reason: string, detail: string): void {
    const now = Date.now();
    const seen = this.last.get(reason);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen?.suppressed ? ` (${seen.suppressed} more since the last report)` : '';
    this.last.set(reason, { at: now, suppressed: 0 });
    this.log(`limit ${reason} hit: ${detail}${more}`);
  }
}

/** The server-wide half of admission: connection counts and the shared byte budget. */
export class Admission {
  readonly limits: AdmissionLimits;
  private readonly perPeer = new Map<string, number>();
  private connections = 0;
  private totalUsed = 0;
  private readonly waiters: Waiter[] = [];
  /** Connections that stopped reading because all together held `maxBytesTotal`. */
  private readonly starved = new Set<() => void>();
  private readonly limitLog: LimitLog;

  constructor(limits: AdmissionLimits, log: (message: string) => void) {
    this.limits = limits;
    this.limitLog = new LimitLog(log);
  }

  /** Bytes held by every connection together. */
  get bytesInUse(): number {
    return this.totalUsed;
  }

  /** Counts a new connection from `peer`; false (and a log line) if a bound is reached. */
  connect(peer: string): boolean {
    const fromPeer = this.perPeer.get(peer) ?? 0;
    if (this.connections >= this.limits.maxConnections) {
      this.hit('max-connections', `${this.connections} connections open; closing one from ${peer}`);
      return false;
    }
    if (fromPeer >= this.limits.maxConnectionsPerPeer) {
      this.hit('max-connections-per-peer', `${fromPeer} connections from ${peer}; closing a new one`);
      return false;
    }
    this.connections++;
    this.perPeer.set(peer, fromPeer + 1);
    return true;
  }

  disconnect(peer: string): void {
    this.connections--;
    const left = (this.perPeer.get(peer) ?? 1) - 1;
    if (left > 0) this.perPeer.set(peer, left);
    else this.perPeer.delete(peer);
  }

  /** Charges bytes already in memory (a record just read): never waits. */
  charge(account: ByteAccount, bytes: number): void {
    if (account.closed) return;
    account.used += bytes;
    this.totalUsed += bytes;
  }

  /** True while the account, or all together, hold their bound: stop reading. */
  full(account: ByteAccount): boolean {
    return account.used >= account.limit || this.totalUsed >= this.limits.maxBytesTotal;
  }

  /** Runs `resume` once, when bytes are released after the server-wide bound was reached. */
  whenRoom(resume: () => void): void {
    this.starved.add(resume);
  }

  /**
   * Charges `bytes` about to be allocated (a READ's buffer) once they fit; `own` is what the
   * waiting call already holds. A request larger than a bound is let through when nothing
   * else holds that bound's bytes, so it runs alone instead of never.
   */
  reserve(account: ByteAccount, own: number, bytes: number): Promise<void> | undefined {
    if (this.fits(account, own, bytes)) {
      this.charge(account, bytes);
      return undefined;
    }
    return new Promise((grant) => this.waiters.push({ account, own, bytes, grant }));
  }

  release(account: ByteAccount, bytes: number): void {
    if (bytes === 0 || account.closed) return;
    account.used -= bytes;
    this.totalUsed -= bytes;
    this.grantWaiting();
    if (this.starved.size > 0 && this.totalUsed < this.limits.maxBytesTotal) {
      const resume = [...this.starved];
      this.starved.clear();
      for (const fn of resume) fn();
    }
  }

  /**
   * A connection closed: what it holds is released at once (replies still queued on its
   * socket go with it) and its waiting calls go on without charge, their replies dropped.
   */
  close(account: ByteAccount): void {
    if (account.closed) return;
    const held = account.used;
    this.release(account, held);
    account.closed = true;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.account !== account) continue;
      this.waiters.splice(i, 1);
      w.grant();
    }
  }

  hit(reason: string, detail: string): void {
    this.limitLog.hit(reason, detail);
  }

  private fits(account: ByteAccount, own: number, bytes: number): boolean {
    const others = account.used - own;
    const total = this.totalUsed - own;
    const connOk = others === 0 || others + bytes <= account.limit;
    const totalOk = total === 0 || total + bytes <= this.limits.maxBytesTotal;
    return connOk && totalOk;
  }

  /** Grants waiters that fit, oldest first; one that does not fit does not block smaller ones. */
  private grantWaiting(): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      if (!this.fits(w.account, w.own, w.bytes)) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      this.charge(w.account, w.bytes);
      w.grant();
    }
  }
}
