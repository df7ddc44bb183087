// features/locks, INODELK and ENTRYLK: independent domains, nested and exact-range
// unlocks, the fairness rule, whole-directory versus name locks, blocking and
// non-blocking entry locks, and cancellation on session end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OpenFd } from '../../../src/xlator/index.js';
import {
  GETLK,
  LOCK,
  LOCK_NB,
  RD,
  SETLK,
  SETLKW,
  UN,
  UNLOCK,
  WR,
  caller,
  entrylk,
  inodelk,
  isErrno,
  lockGraph,
  session,
  settle,
  track,
} from './harness.js';

test('inode locks: domains are independent, read locks share, write locks exclude', async () => {
  const { top } = await lockGraph();
  const gfid = randomBytes(16);
  const a = caller(session('s1'), 'A');
  const b = caller(session('s2'), 'B');
  await inodelk(top, a, gfid, 'vol-replicate-0', SETLK, WR, 0, 0);
  await inodelk(top, b, gfid, 'vol-replicate-0:self-heal', SETLK, WR, 0, 0);
  await inodelk(top, b, gfid, 'vol-dht', SETLK, WR, 0, 0);
  await assert.rejects(inodelk(top, b, gfid, 'vol-replicate-0', SETLK, RD, 10, 1), isErrno('EAGAIN'));
  // Another inode, same domain: free.
  await inodelk(top, b, randomBytes(16), 'vol-replicate-0', SETLK, WR, 0, 0);
  await inodelk(top, a, gfid, 'vol-replicate-0', SETLK, UN, 0, 0);
  await inodelk(top, a, gfid, 'd', SETLK, RD, 0, 10);
  await inodelk(top, b, gfid, 'd', SETLK, RD, 5, 10);
  await assert.rejects(inodelk(top, b, gfid, 'd', SETLK, WR, 9, 1), isErrno('EAGAIN'));
  await inodelk(top, b, gfid, 'd', SETLK, WR, 10, 10); // disjoint from A's [0, 9]
});

test('inode locks are records: nested locks of one owner, unlock by exact range, EINVAL otherwise', async () => {
  const { top, manager } = await lockGraph();
  const gfid = randomBytes(16);
  const s = session('s1');
  const a = caller(s, 'A');
  await inodelk(top, a, gfid, 'd', SETLK, WR, 0, 0);
  await inodelk(top, a, gfid, 'd', SETLK, WR, 0, 100); // nested, same owner
  assert.equal(manager.usage('s1').records, 2);
  await assert.rejects(inodelk(top, a, gfid, 'd', SETLK, UN, 0, 50), isErrno('EINVAL'), 'no such range');
  await assert.rejects(
    inodelk(top, caller(s, 'B'), gfid, 'd', SETLK, UN, 0, 0),
    isErrno('EINVAL'),
    'not B’s',
  );
  await inodelk(top, a, gfid, 'd', SETLK, UN, 0, 100);
  await assert.rejects(inodelk(top, caller(s, 'B'), gfid, 'd', SETLK, RD, 0, 1), isErrno('EAGAIN'));
  await inodelk(top, a, gfid, 'd', SETLK, UN, 0, 0);
  await inodelk(top, caller(s, 'B'), gfid, 'd', SETLK, RD, 0, 1);
  // GETLK and the other known commands are not for inode locks; unknown ones are invalid.
  await assert.rejects(inodelk(top, a, gfid, 'd', GETLK, WR, 0, 1), isErrno('EOPNOTSUPP'));
  await assert.rejects(inodelk(top, a, gfid, 'd', 99, WR, 0, 1), isErrno('EINVAL'));
  await assert.rejects(inodelk(top, a, gfid, 'd', SETLK, 5, 0, 1), isErrno('EINVAL'));
  await assert.rejects(inodelk(top, a, gfid, 'd', SETLK, WR, 0, (1n << 64n) - 1n), isErrno('EINVAL'));
});

test('inode locks: a waiter is granted on unlock, and a compatible newcomer queues behind it', async () => {
  const { top } = await lockGraph();
  const gfid = randomBytes(16);
  const [a, b, c] = ['s1', 's2', 's3'].map((s) => caller(session(s), 'X'));
  await inodelk(top, a!, gfid, 'd', SETLK, RD, 0, 0);
  const wb = track(inodelk(top, b!, gfid, 'd', SETLKW, WR, 0, 0));
  await settle();
  assert.equal(wb.done, false);
  // C's read is compatible with A's, but B waits for a write first (no starvation) ...
  await assert.rejects(inodelk(top, c!, gfid, 'd', SETLK, RD, 0, 1), isErrno('EAGAIN'));
  // ... while A, who already holds a lock in the domain, may nest.
  await inodelk(top, a!, gfid, 'd', SETLK, RD, 0, 1);
  await inodelk(top, a!, gfid, 'd', SETLK, UN, 0, 1);
  await inodelk(top, a!, gfid, 'd', SETLK, UN, 0, 0);
  await settle();
  assert.ok(wb.done && !wb.error);
});

test('FINODELK locks the fd’s inode; AFR’s metadata range goes to the domain’s :metadata twin', async () => {
  const { top } = await lockGraph();
  const fd = new OpenFd(randomBytes(16), 2, false);
  const a = caller(session('s1'), 'A');
  const b = caller(session('s2'), 'B');
  const META = (1n << 63n) - 2n;
  const finodelk = (ctx: typeof a, type: number, start: bigint, len: bigint, volume: string) =>
    top.call(
      'FINODELK',
      {
        gfid: Buffer.alloc(16),
        fd,
        cmd: SETLK,
        type,
        flock: { type, whence: 0, start, len, pid: 0, lkOwner: Buffer.alloc(0) },
        volume,
        xdata: null,
      },
      ctx,
    );
  await finodelk(a, WR, META, 0n, 'v-replicate-0');
  await assert.rejects(
    inodelk(top, b, fd.gfid, 'v-replicate-0:metadata', SETLK, WR, 0, 0),
    isErrno('EAGAIN'),
  );
  await inodelk(top, b, fd.gfid, 'v-replicate-0', SETLK, WR, 0, 0);
});

test('entry locks: the whole directory conflicts with every name, names with the same name only', async () => {
  const { top } = await lockGraph();
  const dir = randomBytes(16);
  const a = caller(session('s1'), 'A');
  const b = caller(session('s2'), 'B');
  await entrylk(top, a, dir, 'dht', LOCK_NB, WR, 'x');
  await entrylk(top, b, dir, 'dht', LOCK_NB, WR, 'y');
  await assert.rejects(entrylk(top, b, dir, 'dht', LOCK_NB, WR, 'x'), isErrno('EAGAIN'));
  await assert.rejects(entrylk(top, b, dir, 'dht', LOCK_NB, WR, null), isErrno('EAGAIN'));
  await entrylk(top, b, dir, 'other-domain', LOCK_NB, WR, null);
  // As stock, the type does not make entry locks shareable.
  await assert.rejects(entrylk(top, b, dir, 'dht', LOCK_NB, RD, 'x'), isErrno('EAGAIN'));
  // Once B lets go of y, A may add the whole directory over its own lock on x.
  await entrylk(top, b, dir, 'dht', UNLOCK, WR, 'y');
  await entrylk(top, a, dir, 'dht', LOCK_NB, WR, null);
  // Unlock must name the same entry and type.
  await assert.rejects(entrylk(top, a, dir, 'dht', UNLOCK, RD, 'x'), isErrno('EINVAL'));
  await assert.rejects(entrylk(top, a, dir, 'dht', UNLOCK, WR, 'z'), isErrno('EINVAL'));
  await entrylk(top, a, dir, 'dht', UNLOCK, WR, null);
  await entrylk(top, a, dir, 'dht', UNLOCK, WR, 'x');
  await entrylk(top, b, dir, 'dht', LOCK_NB, WR, 'x');
  await assert.rejects(entrylk(top, a, dir, 'dht', 3, WR, 'x'), isErrno('EINVAL'));
  await assert.rejects(entrylk(top, a, dir, 'dht', LOCK, 2, 'x'), isErrno('EINVAL'));
});

test('a blocking entry lock waits for the unlock; a session end cancels waits and frees its locks', async () => {
  const { graph, top, manager } = await lockGraph();
  const dir = randomBytes(16);
  const s1 = session('s1');
  const s2 = session('s2');
  const s3 = session('s3');
  await entrylk(top, caller(s1, 'A'), dir, 'd', LOCK, WR, null);
  const w2 = track(entrylk(top, caller(s2, 'B'), dir, 'd', LOCK, WR, 'n'));
  const w3 = track(entrylk(top, caller(s3, 'C'), dir, 'd', LOCK, WR, 'm'));
  await settle();
  assert.equal(w2.done || w3.done, false);
  await graph.sessionEnded(s2);
  await settle();
  assert.ok(w2.done && isErrno('EAGAIN')(w2.error));
  assert.equal(w3.done, false);
  await entrylk(top, caller(s1, 'A'), dir, 'd', UNLOCK, WR, null);
  await settle();
  assert.ok(w3.done && !w3.error);
  await graph.sessionEnded(s3);
  assert.deepEqual(manager.usage(), { inodes: 0, inodeDomains: 0, entryDomains: 0, records: 0, waiting: 0 });
});

test('FENTRYLK locks in the fd’s directory', async () => {
  const { top } = await lockGraph();
  const dirFd = new OpenFd(randomBytes(16), 0, true);
  const a = caller(session('s1'), 'A');
  await top.call(
    'FENTRYLK',
    {
      gfid: Buffer.alloc(16),
      fd: dirFd,
      cmd: LOCK_NB,
      type: WR,
      namelen: 1,
      name: 'f',
      volume: 'd',
      xdata: null,
    },
    a,
  );
  await assert.rejects(
    entrylk(top, caller(session('s2'), 'B'), dirFd.gfid, 'd', LOCK_NB, WR, 'f'),
    isErrno('EAGAIN'),
  );
});
