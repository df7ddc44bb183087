// A brick process dies (SIGKILL) under live stock clients of `glusterts up`:
// - the daemon starts it again (a new PID, `volume status` Online, its pid file);
// - the stock FUSE client reconnects on its own (protocol/client retries every 3 s) and
//   re-opens its fds by gfid (docs/wire-format.md, fds): a file opened before the kill is
//   read and written again through the same fd; new files can be written;
// - nothing fsync'd before the kill is lost;
// - a qemu-io process (QEMU's gluster driver over libgfapi) keeps its image open across
//   the kill. What QEMU does: a read issued while the brick is away fails at once with
//   "Transport endpoint is not connected" (QEMU's gluster driver passes the errno up and
//   does not retry; a guest sees an I/O error, or pauses with rerror=stop); once the
//   client has reconnected, the same open image reads and writes again and a flush
//   succeeds, without reopening anything.
//   Not asserted: a write issued during the outage. write-behind acknowledges it at once
//   and retries it after the reconnect (QEMU turns on resync-failed-syncs-after-fsync),
//   but a read or flush that overlaps it before the retry lands fails with the write's
//   error, and a failed flush makes QEMU close the image, so its outcome depends on timing.
//
// The FUSE mount uses --direct-io-mode=enable so reads reach the brick instead of the
// kernel's page cache: a read through the old fd proves the re-open, not the cache.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GLUSTERTS_CLI as CLI,
  glusterUri,
  killPid,
  mountFuse,
  requirePeer,
  sleep,
  startGlusterts,
  type RunningGlusterts,
} from '../../src/peers/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const KiB64 = 64 * 1024;

const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-restart-'));
let g: RunningGlusterts | undefined;
let unmount: (() => Promise<void>) | undefined;
let qemu: QemuIo | undefined;
let held: number | undefined;

after(async () => {
  if (held !== undefined) fs.closeSync(held);
  await qemu?.kill();
  await unmount?.();
  await g?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The brick's line in `glusterts volume status`: its PID and Online column. */
async function brickStatus(gl: RunningGlusterts): Promise<{ online: boolean; pid: number }> {
  const { stdout } = await run(process.execPath, [CLI, 'volume', 'status', gl.volume, '--data', gl.data]);
  // "Brick HOST:/path  PORT  0  Y  PID"; a long path gets a line of its own and the
  // columns follow on the next line, as in the gluster CLI.
  const m = /^Brick \S+(?:\s*\n)?\s+(?:\d+|N\/A)\s+0\s+([YN])\s+(\d+|N\/A)\s*$/m.exec(stdout);
  assert.ok(m, `a brick line in:\n${stdout}`);
  return { online: m[1] === 'Y', pid: Number(m[2]) || 0 };
}

/** The pid the daemon recorded for the brick (DATA/logs/bricks/<dashed path>.pid). */
function pidFile(gl: RunningGlusterts): number {
  const name = gl.brickDir.replace(/^\/+/, '').replace(/\//g, '-') + '.pid';
  return Number(fs.readFileSync(join(gl.data, 'logs', 'bricks', name), 'utf8').trim()) || 0;
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

/** An interactive qemu-io: one command at a time, its output up to the next prompt. */
class QemuIo {
  private out = '';
  private readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => (this.out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.out += c.toString()));
    this.exited = new Promise((ok) => child.once('exit', (code) => ok(code)));
  }

  static async open(uri: string): Promise<QemuIo> {
    const q = new QemuIo(
      spawn('qemu-io', ['-f', 'raw', '-t', 'none', uri], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    await q.untilPrompt(0, 60_000);
    return q;
  }

  private async untilPrompt(from: number, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!/qemu-io> $/.test(this.out.slice(from))) {
      if (this.child.exitCode !== null) throw new Error(`qemu-io exited:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`qemu-io gave no prompt:\n${this.out.slice(from)}`);
      await sleep(10);
    }
    // libgfapi's own log lines ("[date] I [...]") are not qemu-io's answer.
    return this.out
      .slice(from)
      .split('\n')
      .filter((l) => !/^\[\d{4}-.*\] [TDIWEC] \[/.test(l) && l !== 'qemu-io> ')
      .join('\n')
      .replace(/qemu-io> $/, '')
      .trim();
  }

  async cmd(line: string, timeoutMs = 30_000): Promise<string> {
    const from = this.out.length;
    this.child.stdin!.write(line + '\n');
    return this.untilPrompt(from, timeoutMs);
  }

  /** quit; resolves the exit code (libgfapi's glfs_fini takes ~10 s). */
  async quit(): Promise<number | null> {
    this.child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async kill(): Promise<void> {
    if (this.child.pid && this.child.exitCode === null && this.child.signalCode === null)
      await killPid(this.child.pid, 2000);
  }
}

test('SIGKILL of the brick: the daemon restarts it; FUSE re-opens its fds, fsync’d data survives, qemu-io recovers', async (t) => {
  if (!requirePeer(['stock-gluster', 'qemu-gluster'], t)) return;
  g = await startGlusterts({ host: '127.0.0.7' });
  const mnt = join(work, 'mnt');
  unmount = await mountFuse(g.host, g.volume, mnt, { extraArgs: ['--direct-io-mode=enable'] });
  const brick = g.brickDir;

  // Before the kill: fsync'd writes through FUSE, one fd kept open, a qemu-io image.
  const synced = randomBytes(MiB);
  const sfd = fs.openSync(join(mnt, 'synced.bin'), 'w');
  fs.writeSync(sfd, synced);
  fs.fsyncSync(sfd);
  fs.closeSync(sfd);
  const first = randomBytes(MiB);
  held = fs.openSync(join(mnt, 'held.bin'), 'w+');
  fs.writeSync(held, first, 0, first.length, 0);
  fs.fsyncSync(held);
  fs.writeFileSync(join(mnt, 'qio.raw'), Buffer.alloc(MiB));
  qemu = await QemuIo.open(glusterUri(g, 'qio.raw'));
  assert.match(await qemu.cmd('write -P 0x11 0 64k'), /wrote 65536\/65536 bytes at offset 0/);
  assert.equal(await qemu.cmd('flush'), '');

  const before = await brickStatus(g);
  assert.ok(before.online && before.pid > 0, 'brick online before the kill');
  assert.equal(pidFile(g), before.pid, 'the pid file names the same process');
  process.kill(before.pid, 'SIGKILL');
  const killedAt = Date.now();
  while (!gone(before.pid)) {
    assert.ok(Date.now() - killedAt < 5000, 'the brick dies');
    await sleep(10);
  }

  // While the brick is away (the client waits 3 s before reconnecting): QEMU gets the error.
  assert.match(await qemu.cmd('read -P 0x11 0 64k'), /^read failed: Transport endpoint is not connected$/);
  assert.ok(Date.now() - killedAt < 2500, 'the outage read went out before any reconnect');

  // The daemon restarts the brick.
  let after_ = { online: false, pid: 0 };
  while (!(after_.online && after_.pid !== before.pid)) {
    assert.ok(Date.now() - killedAt < 15_000, `the daemon restarts the brick (${JSON.stringify(after_)})`);
    await sleep(100);
    after_ = await brickStatus(g);
  }
  assert.equal(pidFile(g), after_.pid);
  assert.ok(!gone(after_.pid), 'the new brick process runs');
  const restartedAt = Date.now();

  // FUSE: the fd opened before the kill reads again once the client has reconnected.
  const page = Buffer.alloc(4096);
  for (;;) {
    try {
      assert.equal(fs.readSync(held, page, 0, page.length, 0), page.length);
      break;
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOTCONN', String(e));
      assert.ok(Date.now() - restartedAt < 15_000, 'the FUSE client reconnects within 15 s');
      await sleep(200);
    }
  }
  assert.ok(page.equals(first.subarray(0, page.length)), 'the old fd reads the old bytes');
  const log = fs.readFileSync(`${mnt}.log`, 'utf8');
  assert.match(log, /fds open - Delaying child_up until they are re-opened/);
  assert.match(log, /last fd open'd - notifying CHILD_UP/);

  // …and writes; new files work too.
  const second = randomBytes(MiB);
  assert.equal(fs.writeSync(held, second, 0, second.length, MiB), MiB);
  fs.fsyncSync(held);
  fs.closeSync(held);
  held = undefined;
  fs.writeFileSync(join(mnt, 'after.txt'), 'written after the restart\n');

  // qemu-io: the same open image works again (its fd was re-opened by protocol/client too).
  for (;;) {
    const r = await qemu.cmd('read -P 0x11 0 64k');
    if (/^read 65536\/65536 bytes at offset 0/.test(r)) break;
    assert.match(r, /read failed: Transport endpoint is not connected/);
    assert.ok(Date.now() - restartedAt < 15_000, 'qemu-io reads again within 15 s');
    await sleep(200);
  }
  assert.match(await qemu.cmd('write -P 0x33 128k 64k'), /wrote 65536\/65536 bytes at offset 131072/);
  assert.equal(await qemu.cmd('flush'), '', 'flush succeeds');
  assert.match(await qemu.cmd('read -P 0x33 128k 64k'), /read 65536\/65536 bytes at offset 131072/);
  await qemu.quit(); // exit status 1: one command failed
  qemu = undefined;

  // Nothing acknowledged is lost: on the brick and through the mount.
  assert.ok(fs.readFileSync(join(brick, 'synced.bin')).equals(synced), 'synced.bin on the brick');
  assert.ok(fs.readFileSync(join(mnt, 'synced.bin')).equals(synced), 'synced.bin through FUSE');
  const heldNow = fs.readFileSync(join(brick, 'held.bin'));
  assert.ok(heldNow.equals(Buffer.concat([first, second])), 'held.bin: bytes from before and after');
  assert.equal(fs.readFileSync(join(mnt, 'after.txt'), 'utf8'), 'written after the restart\n');
  const image = fs.readFileSync(join(brick, 'qio.raw'));
  assert.ok(
    image.subarray(0, KiB64).every((b) => b === 0x11),
    'qemu-io data flushed before the kill',
  );
  assert.ok(image.subarray(KiB64, 2 * KiB64).every((b) => b === 0));
  assert.ok(
    image.subarray(2 * KiB64, 3 * KiB64).every((b) => b === 0x33),
    'qemu-io data after the restart',
  );
});
