// features/heal-ranges under the real replicate client and heal engine (test/support/replica-set.ts
// with heal-ranges on every brick): writes while a brick is down land in the survivors'
// records through the client's own pre-op/post-op, the heal copies exactly those ranges
// (no checksums), and every record is gone once the counters are zero again; and a
// file kept open and written by fsx while the daemon heals ends byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { healInode, indexHealPass, SelfHealDaemon } from '../../../src/heal/index.js';
import { gfidToString, parseGfid } from '../../../src/protocol/gfid.js';
import { HEAL_RANGES_KEY, decodeHealRanges } from '../../../src/xlators/heal-ranges/contract.js';
import { decodeRecord } from '../../../src/xlators/heal-ranges/store.js';
import { prng, runFsx } from '../../support/fsx.js';
import { healFixture, type HealFixture } from '../../support/replica-set.js';

const rangesDir = (fx: HealFixture, i: number) => join(fx.dirs[i]!, '.glusterfs', 'indices', 'ranges');
const records = (fx: HealFixture, i: number) =>
  readdirSync(rangesDir(fx, i)).filter((n) => n !== 'clean-shutdown');

test('a brick down during random 4 KiB writes: the survivors record them, the heal copies only those ranges', async () => {
  const fx = await healFixture({ healRanges: true });
  try {
    const f = await fx.volume.create('/vm.img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(4 << 20, 1), 0);
    const gfid = parseGfid((await fx.volume.stat('/vm.img')).gfid);
    for (const i of [0, 1, 2])
      assert.deepEqual(records(fx, i), [], `brick ${i}: no record once the post-op zeroed dirty`);
    fx.switches[2]!.state = 'down';
    const rand = prng(11);
    const offsets = Array.from({ length: 12 }, () => Math.floor(rand() * 1024) * 4096);
    for (const [k, off] of offsets.entries()) await f.pwrite(Buffer.alloc(4096, 10 + k), off);
    await f.close();
    for (const i of [0, 1]) {
      // On disk since the pre-op charged brick 2 (kept current by FSYNC and the clean stop).
      assert.equal(decodeRecord(readFileSync(join(rangesDir(fx, i), gfidToString(gfid))))!.complete, true);
      const rec = decodeHealRanges((await fx.io.getxattr(i, gfid, HEAL_RANGES_KEY))!);
      assert.equal(rec.complete, true);
      for (const off of offsets)
        assert.ok(
          rec.ranges.some((r) => r.offset <= off && r.offset + r.length >= off + 4096),
          `brick ${i} has ${off}`,
        );
      assert.ok(rec.ranges.reduce((n, r) => n + r.length, 0) <= offsets.length * 4096);
    }
    assert.deepEqual(records(fx, 2), [], 'the down brick saw nothing');
    const rec0 = decodeHealRanges((await fx.io.getxattr(0, gfid, HEAL_RANGES_KEY))!).ranges;
    fx.switches[2]!.state = 'up';
    const h = await healInode(fx.io, gfid);
    const data = h.outcomes.find((o) => o.kind === 'data')!;
    assert.equal(data.result, 'healed');
    assert.equal(data.ranges, 'record');
    assert.equal(data.bytesCompared, 0);
    const changed = rec0.reduce((n, r) => n + Number(r.length), 0);
    assert.ok(changed <= new Set(offsets).size * 4096);
    assert.equal(data.bytesCopied, changed, 'exactly the recorded ranges, to the one sink');
    assert.equal(data.bytesRead, changed);
    const want = readFileSync(join(fx.dirs[0]!, 'vm.img'));
    for (const i of [1, 2])
      assert.ok(readFileSync(join(fx.dirs[i]!, 'vm.img')).equals(want), `brick ${i} identical`);
    for (const i of [0, 1, 2]) {
      assert.deepEqual(records(fx, i), [], `brick ${i}: record dropped with the counters`);
      assert.deepEqual(fx.indexed(i), [], `brick ${i} index empty`);
    }
  } finally {
    await fx.close();
  }
});

test('a file kept open and written by fsx while the daemon heals from the records ends identical, records gone', async () => {
  const fx = await healFixture({ postOpDelaySecs: 1, healRanges: true });
  const shd = new SelfHealDaemon([fx.replica], undefined, { pollMs: 50, concurrency: 2 });
  try {
    fx.switches[2]!.state = 'down';
    const f = await fx.volume.create('/live.img', 'w+', 0o644);
    await runFsx(f, { seed: 31, ops: 300, maxSize: 2 << 20, maxIo: 64 * 1024 });
    fx.switches[2]!.state = 'up';
    shd.start();
    await runFsx(f, { seed: 32, ops: 1000, maxSize: 2 << 20, maxIo: 64 * 1024 });
    await f.close();
    await shd.healNow();
    await shd.stop();
    const left = await indexHealPass(fx.io);
    assert.equal(left.remaining, 0, JSON.stringify(left));
    const want = readFileSync(join(fx.dirs[0]!, 'live.img'));
    for (const d of fx.dirs.slice(1))
      assert.ok(readFileSync(join(d, 'live.img')).equals(want), `${d} identical`);
    for (const i of [0, 1, 2]) assert.deepEqual(records(fx, i), [], `brick ${i}: no record left`);
  } finally {
    await shd.stop().catch(() => undefined);
    await fx.close();
  }
});
