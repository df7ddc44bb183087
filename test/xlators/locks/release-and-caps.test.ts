// features/locks: FLUSH releases the flushing owner's POSIX locks (close semantics),
// RELEASE those set through the fd, both pass through; per-session caps bound what a
// hostile client can make the brick remember; options that would change semantics are
// refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  RD,
  SETLK,
  SETLKW,
  UN,
  WR,
  below,
  caller,
  entrylk,
  inodelk,
  isErrno,
  lk,
  lockGraph,
  openFile,
  session,
  settle,
  track,
} from './harness.js';

test('FLUSH drops the flushing owner’s POSIX locks on the inode, and passes through', async () => {
  const { top } = await lockGraph();
  const s = session('s1');
  const fd = openFile();
  const other = openFile(fd.gfid); // a second fd on the same inode
  const a = caller(s, 'A');
  const b = caller(s, 'B');
  await lk(top, a, fd, SETLK, WR, 0, 10);
  await lk(top, a, other, SETLK, WR, 20, 10);
  await lk(top, b, fd, SETLK, WR, 40, 10);
  const w = track(lk(top, caller(s, 'C'), fd, SETLKW, WR, 0, 30));
  below.length = 0;
  await top.call('FLUSH', { gfid: fd.gfid, fd, xdata: null }, a);
  assert.deepEqual(below, ['FLUSH']);
  await settle();
  assert.ok(w.done && !w.error, 'both of A’s locks went, whatever fd set them');
  await assert.rejects(lk(top, a, fd, SETLK, WR, 45, 1), isErrno('EAGAIN'), 'B’s lock stays');
});

test('FLUSH without an lk_owner and RELEASE drop the locks set through that fd and fail its waiters', async () => {
  const { top, manager } = await lockGraph();
  const s = session('s1');
  const fd1 = openFile();
  const fd2 = openFile(fd1.gfid);
  const a = caller(s, 'A');
  await lk(top, a, fd1, SETLK, WR, 0, 10);
  await lk(top, a, fd2, SETLK, WR, 20, 10);
  await top.call('FLUSH', { gfid: fd1.gfid, fd: fd1, xdata: null }, caller(s, Buffer.alloc(0)));
  const b = caller(session('s2'), 'B');
  await lk(top, b, fd1, SETLK, WR, 0, 10);
  await assert.rejects(lk(top, b, fd1, SETLK, WR, 20, 1), isErrno('EAGAIN'));

  const fd3 = openFile(fd1.gfid);
  const w = track(lk(top, a, fd3, SETLKW, WR, 0, 1)); // waits for B
  below.length = 0;
  await top.call('RELEASE', { gfid: fd1.gfid, fd: fd2, xdata: null }, a);
  await top.call('RELEASE', { gfid: fd1.gfid, fd: fd3, xdata: null }, a);
  assert.deepEqual(below, ['RELEASE', 'RELEASE']);
  await settle();
  assert.ok(w.done && isErrno('EAGAIN')(w.error), 'waiting through a released fd fails');
  await lk(top, b, fd1, SETLK, WR, 20, 1);
  assert.equal(manager.usage('s1').records, 0);
});

test('caps: lock records and waiters per session are bounded (ENOLCK), other sessions unaffected', async () => {
  const { top, manager } = await lockGraph({ 'max-locks-per-session': 4, 'max-blocked-per-session': 1 });
  const s = session('s1');
  const a = caller(s, 'A');
  const fd = openFile();
  for (let i = 0; i < 3; i++) await lk(top, a, fd, SETLK, WR, i * 10, 5);
  await inodelk(top, a, randomBytes(16), 'd', SETLK, WR, 0, 0);
  await assert.rejects(lk(top, a, fd, SETLK, WR, 100, 5), isErrno('ENOLCK'));
  await assert.rejects(entrylk(top, a, randomBytes(16), 'd', 2, WR, 'x'), isErrno('ENOLCK'));
  await assert.rejects(lk(top, a, fd, SETLK, UN, 1, 1), isErrno('ENOLCK'), 'an unlock that splits');
  // Merging needs no new record, nor does replacing a lock with one covering it.
  await lk(top, a, fd, SETLK, WR, 5, 5);
  await lk(top, a, fd, SETLK, RD, 0, 30);
  assert.equal(manager.usage('s1').records, 2);

  const t = caller(session('s2'), 'T');
  await lk(top, t, openFile(), SETLK, WR, 0, 0);
  const other = openFile();
  await lk(top, t, other, SETLK, WR, 0, 0);
  const w = track(lk(top, a, other, SETLKW, WR, 0, 1));
  await settle();
  await assert.rejects(lk(top, a, other, SETLKW, WR, 5, 1), isErrno('ENOLCK'), 'second waiter');
  assert.equal(w.done, false);
  assert.deepEqual(manager.usage('s1'), { ...manager.usage('s1'), records: 3, waiting: 1 });
});

test('caps: lock records of all sessions together are bounded too (max-locks)', async () => {
  const { top, manager } = await lockGraph({ 'max-locks': 3 });
  const a = caller(session('s1'), 'A');
  const b = caller(session('s2'), 'B');
  const fd = openFile();
  await lk(top, a, fd, SETLK, WR, 0, 1);
  await lk(top, a, fd, SETLK, WR, 10, 1);
  await lk(top, b, fd, SETLK, WR, 20, 1);
  await assert.rejects(lk(top, b, fd, SETLK, WR, 30, 1), isErrno('ENOLCK'));
  await assert.rejects(inodelk(top, a, randomBytes(16), 'd', SETLK, WR, 0, 0), isErrno('ENOLCK'));
  await lk(top, a, fd, SETLK, UN, 0, 1);
  await lk(top, b, fd, SETLK, WR, 30, 1);
  assert.equal(manager.usage('s2').records, 2);
});

test('many inodes and domains are forgotten once unlocked', async () => {
  const { top, manager } = await lockGraph();
  const s = session('s1');
  const a = caller(s, 'A');
  for (let i = 0; i < 200; i++) {
    const gfid = randomBytes(16);
    await inodelk(top, a, gfid, `dom-${i}`, SETLK, WR, 0, 0);
    await inodelk(top, a, gfid, `dom-${i}`, SETLK, UN, 0, 0);
    await entrylk(top, a, gfid, `dom-${i}`, 2, WR, 'n');
    await entrylk(top, a, gfid, `dom-${i}`, 1, WR, 'n');
    await assert.rejects(entrylk(top, a, gfid, `x-${i}`, 1, WR, 'n'), isErrno('EINVAL'));
    const fd = openFile(gfid);
    await lk(top, a, fd, SETLK, RD, 0, 0);
    await lk(top, a, fd, SETLK, UN, 0, 0);
  }
  assert.deepEqual(manager.usage('s1'), {
    inodes: 0,
    inodeDomains: 0,
    entryDomains: 0,
    records: 0,
    waiting: 0,
  });
});

test('stock volfile options load; options that would change semantics are refused', async () => {
  await lockGraph({ 'enforce-mandatory-lock': 'off', 'notify-contention': 'yes', trace: 'off' });
  await assert.rejects(lockGraph({ 'revocation-secs': 10 }), /revocation-secs 10 is not supported/);
  await assert.rejects(lockGraph({ 'mandatory-locking': 'forced' }), /mandatory-locking forced/);
  await assert.rejects(lockGraph({ 'enforce-mandatory-lock': 'on' }), /enforce-mandatory-lock/);
});
