// features/locks answering lock counts in reply xdata (what AFR's eager lock and heal
// checks read): inodelk-dom-count → inodelk-count for one domain, LOOKUP's inodelk-count,
// entrylk-count and parent-entrylk, blocked requests counted with granted ones; plus
// hostile lock requests and domains nobody declared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { intValue, strValue, uintValue, type GfxDict } from '../../../src/protocol/dict.js';
import {
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

test('STAT with glusterfs.inodelk-dom-count: granted + blocked locks of that domain, as INT glusterfs.inodelk-count', async () => {
  const { top } = await lockGraph();
  const gfid = randomBytes(16);
  const a = caller(session('s1'), 'A');
  const b = caller(session('s2'), 'B');
  const stat = (xdata: GfxDict) => top.call('STAT', { gfid, xdata }, a);
  const dom = (d: string) => new Map([['glusterfs.inodelk-dom-count', strValue(d)]]);
  assert.deepEqual((await stat(dom('v-replicate-0'))).xdata?.get('glusterfs.inodelk-count'), intValue(0));
  await inodelk(top, a, gfid, 'v-replicate-0', SETLK, WR, 0, 0);
  await inodelk(top, a, gfid, 'other', SETLK, WR, 0, 0);
  assert.deepEqual((await stat(dom('v-replicate-0'))).xdata?.get('glusterfs.inodelk-count'), intValue(1));
  // Another client waits: AFR sees 2 and releases its eager lock.
  const waiting = track(inodelk(top, b, gfid, 'v-replicate-0', SETLKW, WR, 0, 0));
  await settle();
  assert.deepEqual((await stat(dom('v-replicate-0'))).xdata?.get('glusterfs.inodelk-count'), intValue(2));
  assert.deepEqual(
    (await stat(new Map([['glusterfs.inodelk-count', uintValue(0)]]))).xdata?.get('glusterfs.inodelk-count'),
    intValue(3),
    'without a domain: every domain',
  );
  await inodelk(top, a, gfid, 'v-replicate-0', SETLK, UN, 0, 0);
  await settle();
  assert.equal(waiting.done, true);
  assert.deepEqual((await stat(dom('v-replicate-0'))).xdata?.get('glusterfs.inodelk-count'), intValue(1));
  assert.equal((await stat(null)).xdata, null, 'nothing asked, nothing added');
});

test('LOOKUP: inodelk-count, entrylk-count and parent-entrylk', async () => {
  const { top } = await lockGraph();
  const dir = randomBytes(16);
  const file = randomBytes(16);
  const a = caller(session('s1'), 'A');
  const asked = new Map([
    ['glusterfs.inodelk-count', uintValue(0)],
    ['glusterfs.entrylk-count', uintValue(0)],
    ['glusterfs.parent-entrylk', uintValue(0)],
  ]);
  const look = (gfid: Buffer, pargfid: Buffer, bname: string) =>
    top.call('LOOKUP', { gfid, pargfid, flags: 0, bname, xdata: asked }, a);
  let r = await look(file, dir, 'f');
  assert.deepEqual(r.xdata?.get('glusterfs.inodelk-count'), intValue(0));
  assert.deepEqual(r.xdata?.get('glusterfs.entrylk-count'), intValue(0));
  assert.deepEqual(r.xdata?.get('glusterfs.parent-entrylk'), intValue(0));
  await entrylk(top, a, dir, 'v-replicate-0', LOCK_NB, WR, 'f');
  await entrylk(top, a, dir, 'v-dht', LOCK_NB, WR, 'g');
  await inodelk(top, a, file, 'v-replicate-0', SETLK, RD, 0, 0);
  await inodelk(top, a, file, 'v-replicate-0:self-heal', SETLK, WR, 0, 0);
  r = await look(file, dir, 'f');
  assert.deepEqual(r.xdata?.get('glusterfs.inodelk-count'), intValue(2));
  assert.deepEqual(r.xdata?.get('glusterfs.parent-entrylk'), intValue(1), 'f is entry-locked in its parent');
  assert.deepEqual((await look(file, dir, 'h')).xdata?.get('glusterfs.parent-entrylk'), intValue(0));
  r = await look(dir, randomBytes(16), 'd');
  assert.deepEqual(r.xdata?.get('glusterfs.entrylk-count'), intValue(2), 'entry locks held in the directory');
  await entrylk(top, a, dir, 'v-replicate-0', UNLOCK, WR, 'f');
  assert.deepEqual((await look(file, dir, 'f')).xdata?.get('glusterfs.parent-entrylk'), intValue(0));
});

test('unknown domains are independent domains; hostile lock requests get clear errors and change nothing', async () => {
  const { top, manager } = await lockGraph();
  const gfid = randomBytes(16);
  const a = caller(session('s1'), 'A');
  const b = caller(session('s2'), 'B');
  for (const domain of ['', 'x', 'ünïcødé', 'a:b:c:self-heal', 'z'.repeat(4096)]) {
    await inodelk(top, a, gfid, domain, SETLK, WR, 0, 0);
    await entrylk(top, a, gfid, domain, LOCK_NB, WR, null);
    await assert.rejects(inodelk(top, b, gfid, domain, SETLK, WR, 0, 0), isErrno('EAGAIN'));
    await assert.rejects(entrylk(top, b, gfid, domain, LOCK_NB, WR, 'n'), isErrno('EAGAIN'));
  }
  const before = manager.usage('s2');
  await assert.rejects(inodelk(top, b, gfid, 'q', SETLK, 3, 0, 0), isErrno('EINVAL'), 'type 3');
  await assert.rejects(inodelk(top, b, gfid, 'q', 0xffffffff, WR, 0, 0), isErrno('EINVAL'), 'cmd');
  await assert.rejects(
    inodelk(top, b, gfid, 'q', SETLK, WR, -1n & 0xffffffffffffffffn, 0),
    isErrno('EINVAL'),
  );
  await assert.rejects(entrylk(top, b, gfid, 'q', 7, WR, 'n'), isErrno('EINVAL'), 'entrylk cmd');
  await assert.rejects(entrylk(top, b, gfid, 'q', LOCK, 9, 'n'), isErrno('EINVAL'), 'entrylk type');
  await assert.rejects(inodelk(top, b, gfid, 'q', SETLK, UN, 0, 0), isErrno('EINVAL'), 'unlock of nothing');
  await assert.rejects(
    entrylk(top, b, gfid, 'q', UNLOCK, WR, 'n'),
    isErrno('EINVAL'),
    'entry unlock of nothing',
  );
  assert.deepEqual(manager.usage('s2'), before);
  // The manager still serves.
  await inodelk(top, b, randomBytes(16), 'q', SETLK, WR, 0, 0);
});

test('§2.11 rules: same owner never blocks itself, different connections with one lk_owner do, exact-range unlock', async () => {
  const { top } = await lockGraph();
  const gfid = randomBytes(16);
  const s1 = session('s1');
  const a = caller(s1, 'A');
  await inodelk(top, a, gfid, 'd', SETLK, WR, 0, 0);
  await inodelk(top, a, gfid, 'd', SETLK, WR, 5, 10); // nested, never blocks its owner
  // Same lk_owner bytes from another connection: another owner.
  await assert.rejects(
    inodelk(top, caller(session('s2'), 'A'), gfid, 'd', SETLK, RD, 100, 1),
    isErrno('EAGAIN'),
  );
  // Ranges are inclusive: [0, 9] and [10, ...] do not overlap; len 0 runs to the end.
  const g2 = randomBytes(16);
  await inodelk(top, a, g2, 'd', SETLK, WR, 0, 10);
  await inodelk(top, caller(session('s3'), 'C'), g2, 'd', SETLK, WR, 10, 0);
  await assert.rejects(inodelk(top, caller(session('s4'), 'D'), g2, 'd', SETLK, WR, 9, 1), isErrno('EAGAIN'));
  await assert.rejects(
    inodelk(top, caller(session('s4'), 'D'), g2, 'd', SETLK, RD, 1n << 62n, 1),
    isErrno('EAGAIN'),
  );
  // Whole-directory entry lock conflicts with names, and the other way round.
  const dir = randomBytes(16);
  await entrylk(top, a, dir, 'd', LOCK_NB, WR, 'x');
  await assert.rejects(
    entrylk(top, caller(session('s5'), 'E'), dir, 'd', LOCK_NB, WR, null),
    isErrno('EAGAIN'),
  );
  await entrylk(top, caller(session('s5'), 'E'), dir, 'd', LOCK_NB, WR, 'y');
});
