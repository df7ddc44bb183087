// The heal's locks against a writer's, as in replica-faults' SIGSTOP case (captured: the shd
// held a range on the source, brick 1, and waited for the sink, brick 0, while a stock client
// held brick 0 and waited for brick 1; both engines' IO stalled until fio was killed). Every
// blocking lock must go brick by brick in child order, whatever order the caller names them in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealIo, healContext } from '../../src/heal/index.js';
import { parseGfid } from '../../src/protocol/gfid.js';
import { healFixture } from '../support/replica-set.js';

test('a heal locking [source 1, sink 0] waits on brick 0 first, holding nothing on brick 1', async () => {
  const fx = await healFixture();
  try {
    const f = await fx.volume.create('/vm.img', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(8192, 7), 0);
    await f.close();
    const gfid = parseGfid((await fx.volume.stat('/vm.img')).gfid);
    const dom = fx.replica.domain;
    const whole = { kind: 'inode' as const, gfid, start: 0n, len: 0n };
    const chunk = { kind: 'inode' as const, gfid, start: 4096n, len: 4096n };

    // A writer (its own lock owner) locks in child order and has brick 0 so far.
    const writer = new HealIo(fx.replica, healContext());
    assert.deepEqual(await writer.lock(dom, whole, [0]), [true, false, false]);

    // The heal asks for [1, 0]: brick 0 says EAGAIN, so it lets go and blocks brick by brick.
    let healGranted: boolean[] | undefined;
    const healing = fx.io.lock(dom, chunk, [1, 0]).then((g) => (healGranted = g));
    await sleep(200);
    assert.equal(healGranted, undefined, 'the heal waits for the writer');

    // The writer's next brick must not be held by the waiting heal.
    const next = await Promise.race([writer.lock(dom, whole, [1]), sleep(3000).then(() => 'deadlock')]);
    assert.deepEqual(next, [false, true, false], 'the writer gets brick 1');
    await writer.unlock(dom, whole, [0, 1]);
    await healing;
    assert.deepEqual(healGranted, [true, true, false], 'then the heal gets both');
    await fx.io.unlock(dom, chunk, [0, 1]);
  } finally {
    await fx.close();
  }
});
