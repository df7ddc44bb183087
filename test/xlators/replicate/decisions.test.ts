// The replicate translator's pure decisions: changelog values, quorum, read child, heal
// direction. Scenarios are the ones stock GlusterFS 10.3 leaves on bricks (docs/replication.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TxnType,
  decodeCounters,
  encodeCounters,
  newEntryCharge,
  pendingKey,
  readChangelog,
  type BrickChangelog,
  type Counters,
} from '../../../src/xlators/replicate/changelog.js';
import { hasQuorum, healQuorumCount } from '../../../src/xlators/replicate/quorum.js';
import { chooseReadChild, superFastHash } from '../../../src/xlators/replicate/read-child.js';
import {
  findDirection,
  planDataHeal,
  type BrickView,
} from '../../../src/xlators/replicate/heal-direction.js';

const gfid = (hex: string) => Buffer.from(hex.replace(/-/g, ''), 'hex');

test('changelog values: three big-endian int32 counters, absent reads as zeros', () => {
  const v = encodeCounters([1, -1, 2]);
  assert.equal(v.toString('hex'), '00000001ffffffff00000002');
  assert.deepEqual(decodeCounters(v), [1, -1, 2]);
  assert.deepEqual(decodeCounters(undefined), [0, 0, 0]);
  assert.equal(pendingKey('rv', 5), 'trusted.afr.rv-client-5');
  // Stock's observed new-entry marking: a file is charged data+metadata, a directory
  // metadata+entry (+data with granular entry heal).
  assert.deepEqual(newEntryCharge(false, true), [1, 1, 0]);
  assert.deepEqual(newEntryCharge(true, false), [0, 1, 1]);
  assert.deepEqual(newEntryCharge(true, true), [1, 1, 1]);
  const xattrs = new Map([
    ['trusted.afr.dirty', encodeCounters([0, 0, 0])],
    ['trusted.afr.xv-client-5', encodeCounters([2, 1, 0])],
  ]);
  // Set 1 of a 2×3 volume holds bricks 3..5 (global indices).
  assert.deepEqual(readChangelog(xattrs, 'xv', [3, 4, 5]).pending, [
    [0, 0, 0],
    [0, 0, 0],
    [2, 1, 0],
  ]);
});

test('quorum auto: more than half, or exactly half including the first brick', () => {
  const auto = { type: 'auto' } as const;
  assert.equal(hasQuorum(auto, [true, true, false]), true);
  assert.equal(hasQuorum(auto, [false, true, true]), true);
  assert.equal(hasQuorum(auto, [true, false, false]), false);
  assert.equal(hasQuorum(auto, [true, false]), true);
  assert.equal(hasQuorum(auto, [false, true]), false);
  assert.equal(hasQuorum({ type: 'fixed', count: 3 }, [true, true, false]), false);
  assert.equal(hasQuorum({ type: 'none' }, [false, false, true]), true);
  assert.equal(healQuorumCount(auto, 3), 2);
  assert.equal(healQuorumCount({ type: 'none' }, 2), 0);
});

test('SuperFastHash matches libglusterfs on the observed gfids; read child by gfid hash', () => {
  assert.equal(superFastHash(gfid('d2fcf753-edb1-4dbd-8152-55b4c3fcba64')), 0xe72996c1);
  assert.equal(superFastHash(gfid('00000000-0000-0000-0000-000000000001')), 0xfe513317);
  const g = gfid('d2fcf753-edb1-4dbd-8152-55b4c3fcba64'); // hashes to 0 of 3
  assert.equal(chooseReadChild({ gfid: g, readable: [true, true, true] }), 0);
  assert.equal(chooseReadChild({ gfid: g, readable: [false, true, true] }), 1);
  assert.equal(chooseReadChild({ gfid: g, readable: [true, true, true], preferred: 2 }), 2);
  assert.equal(chooseReadChild({ gfid: g, readable: [false, false, false] }), -1);
  assert.equal(
    chooseReadChild({ gfid: gfid('00000000-0000-0000-0000-000000000001'), readable: [true, true, true] }),
    1,
  );
});

function brick(pending: Counters[], dirty: Counters = [0, 0, 0], extra: Partial<BrickView> = {}): BrickView {
  const changelog: BrickChangelog = { dirty, pending };
  return { answered: true, locked: true, changelog, ...extra };
}
const Z: Counters = [0, 0, 0];

test('heal direction: the brick that was down is the only sink', () => {
  // r3 down during a write and a chmod: r1 and r2 hold client-2 = [1, 1, 0].
  const bricks = [brick([Z, Z, [1, 1, 0]]), brick([Z, Z, [1, 1, 0]]), brick([Z, Z, Z])];
  for (const type of [TxnType.DATA, TxnType.METADATA]) {
    const d = findDirection(type, bricks, 2);
    assert.notEqual(d, 'ENOTCONN');
    if (d === 'ENOTCONN') return;
    assert.deepEqual(d.sources, [true, true, false]);
    assert.deepEqual(d.sinks, [false, false, true]);
    assert.equal(d.splitBrain, false);
  }
  const entry = findDirection(TxnType.ENTRY, bricks, 2);
  assert.ok(entry !== 'ENOTCONN' && entry.sinks.every((s) => !s), 'no entry heal pending');
  const plan = planDataHeal(
    findDirection(TxnType.DATA, bricks, 2) as Exclude<ReturnType<typeof findDirection>, 'ENOTCONN'>,
    bricks,
  );
  assert.deepEqual(plan, { kind: 'heal', source: 0, sinks: [false, false, true] });
});

test('heal direction: nothing decided unless every brick answered', () => {
  const bricks = [brick([Z, Z, Z]), brick([Z, Z, Z]), { ...brick([Z, Z, Z]), answered: false }];
  assert.equal(findDirection(TxnType.DATA, bricks, 2), 'ENOTCONN');
});

test('heal direction: clean changelogs need no heal', () => {
  const bricks = [brick([Z, Z, Z]), brick([Z, Z, Z]), brick([Z, Z, Z])];
  const d = findDirection(TxnType.DATA, bricks, 2);
  assert.ok(d !== 'ENOTCONN');
  assert.deepEqual(planDataHeal(d, bricks), { kind: 'clean' });
});

test('split-brain: each brick accused by a quorum of the others', () => {
  const bricks = [
    brick([Z, [1, 0, 0], [1, 0, 0]]),
    brick([[1, 0, 0], Z, [1, 0, 0]]),
    brick([[1, 0, 0], [1, 0, 0], Z]),
  ];
  const d = findDirection(TxnType.DATA, bricks, 2);
  assert.ok(d !== 'ENOTCONN');
  assert.equal(d.splitBrain, true);
  assert.deepEqual(d.sinks, [true, true, true]);
  assert.deepEqual(planDataHeal(d, bricks), { kind: 'split-brain' });
  // Replica 2, quorum none: mutual accusation is a split-brain too.
  const two = [brick([Z, [1, 0, 0]]), brick([[1, 0, 0], Z])];
  const d2 = findDirection(TxnType.DATA, two, healQuorumCount({ type: 'none' }, 2));
  assert.ok(d2 !== 'ENOTCONN' && d2.splitBrain);
});

test('a write in flight everywhere (dirty only): the largest file wins', () => {
  const bricks = [
    brick([Z, Z, Z], [1, 0, 0], { size: 4096n, ctime: 5n }),
    brick([Z, Z, Z], [1, 0, 0], { size: 8192n, ctime: 4n }),
    brick([Z, Z, Z], [0, 0, 0], { size: 4096n, ctime: 6n }),
  ];
  const d = findDirection(TxnType.DATA, bricks, 2);
  assert.ok(d !== 'ENOTCONN');
  assert.deepEqual(d.witness, [1, 1, 0]);
  assert.deepEqual(planDataHeal(d, bricks), { kind: 'heal', source: 1, sinks: [true, false, true] });
});

test('arbiter: never a data source, never a data sink when unblamed', () => {
  // Data brick 1 was down; brick 0 and the arbiter (2) blame it.
  const bricks = [
    brick([Z, [1, 0, 0], Z], Z, { size: 65536n }),
    brick([Z, Z, Z], Z, { size: 4096n }),
    brick([Z, [1, 0, 0], Z], Z, { size: 0n, arbiter: true }),
  ];
  const d = findDirection(TxnType.DATA, bricks, 2);
  assert.ok(d !== 'ENOTCONN');
  assert.deepEqual(planDataHeal(d, bricks), { kind: 'heal', source: 0, sinks: [false, true, false] });
  // Only the arbiter is clean: no data source exists.
  const onlyArbiter = [
    brick([Z, [1, 0, 0], Z]),
    brick([[1, 0, 0], Z, Z]),
    brick([[1, 0, 0], [1, 0, 0], Z], Z, { arbiter: true }),
  ];
  const d2 = findDirection(TxnType.DATA, onlyArbiter, 2);
  assert.ok(d2 !== 'ENOTCONN');
  assert.deepEqual(planDataHeal(d2, onlyArbiter), { kind: 'split-brain' });
});
