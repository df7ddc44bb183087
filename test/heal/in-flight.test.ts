// Entries a client's write has in flight (its pre-op indexed them, nobody is accused): the
// crawl counts them neither as healed nor as left, takes no lock on them, and the daemon looks
// at them again at its next index watch instead of backing off — so an accusation that lands
// on such an entry, or lands as a crawl ends, is healed within seconds, not after a backoff
// of up to a minute (replica-thrash seed 1852233004: a copy stayed accused for over 60 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readdirSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { File } from '../../src/client/index.js';
import { indexHealPass, SelfHealDaemon } from '../../src/heal/index.js';
import { gfidToString, parseGfid } from '../../src/protocol/gfid.js';
import { healFixture, type HealFixture } from '../support/replica-set.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NONE = [0, 0, 0] as const;
/** How long an accusation may wait for the daemon (the backoff it must not wait for: 5 to 60 s). */
const HEAL_BOUND_MS = 4000;

/** The gfids in brick i's xattrop (accusation) index. */
function accused(fx: HealFixture, i: number): string[] {
  try {
    return readdirSync(join(fx.dirs[i]!, '.glusterfs', 'indices', 'xattrop')).filter(
      (n) => !n.startsWith('xattrop-'),
    );
  } catch {
    return [];
  }
}

/** A file kept in flight: a write every 50 ms keeps the eager lock and the dirty mark. */
async function busyFile(fx: HealFixture, path: string) {
  const f: File = await fx.volume.create(path, 'w+', 0o644);
  await f.pwrite(Buffer.alloc(128 * 1024, 1), 0);
  const gfid = parseGfid((await fx.volume.stat(path)).gfid);
  let writing = true;
  const writer = (async () => {
    for (let k = 0; writing; k++) {
      await f.pwrite(Buffer.alloc(4096, k & 0xff), 0);
      await sleep(50);
    }
  })();
  return {
    gfid,
    async stop() {
      writing = false;
      await writer;
      await f.close();
    },
  };
}

/**
 * What a client's post-op sends when brick 1 missed a write: bricks 0 and 2 accuse brick 1
 * (whose copy is made to differ on disk, at an offset the writer never touches).
 */
async function accuseBrick1(fx: HealFixture, gfid: Buffer, path: string): Promise<void> {
  const fd = openSync(join(fx.dirs[1]!, path), 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xee), 0, 4096, 64 * 1024);
  closeSync(fd);
  await Promise.all([0, 2].map((i) => fx.io.xattrop(i, gfid, NONE, [NONE, [1, 0, 0], NONE])));
}

async function assertSame(fx: HealFixture, path: string): Promise<void> {
  const want = readFileSync(join(fx.dirs[0]!, path));
  for (const i of [1, 2])
    assert.ok(readFileSync(join(fx.dirs[i]!, path)).equals(want), `brick ${i} equals brick 0`);
  for (const i of [0, 1, 2]) assert.deepEqual(fx.indexed(i), [], `brick ${i} index empty`);
}

test('a pass counts an entry in flight neither as healed nor as left, and does not wait for its lock', async () => {
  // The post-op waits 30 s: the client holds its eager lock and the dirty mark until close.
  const fx = await healFixture({ postOpDelaySecs: 30 });
  try {
    const f = await fx.volume.create('/held.img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(64 * 1024, 1), 0);
    const key = gfidToString(parseGfid((await fx.volume.stat('/held.img')).gfid));
    assert.deepEqual(fx.indexed(0), [key], 'the pre-op indexed it');
    const pass = indexHealPass(fx.io);
    const report = await Promise.race([pass, sleep(10_000).then(() => undefined)]);
    assert.ok(report, 'the pass did not wait for the eager lock of a write in flight');
    assert.equal(report.healed, 0, JSON.stringify(report));
    assert.deepEqual(report.inFlight, [key]);
    assert.equal(report.remaining, 1);
    assert.deepEqual(report.failed, []);
    // The write ends: nothing is left for anyone.
    await f.close();
    const after = await indexHealPass(fx.io);
    assert.equal(after.remaining, 0, JSON.stringify(after));
    await assertSame(fx, 'held.img');
  } finally {
    await fx.close();
  }
});

test('an accusation that lands as a crawl that found entries in flight ends is healed at once, not after a backoff', async () => {
  const fx = await healFixture({ postOpDelaySecs: 1 });
  let accusing: Promise<void> | undefined;
  let accusedAt = 0;
  const busy = await busyFile(fx, '/a.img');
  // The accusation lands when the crawl reports, before anyone looks at the index again.
  const shd = new SelfHealDaemon([fx.replica], undefined, {
    pollMs: 3_600_000,
    indexWatchMs: 100,
    log: (line) => {
      if (accusing || !/healed \d+/.test(line)) return;
      accusing = accuseBrick1(fx, busy.gfid, 'a.img').then(() => void (accusedAt = Date.now()));
    },
  });
  for (const sw of fx.switches)
    sw.intercept = async (fop, _req, next) => {
      if (fop === 'GETXATTR' && accusing) await accusing;
      return next();
    };
  try {
    shd.start();
    while (!accusedAt) await sleep(20);
    while (accused(fx, 0).length + accused(fx, 2).length > 0) {
      assert.ok(
        Date.now() - accusedAt < HEAL_BOUND_MS,
        `the accusation is healed within ${HEAL_BOUND_MS} ms`,
      );
      await sleep(20);
    }
    await busy.stop();
    await shd.healNow();
    await assertSame(fx, 'a.img');
  } finally {
    await shd.stop();
    await busy.stop().catch(() => undefined);
    await fx.close();
  }
});

test('an accusation that lands on an entry in flight after the crawl looked at it is healed at the next watch', async () => {
  const fx = await healFixture({ postOpDelaySecs: 1 });
  const busy = await busyFile(fx, '/b.img');
  const shd = new SelfHealDaemon([fx.replica], undefined, { pollMs: 3_600_000, indexWatchMs: 100 });
  // The crawl's look at b.img (a LOOKUP listing xattrs) ends; then, before the crawl lists the
  // index again, bricks 0 and 2 accuse brick 1 on it: the listing shows no name it has not judged.
  let looked = false;
  let accusing: Promise<void> | undefined;
  let accusedAt = 0;
  fx.switches[0]!.intercept = async (fop, req, next) => {
    const r = req as { gfid?: Buffer; xdata?: Map<string, unknown> | null };
    if (fop === 'LOOKUP' && !looked && r.gfid?.equals(busy.gfid) && r.xdata?.has('list-xattr')) {
      const reply = await next();
      looked = true;
      return reply;
    }
    if (fop === 'GETXATTR' && looked && !accusing)
      accusing = accuseBrick1(fx, busy.gfid, 'b.img').then(() => void (accusedAt = Date.now()));
    if (fop === 'GETXATTR' && accusing) await accusing;
    return next();
  };
  try {
    shd.start();
    while (!accusedAt) await sleep(20);
    while (accused(fx, 0).length + accused(fx, 2).length > 0) {
      assert.ok(
        Date.now() - accusedAt < HEAL_BOUND_MS,
        `the accusation is healed within ${HEAL_BOUND_MS} ms`,
      );
      await sleep(20);
    }
    await busy.stop();
    await shd.healNow();
    await assertSame(fx, 'b.img');
  } finally {
    await shd.stop();
    await busy.stop().catch(() => undefined);
    await fx.close();
  }
});
