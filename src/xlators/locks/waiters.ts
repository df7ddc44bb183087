/**
 * Blocked lock requests (SETLKW, blocking INODELK/ENTRYLK) of one lock table, first come
 * first served. A waiter is a promise the fop handler awaits, so a blocked request holds
 * no thread and never delays other fops. It ends in one of three ways: the table grants
 * it (resolve), its session ends or its fd is released (EAGAIN, as stock unwinds blocked
 * locks on cleanup), or the request's signal aborts (EINTR, as an interrupted fcntl).
 */
import { FopError } from '../../protocol/errno.js';
import type { Ledger, LockTable, Owner } from './owner.js';

export interface Waiter<R> {
  readonly req: R;
  readonly owner: Owner;
}

interface Pending<R> extends Waiter<R> {
  settle(err?: FopError): void;
}

export class Waiters<R> {
  private list: Pending<R>[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly table: LockTable,
    /** Called after a waiter left by abort: removing it may unblock others. */
    private readonly onCancel: () => void,
  ) {}

  get size(): number {
    return this.list.length;
  }

  /** The waiters in arrival order. */
  [Symbol.iterator](): Iterator<Waiter<R>> {
    return this.list[Symbol.iterator]();
  }

  /** Queues a request; resolves when granted. Throws ENOLCK beyond the session's caps. */
  wait(req: R, owner: Owner, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(FopError.of('EINTR', 'lock wait aborted'));
    this.ledger.checkWaiting(owner.session);
    this.ledger.checkRecords(owner.session, 1);
    this.ledger.records(owner.session, this.table, 1, 1);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        if (!this.remove(w)) return;
        w.settle(FopError.of('EINTR', 'lock wait aborted'));
        this.onCancel();
      };
      const w: Pending<R> = {
        req,
        owner,
        settle: (err) => {
          signal?.removeEventListener('abort', onAbort);
          this.ledger.records(owner.session, this.table, -1, -1);
          if (err) reject(err);
          else resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.list.push(w);
    });
  }

  private remove(w: Pending<R>): boolean {
    const i = this.list.indexOf(w);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /**
   * One pass in arrival order. `tryGrant` sees each waiter and the ones before it that
   * are still waiting; it takes the lock and returns true, returns false to keep waiting,
   * or throws a FopError to fail the waiter (ENOLCK). Returns how many left the queue.
   */
  pass(tryGrant: (w: Waiter<R>, stillWaiting: readonly Waiter<R>[]) => boolean): number {
    const before = this.list;
    this.list = [];
    const settled: [Pending<R>, FopError | undefined][] = [];
    for (const w of before) {
      let granted: boolean;
      let err: FopError | undefined;
      try {
        granted = tryGrant(w, this.list);
      } catch (e) {
        granted = true;
        err = FopError.from(e);
      }
      if (granted) settled.push([w, err]);
      else this.list.push(w);
    }
    for (const [w, err] of settled) w.settle(err);
    return settled.length;
  }

  /** Fails the waiters `which` selects with `err`; returns how many. */
  fail(which: (w: Waiter<R>) => boolean, err: () => FopError): number {
    const gone = new Set(this.list.filter(which));
    if (gone.size === 0) return 0;
    this.list = this.list.filter((w) => !gone.has(w));
    for (const w of gone) w.settle(err());
    return gone.size;
  }
}
