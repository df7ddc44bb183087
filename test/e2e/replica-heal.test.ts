// The self-heal daemon end to end: a glusterts replica 3 volume made with the CLI, so the
// management daemon runs its bricks and its shd; a brick is SIGKILLed while the TS client
// writes (an image rewritten in places, a new file), the daemon restarts it, the shd heals
// on its own; the bricks end byte-identical and `volume heal NAME info` shows 0 entries.
import { test, after } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gfidToString } from '../../src/protocol/gfid.js';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { startGlustertsDaemon, type RunningDaemon } from '../../src/peers/index.js';
import { lgetxattr, lsetxattr } from '../../src/sys/index.js';
import { encodeCounters } from '../../src/xlators/replicate/index.js';
import { prng } from '../support/fsx.js';

const HOST = '127.0.0.63';
const work = mkdtempSync(join('/var/tmp', 'glusterts-heal-e2e-'));
let daemon: RunningDaemon | undefined;
after(async () => {
  await daemon?.stop();
  rmSync(work, { recursive: true, force: true });
});

const bytes = (n: number, seed: number) => {
  const rand = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function brickPid(status: string, path: string): number {
  // The label line, and its columns on the next line when the label is long (as gluster prints).
  const lines = status.split('\n');
  const i = lines.findIndex((l) => l.startsWith('Brick ') && l.includes(path));
  const row = lines[i]!.trim().split(/\s+/).length > 2 ? lines[i]! : `${lines[i]} ${lines[i + 1]}`;
  const pid = Number(/\s(\d+)\s*$/.exec(row)?.[1]);
  assert.ok(pid > 0, `pid of ${path} in:\n${status}`);
  return pid;
}

test('a brick SIGKILLed during writes comes back and the shd heals it; heal info shows 0 entries', async () => {
  daemon = await startGlustertsDaemon({ host: HOST });
  const server = `${HOST}:${daemon.port}`;
  const bricks = [0, 1, 2].map((i) => join(work, `b${i}`));
  await daemon.volume('create', 'hv', 'replica', '3', ...bricks.map((b) => `${HOST}:${b}`), 'force');
  await daemon.volume('start', 'hv');
  const v = await Volume.connect({ volume: 'hv', servers: [{ host: HOST, port: daemon.port }] });
  try {
    const f = await v.create('/vm.img', 'w+', 0o644);
    await f.pwrite(bytes(1 << 20, 1), 0);
    await f.fsync();
    process.kill(brickPid(await daemon.volume('status', 'hv'), bricks[2]!), 'SIGKILL');
    const rand = prng(5);
    for (let k = 0; k < 40; k++) {
      await f.pwrite(bytes(4096, 10 + k), Math.floor(rand() * 256) * 4096);
      await sleep(20);
    }
    await f.close();
    const g = await v.create('/new.bin', 'w', 0o600);
    await g.pwrite(bytes(200_000, 3), 0);
    await g.close();
  } finally {
    await v.close();
  }
  // (The shd may have healed already: the daemon restarts the brick within a second.)
  const shdLog = join(daemon.data, 'logs', 'bricks', 'shd-hv.log');
  // The daemon restarts the brick; the shd crawls as soon as it reconnects.
  let info = '';
  const deadline = Date.now() + 90_000;
  for (;;) {
    info = await daemon.volume('heal', 'hv', 'info', '--server', server).catch((e: Error) => e.message);
    const counts = [...info.matchAll(/Number of entries: (\S+)/g)].map((m) => m[1]);
    const healedSome = existsSync(shdLog) && /healed [1-9]/.test(readFileSync(shdLog, 'utf8'));
    if (counts.length === 3 && counts.every((c) => c === '0') && healedSome) break;
    assert.ok(Date.now() < deadline, `heal did not finish:\n${info}`);
    await sleep(1000);
  }
  for (const b of bricks)
    assert.match(info, new RegExp(`Brick ${HOST}:${b}\\nStatus: Connected\\nNumber of entries: 0\\n`));
  for (const name of ['vm.img', 'new.bin'])
    for (const b of bricks.slice(1))
      assert.ok(
        readFileSync(join(b, name)).equals(readFileSync(join(bricks[0]!, name))),
        `${b}/${name} identical`,
      );
  const count = await daemon.volume('heal', 'hv', 'statistics', 'heal-count', '--server', server);
  assert.match(count, /^Gathering count of entries to be healed on volume hv has been successful \n\nBrick /);
  const summary = await daemon.volume('heal', 'hv', 'info', 'summary', '--server', server);
  assert.match(
    summary,
    /Total Number of entries: 0\nNumber of entries in heal pending: 0\nNumber of entries in split-brain: 0\n/,
  );
  assert.ok(existsSync(join(daemon.data, 'logs', 'bricks', 'shd-hv.log')), 'the daemon runs an shd for hv');
  console.log(
    readFileSync(join(daemon.data, 'logs', 'bricks', 'shd-hv.log'), 'utf8')
      .split('\n')
      .slice(-8)
      .join('\n'),
  );

  // A crafted split-brain: every brick accuses the two others; heal info names it, and the
  // CLI's bigger-file policy resolves it.
  const w = await Volume.connect({ volume: 'hv', servers: [{ host: HOST, port: daemon.port }] });
  try {
    const f = await w.create('/sb.bin', 'w', 0o644);
    await f.pwrite(bytes(1000, 9), 0);
    await f.close();
  } finally {
    await w.close();
  }
  const keys = [0, 1, 2].map((j) => `trusted.afr.hv-client-${j}`);
  for (let i = 0; i < 3; i++) {
    writeFileSync(join(bricks[i]!, 'sb.bin'), Buffer.alloc(1000 + 1000 * i, 0x41 + i));
    for (let j = 0; j < 3; j++)
      if (j !== i) await lsetxattr(join(bricks[i]!, 'sb.bin'), keys[j]!, encodeCounters([1, 0, 0]));
    // What XATTROP would have done in the index: a link named by the gfid to the base file.
    const xattrop = join(bricks[i]!, '.glusterfs', 'indices', 'xattrop');
    let base = readdirSync(xattrop).find((n) => n.startsWith('xattrop-'));
    if (!base) writeFileSync(join(xattrop, (base = `xattrop-${randomUUID()}`)), '', { mode: 0 });
    const gfid = gfidToString(await lgetxattr(join(bricks[i]!, 'sb.bin'), 'trusted.gfid'));
    linkSync(join(xattrop, base), join(xattrop, gfid));
  }
  const sbInfo = await daemon.volume('heal', 'hv', 'info', '--server', server);
  assert.match(sbInfo, /\/sb.bin - Is in split-brain\n/);
  const healedOut = await daemon.volume(
    'heal',
    'hv',
    'split-brain',
    'bigger-file',
    '/sb.bin',
    '--server',
    server,
  );
  assert.match(healedOut, /^Healed \/sb.bin\.\n/);
  for (const b of bricks)
    assert.ok(readFileSync(join(b, 'sb.bin')).equals(Buffer.alloc(3000, 0x43)), `${b}/sb.bin`);
});
