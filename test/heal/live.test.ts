// Heal of an image that stays open and keeps being written: fsx writes through an fd opened
// while a brick was down; the brick returns and the self-heal daemon heals while fsx goes on
// (its shadow verifies every read); at the end the bricks are byte-identical and clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexHealPass, SelfHealDaemon } from '../../src/heal/index.js';
import { runFsx } from '../support/fsx.js';
import { healFixture } from './harness.js';

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
