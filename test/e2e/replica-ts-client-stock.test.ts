// The TypeScript client's cluster/replicate against stock GlusterFS 10.3: a private stock
// glusterd with a replica 3 volume (three stock glusterfsd bricks, stock's client volfile
// fetched with GETSPEC), verified IO through the client library; one stock brick SIGKILLed
// while the client keeps writing; the survivors must accuse it with stock's changelog; the
// brick restarted with `volume start force`, stock's self-heal daemon must heal what our
// client wrote, leaving byte-identical bricks and clean changelogs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { killPid, requirePeer, sleep, startStockGluster } from '../../src/peers/index.js';
import { lgetxattr } from '../../src/sys/index.js';
import { decodeCounters } from '../../src/xlators/replicate/index.js';
import { prng } from '../support/fsx.js';

const VOL = 'tsr';

function randomBytes(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

async function counters(brick: string, path: string, key: string) {
  try {
    return decodeCounters(await lgetxattr(join(brick, path), key));
  } catch {
    return [0, 0, 0] as const;
  }
}

test('TS client on a stock replica 3 volume: verified IO, a brick killed, stock shd heals our writes', async (t) => {
  if (!requirePeer(['glusterd', 'glusterfsd', 'gluster'], t)) return;
  const stock = await startStockGluster({
    volume: VOL,
    bricks: 3,
    replica: 3,
    volumeOptions: { 'cluster.heal-timeout': '5', 'network.ping-timeout': '5' },
  });
  let volume: Volume | undefined;
  try {
    volume = await Volume.connect({ volume: VOL, servers: [{ host: stock.host }], timeoutMs: 30_000 });
    const image = randomBytes(1 << 20, 1);
    const f = await volume.create('/vm.img', 'w+', 0o644);
    await f.pwrite(image, 0);
    await f.fsync();
    assert.ok((await f.pread(image.length, 0)).equals(image), 'read back through the TS client');
    for (const b of stock.brickPaths)
      assert.ok(readFileSync(join(b, 'vm.img')).equals(image), `${b} holds the image`);

    // Brick 2 dies; the client writes on through the same fd.
    await killPid(stock.brickPid(2), 0);
    const patch = randomBytes(256 * 1024, 2);
    for (let off = 0; off < image.length; off += 128 * 1024) {
      const chunk = patch.subarray((off / 2) % patch.length, ((off / 2) % patch.length) + 64 * 1024);
      await f.pwrite(chunk, off);
      chunk.copy(image, off);
    }
    await f.fsync();
    assert.ok((await f.pread(image.length, 0)).equals(image), 'reads after the loss come from good bricks');
    for (const b of stock.brickPaths.slice(0, 2)) {
      const c = await counters(b, 'vm.img', `trusted.afr.${VOL}-client-2`);
      assert.ok(c[0] > 0, `${b} accuses brick 2 of data operations: ${c}`);
    }

    // The brick returns; stock's self-heal daemon heals what our client wrote.
    await stock.startForce();
    const deadline = Date.now() + 90_000;
    for (;;) {
      const info = await stock.cli('volume', 'heal', VOL, 'info');
      const pending = [...info.matchAll(/Number of entries: (\d+)/g)].map((m) => Number(m[1]));
      const same = stock.brickPaths.every((b) => readFileSync(join(b, 'vm.img')).equals(image));
      if (pending.length === 3 && pending.every((n) => n === 0) && same) break;
      if (Date.now() > deadline) assert.fail(`heal did not finish: ${info}`);
      await sleep(1000);
    }
    for (const b of stock.brickPaths)
      for (let j = 0; j < 3; j++)
        assert.deepEqual(
          [...(await counters(b, 'vm.img', `trusted.afr.${VOL}-client-${j}`))],
          [0, 0, 0],
          `${b} clean`,
        );
    assert.ok((await f.pread(image.length, 0)).equals(image));
    await f.close();
  } finally {
    await volume?.close();
    await stock.stop();
  }
});
