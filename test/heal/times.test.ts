// Times across replicas after a heal: data heal gives the sinks the source's atime and mtime
// (its own writes made them "now"), metadata heal copies them with owner and mode, and
// trusted.glusterfs.mdata (a brick's own record of the times) is never copied as an xattr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { indexHealPass } from '../../src/heal/index.js';
import { healableXattr } from '../../src/heal/metadata.js';
import { healFixture, type HealFixture } from '../support/replica-set.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const times = (fx: HealFixture, i: number, p: string) => {
  const st = lstatSync(join(fx.dirs[i]!, p), { bigint: true });
  return { atime: st.atimeNs, mtime: st.mtimeNs };
};

test('data heal: every brick ends with the source’s mtime and pre-heal atime, to the nanosecond', async () => {
  const fx = await healFixture({ healRanges: true });
  try {
    const f = await fx.volume.create('/img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(256 * 1024, 1), 0);
    await f.fsync();
    fx.switches[1]!.state = 'down';
    await f.pwrite(Buffer.alloc(4096, 2), 64 * 1024);
    await f.close();
    await sleep(50); // the heal's own writes would land visibly later
    fx.switches[1]!.state = 'up';
    const before = times(fx, 0, 'img');
    const report = await indexHealPass(fx.io);
    assert.equal(report.remaining, 0, JSON.stringify(report));
    // The heal read the source: its atime is the one from before the heal again.
    assert.deepEqual(times(fx, 0, 'img'), before, 'the source');
    assert.deepEqual(times(fx, 2, 'img'), before, 'the other source');
    assert.deepEqual(times(fx, 1, 'img'), before, 'the healed brick');
  } finally {
    await fx.close();
  }
});

test('metadata heal: times set while a brick was down reach it', async () => {
  const fx = await healFixture();
  try {
    await (await fx.volume.create('/f', 'w', 0o644)).close();
    fx.switches[2]!.state = 'down';
    await fx.volume.utimens('/f', 1_000_000_000_000_005n, 2_000_000_000_000_007n);
    fx.switches[2]!.state = 'up';
    const report = await indexHealPass(fx.io);
    assert.equal(report.remaining, 0, JSON.stringify(report));
    assert.deepEqual(times(fx, 2, 'f'), { atime: 1_000_000_000_000_005n, mtime: 2_000_000_000_000_007n });
  } finally {
    await fx.close();
  }
});

test('trusted.glusterfs.mdata is a brick’s own: heal never copies it as an xattr', () => {
  assert.equal(healableXattr('trusted.glusterfs.mdata'), false);
  assert.equal(healableXattr('user.x'), true);
});
