// features/locks, POSIX record locks (LK): the read/write conflict matrix, an owner's
// own locks merged, split, upgraded and downgraded, GETLK reports, SETLKW waiting and
// being woken or cancelled, and owners being (session, lk_owner), not lk_owner alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intValue } from '../../../src/protocol/dict.js';
import { FopError } from '../../../src/protocol/errno.js';
import type { FopContext } from '../../../src/xlator/index.js';
import { LockManager } from '../../../src/xlators/locks/index.js';
import {
  GETLK,
  RD,
  SETLK,
  SETLKW,
  UN,
  WR,
  caller,
  flock,
  isErrno,
  lk,
  lockGraph,
  openFile,
  session,
  settle,
  track,
} from './harness.js';

const MAX = (1n << 63n) - 1n;

/** One owner's granted ranges on the fd's inode, as [type, start, end], sorted. */
function held(manager: LockManager, gfid: Buffer, owner?: string) {
  const t = manager.posix.get(LockManager.posixKey(gfid));
  return (t?.granted ?? [])
    .filter((l) => owner === undefined || l.owner.lkOwner.toString().startsWith(owner))
    .map((l) => [l.type, l.start, l.end] as const)
    .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

test('conflict matrix: reads share, a write excludes, disjoint ranges and the own owner never conflict', async () => {
  const { top } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const a = caller(s, 'A');
  const b = caller(s, 'B');
  const cases: [number, number, boolean][] = [
    [RD, RD, true],
    [RD, WR, false],
    [WR, RD, false],
    [WR, WR, false],
  ];
  for (const [first, second, ok] of cases) {
    await lk(top, a, fd, SETLK, first, 0, 100);
    const p = lk(top, b, fd, SETLK, second, 50, 100);
    if (ok) await p;
    else await assert.rejects(p, isErrno('EAGAIN'), `${first} then ${second}`);
    // Disjoint ranges never conflict; [100, 199] starts right after A's [0, 99].
    await lk(top, b, fd, SETLK, WR, 100, 100);
    // The own owner may take anything over its own lock.
    await lk(top, a, fd, SETLK, WR, 0, 10);
    for (const c of [a, b]) await lk(top, c, fd, SETLK, UN, 0, 0);
  }
});

test('an owner’s locks are split, upgraded, downgraded and merged; UNLCK splits', async () => {
  const { top, manager } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const a = caller(s, 'A');
  await lk(top, a, fd, SETLK, RD, 0, 100);
  await lk(top, a, fd, SETLK, WR, 10, 10); // upgrade the middle
  assert.deepEqual(held(manager, fd.gfid), [
    [RD, 0n, 9n],
    [WR, 10n, 19n],
    [RD, 20n, 99n],
  ]);
  await lk(top, a, fd, SETLK, RD, 10, 10); // downgrade again: the three merge back
  assert.deepEqual(held(manager, fd.gfid), [[RD, 0n, 99n]]);
  await lk(top, a, fd, SETLK, UN, 40, 20); // unlock splits
  assert.deepEqual(held(manager, fd.gfid), [
    [RD, 0n, 39n],
    [RD, 60n, 99n],
  ]);
  await lk(top, a, fd, SETLK, RD, 100, 0); // touching, to EOF: merges with [60, 99]
  assert.deepEqual(held(manager, fd.gfid), [
    [RD, 0n, 39n],
    [RD, 60n, MAX],
  ]);
  await lk(top, a, fd, SETLK, WR, 30, 40); // overlaps both: takes [30, 69] as a write
  assert.deepEqual(held(manager, fd.gfid), [
    [RD, 0n, 29n],
    [WR, 30n, 69n],
    [RD, 70n, MAX],
  ]);
  // After the downgrade another owner can read there, and is still refused a write.
  const b = caller(s, 'B');
  await assert.rejects(lk(top, b, fd, SETLK, RD, 35, 1), isErrno('EAGAIN'));
  await lk(top, a, fd, SETLK, RD, 30, 40);
  await lk(top, b, fd, SETLK, RD, 35, 1);
  await assert.rejects(lk(top, b, fd, SETLK, WR, 0, 1), isErrno('EAGAIN'));
  await lk(top, a, fd, SETLK, UN, 0, 0);
  assert.deepEqual(held(manager, fd.gfid, 'A'), []);
  assert.deepEqual(held(manager, fd.gfid, 'B'), [[RD, 35n, 35n]]);
  // A negative length covers the bytes before start (POSIX).
  await lk(top, a, fd, SETLK, WR, 200, -50);
  assert.deepEqual(held(manager, fd.gfid, 'A'), [[WR, 150n, 199n]]);
});

test('GETLK reports the conflicting lock with its owner bytes and pid, or UNLCK with the asked range', async () => {
  const { top } = await lockGraph();
  const s1 = session('s1');
  const s2 = session('s2');
  const fd = openFile();
  const a = caller(s1, 'A');
  await lk(top, a, fd, SETLK, WR, 100, 0, 3131);
  const b = caller(s2, 'B');
  const conf = await lk(top, b, fd, GETLK, RD, 150, 10);
  assert.equal(conf.flock.type, WR);
  assert.equal(conf.flock.start, 100n);
  assert.equal(conf.flock.len, 0n, 'to EOF is reported as len 0');
  assert.equal(conf.flock.pid, 3131);
  assert.deepEqual(conf.flock.lkOwner, a.caller.lkOwner);

  const free = await lk(top, b, fd, GETLK, WR, 0, 100, 99);
  assert.equal(free.flock.type, UN);
  assert.equal(free.flock.start, 0n);
  assert.equal(free.flock.len, 100n);
  assert.deepEqual(free.flock.lkOwner, b.caller.lkOwner);
  // The owner's own lock is no conflict; GETLK_FD (6) is answered as GETLK.
  assert.equal((await lk(top, a, fd, GETLK, WR, 100, 1)).flock.type, UN);
  assert.equal((await lk(top, b, fd, 6, WR, 100, 1)).flock.type, WR);
  await assert.rejects(lk(top, b, fd, GETLK, UN, 0, 1), isErrno('EINVAL'));
});

test('the same lk_owner bytes on two sessions are two owners', async () => {
  const { top } = await lockGraph();
  const fd = openFile();
  const same = Buffer.from('0123456789abcdef', 'hex');
  await lk(top, caller(session('s1'), same), fd, SETLK, WR, 0, 10);
  await assert.rejects(lk(top, caller(session('s2'), same), fd, SETLK, WR, 5, 1), isErrno('EAGAIN'));
  await lk(top, caller(session('s1'), same), fd, SETLK, WR, 5, 1);
});

test('SETLKW waits without blocking other fops, and is granted once the conflict is unlocked', async () => {
  const { top, manager } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const a = caller(s, 'A');
  const b = caller(s, 'B');
  await lk(top, a, fd, SETLK, WR, 0, 10);
  const waiting = track(lk(top, b, fd, SETLKW, RD, 5, 10, 55));
  await settle();
  assert.equal(waiting.done, false);
  // Other fops and other locks proceed meanwhile.
  await top.call('STAT', { gfid: fd.gfid, xdata: null }, a);
  await lk(top, caller(s, 'C'), fd, SETLK, RD, 20, 5);
  assert.equal(manager.usage('s1').waiting, 1);

  await lk(top, a, fd, SETLK, UN, 0, 4); // still overlapping at [5, 9]: keeps waiting
  await settle();
  assert.equal(waiting.done, false);
  await lk(top, a, fd, SETLK, UN, 0, 0);
  await settle();
  assert.equal(waiting.done, true);
  assert.equal(waiting.error, undefined);
  const got = (await lk(top, a, fd, GETLK, WR, 0, 20)).flock;
  assert.deepEqual([got.type, got.start, got.len, got.pid], [RD, 5n, 10n, 55]);
  assert.equal(manager.usage('s1').waiting, 0);
});

test('waiters are granted in order as they become compatible; a blocked upgrade first gives up its read lock', async () => {
  const { top } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const [a, b, c] = ['A', 'B', 'C'].map((o) => caller(s, o));
  await lk(top, a!, fd, SETLK, RD, 0, 10);
  await lk(top, b!, fd, SETLK, RD, 0, 10);
  // A wants to upgrade and must wait for B; like stock, A's read lock goes meanwhile,
  // so B's own upgrade then succeeds instead of deadlocking.
  const upA = track(lk(top, a!, fd, SETLKW, WR, 0, 10));
  await settle();
  assert.equal(upA.done, false);
  await lk(top, b!, fd, SETLK, WR, 0, 10);
  const waitC = track(lk(top, c!, fd, SETLKW, WR, 5, 1));
  await lk(top, b!, fd, SETLK, UN, 0, 0);
  await settle();
  assert.equal(upA.done && !upA.error, true, 'A, first in line, got its write lock');
  assert.equal(waitC.done, false, 'C waits for A');
  await lk(top, a!, fd, SETLK, UN, 0, 0);
  await settle();
  assert.equal(waitC.done && !waitC.error, true);
});

test('ending a session drops its locks, fails its waiters, and wakes other sessions', async () => {
  const { graph, top, manager } = await lockGraph();
  const s1 = session('s1');
  const s2 = session('s2');
  const s3 = session('s3');
  const fd = openFile();
  await lk(top, caller(s1, 'A'), fd, SETLK, WR, 0, 0);
  const w2 = track(lk(top, caller(s2, 'B'), fd, SETLKW, WR, 0, 10));
  const w3 = track(lk(top, caller(s3, 'C'), fd, SETLKW, WR, 100, 10));
  await settle();
  await graph.sessionEnded(s2);
  await settle();
  assert.ok(w2.done && isErrno('EAGAIN')(w2.error), 'the ended session’s wait is cancelled');
  assert.equal(w3.done, false);
  await graph.sessionEnded(s1);
  await settle();
  assert.ok(w3.done && !w3.error, 'the lock of the ended session no longer blocks');
  assert.deepEqual(manager.usage('s1'), { ...manager.usage('s1'), records: 0, waiting: 0 });
  await graph.sessionEnded(s3);
  assert.equal(manager.usage().inodes, 0, 'empty tables are forgotten');
});

test('an aborted SETLKW leaves the queue with EINTR', async () => {
  const { top, manager } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  await lk(top, caller(s, 'A'), fd, SETLK, WR, 0, 0);
  const ac = new AbortController();
  const p = lk(top, caller(s, 'B', ac.signal), fd, SETLKW, WR, 0, 1);
  await settle();
  ac.abort();
  await assert.rejects(p, isErrno('EINTR'));
  assert.equal(manager.usage('s1').waiting, 0);
  assert.equal(manager.usage('s1').records, 1);
});

test('hostile ranges, commands and types are EINVAL, and a missing lk_owner is EINVAL', async () => {
  const { top, manager } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const a = caller(s, 'A');
  const U64 = 1n << 64n;
  await assert.rejects(lk(top, a, fd, SETLK, WR, 1n << 63n, 1), isErrno('EINVAL'), 'start >= 2^63');
  await assert.rejects(lk(top, a, fd, SETLK, WR, MAX, 2), isErrno('EINVAL'), 'start+len overflows');
  await assert.rejects(lk(top, a, fd, SETLK, WR, 5, U64 - 10n), isErrno('EINVAL'), 'len -10 from 5');
  await assert.rejects(lk(top, a, fd, SETLK, WR, 0, U64 - 1n), isErrno('EINVAL'), 'len -1 from 0');
  for (const cmd of [3, 4, 5, 7, 0xffffffff]) {
    await assert.rejects(lk(top, a, fd, cmd, WR, 0, 1), isErrno('EINVAL'), `cmd ${cmd}`);
  }
  await assert.rejects(lk(top, a, fd, SETLK, 3, 0, 1), isErrno('EINVAL'), 'type 3');
  await assert.rejects(lk(top, caller(s, Buffer.alloc(0)), fd, SETLK, WR, 0, 1), isErrno('EINVAL'));
  await assert.rejects(lk(top, caller(s, Buffer.alloc(8)), fd, SETLK, WR, 0, 1), isErrno('EINVAL'));
  // The largest valid lock: from the last byte to EOF.
  await lk(top, a, fd, SETLK, WR, MAX, 0);
  await lk(top, a, fd, SETLK, UN, 0, 0);
  assert.equal(manager.usage().inodes, 0);
});

test('the type comes from the request’s type field, not flock.type (as stock’s server)', async () => {
  const { top } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const a = caller(s, 'A');
  const req = { gfid: fd.gfid, fd, cmd: SETLK, type: WR, xdata: null };
  const flock = { type: RD, whence: 0, start: 0n, len: 10n, pid: 1, lkOwner: Buffer.alloc(0) };
  await top.call('LK', { ...req, flock }, a);
  await assert.rejects(lk(top, caller(s, 'B'), fd, SETLK, RD, 0, 1), isErrno('EAGAIN'));
});

test('a reply carries the request’s xdata back (stock pl_lk; AFR’s fd reopen check reads it), but not a SETLKW that waited', async () => {
  const { top } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const a = caller(s, 'A');
  const b = caller(s, 'B');
  // What stock AFR sends before it reopens an fd on a returned brick (afr_is_reopen_allowed).
  const xdata = new Map([['fd-reopen-status', intValue(-1)]]);
  const call = (c: FopContext, cmd: number, type: number, start: number) =>
    top.call('LK', { gfid: fd.gfid, fd, cmd, type, flock: flock(type, start, 10), xdata }, c);
  for (const [cmd, type] of [
    [GETLK, WR],
    [SETLK, WR],
    [SETLK, UN],
    [SETLKW, RD],
  ] as const)
    assert.deepEqual((await call(a, cmd, type, 0)).xdata, xdata, `cmd ${cmd} type ${type}, answered at once`);
  await assert.rejects(
    call(b, SETLK, WR, 0),
    (e: unknown) => isErrno('EAGAIN')(e) && (e as FopError).xdata === xdata,
    'a refusal carries it too',
  );
  // Stock grants a blocked lock later with no xdata.
  const waited = call(b, SETLKW, WR, 0);
  await settle();
  await call(a, SETLK, UN, 0);
  assert.equal((await waited).xdata, null);
});
