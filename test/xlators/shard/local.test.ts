// features/shard over a local graph: two storage/posix bricks (features/locks on each)
// under cluster/distribute, driven through the client library. Checks the on-disk names,
// the xattrs, block accounting, truncate, discard, unlink and the fsx checker, with the
// smallest block size stock accepts (4 MiB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../../src/client/index.js';
import { gfidToString } from '../../../src/protocol/gfid.js';
import { lgetxattr } from '../../../src/sys/index.js';
import type { OptionSchema, TranslatorType } from '../../../src/xlator/index.js';
import { distribute } from '../../../src/xlators/distribute/index.js';
import { locks } from '../../../src/xlators/locks/index.js';
import { posix } from '../../../src/xlators/posix/index.js';
import { replicate } from '../../../src/xlators/replicate/index.js';
import { intValue } from '../../../src/protocol/dict.js';
import { decodeFileSize, SEEK_ACROSS_SHARDS, shard } from '../../../src/xlators/shard/index.js';
import { runFsx } from '../../support/fsx.js';

const MiB = 1024 * 1024;
const BS = 4 * MiB;

const registry = new Map<string, TranslatorType<OptionSchema>>(
  [posix, locks, distribute, replicate, shard].map((t) => [t.type, t as TranslatorType<OptionSchema>]),
);

function volfile(dirs: string[]): string {
  const bricks = dirs.map(
    (d, i) =>
      `volume sv-posix-${i}\n type storage/posix\n option directory ${d}\nend-volume\n` +
      `volume sv-client-${i}\n type features/locks\n subvolumes sv-posix-${i}\nend-volume\n`,
  );
  const names = dirs.map((_, i) => `sv-client-${i}`).join(' ');
  return (
    `${bricks.join('\n')}\nvolume sv-dht\n type cluster/distribute\n subvolumes ${names}\nend-volume\n` +
    `volume sv-shard\n type features/shard\n option shard-block-size 4MB\n subvolumes sv-dht\nend-volume\n`
  );
}

/** 2×3 distributed-replicate: bricks 0–2 and 3–5 are replica sets, as stock names them. */
function replicatedVolfile(dirs: string[]): string {
  const names = dirs.map((_, i) => `sv-client-${i}`);
  const bricks = dirs.map(
    (d, i) =>
      `volume sv-posix-${i}\n type storage/posix\n option directory ${d}\nend-volume\n` +
      `volume ${names[i]}\n type features/locks\n subvolumes sv-posix-${i}\nend-volume\n`,
  );
  const sets = [0, 1].map((s) => {
    const set = names.slice(3 * s, 3 * s + 3);
    return (
      `volume sv-replicate-${s}\n type cluster/replicate\n option afr-pending-xattr ${set.join(',')}\n` +
      ` subvolumes ${set.join(' ')}\nend-volume\n`
    );
  });
  return (
    `${bricks.join('\n')}\n${sets.join('\n')}\n` +
    `volume sv-dht\n type cluster/distribute\n subvolumes sv-replicate-0 sv-replicate-1\nend-volume\n` +
    `volume sv-shard\n type features/shard\n option shard-block-size 4MB\n subvolumes sv-dht\nend-volume\n`
  );
}

async function withVolume(
  body: (vol: Volume, dirs: string[]) => Promise<void>,
  replicated = false,
): Promise<void> {
  const base = await mkdtemp(join('/var/tmp', 'glusterts-shard-'));
  const dirs = Array.from({ length: replicated ? 6 : 2 }, (_, i) => join(base, `b${i}`));
  for (const d of dirs) await mkdir(d);
  const text = replicated ? replicatedVolfile(dirs) : volfile(dirs);
  const vol = await Volume.fromVolfile(text, { registry, name: 'sv' });
  try {
    await body(vol, dirs);
  } finally {
    await vol.close();
    await rm(base, { recursive: true, force: true });
  }
}

/** Shard files of `gfid` on the bricks: name → size. */
async function shardsOnBricks(dirs: string[], gfid: Buffer): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const prefix = `${gfidToString(gfid)}.`;
  for (const d of dirs) {
    for (const n of await readdir(join(d, '.shard')).catch(() => [] as string[])) {
      if (n.startsWith(prefix)) out.set(n.slice(prefix.length), (await stat(join(d, '.shard', n))).size);
    }
  }
  return out;
}

function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

test('writes across shards: base file + /.shard/<gfid>.N, xattrs as stock, reads back', async () => {
  await withVolume(async (vol, dirs) => {
    const f = await vol.create('/img', 'w+', 0o644);
    const data = pattern(10 * MiB, 3);
    assert.equal(await f.pwrite(data, 0), data.length);
    const st = await f.fstat();
    assert.equal(st.size, 10 * MiB);
    assert.ok(st.blocks >= 20480, `blocks ${st.blocks}`);
    assert.deepEqual([...(await shardsOnBricks(dirs, f.gfid))].sort(), [
      ['1', BS],
      ['2', 2 * MiB],
    ]);
    const basePath = dirs.map((d) => join(d, 'img'));
    let onDisk: Buffer | undefined;
    for (const p of basePath)
      onDisk ??= (await lgetxattr(p, 'trusted.glusterfs.shard.file-size').catch(() => null)) ?? undefined;
    assert.deepEqual(decodeFileSize(onDisk), { size: 10 * MiB, blocks: st.blocks });
    const back = await f.pread(10 * MiB, 0);
    assert.ok(back.equals(data));
    // A read crossing a boundary, and one past the end.
    assert.ok((await f.pread(200, BS - 100)).equals(data.subarray(BS - 100, BS + 100)));
    assert.equal((await f.pread(100, 10 * MiB)).length, 0);
    await f.close();
    assert.equal((await vol.stat('/img')).size, 10 * MiB);
    // Users never see the shard xattrs or /.shard.
    assert.ok(!(await vol.listxattr('/img')).some((k) => k.includes('shard')));
    const names: string[] = [];
    for await (const e of vol.readdir('/')) names.push(e.name);
    assert.deepEqual(names, ['img']);
    await assert.rejects(vol.stat('/.shard'), { code: 'EPERM' });
  });
});

test('holes are missing shards; truncate shrinks by unlinking shards, discard frees blocks', async () => {
  await withVolume(async (vol, dirs) => {
    const f = await vol.create('/holes', 'w+', 0o600);
    await f.pwrite(pattern(MiB, 1), 3 * BS + 5);
    assert.deepEqual([...(await shardsOnBricks(dirs, f.gfid)).keys()], ['3']);
    const r = await f.pread(3 * BS + 5 + MiB, 0);
    assert.ok(r.subarray(0, 3 * BS + 5).every((b) => b === 0));
    assert.ok(r.subarray(3 * BS + 5).equals(pattern(MiB, 1)));
    // Grow: only the size changes.
    await f.ftruncate(6 * BS);
    assert.equal((await f.fstat()).size, 6 * BS);
    assert.deepEqual([...(await shardsOnBricks(dirs, f.gfid)).keys()], ['3']);
    await f.pwrite(pattern(2 * BS, 9), BS);
    assert.deepEqual([...(await shardsOnBricks(dirs, f.gfid)).keys()].sort(), ['1', '2', '3']);
    // Discard shard 2's bytes: its blocks go, the size stays.
    const before = (await f.fstat()).blocks;
    await f.discard(2 * BS, BS);
    const after = await f.fstat();
    assert.equal(after.size, 6 * BS);
    // (ext4 may keep an extent block or so.)
    assert.ok(before - after.blocks >= 0.9 * (BS / 512), `${after.blocks} < ${before}`);
    assert.ok((await f.pread(BS, 2 * BS)).every((b) => b === 0));
    // Shrink into shard 1: shards 2 and 3 go, 1 is cut.
    await f.ftruncate(BS + 1000);
    assert.deepEqual([...(await shardsOnBricks(dirs, f.gfid))], [['1', 1000]]);
    assert.equal((await f.fstat()).size, BS + 1000);
    assert.ok((await f.pread(1000, BS)).equals(pattern(2 * BS, 9).subarray(0, 1000)));
    await f.ftruncate(0);
    assert.equal((await shardsOnBricks(dirs, f.gfid)).size, 0);
    assert.deepEqual(await f.fstat().then((s) => [s.size, s.blocks]), [0, 0]);
    await f.close();
  });
});

test('unlink leaves a marker under .remove_me and deletes the shards in the background', async () => {
  await withVolume(async (vol, dirs) => {
    const f = await vol.create('/gone', 'w+', 0o644);
    await f.pwrite(pattern(3 * BS, 5), 0);
    const gfid = f.gfid;
    await f.close();
    assert.equal((await shardsOnBricks(dirs, gfid)).size, 2);
    await vol.unlink('/gone');
    // The marker goes after the shards, in the same background pass: wait for both.
    const markers = async () => {
      let left = 0;
      for (const d of dirs) left += (await readdir(join(d, '.shard', '.remove_me')).catch(() => [])).length;
      return left;
    };
    const until = Date.now() + 10_000;
    while (((await shardsOnBricks(dirs, gfid)).size > 0 || (await markers()) > 0) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal((await shardsOnBricks(dirs, gfid)).size, 0);
    // The marker went too; .remove_me stays, empty.
    assert.equal(await markers(), 0);
  });
});

test("rename over a sharded file deletes the replaced file's shards; hard links keep them", async () => {
  await withVolume(async (vol, dirs) => {
    const a = await vol.create('/a', 'w+', 0o644);
    await a.pwrite(pattern(2 * BS, 1), 0);
    await a.close();
    const b = await vol.create('/b', 'w+', 0o644);
    await b.pwrite(pattern(3 * BS, 2), 0);
    const replaced = b.gfid;
    await b.close();
    await vol.rename('/a', '/b');
    const until = Date.now() + 10_000;
    while ((await shardsOnBricks(dirs, replaced)).size > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal((await shardsOnBricks(dirs, replaced)).size, 0);
    const f = await vol.open('/b', 'r');
    assert.ok((await f.pread(2 * BS, 0)).equals(pattern(2 * BS, 1)));
    const kept = f.gfid;
    await f.close();
    // With a second name, unlinking one keeps the data and its shards.
    await vol.link('/b', '/c');
    await vol.unlink('/b');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await shardsOnBricks(dirs, kept)).size, 1);
    const c = await vol.open('/c', 'r');
    assert.ok((await c.pread(2 * BS, 0)).equals(pattern(2 * BS, 1)));
    await c.close();
  });
});

test('SEEK: ENOTSUP as stock; with the extents key, holes are found across shards', async () => {
  await withVolume(async (vol) => {
    const f = await vol.create('/sparse', 'w+', 0o644);
    await f.pwrite(pattern(MiB, 1), 0); // block 0: [0, 1 MiB)
    await f.pwrite(pattern(MiB, 2), 3 * BS + MiB); // block 3: [13 MiB, 14 MiB)
    await f.ftruncate(5 * BS); // a hole to 20 MiB
    await assert.rejects(f.lseek(0, 'DATA'), { errno: 95 });
    const xdata = new Map([[SEEK_ACROSS_SHARDS, intValue(1)]]);
    const seek = (at: number, whence: 'DATA' | 'HOLE') => f.lseek(at, whence, { xdata });
    assert.equal(await seek(0, 'DATA'), 0);
    assert.equal(await seek(0, 'HOLE'), MiB);
    assert.equal(await seek(MiB, 'DATA'), 3 * BS + MiB, 'past missing shards 1 and 2');
    assert.equal(await seek(3 * BS + MiB, 'HOLE'), 3 * BS + 2 * MiB, "past the shard's own end");
    await assert.rejects(seek(3 * BS + 2 * MiB, 'DATA'), { code: 'ENXIO' });
    assert.equal(await seek(4 * BS, 'HOLE'), 4 * BS);
    await assert.rejects(seek(5 * BS, 'HOLE'), { code: 'ENXIO' });
    await f.close();
  });
});

test('fsx through the client on a 4 MiB-sharded volume: no bad bytes', { timeout: 120_000 }, async () => {
  await withVolume(async (vol) => {
    const f = await vol.create('/fsx', 'w+', 0o644);
    const report = await runFsx(f, { seed: 1234, ops: 400, maxSize: 14 * MiB, maxIo: 5 * MiB });
    assert.equal(report.ops, 400);
    await f.close();
  });
});

test(
  '2×3 distributed-replicate: parallel writes across shards, fsx, every copy holds the shards',
  { timeout: 180_000 },
  async () => {
    await withVolume(async (vol, dirs) => {
      const f = await vol.create('/vm', 'w+', 0o644);
      // 48 writes in flight at once, 1 MiB each, into shards that do not exist yet (QEMU-like).
      const data = pattern(48 * MiB, 11);
      await Promise.all(
        Array.from({ length: 48 }, (_, i) => f.pwrite(data.subarray(i * MiB, (i + 1) * MiB), i * MiB)),
      );
      assert.equal((await f.fstat()).size, 48 * MiB);
      for (let at = 0; at < 48 * MiB; at += 8 * MiB)
        assert.ok((await f.pread(8 * MiB, at)).equals(data.subarray(at, at + 8 * MiB)), `at ${at}`);
      // Each shard on all three bricks of one replica set, none elsewhere.
      const shards = await Promise.all(dirs.map((d) => shardsOnBricks([d], f.gfid)));
      for (let n = 1; n < 12; n++) {
        const holders = shards.flatMap((m, i) => (m.has(String(n)) ? [i] : []));
        assert.ok(
          holders.length === 3 && (holders.every((i) => i < 3) || holders.every((i) => i >= 3)),
          `shard ${n} on bricks ${holders.join(',')}`,
        );
      }
      const report = await runFsx(f, { seed: 77, ops: 300, maxSize: 14 * MiB, maxIo: 5 * MiB });
      assert.equal(report.ops, 300);
      await f.close();
    }, true);
  },
);
