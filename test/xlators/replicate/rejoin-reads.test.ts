// A brick that rejoins is not read for a file under a transaction until the survivors can
// have accused it: a stock client whose eager lock was taken while brick 1 was away charges
// it only in that lock's post-op, so for a moment the survivors show `dirty` and no
// accusation. The brick's rejoin-guard covers clients that reconnect to it; this client's
// first look after brick 1 came back must not read brick 1's stale copy either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { parseGfid } from '../../../src/protocol/gfid.js';
import { REJOIN_READ_WINDOW_MS } from '../../../src/xlators/replicate/reads.js';
import { healFixture } from '../../support/replica-set.js';

const NONE = [0, 0, 0] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a brick that rejoined is not read for a file a stock writer has under its eager lock, until the window ends', async () => {
  // Brick 1 is the preferred read child: without the rule every read would go there.
  const fx = await healFixture({ readSubvolumeIndex: 1 });
  try {
    const f = await fx.volume.create('/img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(64 * 1024, 1), 0);
    await f.close();
    const gfid = parseGfid((await fx.volume.stat('/img')).gfid);
    fx.switches[1]!.state = 'down';
    assert.deepEqual(fx.replica.upVector(), [true, false, true], 'this client saw brick 1 go');

    // The stock writer: its eager lock and pre-op on bricks 0 and 2 only, its write there.
    const writer = fx.io.withNewOwner();
    let endLock!: () => void;
    const held = new Promise<void>((resolve) => (endLock = resolve));
    let locked!: () => void;
    const granted = new Promise<void>((resolve) => (locked = resolve));
    const lock = writer.withLock(
      fx.replica.domain,
      { kind: 'inode', gfid, start: 0n, len: 0n },
      [0, 2],
      async () => {
        await Promise.all([0, 2].map((i) => writer.xattrop(i, gfid, [1, 0, 0], [NONE, NONE, NONE])));
        for (const i of [0, 2]) {
          const fd = openSync(join(fx.dirs[i]!, 'img'), 'r+');
          writeSync(fd, Buffer.alloc(64 * 1024, 2), 0, 64 * 1024, 0);
          closeSync(fd);
        }
        locked();
        await held;
        // Its post-op, at last: the survivors accuse brick 1.
        await Promise.all([0, 2].map((i) => writer.xattrop(i, gfid, [-1, 0, 0], [NONE, [1, 0, 0], NONE])));
      },
    );
    await granted;

    // Brick 1 returns (this client connects to it again) while the writer's lock lives on.
    await sleep(1100); // the others served without brick 1 for a while: a rejoin, not a start
    fx.switches[1]!.state = 'up';
    const g = await fx.volume.open('/img', 'r');
    const got = await g.pread(64 * 1024, 0);
    assert.ok(
      got.equals(Buffer.alloc(64 * 1024, 2)),
      `read the survivors' data, not brick 1's stale copy (${got[0]})`,
    );

    endLock();
    await lock;
    assert.ok((await g.pread(4096, 0)).equals(Buffer.alloc(4096, 2)), 'brick 1 is accused now');
    await g.close();
  } finally {
    await fx.close();
  }
});

test('a brick that rejoined is read again once no transaction is in flight, or the window ended', async () => {
  const fx = await healFixture({ readSubvolumeIndex: 1 });
  try {
    const f = await fx.volume.create('/quiet', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(4096, 1), 0);
    await f.close();
    fx.switches[1]!.state = 'down';
    assert.deepEqual(fx.replica.upVector(), [true, false, true]);
    await sleep(1100); // the others served without brick 1 for a while: a rejoin, not a start
    fx.switches[1]!.state = 'up';
    // Nothing in flight: brick 1 is trusted at once; a read that reaches it sees its mark.
    const fd = openSync(join(fx.dirs[1]!, 'quiet'), 'r+');
    writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 0);
    closeSync(fd);
    const g = await fx.volume.open('/quiet', 'r');
    assert.equal((await g.pread(4096, 0))[0], 7, 'read from brick 1, the preferred child');
    await g.close();
    assert.ok(REJOIN_READ_WINDOW_MS <= 5000);
  } finally {
    await fx.close();
  }
});

test('the window ends: a file still under a transaction is read from the rejoined brick again afterwards', async () => {
  const fx = await healFixture({ readSubvolumeIndex: 1 });
  try {
    const f = await fx.volume.create('/long', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(4096, 1), 0);
    await f.close();
    const gfid = parseGfid((await fx.volume.stat('/long')).gfid);
    fx.switches[1]!.state = 'down';
    assert.deepEqual(fx.replica.upVector(), [true, false, true]);
    const writer = fx.io.withNewOwner();
    let endLock!: () => void;
    const held = new Promise<void>((resolve) => (endLock = resolve));
    let locked!: () => void;
    const granted = new Promise<void>((resolve) => (locked = resolve));
    const lock = writer.withLock(
      fx.replica.domain,
      { kind: 'inode', gfid, start: 0n, len: 0n },
      [0, 2],
      async () => {
        await Promise.all([0, 2].map((i) => writer.xattrop(i, gfid, [1, 0, 0], [NONE, NONE, NONE])));
        locked();
        await held;
        await Promise.all([0, 2].map((i) => writer.xattrop(i, gfid, [-1, 0, 0], [NONE, NONE, NONE])));
      },
    );
    await granted;
    await sleep(1100); // the others served without brick 1 for a while: a rejoin, not a start
    fx.switches[1]!.state = 'up';
    const fd = openSync(join(fx.dirs[1]!, 'long'), 'r+');
    writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 0);
    closeSync(fd);
    const g = await fx.volume.open('/long', 'r');
    assert.equal((await g.pread(4096, 0))[0], 1, 'inside the window: a survivor');
    await sleep(REJOIN_READ_WINDOW_MS + 200);
    assert.equal((await g.pread(4096, 0))[0], 7, 'after it: brick 1, the preferred child, again');
    await g.close();
    endLock();
    await lock;
  } finally {
    await fx.close();
  }
});
