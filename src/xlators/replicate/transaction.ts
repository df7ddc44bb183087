/**
 * AFR transactions: the named steps lock → pre-op → op → post-op → unlock, each with its
 * failure handling next to it.
 *
 * - Locks are taken non-blocking on every up brick at once; if any brick says EAGAIN, what
 *   was granted is released and the lock is taken blocking, one brick at a time in child
 *   order (stock's protocol: two clients never deadlock each holding half the bricks).
 * - The pre-op marks the inode dirty on the locked bricks (XATTROP ADD_ARRAY dirty +1) and,
 *   beyond stock, already charges the bricks that could not be locked (pending[j] +1): the
 *   accusation is on disk before any write it covers is acknowledged.
 * - The op runs on the locked bricks; it succeeds when a quorum of bricks did it.
 * - The post-op undoes dirty on the bricks that did everything and charges the ones that
 *   failed meanwhile. A brick failing mid-lock makes the post-op immediate, and the write that
 *   saw the failure is answered only after it: an acknowledged write is never known to fewer
 *   bricks than the changelog says.
 * - Data locks are eager (stock's eager lock + delayed post-op): consecutive data fops on an
 *   inode share one lock and one pre-op; the post-op and unlock follow `post-op-delay-secs`
 *   after the last one, at once on FLUSH, on contention (a WRITE reply saying another lock
 *   waits), or when a brick fails — then as soon as the ops in flight are done (so that it
 *   charges every brick any of them missed), with no new op joining the lock meanwhile.
 */
import { ptrValue, strValue, type Dict, DictType, type GfxDict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import { EntrylkCmd, EntrylkType, LockCmd, LockType } from '../../protocol/locks.js';
import type { Success } from '../../xlator/fanout.js';
import type { FopContext } from '../../xlator/translator.js';
import { delta, encodeCounters, TxnType, ZERO, type Counters } from './changelog.js';
import { readableState } from './reads.js';
import { Replica, type ChildResult, type InodeState } from './replica.js';

const ADD_ARRAY = 0;
/** Metadata locks start at LLONG_MAX − 1, as stock's, so they only meet data locks at EOF. */
const METADATA_LOCK_START = 0x7ffffffffffffffen;

/** Internal fops go out as root with a transaction's own lock owner, never the caller's signal. */
export function internalCtx(ctx: FopContext, owner: Buffer): FopContext {
  return {
    session: ctx.session,
    caller: { uid: 0, gid: 0, groups: [], pid: ctx.caller.pid, lkOwner: owner },
  };
}

// ---- locks ------------------------------------------------------------------------------

export type LockTarget =
  /** `len` 0 (the default) locks to EOF. */
  | { kind: 'inode'; gfid: Buffer; start: bigint; len?: bigint }
  | { kind: 'entry'; parent: Buffer; name: string };

export type LockAction = 'try' | 'wait' | 'release';

/**
 * One INODELK or ENTRYLK of `target` on `which`, owned by ctx's lock owner, in `domain`
 * (AFR's own by default; the self-heal daemon also locks in `<name>:self-heal`).
 */
export function lockCall(
  r: Replica,
  which: readonly number[],
  target: LockTarget,
  action: LockAction,
  ctx: FopContext,
  domain = r.domain,
): Promise<ChildResult<unknown>[]> {
  if (target.kind === 'inode') {
    const type = action === 'release' ? LockType.UNLCK : LockType.WRLCK;
    const flock = {
      type,
      whence: 0,
      start: target.start,
      len: target.len ?? 0n,
      pid: ctx.caller.pid,
      lkOwner: ctx.caller.lkOwner,
    };
    const cmd = action === 'wait' ? LockCmd.SETLKW : LockCmd.SETLK;
    return r.fanOut(
      which,
      'INODELK',
      { gfid: target.gfid, cmd, type, flock, volume: domain, xdata: null },
      ctx,
    );
  }
  const cmd =
    action === 'release' ? EntrylkCmd.UNLOCK : action === 'wait' ? EntrylkCmd.LOCK : EntrylkCmd.LOCK_NB;
  const entry = {
    gfid: target.parent,
    cmd,
    type: EntrylkType.WRLCK,
    namelen: target.name ? 1 : 0,
    name: target.name,
  };
  return r.fanOut(which, 'ENTRYLK', { ...entry, volume: domain, xdata: null }, ctx);
}

export async function unlock(
  r: Replica,
  which: readonly number[],
  target: LockTarget,
  ctx: FopContext,
  domain = r.domain,
): Promise<void> {
  if (which.length) await lockCall(r, which, target, 'release', ctx, domain);
}

/**
 * Takes a lock on the up bricks: non-blocking everywhere, then on any EAGAIN blocking one
 * brick at a time in child order. Returns which bricks granted it.
 */
export async function lock(
  r: Replica,
  target: LockTarget,
  ctx: FopContext,
  domain = r.domain,
  which: readonly number[] = r.upChildren(),
): Promise<boolean[]> {
  const first = await lockCall(r, which, target, 'try', ctx, domain);
  const granted = r.cfg.children.map(() => false);
  for (const res of first) if (res.ok) granted[res.target] = true;
  if (!first.some((res) => !res.ok && res.error.errno === Errno.EAGAIN)) return granted;
  await unlock(r, flagged(granted), target, ctx, domain);
  granted.fill(false);
  // Child order whatever order `which` is in (the heal names the source first): two lockers
  // going different ways each hold what the other waits for.
  for (const i of [...which].sort((a, b) => a - b)) {
    const [res] = await lockCall(r, [i], target, 'wait', ctx, domain);
    if (res?.ok) granted[i] = true;
  }
  return granted;
}

export const flagged = (v: readonly boolean[]): number[] => v.flatMap((x, i) => (x ? [i] : []));

// ---- changelog updates --------------------------------------------------------------------

/** XATTROP ADD_ARRAY on `which`: dirty += dirtyDelta, pending[j] += pendingDelta(j). */
export function changelogOp(
  r: Replica,
  which: readonly number[],
  gfid: Buffer,
  dirtyDelta: Counters,
  pendingDelta: (j: number) => Counters,
  ctx: FopContext,
  xdata: GfxDict = null,
): Promise<ChildResult<unknown>[]> {
  const dict: Dict = new Map([[r.cfg.dirtyKey, ptrValue(encodeCounters(dirtyDelta))]]);
  r.cfg.pendingKeys.forEach((key, j) => dict.set(key, ptrValue(encodeCounters(pendingDelta(j)))));
  return r.fanOut(which, 'XATTROP', { gfid, flags: ADD_ARRAY, dict, xdata }, ctx);
}

// ---- data transactions (eager lock) -------------------------------------------------------

export class DataLock {
  readonly owner = Replica.newOwner();
  /** Bricks holding the lock with the pre-op done: the ones ops go to. */
  readonly active: boolean[];
  /** Bricks charged in the pre-op because they could not be locked, or failed the pre-op. */
  readonly excluded: boolean[];
  /** Bricks charged in the pre-op (the ones that could not be locked). */
  readonly charged: boolean[];
  /** Bricks that failed an op under this lock: charged at the post-op. */
  readonly failed: boolean[];
  /**
   * Some op went out under this lock. If none did (refused before reaching a brick: no
   * quorum, only the arbiter good), the pre-op's charges are undone at the post-op: nobody
   * missed anything, and a charge left on the only good copy would make the file unusable.
   */
  opsSent = false;
  inFlight = 0;
  /** Post-op as soon as nothing is in flight (a failure, contention, a flush). */
  urgent = false;
  timer: NodeJS.Timeout | undefined;
  released: Promise<void> | undefined;
  /** Settles once the post-op and unlock are done (whoever started them). */
  readonly over: Promise<void>;
  settle!: () => void;
  constructor(n: number) {
    this.over = new Promise<void>((res) => (this.settle = res));
    this.active = new Array<boolean>(n).fill(false);
    this.excluded = new Array<boolean>(n).fill(false);
    this.charged = new Array<boolean>(n).fill(false);
    this.failed = new Array<boolean>(n).fill(false);
  }
}

type DataLockState = { lock: DataLock; ready: Promise<void> };
const acquiring = new WeakMap<InodeState, DataLockState>();

/** Joins the inode's eager lock, or takes a new one (after any lock being released). */
async function joinDataLock(r: Replica, st: InodeState, gfid: Buffer, ctx: FopContext): Promise<DataLock> {
  for (;;) {
    const current = acquiring.get(st);
    if (current && !current.lock.released) {
      await current.ready;
      if (!current.lock.released && !current.lock.urgent) {
        clearTimeout(current.lock.timer);
        current.lock.timer = undefined;
        return current.lock;
      }
      // An urgent lock takes no new ops: it is released once the ones in flight are done (ops
      // joining it would postpone its post-op, and another owner's turn, for ever).
      if (!current.lock.released) {
        await current.lock.over;
        continue;
      }
    }
    if (current?.lock.released) {
      await current.lock.released;
      if (acquiring.get(st) === current) acquiring.delete(st);
      continue;
    }
    const lk = new DataLock(r.n);
    const ready = takeDataLock(r, st, lk, gfid, ctx);
    acquiring.set(st, { lock: lk, ready });
    st.dataLock = lk;
    try {
      await ready;
    } catch (err) {
      if (acquiring.get(st)?.lock === lk) acquiring.delete(st);
      if (st.dataLock === lk) st.dataLock = undefined;
      throw err;
    }
    return lk;
  }
}

async function takeDataLock(
  r: Replica,
  st: InodeState,
  lk: DataLock,
  gfid: Buffer,
  ctx: FopContext,
): Promise<void> {
  const ictx = internalCtx(ctx, lk.owner);
  const target: LockTarget = { kind: 'inode', gfid, start: 0n };
  const granted = await lock(r, target, ictx);
  if (!r.hasQuorum(granted)) {
    await unlock(r, flagged(granted), target, ictx);
    throw r.noQuorum(granted, 'data lock granted by');
  }
  granted.forEach((g, i) => (lk.excluded[i] = lk.charged[i] = !g));
  const preOp = await changelogOp(
    r,
    flagged(granted),
    gfid,
    delta(TxnType.DATA, 1),
    (j) => (lk.excluded[j] ? delta(TxnType.DATA, 1) : ZERO),
    ictx,
  );
  for (const res of preOp) lk.active[res.target] = res.ok;
  for (const res of preOp) if (!res.ok) lk.excluded[res.target] = true;
  if (!r.hasQuorum(lk.active)) {
    await releaseDataLock(r, st, lk, gfid, ctx);
    throw r.noQuorum(lk.active, 'pre-op reached');
  }
}

/** Post-op and unlock. Idempotent: every caller gets the same promise. */
export function releaseDataLock(
  r: Replica,
  st: InodeState,
  lk: DataLock,
  gfid: Buffer,
  ctx: FopContext,
): Promise<void> {
  clearTimeout(lk.timer);
  lk.timer = undefined;
  lk.released ??= (async () => {
    const ictx = internalCtx(ctx, lk.owner);
    const good = lk.active.flatMap((a, i) => (a && !lk.failed[i] ? [i] : []));
    await changelogOp(
      r,
      good,
      gfid,
      delta(TxnType.DATA, -1),
      (j) =>
        lk.failed[j] ? delta(TxnType.DATA, 1) : !lk.opsSent && lk.charged[j] ? delta(TxnType.DATA, -1) : ZERO,
      ictx,
    );
    await unlock(
      r,
      r.cfg.children.map((_, i) => i).filter((i) => lk.active[i] || !lk.excluded[i]),
      { kind: 'inode', gfid, start: 0n },
      ictx,
    );
    if (st.dataReadable && lk.opsSent)
      st.dataReadable = st.dataReadable.map((x, i) => x && !lk.failed[i] && !lk.excluded[i]);
    if (st.dataLock === lk) st.dataLock = undefined;
  })();
  lk.released.then(lk.settle, lk.settle);
  return lk.released;
}

/** After an op: release now if urgent and idle, else (re)arm the delayed post-op. */
function afterOp(r: Replica, st: InodeState, lk: DataLock, gfid: Buffer, ctx: FopContext): void {
  if (lk.inFlight > 0 || lk.released) return;
  if (lk.urgent || !r.cfg.eagerLock || r.cfg.postOpDelayMs === 0) {
    void releaseDataLock(r, st, lk, gfid, ctx);
    return;
  }
  clearTimeout(lk.timer);
  lk.timer = setTimeout(() => void releaseDataLock(r, st, lk, gfid, ctx), r.cfg.postOpDelayMs);
  lk.timer.unref?.();
}

/** Ends the inode's eager lock now (FLUSH, metadata ops, fini). */
export async function flushDataLock(r: Replica, gfid: Buffer, ctx: FopContext): Promise<void> {
  const st = r.inode(gfid);
  const lk = st.dataLock;
  if (!lk) return;
  const pending = acquiring.get(st);
  if (pending?.lock === lk) await pending.ready.catch(() => undefined);
  lk.urgent = true;
  while (lk.inFlight > 0 && !lk.released) await new Promise((res) => setTimeout(res, 1));
  await releaseDataLock(r, st, lk, gfid, ctx);
}

/**
 * Runs one data fop as part of the inode's data transaction. `op` gets the bricks to run on
 * (locked, pre-op done, not failed) and returns every brick's outcome.
 */
export async function dataTransaction<R>(
  r: Replica,
  gfid: Buffer,
  what: string,
  ctx: FopContext,
  op: (which: number[]) => Promise<ChildResult<R>[]>,
): Promise<R> {
  // Bricks may come and go between the lock and the op, so that an op misses quorum although
  // a quorum is up again; data fops are idempotent (same bytes, same range), so it is redone
  // under a fresh lock, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataAttempt(r, gfid, what, ctx, op);
    } catch (err) {
      if (!(err instanceof FopError) || err.errno !== Errno.ENOTCONN || attempt >= 5) throw err;
      if (!r.hasQuorum(r.upVector()) || ctx.signal?.aborted) throw err;
      await new Promise((res) => setTimeout(res, 10 * attempt));
    }
  }
}

async function dataAttempt<R>(
  r: Replica,
  gfid: Buffer,
  what: string,
  ctx: FopContext,
  op: (which: number[]) => Promise<ChildResult<R>[]>,
): Promise<R> {
  r.requireQuorum(r.upVector(), what);
  const st = r.inode(gfid);
  const lk = await joinDataLock(r, st, gfid, ctx);
  lk.inFlight++;
  let results: ChildResult<R>[];
  try {
    const which = flagged(lk.active).filter((i) => !lk.failed[i]);
    if (!st.dataReadable || st.generation !== r.generation) await readableState(r, gfid, ctx);
    // A write must reach a brick holding good data, or no brick would hold all of it (stock
    // fails such a write with EIO; with only the arbiter good, ENOTCONN).
    const good = (i: number) => !r.isArbiter(i) && st.dataReadable![i]!;
    if (!which.some(good)) {
      // The lock's set of bricks is what refuses the op: let it go at once, so the next op
      // takes a fresh lock with the bricks that came back (a stream of refused writes
      // would otherwise keep this one, and a returned good brick out of it, for ever).
      lk.urgent = true;
      const arbiterOnly = which.some(
        (i) => r.isArbiter(i) && !st.dataReadable!.some((x, j) => x && !r.isArbiter(j)),
      );
      throw arbiterOnly
        ? new FopError(Errno.ENOTCONN, `${r.domain}: ${what}: only the arbiter would hold the data`)
        : new FopError(Errno.EIO, `${r.domain}: ${what}: no brick with good data is up`);
    }
    lk.opsSent = true;
    results = await op(which);
  } catch (err) {
    lk.inFlight--;
    afterOp(r, st, lk, gfid, ctx);
    throw err;
  }
  lk.inFlight--;
  const ok = results.filter((x): x is Success<R> => x.ok);
  const failed = results.filter((x) => !x.ok);
  if (ok.length && failed.length) {
    // Some bricks did it and some did not: the latter are now behind.
    for (const f of failed) lk.failed[f.target] = true;
    lk.urgent = true;
  }
  if (ok.some((x) => lockCount((x.value as { xdata?: GfxDict }).xdata) > 1)) lk.urgent = true;
  const mustWait = lk.urgent;
  afterOp(r, st, lk, gfid, ctx);
  // The post-op starts when the last op in flight is done, so that it charges every brick any
  // of them missed; this op is answered only after it (never acknowledged before its charge).
  if (mustWait) await lk.over;
  r.quorumSuccesses(results, what);
  // The answer of a brick with good data (the arbiter's stat carries no size).
  return (
    ok.find((x) => !r.isArbiter(x.target) && (st.dataReadable?.[x.target] ?? true)) ??
    ok.find((x) => !r.isArbiter(x.target)) ??
    ok[0]!
  ).value;
}

/** `glusterfs.inodelk-count` in a reply: how many locks are granted or waiting in our domain. */
function lockCount(xdata: GfxDict | undefined): number {
  const v = xdata?.get('glusterfs.inodelk-count');
  return v && (v.type === DictType.INT || v.type === DictType.UINT) ? Number(v.value) : 0;
}

/** WRITE xdata asking the bricks how many locks wait in our domain (contention). */
export function contentionRequest(r: Replica, xdata: GfxDict): Dict {
  const out: Dict = new Map(xdata ?? []);
  out.set('glusterfs.inodelk-dom-count', strValue(r.domain));
  return out;
}

// ---- metadata and entry transactions --------------------------------------------------

/**
 * A metadata transaction (setattr, xattrs): lock at LLONG_MAX−1, op everywhere locked; the
 * changelog is touched only when some brick could not be locked or failed (stock's
 * optimistic changelog).
 */
export async function metadataTransaction<R>(
  r: Replica,
  gfid: Buffer,
  what: string,
  ctx: FopContext,
  op: (which: number[]) => Promise<ChildResult<R>[]>,
): Promise<R> {
  r.requireQuorum(r.upVector(), what);
  await flushDataLock(r, gfid, ctx);
  const owner = Replica.newOwner();
  const ictx = internalCtx(ctx, owner);
  const target: LockTarget = { kind: 'inode', gfid, start: METADATA_LOCK_START };
  return changelogTransaction(r, TxnType.METADATA, [{ target, gfid }], what, ictx, op, (ok) => {
    const st = r.inode(gfid);
    if (st.metadataReadable) st.metadataReadable = st.metadataReadable.map((x, i) => x && ok[i]!);
  });
}

/** One lock of an entry transaction, and the directory whose changelog it guards. */
export interface Guard {
  target: LockTarget;
  gfid: Buffer;
  /** Granular entry heal: the name created or deleted. */
  xdata?: GfxDict;
}

/**
 * The shared sequence of metadata and entry transactions: lock every guard, pre-op (only if
 * some brick is not locked), op, post-op (if a pre-op was done or a brick failed), unlock.
 */
export async function changelogTransaction<R>(
  r: Replica,
  type: TxnType,
  guards: readonly Guard[],
  what: string,
  ictx: FopContext,
  op: (which: number[]) => Promise<ChildResult<R>[]>,
  onDone?: (ok: boolean[], locked: boolean[]) => void | Promise<void>,
): Promise<R> {
  const locked = r.cfg.children.map(() => true);
  const held: { target: LockTarget; granted: boolean[] }[] = [];
  try {
    for (const g of guards) {
      const granted = await lock(r, g.target, ictx);
      held.push({ target: g.target, granted });
      granted.forEach((x, i) => (locked[i] = locked[i]! && x));
    }
    r.requireQuorum(locked, `${what}: locked`);
    const which = flagged(locked);
    const missing = (j: number) => !locked[j];
    const preOp = locked.some((x) => !x);
    if (preOp)
      for (const g of guards)
        await changelogOp(
          r,
          which,
          g.gfid,
          delta(type, 1),
          (j) => (missing(j) ? delta(type, 1) : ZERO),
          ictx,
          g.xdata ?? null,
        );
    const results = await op(which);
    const ok = r.cfg.children.map((_, i) => results.some((x) => x.target === i && x.ok));
    const someFailed = results.some((x) => !x.ok) && results.some((x) => x.ok);
    // New inodes get their own charges (entries.ts) before the parent's post-op.
    if (results.some((x) => x.ok)) await onDone?.(ok, locked);
    if (preOp || someFailed) {
      const behind = (j: number) => !missing(j) && !ok[j] && someFailed;
      for (const g of guards)
        await changelogOp(
          r,
          flagged(ok),
          g.gfid,
          preOp ? delta(type, -1) : ZERO,
          (j) => (behind(j) ? delta(type, 1) : ZERO),
          ictx,
          g.xdata ?? null,
        );
    }
    return r.quorumSuccesses(results, what)[0]!.value;
  } finally {
    for (const h of held.reverse()) await unlock(r, flagged(h.granted), h.target, ictx);
  }
}
