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
// (e) the NBD export over the TS client shows the sharded image's holes (nbdinfo --map).
// Runs in a network namespace (stock glusterd binds 127.0.0.2:24007):
//   CI=true /work/tools/nsrun shard node --test dist/test/xlators/shard/stock-interop.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open as fsOpen, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../../src/client/index.js';
import { GlusterProvider, NbdServer } from '../../../src/nbd/index.js';
import { gfidToString } from '../../../src/protocol/gfid.js';
import {
  mountFuse,
  requirePeer,
  run,
  sleep,
  startStockGluster,
  type StockGluster,
} from '../../../src/peers/index.js';
import { fallocate, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, lgetxattr } from '../../../src/sys/index.js';
import { decodeBlockSize, decodeFileSize } from '../../../src/xlators/shard/index.js';
import { prng, runFsx, type FsxFile } from '../../support/fsx.js';

const VOL = 'shv';
const MiB = 1024 * 1024;
const BS = 4 * MiB;

function bytes(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) out.writeUInt32LE((rand() * 2 ** 32) >>> 0, Math.min(i, n - 4));
  return out;
}

/** Shard files of a base gfid on the bricks: shard number → [brick, size, 512-byte blocks]. */
async function shardsOf(g: StockGluster, gfid: Buffer): Promise<Map<number, [number, number, number]>> {
  const out = new Map<number, [number, number, number]>();
  const prefix = `${gfidToString(gfid)}.`;
  for (const [i, b] of g.brickPaths.entries()) {
    for (const n of await readdir(join(b, '.shard')).catch(() => [] as string[])) {
      if (!n.startsWith(prefix)) continue;
      const s = await stat(join(b, '.shard', n)).catch(() => null); // being deleted
      if (s) out.set(Number(n.slice(prefix.length)), [i, s.size, s.blocks]);
    }
  }
  return out;
}

/** The base file's gfid and shard xattrs, from whichever brick holds it. */
async function baseOnBrick(g: StockGluster, path: string) {
  for (const b of g.brickPaths) {
    const p = join(b, path);
    const gfid = await lgetxattr(p, 'trusted.gfid').catch(() => null);
    if (!gfid) continue;
    return {
      gfid,
      size: (await stat(p)).size,
      blockSize: decodeBlockSize(await lgetxattr(p, 'trusted.glusterfs.shard.block-size')),
      fileSize: decodeFileSize(await lgetxattr(p, 'trusted.glusterfs.shard.file-size')),
    };
  }
  throw new Error(`${path} is on no brick`);
}

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test(
  'features/shard: TS client and stock 10.3 on one sharded volume',
  { timeout: 15 * 60_000 },
  async (t) => {
    if (!requirePeer(['stock-gluster'], t)) return;
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
          const base = await baseOnBrick(g, 'ts.img');
          assert.equal(base.blockSize, BS);
          assert.equal(base.size, BS, 'the base file holds block 0 only');
          assert.equal(base.fileSize?.size, size);
          const shards = await shardsOf(g, base.gfid);
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
          const fuseBase = await baseOnBrick(g, 'fuse.img');
          assert.deepEqual([...(await shardsOf(g, fuseBase.gfid)).keys()].sort(), [1, 2, 5]);

          // Seek: stock's shard answers ENOTSUP (95, named EOPNOTSUPP on Linux); so does ours.
          const s = await volume!.open('/ts.img', 'r');
          await assert.rejects(s.lseek(0, 'DATA'), { errno: 95 });
          await s.close();
        },
      );

      await t.test('(b) fsx through the TS client on the sharded volume: no bad bytes', async () => {
        const f = await volume!.create('/fsx.img', 'w+', 0o644);
        const report = await runFsx(f, { seed: 20261203, ops: 500, maxSize: 18 * MiB, maxIo: 5 * MiB });
        assert.equal(report.ops, 500);
        for (const n of ['read', 'write', 'truncate', 'discard', 'zerofill'] as const)
          assert.ok(report.counts[n] > 0, `fsx ran ${n}`);
        // The final state, read through stock FUSE, is what the TS client reads.
        const size = (await f.fstat()).size;
        const ours = Buffer.alloc(size);
        for (let at = 0; at < size; at += 4 * MiB) (await f.pread(4 * MiB, at)).copy(ours, at);
        await f.close();
        const theirs = await readFile(join(mnt, 'fsx.img'));
        assert.ok(theirs.equals(ours), 'stock FUSE reads the same bytes');
        t.diagnostic(`fsx: ${JSON.stringify(report.counts)}, ${report.bytesWritten} B written`);
      });

      await t.test('(c) shrink, discard and unlink free the shards on the bricks', async () => {
        const f = await volume!.create('/free.img', 'w+', 0o644);
        await f.pwrite(bytes(5 * BS, 4), 0);
        const gfid = f.gfid;
        assert.deepEqual([...(await shardsOf(g, gfid)).keys()].sort(), [1, 2, 3, 4]);
        // Shrink into block 2: shards 3 and 4 unlinked, 2 cut.
        await f.ftruncate(2 * BS + 4096);
        const after = await shardsOf(g, gfid);
        assert.deepEqual([...after.keys()].sort(), [1, 2]);
        assert.equal(after.get(2)![1], 4096);
        assert.equal((await baseOnBrick(g, 'free.img')).fileSize?.size, 2 * BS + 4096);
        // Discard all of block 1: its blocks are freed on the brick, the file keeps its size.
        const before = after.get(1)![2];
        await f.discard(BS, BS);
        const punched = (await shardsOf(g, gfid)).get(1)!;
        assert.ok(punched[2] < before / 100, `shard 1: ${before} → ${punched[2]} blocks`);
        assert.equal((await f.fstat()).size, 2 * BS + 4096);
        assert.ok((await f.pread(BS, BS)).every((b) => b === 0));
        await f.close();
        // Unlink through the TS client: a marker, then the shards go in the background.
        await volume!.unlink('/free.img');
        await until('the TS client to delete the shards', async () => (await shardsOf(g, gfid)).size === 0);
        // A TS-written file unlinked through stock FUSE: stock deletes its shards.
        const h = await volume!.create('/free2.img', 'w+', 0o644);
        await h.pwrite(bytes(3 * BS, 5), 0);
        const gfid2 = h.gfid;
        await h.close();
        assert.equal((await shardsOf(g, gfid2)).size, 2);
        await unlink(join(mnt, 'free2.img'));
        await until('stock to delete the shards', async () => (await shardsOf(g, gfid2)).size === 0);
        // A FUSE-written file unlinked through the TS client.
        await writeFile(join(mnt, 'free3.img'), bytes(3 * BS, 6));
        const gfid3 = (await baseOnBrick(g, 'free3.img')).gfid;
        assert.equal((await shardsOf(g, gfid3)).size, 2);
        await volume!.unlink('/free3.img');
        await until(
          'the TS client to delete stock-written shards',
          async () => (await shardsOf(g, gfid3)).size === 0,
        );
        // Every marker is gone.
        await until('empty .remove_me', async () => {
          let n = 0;
          for (const b of g.brickPaths)
            n += (await readdir(join(b, '.shard', '.remove_me')).catch(() => [])).length;
          return n === 0;
        });
      });
      await t.test('(d) fsx on the stock FUSE mount; the TS client reads the result', async () => {
        const h = await fsOpen(join(mnt, 'fsx-fuse.img'), 'w+');
        try {
          const file: FsxFile = {
            pread: async (length, position) => {
              const b = Buffer.alloc(length);
              const { bytesRead } = await h.read(b, 0, length, position);
              return b.subarray(0, bytesRead);
            },
            pwrite: async (buffer, position) =>
              (await h.write(buffer, 0, buffer.length, position)).bytesWritten,
            ftruncate: (length) => h.truncate(length),
            discard: (offset, length) =>
              fallocate(h.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length),
            // Stock FUSE cannot zero a range: fuse-bridge sends FALLOC_FL_ZERO_RANGE on as a
            // plain fallocate (only KEEP_SIZE kept) and posix allocates without zeroing, so
            // the old bytes stay (this fsx caught it at op #64 of seed 31337). Write zeros.
            zerofill: async (offset, length) => {
              await h.write(Buffer.alloc(length), 0, length, offset);
            },
            fsync: () => h.sync(),
            fstat: () => h.stat(),
          };
          const report = await runFsx(file, { seed: 31337, ops: 300, maxSize: 18 * MiB, maxIo: 5 * MiB });
          assert.equal(report.ops, 300);
          t.diagnostic(`fsx on FUSE: ${JSON.stringify(report.counts)}`);
        } finally {
          await h.close();
        }
        const theirs = await readFile(join(mnt, 'fsx-fuse.img'));
        const f = await volume!.open('/fsx-fuse.img', 'r');
        assert.equal((await f.fstat()).size, theirs.length);
        const ours = Buffer.alloc(theirs.length);
        for (let at = 0; at < ours.length; at += 4 * MiB) (await f.pread(4 * MiB, at)).copy(ours, at);
        await f.close();
        assert.ok(ours.equals(theirs), 'the TS client reads what stock FUSE left');
      });
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
