// What stock's client-side shard (features/shard, ../shared/reference/dht-afr-shard.md §3)
// needs from glusterts bricks, with the real programs: the glusterts daemon serves a
// 3-brick distribute volume after `volume set … group distributed-virt` (shard on) and a
// 4 MiB shard size; the stock FUSE client mounts it (its own shard translator, from our
// client volfile) and writes, shrinks and deletes an image. On the bricks: `/.shard` and
// `/.shard/.remove_me` with their fixed gfids, `<base gfid>.N` pieces spread over the
// bricks, the base file's block-size and file-size xattrs kept by ADD_ARRAY64 xattrops,
// and the pieces freed after a truncate and an unlink. (A LOOKUP racing the MKNOD of a
// piece once answered a null gfid here, and stock's shard crashed on it: test/xlators/posix.)
// The same on a replica 3 volume after `group virt`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { mountFuse, requirePeer } from '../../src/peers/index.js';
import { lgetxattr } from '../../src/sys/index.js';
import { REAL_BRICK, startTestDaemon } from '../mgmt/support.js';

const HOST = '127.0.0.29';
const MiB = 1024 * 1024;
const BS = 4 * MiB;
const SHARD_DIR_GFID = 'be318638e8a04c6d977d7a937aa84806';
const REMOVE_ME_GFID = '77dd5a45dbf54592b31bb440382302e9';

const hex = (b: Buffer) => b.toString('hex');
const gfidText = (b: Buffer) =>
  [b.subarray(0, 4), b.subarray(4, 6), b.subarray(6, 8), b.subarray(8, 10), b.subarray(10)]
    .map(hex)
    .join('-');

async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('stock FUSE shard on glusterts bricks: .shard, gfid-named pieces, size xattrs, shrink and unlink free pieces', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  assert.ok(existsSync(REAL_BRICK), 'the real brick program is built');
  const td = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 15_000,
  });
  let unmount: (() => Promise<void>) | undefined;
  try {
    const dirs = ['s0', 's1', 's2'].map((n) => td.brickDir(n));
    const v = td.daemon.volumes;
    await v.create('sv', dirs, true, { replica: 1, arbiter: 0 });
    await v.set('sv', 'group', 'distributed-virt');
    await v.set('sv', 'features.shard-block-size', '4MB');
    assert.deepEqual((await v.start('sv')).warnings, [], 'every brick signed in');
    const mnt = join(td.data, 'mnt');
    unmount = await mountFuse(HOST, 'sv', mnt, {
      port: td.daemon.address.port,
      extraArgs: ['--attribute-timeout=0', '--entry-timeout=0'],
    });

    // 10 pieces' worth with a hole: blocks 0-2 written, 3-5 a hole, 6-9 written, the last partly.
    const size = 9 * BS + MiB;
    const data = Buffer.alloc(size);
    randomBytes(3 * BS).copy(data, 0);
    randomBytes(3 * BS + MiB).copy(data, 6 * BS);
    const image = join(mnt, 'image.raw');
    const fd = openSync(image, 'w');
    writeSync(fd, data, 0, 3 * BS, 0);
    writeSync(fd, data, 6 * BS, 3 * BS + MiB, 6 * BS);
    closeSync(fd);
    assert.ok(
      readFileSync(image).equals(data),
      'read back through the stock shard translator, hole as zeros',
    );

    const holder = dirs.find((d) => existsSync(join(d, 'image.raw')))!;
    const base = join(holder, 'image.raw');
    const gfid = await lgetxattr(base, 'trusted.gfid');
    assert.equal(
      hex(await lgetxattr(base, 'trusted.glusterfs.shard.block-size')),
      BS.toString(16).padStart(16, '0'),
    );
    const fileSize = async () => {
      const b = await lgetxattr(join(holder, 'image.raw'), 'trusted.glusterfs.shard.file-size');
      assert.equal(b.length, 32);
      return { size: Number(b.readBigUInt64BE(0)), blocks: Number(b.readBigUInt64BE(16)) };
    };
    const fs1 = await fileSize();
    assert.equal(fs1.size, size, 'file-size word 0 is the logical size (ADD_ARRAY64 deltas summed)');
    assert.ok(
      fs1.blocks >= (7 * BS + MiB) / 512,
      `file-size word 2 counts the written 512-byte blocks (${fs1.blocks})`,
    );

    // Each brick has /.shard with its fixed gfid; the pieces are <gfid>.N, spread over bricks.
    const pieces = new Map<number, string>();
    for (const d of dirs) {
      assert.equal(
        hex(await lgetxattr(join(d, '.shard'), 'trusted.gfid')),
        SHARD_DIR_GFID,
        `${d}/.shard gfid`,
      );
      for (const name of readdirSync(join(d, '.shard'))) {
        const m = new RegExp(`^${gfidText(gfid)}\\.(\\d+)$`).exec(name);
        if (m) pieces.set(Number(m[1]), d);
      }
    }
    // Stock's shard creates the hole's pieces empty when it reads them (as on stock bricks).
    const holes = [3, 4, 5];
    assert.deepEqual(
      [...pieces.keys()].filter((n) => !holes.includes(n)).sort((a, b) => a - b),
      [1, 2, 6, 7, 8, 9],
      'a piece per written block above 0',
    );
    for (const n of holes.filter((h) => pieces.has(h)))
      assert.equal(
        statSync(join(pieces.get(n)!, '.shard', `${gfidText(gfid)}.${n}`)).size,
        0,
        `hole piece ${n}`,
      );
    assert.ok(new Set(pieces.values()).size >= 2, 'pieces spread over the bricks');
    for (const [n, d] of [...pieces].filter(([n]) => !holes.includes(n))) {
      const piece = readFileSync(join(d, '.shard', `${gfidText(gfid)}.${n}`));
      assert.ok(piece.equals(data.subarray(n * BS, n * BS + piece.length)), `piece ${n} holds its block`);
    }

    // Shrink to 5 MiB + 1: pieces 2 and above go; the size xattr follows.
    const tfd = openSync(image, 'r+');
    ftruncateSync(tfd, BS + MiB + 1);
    closeSync(tfd);
    const left = () =>
      dirs.flatMap((d) => readdirSync(join(d, '.shard')).filter((n) => n.startsWith(gfidText(gfid))));
    assert.deepEqual(left(), [`${gfidText(gfid)}.1`], 'only piece 1 is left');
    assert.equal((await fileSize()).size, BS + MiB + 1);
    assert.ok(readFileSync(image).equals(data.subarray(0, BS + MiB + 1)), 'the shrunk image reads back');

    // Unlink: a marker in /.shard/.remove_me, then the background deletion frees the pieces.
    unlinkSync(image);
    const removeMe = dirs.map((d) => join(d, '.shard', '.remove_me')).filter((p) => existsSync(p));
    assert.ok(removeMe.length > 0, '.remove_me was created');
    for (const p of removeMe) assert.equal(hex(await lgetxattr(p, 'trusted.gfid')), REMOVE_ME_GFID);
    await waitFor('the pieces of the deleted image to go', () => left().length === 0);
    await waitFor('the deletion marker to go', () => removeMe.every((p) => readdirSync(p).length === 0));
    assert.ok(!dirs.some((d) => existsSync(join(d, 'image.raw'))), 'the base file is gone');
  } finally {
    await unmount?.();
    await td.cleanup();
  }
});

test('stock FUSE shard on a glusterts replica 3 group virt volume: every piece and the size xattrs identical on the three bricks; unlink frees them', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const td = await startTestDaemon('127.0.0.28', {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 15_000,
  });
  let unmount: (() => Promise<void>) | undefined;
  try {
    const dirs = ['r0', 'r1', 'r2'].map((n) => td.brickDir(n));
    const v = td.daemon.volumes;
    await v.create('rv', dirs, true, { replica: 3, arbiter: 0 });
    await v.set('rv', 'group', 'virt');
    await v.set('rv', 'features.shard-block-size', '4MB');
    assert.deepEqual((await v.start('rv')).warnings, [], 'every brick signed in');
    const mnt = join(td.data, 'mnt');
    unmount = await mountFuse('127.0.0.28', 'rv', mnt, {
      port: td.daemon.address.port,
      extraArgs: ['--attribute-timeout=0', '--entry-timeout=0'],
    });
    const data = randomBytes(2 * BS + MiB);
    writeFileSync(join(mnt, 'image.raw'), data);
    assert.ok(readFileSync(join(mnt, 'image.raw')).equals(data), 'read back through stock shard + AFR');
    const gfid = await lgetxattr(join(dirs[0]!, 'image.raw'), 'trusted.gfid');
    const sizes = await Promise.all(
      dirs.map((d) => lgetxattr(join(d, 'image.raw'), 'trusted.glusterfs.shard.file-size')),
    );
    assert.equal(Number(sizes[0]!.readBigUInt64BE(0)), data.length, 'logical size');
    for (const s of sizes) assert.ok(s.equals(sizes[0]!), 'file-size identical on every brick');
    for (const n of [1, 2])
      for (const d of dirs)
        assert.ok(
          readFileSync(join(d, '.shard', `${gfidText(gfid)}.${n}`)).equals(
            data.subarray(n * BS, Math.min(data.length, (n + 1) * BS)),
          ),
          `piece ${n} on ${d}`,
        );
    unlinkSync(join(mnt, 'image.raw'));
    const left = () =>
      dirs.flatMap((d) => readdirSync(join(d, '.shard')).filter((n) => n.startsWith(gfidText(gfid))));
    await waitFor('the pieces of the deleted image to go from every brick', () => left().length === 0);
  } finally {
    await unmount?.();
    await td.cleanup();
  }
});
