// features/shard against stock GlusterFS 10.3 on one private stock volume (2-brick
// distribute, `features.shard on`, 4 MB shards — the smallest stock accepts). The TS
// client fetches stock's volfile (which names features/shard) with GETSPEC:
// (a) a file written by the TS client reads back identically through a stock FUSE mount
//     and the other way round; the shards are on the bricks with stock's names and sizes;
// (b) the seeded fsx checker through the TS client on the sharded volume: no bad bytes
//     (zero-fill and punch included), and the final file reads the same through FUSE;
// (c) shrinking, discarding and unlinking free the shards on the bricks (counted), for a
//     file of either client;
// (d) the same fsx on a stock FUSE mount (stock's own shard under the checker), and the
//     TS client reads that file identically;
// (e) the NBD export over the TS client shows the sharded image's holes (nbdinfo --map);
// (f) images stock's shard wrote (QEMU's gluster driver: qemu-img create + qemu-io; stock
//     FUSE) read identically through the TS client and the glusterts NBD export, and one
//     the TS client wrote through stock FUSE, qemu-img convert and qemu-io over gluster://;
// (g) stock FUSE's ftruncate, PUNCH_HOLE and unlink free the shards (counted);
// (h) so do qemu-img resize --shrink and qemu-io discard over gluster:// and nbd://.
// (b), (c), (d), (f), (g) and (h) are test/support/shard-interop.ts, which also runs them on
// glusterts bricks (test/interop/shard-glusterts-bricks).
// Runs in a network namespace (stock glusterd binds 127.0.0.2:24007):
//   CI=true /work/tools/nsrun shard node --test dist/test/xlators/shard/stock-interop.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open as fsOpen, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../../src/client/index.js';
import { GlusterProvider, NbdServer } from '../../../src/nbd/index.js';
import {
  mountFuse,
  requirePeer,
  run,
  startStockGluster,
  type StockGluster,
} from '../../../src/peers/index.js';
import {
  baseOnBrick,
  BS,
  bytes,
  fsxOnFuse,
  fsxThroughTs,
  MiB,
  qemuFreesShards,
  shardsOf,
  stockFreesShards,
  stockShardedReadsInTs,
  tsFreesShards,
  tsShardedReadsInStock,
  type ShardRig,
} from '../../support/shard-interop.js';

const VOL = 'shv';

test(
  'features/shard: TS client and stock 10.3 on one sharded volume',
  { timeout: 15 * 60_000 },
  async (t) => {
    if (!requirePeer(['stock-gluster', 'qemu-gluster', 'nbdinfo'], t)) return;
    const dir = await mkdtemp('/var/tmp/glusterts-shard-stock-');
    const g = await startStockGluster({
      dir,
      volume: VOL,
      bricks: 2,
      volumeOptions: { 'features.shard': 'on', 'features.shard-block-size': '4MB' },
    });
    let volume: Volume | undefined;
    let unmount: (() => Promise<void>) | undefined;
    try {
      assert.match(await g.clientVolfile(VOL), /type features\/shard/);
      volume = await Volume.connect({ volume: VOL, servers: [{ host: g.host }], timeoutMs: 30_000 });
      const mnt = join(dir, 'mnt');
      unmount = await mountFuse(g.host, VOL, mnt, {
        extraArgs: ['--attribute-timeout=0', '--entry-timeout=0', '--direct-io-mode=enable'],
      });
      const rig: ShardRig = {
        host: g.host,
        port: g.port,
        volume: VOL,
        brickPaths: g.brickPaths,
        ts: volume,
        mnt,
        dir,
        diagnostic: (m) => t.diagnostic(m),
      };

      await t.test(
        '(a) TS → stock FUSE and stock FUSE → TS, shards on the bricks as stock names them',
        async () => {
          // 10 MiB + a hole: data in blocks 0, 1 and (after a gap) 3.
          const data = bytes(10 * MiB, 1);
          const tail = bytes(MiB, 2);
          const f = await volume!.create('/ts.img', 'w+', 0o644);
          await f.pwrite(data, 0);
          await f.pwrite(tail, 3 * BS + 100);
          await f.close();
          const size = 3 * BS + 100 + MiB;
          const expected = Buffer.alloc(size);
          data.copy(expected, 0);
          tail.copy(expected, 3 * BS + 100);
          const viaFuse = await readFile(join(mnt, 'ts.img'));
          assert.equal(viaFuse.length, size, 'stock FUSE sees the logical size');
          assert.ok(viaFuse.equals(expected), 'stock FUSE reads what the TS client wrote');
          const base = await baseOnBrick(g.brickPaths, 'ts.img');
          assert.equal(base.blockSize, BS);
          assert.equal(base.size, BS, 'the base file holds block 0 only');
          assert.equal(base.fileSize?.size, size);
          const shards = await shardsOf(g.brickPaths, base.gfid);
          assert.deepEqual(
            [...shards].map(([n, [, s]]) => [n, s]).sort((a, b) => a[0]! - b[0]!),
            [
              [1, BS],
              [2, 2 * MiB],
              [3, 100 + MiB],
            ],
          );
          // The block count is the base file's plus every shard's, as the bricks counted them
          // when written (ext4 may add an extent block or two at writeback: within 1%).
          const onBricks =
            [...shards.values()].reduce((n, [, , b]) => n + b, 0) + (await blocksOfBase(g, 'ts.img'));
          assert.ok(
            Math.abs(base.fileSize!.blocks - onBricks) <= onBricks / 100,
            `blocks ${base.fileSize!.blocks} vs ${onBricks} on the bricks`,
          );
          assert.equal((await volume!.stat('/ts.img')).blocks, base.fileSize!.blocks, 'stat shows the xattr');

          // Stock writes a sparse file; the TS client reads it.
          const fuseData = bytes(9 * MiB, 3);
          const fh = await fsOpen(join(mnt, 'fuse.img'), 'w');
          await fh.write(fuseData, 0, fuseData.length, 2 * MiB);
          await fh.write(tail, 0, tail.length, 5 * BS);
          await fh.close();
          const fuseSize = 5 * BS + MiB;
          const fuseExpected = Buffer.alloc(fuseSize);
          fuseData.copy(fuseExpected, 2 * MiB);
          tail.copy(fuseExpected, 5 * BS);
          assert.equal((await volume!.stat('/fuse.img')).size, fuseSize);
          const r = await volume!.open('/fuse.img', 'r');
          const back = Buffer.alloc(fuseSize);
          for (let at = 0; at < fuseSize; at += 3 * MiB) (await r.pread(3 * MiB, at)).copy(back, at);
          await r.close();
          assert.ok(back.equals(fuseExpected), 'the TS client reads what stock FUSE wrote');
          const fuseBase = await baseOnBrick(g.brickPaths, 'fuse.img');
          assert.deepEqual([...(await shardsOf(g.brickPaths, fuseBase.gfid)).keys()].sort(), [1, 2, 5]);

          // Seek: stock's shard answers ENOTSUP (95, named EOPNOTSUPP on Linux); so does ours.
          const s = await volume!.open('/ts.img', 'r');
          await assert.rejects(s.lseek(0, 'DATA'), { errno: 95 });
          await s.close();
        },
      );

      await t.test('(b) fsx through the TS client on the sharded volume: no bad bytes', () =>
        fsxThroughTs(rig, '/fsx.img', {
          seed: 20261203,
          ops: 500,
          minOps: 500,
          maxSize: 18 * MiB,
          maxIo: 5 * MiB,
        }),
      );
      await t.test('(c) shrink, discard and unlink through the TS client free the shards on the bricks', () =>
        tsFreesShards(rig),
      );
      await t.test('(d) fsx on the stock FUSE mount; the TS client reads the result', () =>
        fsxOnFuse(rig, 'fsx-fuse.img', {
          seed: 31337,
          ops: 300,
          minOps: 300,
          maxSize: 18 * MiB,
          maxIo: 5 * MiB,
        }),
      );
      await t.test("(e) the NBD export over the TS client reports the shards' holes", async () => {
        const server = new NbdServer({
          provider: new GlusterProvider({ volumes: new Map([[VOL, volume!]]), listed: [`${VOL}/ts.img`] }),
        });
        const { port } = await server.listen(0, g.host);
        try {
          const out = await run('nbdinfo', ['--map', `nbd://${g.host}:${port}/${VOL}/ts.img`]);
          const extents = [...out.matchAll(/^\s*(\d+)\s+(\d+)\s+(\d+)/gm)].map((m) => ({
            start: Number(m[1]),
            end: Number(m[1]) + Number(m[2]),
            hole: (Number(m[3]) & 1) === 1,
          }));
          // ts.img: data [0, 10 MiB), a hole to 12 MiB + 100, data for 1 MiB after it.
          const at = (pos: number) => extents.find((e) => e.start <= pos && pos < e.end);
          assert.equal(at(0)?.hole, false, out);
          assert.equal(at(10 * MiB - 1)?.hole, false, out);
          assert.equal(at(10 * MiB)?.hole, true, out);
          assert.equal(at(12 * MiB - 1)?.hole, true, out);
          assert.equal(at(12 * MiB + 4096)?.hole, false, out);
        } finally {
          await server.close();
        }
      });
      await t.test(
        '(f) QEMU- and FUSE-sharded images read identically through the TS client and the NBD export; a TS-sharded one through FUSE, qemu-img and qemu-io',
        async () => {
          await stockShardedReadsInTs(rig);
          await tsShardedReadsInStock(rig);
        },
      );
      await t.test('(g) stock FUSE: ftruncate, PUNCH_HOLE and unlink free the shards on the bricks', () =>
        stockFreesShards(rig),
      );
      await t.test(
        '(h) qemu-img resize --shrink, qemu-io discard over gluster:// and nbd:// free the shards',
        () => qemuFreesShards(rig),
      );
    } finally {
      await unmount?.().catch(() => undefined);
      await volume?.close().catch(() => undefined);
      await g.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

async function blocksOfBase(g: StockGluster, path: string): Promise<number> {
  for (const b of g.brickPaths) {
    const s = await stat(join(b, path)).catch(() => null);
    if (s) return s.blocks;
  }
  return 0;
}
