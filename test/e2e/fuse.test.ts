// The stock glusterfs FUSE client mounts a glusterts volume; ordinary tools work through
// it, and the same bytes are visible on the brick and through QEMU's gluster driver.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  glusterUri,
  mountFuse,
  requirePeer,
  startGlusterts,
  type RunningGlusterts,
} from '../../src/peers/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
let g: RunningGlusterts | undefined;
let unmount: (() => Promise<void>) | undefined;
const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-fuse-'));

after(async () => {
  await unmount?.();
  await g?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('stock FUSE client on a glusterts volume: cp, dd direct, ls, mkdir, rename, unlink, symlink, xattrs, truncate, fallocate', async (t) => {
  if (!requirePeer(['stock-gluster', 'setfattr', 'fallocate'], t)) return;
  g = await startGlusterts({ host: '127.0.0.4' });
  const mnt = join(work, 'mnt');
  unmount = await mountFuse(g.host, g.volume, mnt, {
    extraArgs: ['--attribute-timeout=0', '--entry-timeout=0'],
  });
  const brick = g.brickDir;

  // cp a local file in, and compare on the brick.
  const local = join(work, 'local.bin');
  fs.writeFileSync(local, randomBytes(3 * MiB + 123));
  await run('cp', [local, join(mnt, 'copied.bin')]);
  assert.ok(
    fs.readFileSync(join(brick, 'copied.bin')).equals(fs.readFileSync(local)),
    'cp: same bytes on the brick',
  );

  // dd with O_DIRECT.
  await run('dd', [
    `if=${local}`,
    `of=${join(mnt, 'direct.bin')}`,
    'bs=1M',
    'count=3',
    'oflag=direct',
    'status=none',
  ]);
  assert.ok(fs.readFileSync(join(brick, 'direct.bin')).equals(fs.readFileSync(local).subarray(0, 3 * MiB)));

  // mkdir, nested files, ls -l.
  fs.mkdirSync(join(mnt, 'dir/sub'), { recursive: true });
  fs.writeFileSync(join(mnt, 'dir/sub/note.txt'), 'hello\n');
  const { stdout: ls } = await run('ls', ['-l', join(mnt, 'dir/sub')]);
  assert.match(ls, /-rw-r--r-- 1 root root 6 .* note\.txt/);
  assert.equal(fs.readFileSync(join(brick, 'dir/sub/note.txt'), 'utf8'), 'hello\n');

  // rename, link count, unlink.
  fs.renameSync(join(mnt, 'dir/sub/note.txt'), join(mnt, 'dir/renamed.txt'));
  assert.ok(!fs.existsSync(join(brick, 'dir/sub/note.txt')));
  assert.equal(fs.readFileSync(join(brick, 'dir/renamed.txt'), 'utf8'), 'hello\n');
  fs.unlinkSync(join(mnt, 'dir/renamed.txt'));
  assert.ok(!fs.existsSync(join(brick, 'dir/renamed.txt')));
  fs.rmdirSync(join(mnt, 'dir/sub'));

  // symlinks are stored, never followed by the brick.
  fs.symlinkSync('../copied.bin', join(mnt, 'dir/link'));
  assert.equal(fs.readlinkSync(join(mnt, 'dir/link')), '../copied.bin');
  assert.equal(fs.readlinkSync(join(brick, 'dir/link')), '../copied.bin');
  assert.equal(fs.readFileSync(join(mnt, 'dir/link')).length, 3 * MiB + 123);

  // user xattrs.
  await run('setfattr', ['-n', 'user.colour', '-v', 'blue', join(mnt, 'copied.bin')]);
  const { stdout: attr } = await run('getfattr', [
    '-n',
    'user.colour',
    '--only-values',
    join(mnt, 'copied.bin'),
  ]);
  assert.equal(attr, 'blue');
  const { stdout: onBrick } = await run('getfattr', [
    '-n',
    'user.colour',
    '--only-values',
    join(brick, 'copied.bin'),
  ]);
  assert.equal(onBrick, 'blue');

  // truncate and fallocate.
  fs.truncateSync(join(mnt, 'copied.bin'), MiB);
  assert.equal(fs.statSync(join(brick, 'copied.bin')).size, MiB);
  await run('fallocate', ['-l', '5M', join(mnt, 'falloc.bin')]);
  assert.equal(fs.statSync(join(brick, 'falloc.bin')).size, 5 * MiB);
  assert.ok(fs.statSync(join(brick, 'falloc.bin')).blocks * 512 >= 5 * MiB, 'space is allocated');
  await run('fallocate', ['-p', '-o', '0', '-l', '1M', join(mnt, 'direct.bin')]);
  assert.ok(
    fs.readFileSync(join(brick, 'direct.bin')).subarray(0, MiB).equals(Buffer.alloc(MiB)),
    'punched hole reads zeros',
  );
});

test('bytes written through FUSE read back identically through QEMU’s gluster driver', async (t) => {
  if (!requirePeer('qemu-gluster', t) || !g) return;
  const out = join(work, 'via-qemu.raw');
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', glusterUri(g, 'direct.bin'), out], {
    timeout: 120_000,
  });
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(join(g.brickDir, 'direct.bin'))));
});
