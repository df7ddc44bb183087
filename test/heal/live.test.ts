// Heal of an image that stays open and keeps being written: fsx writes through an fd opened
// while a brick was down; the brick returns and the self-heal daemon heals while fsx goes on
// (its shadow verifies every read); at the end the bricks are byte-identical and clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { healInode, indexHealPass, SelfHealDaemon } from '../../src/heal/index.js';
import { parseGfid } from '../../src/protocol/gfid.js';
import { runFsx } from '../support/fsx.js';
import { healFixture } from '../support/replica-set.js';

test('a file kept open and written throughout is healed by the daemon while fsx verifies', async () => {
  const fx = await healFixture({ postOpDelaySecs: 1 });
  const shd = new SelfHealDaemon([fx.replica], undefined, { pollMs: 50, concurrency: 2 });
  try {
    fx.switches[2]!.state = 'down';
    const f = await fx.volume.create('/live.img', 'w+', 0o644);
    const first = await runFsx(f, { seed: 21, ops: 300, maxSize: 2 << 20, maxIo: 64 * 1024 });
    assert.equal(first.ops, 300);
    fx.switches[2]!.state = 'up';
    shd.start();
    const during = await runFsx(f, { seed: 22, ops: 1500, maxSize: 2 << 20, maxIo: 64 * 1024 });
    assert.equal(during.ops, 1500);
    await f.close();
    await shd.healNow();
    await shd.stop();
    const left = await indexHealPass(fx.io);
    assert.equal(left.remaining, 0, JSON.stringify(left));
    const want = readFileSync(join(fx.dirs[0]!, 'live.img'));
    for (const d of fx.dirs.slice(1))
      assert.ok(readFileSync(join(d, 'live.img')).equals(want), `${d} identical`);
    for (let i = 0; i < 3; i++) {
      for (const k of ['dirty', 0, 1, 2] as const)
        assert.deepEqual(await fx.changelog(i, 'live.img', k), [0, 0, 0], `brick ${i} ${k}`);
      assert.deepEqual(fx.indexed(i), [], `brick ${i} index empty`);
    }
  } finally {
    await shd.stop();
    await fx.close();
  }
});

test('a daemon stopped in the middle of a heal leaves nothing a new daemon cannot finish', async () => {
  const fx = await healFixture();
  try {
    // 16 MiB: more 128 KiB chunks to compare than the heal has batches in flight.
    const f = await fx.volume.create('/big.img', 'w+', 0o644);
    for (let off = 0; off < 16 << 20; off += 4 << 20) await f.pwrite(Buffer.alloc(4 << 20, 1), off);
    fx.switches[1]!.state = 'down';
    for (let off = 0; off < 16 << 20; off += 1 << 20) await f.pwrite(Buffer.alloc(4096, 2), off);
    await f.close();
    fx.switches[1]!.state = 'up';
    const first = new SelfHealDaemon([fx.replica], undefined, { pollMs: 50 });
    first.start();
    // Stop as soon as the data heal has copied something.
    const t0 = Date.now();
    while (![...first.progress.values()].some((p) => p.done > 0) && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 2));
    await first.stop();
    assert.notDeepEqual(fx.indexed(0), [], 'the first daemon stopped before the heal ended');
    const second = new SelfHealDaemon([fx.replica], undefined, { pollMs: 50 });
    second.start();
    await second.healNow();
    await second.stop();
    assert.ok(readFileSync(join(fx.dirs[1]!, 'big.img')).equals(readFileSync(join(fx.dirs[0]!, 'big.img'))));
    for (let i = 0; i < 3; i++) assert.deepEqual(fx.indexed(i), [], `brick ${i} index empty`);
  } finally {
    await fx.close();
  }
});

test('pending entries that appear while every brick looks up to the daemon start a crawl (a brick stopped past ping-timeout)', async () => {
  const fx = await healFixture();
  // Liveness is never looked at: as for the idle daemon that never saw a SIGSTOPped brick go.
  const shd = new SelfHealDaemon([fx.replica], undefined, { pollMs: 3_600_000, indexWatchMs: 50 });
  try {
    const f = await fx.volume.create('/stopped.img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(64 * 1024, 1), 0);
    shd.start();
    await shd.healNow();
    fx.switches[1]!.state = 'down';
    await f.pwrite(Buffer.alloc(4096, 2), 8192);
    fx.switches[1]!.state = 'up';
    await f.close();
    assert.notDeepEqual(fx.indexed(0), [], 'brick 1 is accused');
    for (const t0 = Date.now(); fx.indexed(0).length + fx.indexed(2).length > 0;) {
      assert.ok(Date.now() - t0 < 10_000, 'the daemon heals without seeing the brick come back');
      await new Promise((r) => setTimeout(r, 20));
    }
    const want = readFileSync(join(fx.dirs[0]!, 'stopped.img'));
    assert.ok(readFileSync(join(fx.dirs[1]!, 'stopped.img')).equals(want), 'brick 1 healed');
  } finally {
    await shd.stop();
    await fx.close();
  }
});

test('a crawl whose heal failed (a brick went away mid-heal) is retried without a brick-up event', async () => {
  const fx = await healFixture();
  // Liveness is never looked at: only the index watch can start the second crawl.
  const shd = new SelfHealDaemon([fx.replica], undefined, { pollMs: 3_600_000, indexWatchMs: 50 });
  try {
    const f = await fx.volume.create('/retry.img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(64 * 1024, 1), 0);
    fx.switches[1]!.state = 'down';
    await f.pwrite(Buffer.alloc(4096, 2), 8192);
    await f.close();
    fx.switches[1]!.state = 'up';
    fx.switches[2]!.state = 'down';
    shd.start();
    while (!shd.lastReport.has(fx.replica.domain)) await new Promise((r) => setTimeout(r, 20));
    assert.notDeepEqual(fx.indexed(0), [], 'the first crawl could not heal');
    fx.switches[2]!.state = 'up';
    for (const t0 = Date.now(); fx.indexed(0).length > 0;) {
      assert.ok(Date.now() - t0 < 20_000, 'the failed heal is retried');
      await new Promise((r) => setTimeout(r, 50));
    }
    const want = readFileSync(join(fx.dirs[0]!, 'retry.img'));
    assert.ok(readFileSync(join(fx.dirs[1]!, 'retry.img')).equals(want), 'brick 1 healed');
  } finally {
    await shd.stop();
    await fx.close();
  }
});

test('a guest write during a data heal waits for the batches in flight, not for the whole heal', async () => {
  const fx = await healFixture({ healRanges: true, postOpDelaySecs: 0 });
  try {
    // 4096 scattered 4 KiB changes, 20 KiB apart (too far to be bridged): 128 batches of 32,
    // several times what is in flight at once.
    const f = await fx.volume.create('/guest.img', 'w+', 0o644);
    await f.ftruncate(4096 * 6 * 4096);
    fx.switches[1]!.state = 'down';
    const blocks = Array.from({ length: 4096 }, (_, k) => k * 6);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let b = blocks.pop(); b !== undefined; b = blocks.pop())
          await f.pwrite(Buffer.alloc(4096, 2), b * 4096);
      }),
    );
    await f.close();
    fx.switches[1]!.state = 'up';
    // Each batch's source read made slow, so the heal lasts many batch times.
    const { readRanges } = fx.io;
    fx.io.readRanges = async (...args) => {
      await new Promise((r) => setTimeout(r, 150));
      return readRanges.apply(fx.io, args);
    };
    let done = 0;
    let total = 0;
    const gfid = parseGfid((await fx.volume.stat('/guest.img')).gfid);
    const g = await fx.volume.open('/guest.img', 'r+');
    const heal = healInode(fx.io, gfid, { onProgress: (p) => ([done, total] = [p.done, p.total]) });
    while (done === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await g.pwrite(Buffer.alloc(4096, 3), 5 * 4096);
    const waited = Date.now() - t0;
    const doneAtWrite = done;
    await g.close();
    const h = await heal;
    assert.equal(h.outcomes.find((o) => o.kind === 'data')?.result, 'healed');
    assert.ok(
      doneAtWrite < total,
      `the write (${waited} ms) ended before the heal: ${doneAtWrite} of ${total}`,
    );
    const want = readFileSync(join(fx.dirs[0]!, 'guest.img'));
    assert.ok(readFileSync(join(fx.dirs[1]!, 'guest.img')).equals(want), 'brick 1 healed');
  } finally {
    await fx.close();
  }
});
