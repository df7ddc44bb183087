// Sharded images on glusterts bricks, every client against every other, with the real
// programs (the same checks run on stock 10.3 bricks in test/xlators/shard/stock-interop):
// the glusterts daemon serves a 3-brick distribute volume after `volume set … group
// distributed-virt` and a 4 MB shard size; the TS client, the glusterts NBD export over it,
// stock FUSE and QEMU's gluster driver (stock gfapi) use it side by side:
// - stock → TS: images sharded by QEMU (qemu-img create + qemu-io) and by stock FUSE read
//   identically through the TS client and the NBD export; TS → stock: an image sharded by the
//   TS client reads identically through stock FUSE, qemu-img convert and qemu-io;
// - shrinking, discarding and unlinking free the shards on the bricks (counted), through the
//   TS client, through stock FUSE, and with QEMU (qemu-img resize --shrink, qemu-io discard
//   over gluster:// and over the NBD export);
// - the seeded fsx through the TS client and on the stock FUSE mount: no bad bytes, zero and
//   punch included, and each client reads what the other left.
// Runs in a network namespace (about 2 minutes):
//   CI=true /work/tools/nsrun NAME node --test dist/test/interop/shard-glusterts-bricks.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { mountFuse, requirePeer } from '../../src/peers/index.js';
import { REAL_BRICK, startTestDaemon } from '../mgmt/support.js';
import {
  fsxOnFuse,
  fsxThroughTs,
  MiB,
  qemuFreesShards,
  stockFreesShards,
  stockShardedReadsInTs,
  tsFreesShards,
  tsShardedReadsInStock,
  type ShardRig,
} from '../support/shard-interop.js';

const HOST = '127.0.0.91';
const VOL = 'gsv';

test('sharded images on glusterts bricks: TS client, NBD export, stock FUSE and QEMU read each other; shards freed; fsx', async (t) => {
  if (!requirePeer(['stock-gluster', 'qemu-gluster'], t)) return;
  assert.ok(existsSync(REAL_BRICK), 'the real brick program is built');
  const td = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 15_000,
  });
  const scratch = await mkdtemp('/var/tmp/glusterts-shard-gb-');
  let volume: Volume | undefined;
  let unmount: (() => Promise<void>) | undefined;
  try {
    const brickPaths = ['b0', 'b1', 'b2'].map((n) => td.brickDir(n));
    const v = td.daemon.volumes;
    await v.create(VOL, brickPaths, true, { replica: 1, arbiter: 0 });
    await v.set(VOL, 'group', 'distributed-virt');
    await v.set(VOL, 'features.shard-block-size', '4MB');
    assert.deepEqual((await v.start(VOL)).warnings, [], 'every brick signed in');
    const { port } = td.daemon.address;
    volume = await Volume.connect({ volume: VOL, servers: [{ host: HOST, port }], timeoutMs: 30_000 });
    const mnt = join(td.data, 'mnt');
    unmount = await mountFuse(HOST, VOL, mnt, {
      port,
      extraArgs: ['--attribute-timeout=0', '--entry-timeout=0', '--direct-io-mode=enable'],
    });
    const rig: ShardRig = {
      host: HOST,
      port,
      volume: VOL,
      brickPaths,
      ts: volume,
      mnt,
      dir: scratch,
      diagnostic: (m) => t.diagnostic(m),
    };

    await t.test('stock → TS: QEMU- and FUSE-sharded images through the TS client and the NBD export', () =>
      stockShardedReadsInTs(rig),
    );
    await t.test('TS → stock: a TS-sharded image through stock FUSE, qemu-img convert and qemu-io', () =>
      tsShardedReadsInStock(rig),
    );
    await t.test(
      'the TS client: shrink, discard and unlink free the shards (and unlinks across clients)',
      () => tsFreesShards(rig),
    );
    await t.test('stock FUSE: ftruncate, PUNCH_HOLE and unlink free the shards', () => stockFreesShards(rig));
    await t.test(
      'QEMU: qemu-img resize --shrink and qemu-io discard over gluster:// and nbd:// free shards',
      () => qemuFreesShards(rig),
    );
    await t.test('fsx through the TS client: no bad bytes; stock FUSE reads the result', () =>
      fsxThroughTs(rig, '/fsx.img', { seed: 91, ops: 300, minOps: 300, maxSize: 18 * MiB, maxIo: 5 * MiB }),
    );
    await t.test(
      'fsx on the stock FUSE mount (no truncate): no bad bytes; the TS client reads the result',
      () =>
        fsxOnFuse(rig, 'fsx-fuse.img', {
          seed: 92,
          ops: 200,
          minOps: 200,
          maxSize: 18 * MiB,
          maxIo: 5 * MiB,
          weights: { truncate: 0 },
        }),
    );
    // With truncates, stock's shard on FUSE loses data around a shrink on any bricks
    // (docs/shard.md, "Stock finding"); kept running, reported as a todo.
    await t.test(
      'fsx on the stock FUSE mount with truncates',
      { todo: "stock 10.3's shard loses data around ftruncate on FUSE (stock bricks too)" },
      () =>
        fsxOnFuse(rig, 'fsx-fuse-trunc.img', {
          seed: 92,
          ops: 200,
          minOps: 200,
          maxSize: 18 * MiB,
          maxIo: 5 * MiB,
        }),
    );
  } finally {
    await unmount?.().catch(() => undefined);
    await volume?.close().catch(() => undefined);
    await td.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
});
