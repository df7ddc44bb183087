// Stock AFR on glusterts bricks: three glusterts brick processes (posix, locks and
// features/index, as stock glusterd's brick volfiles stack them, plus glusterts's
// features/heal-ranges on data bricks as our glusterd writes it; the third with
// features/arbiter in the arbiter case) under the stock FUSE client mounted from a client
// volfile with cluster/replicate over three protocol/client (remote-port), as stock
// glusterd writes it. A verified write/read; then one brick is killed, writes go on, and
// the survivors must hold what stock bricks hold (changelog xattrs, index entries; see
// docs/replication.md); the brick comes back and serves again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lgetxattr } from '../../src/sys/index.js';
import { gfidToString } from '../../src/protocol/gfid.js';
import { killPid, requirePeer, sleep } from '../../src/peers/index.js';

const run = promisify(execFile);
const HOST = '127.0.0.5';
const VOL = 'rv';
const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-replica-'));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  // GLUSTERTS_KEEP=1 keeps bricks and logs (client, shd) for a look afterwards.
  if (process.env.GLUSTERTS_KEEP !== '1') fs.rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
});

function brickVolfile(dir: string, port: number, volumeId: string, arbiter: boolean): string {
  const below = arbiter ? `${VOL}-arbiter` : `${VOL}-posix`;
  return `volume ${VOL}-posix
    type storage/posix
    option volume-id ${volumeId}
    option directory ${dir}
end-volume
${
  arbiter
    ? `volume ${VOL}-arbiter
    type features/arbiter
    subvolumes ${VOL}-posix
end-volume
`
    : ''
}volume ${VOL}-locks
    type features/locks
    option enforce-mandatory-lock off
    subvolumes ${below}
end-volume
${
  arbiter
    ? ''
    : `volume ${VOL}-heal-ranges
    type features/heal-ranges
    option xattrop-pending-watchlist trusted.afr.${VOL}-
    option xattrop-dirty-watchlist trusted.afr.dirty
    option index-base ${dir}/.glusterfs/indices
    subvolumes ${VOL}-locks
end-volume
`
}volume ${VOL}-index
    type features/index
    option xattrop-pending-watchlist trusted.afr.${VOL}-
    option xattrop-dirty-watchlist trusted.afr.dirty
    option index-base ${dir}/.glusterfs/indices
    subvolumes ${arbiter ? `${VOL}-locks` : `${VOL}-heal-ranges`}
end-volume
volume ${dir}
    type debug/io-stats
    option unique-id ${dir}
    option volume-id ${volumeId}
    subvolumes ${VOL}-index
end-volume
volume ${VOL}-server
    type protocol/server
    option transport-type tcp
    option transport.socket.bind-address ${HOST}
    option transport.socket.listen-port ${port}
    option auth.addr.${dir}.allow *
    option auth-path ${dir}
    subvolumes ${dir}
end-volume
`;
}

function clientVolfile(dirs: string[], ports: number[], volumeId: string, arbiter: boolean): string {
  const clients = dirs
    .map(
      (d, i) => `volume ${VOL}-client-${i}
    type protocol/client
    option send-gids true
    option transport-type tcp
    option remote-subvolume ${d}
    option remote-host ${HOST}
    option remote-port ${ports[i]}
    option ping-timeout 42
end-volume
`,
    )
    .join('');
  const names = dirs.map((_, i) => `${VOL}-client-${i}`);
  return `${clients}volume ${VOL}-replicate-0
    type cluster/replicate
    option use-anonymous-inode yes
    option granular-entry-heal on
${arbiter ? '    option arbiter-count 1\n' : ''}    option volume-id ${volumeId}
    option afr-pending-xattr ${names.join(',')}
    option quorum-type auto
    subvolumes ${names.join(' ')}
end-volume
volume ${VOL}-dht
    type cluster/distribute
    subvolumes ${VOL}-replicate-0
end-volume
volume ${VOL}
    type debug/io-stats
    subvolumes ${VOL}-dht
end-volume
`;
}

/** The self-heal daemon's graph, as stock glusterd writes <vol>-shd.vol. */
function shdVolfile(client: string): string {
  return client
    .replace(
      '    option quorum-type auto\n',
      '    option iam-self-heal-daemon yes\n    option self-heal-daemon enable\n' +
        '    option entry-self-heal on\n    option data-self-heal on\n    option metadata-self-heal on\n' +
        '    option background-self-heal-count 0\n',
    )
    .replace(/volume \S+-dht\n[^]*?end-volume\n/, '')
    .replace(`subvolumes ${VOL}-dht`, `subvolumes ${VOL}-replicate-0`);
}

async function startShd(volfile: string, base: string): Promise<number> {
  const pidFile = join(base, 'shd.pid');
  await run('glusterfs', [
    `--volfile=${volfile}`,
    '--process-name',
    'glustershd',
    `--log-file=${join(base, 'shd.log')}`,
    `--pid-file=${pidFile}`,
  ]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim() || '0');
    if (pid) return pid;
    if (Date.now() > deadline) throw new Error('shd did not start');
    await sleep(50);
  }
}

interface Brick {
  dir: string;
  volfile: string;
  proc?: ChildProcess;
}

async function startBrick(b: Brick): Promise<void> {
  const child = spawn(process.execPath, ['dist/src/brick/main.js', '--volfile', b.volfile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  b.proc = child;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`brick ${b.dir} did not start: ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/listening on/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`brick ${b.dir} exited ${code}: ${out}`));
    });
  });
  child.removeAllListeners('exit');
}

function mounted(mnt: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === mnt);
}

async function mountVolfile(volfile: string, mnt: string): Promise<() => Promise<void>> {
  fs.mkdirSync(mnt, { recursive: true });
  const pidFile = `${mnt}.pid`;
  await run('glusterfs', [
    `--volfile=${volfile}`,
    `--log-file=${mnt}.log`,
    `--pid-file=${pidFile}`,
    '--attribute-timeout=0',
    '--entry-timeout=0',
    mnt,
  ]);
  const deadline = Date.now() + 15_000;
  while (!mounted(mnt)) {
    if (Date.now() > deadline) throw new Error(`mount did not appear; see ${mnt}.log`);
    await sleep(50);
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  return async () => {
    if (mounted(mnt)) await run('umount', [mnt]).catch(() => run('umount', ['-l', mnt]));
    await killPid(pid);
  };
}

async function setup(name: string, arbiter: boolean) {
  const volumeId = randomUUID();
  const base = join(work, name);
  const ports = [0, 1, 2].map((i) => 49600 + (arbiter ? 10 : 0) + i);
  const bricks: Brick[] = [0, 1, 2].map((i) => {
    const dir = join(base, `b${i}`);
    fs.mkdirSync(dir, { recursive: true });
    const volfile = join(base, `b${i}.vol`);
    fs.writeFileSync(volfile, brickVolfile(dir, ports[i]!, volumeId, arbiter && i === 2));
    return { dir, volfile };
  });
  for (const b of bricks) {
    await startBrick(b);
    cleanups.push(async () => {
      if (b.proc?.pid) await killPid(b.proc.pid);
    });
  }
  const cv = join(base, 'client.vol');
  fs.writeFileSync(
    cv,
    clientVolfile(
      bricks.map((b) => b.dir),
      ports,
      volumeId,
      arbiter,
    ),
  );
  const mnt = join(base, 'mnt');
  const unmount = await mountVolfile(cv, mnt);
  cleanups.push(unmount);
  return { bricks, mnt, unmount, base, clientVol: cv };
}

const rangesDir = (dir: string) => join(dir, '.glusterfs/indices/ranges');
const hex = (b: Buffer | null) => b?.toString('hex') ?? null;
const xattr = (p: string, k: string) => lgetxattr(p, k).catch(() => null);
const indexNames = (dir: string, kind: string) =>
  fs
    .readdirSync(join(dir, '.glusterfs/indices', kind))
    .filter((n) => !n.startsWith(`${kind}-`))
    .sort();

/** Waits until `check` stops throwing (the client's delayed post-op, reconnects). */
async function eventually(check: () => Promise<void> | void, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(250);
    }
  }
}

test('stock AFR client on three glusterts bricks: verified IO, a brick killed mid-way, changelogs and indices as stock', async (t) => {
  if (!requirePeer(['stock-gluster'], t)) return;
  const { bricks, mnt, base, clientVol } = await setup('r3', false);
  const data = randomBytes(1024 * 1024 + 17);
  fs.mkdirSync(join(mnt, 'd'));
  fs.writeFileSync(join(mnt, 'd/f1'), data);
  assert.ok(fs.readFileSync(join(mnt, 'd/f1')).equals(data), 'read back through FUSE');
  for (const b of bricks) {
    assert.ok(fs.readFileSync(join(b.dir, 'd/f1')).equals(data), `${b.dir}: same bytes`);
  }
  await eventually(() => {
    for (const b of bricks) {
      assert.deepEqual(indexNames(b.dir, 'dirty'), [], `${b.dir}: nothing in flight`);
      assert.deepEqual(indexNames(b.dir, 'xattrop'), []);
    }
  });
  for (const b of bricks) {
    assert.equal(hex(await xattr(join(b.dir, 'd/f1'), 'trusted.afr.dirty')), '000000000000000000000000');
    assert.equal(
      await xattr(join(b.dir, 'd/f1'), `trusted.afr.${VOL}-client-2`),
      null,
      'zero pending never created',
    );
  }

  // Kill r3; create and write d/f2 while it is down.
  await killPid(bricks[2]!.proc!.pid!, 0);
  await sleep(500);
  const more = randomBytes(64 * 1024);
  fs.writeFileSync(join(mnt, 'd/f2'), more);
  assert.ok(fs.readFileSync(join(mnt, 'd/f2')).equals(more));
  const f2gfid = (await lgetxattr(join(bricks[0]!.dir, 'd/f2'), 'trusted.gfid'))!;
  const dgfid = (await lgetxattr(join(bricks[0]!.dir, 'd'), 'trusted.gfid'))!;
  await eventually(async () => {
    for (const b of bricks.slice(0, 2)) {
      // §2.1: new-entry marking (data 1 + metadata 1) plus the write's data 1; the parent gets entry 1.
      assert.equal(
        hex(await xattr(join(b.dir, 'd/f2'), `trusted.afr.${VOL}-client-2`)),
        '000000020000000100000000',
      );
      assert.equal(
        hex(await xattr(join(b.dir, 'd'), `trusted.afr.${VOL}-client-2`)),
        '000000000000000000000001',
      );
      assert.deepEqual(indexNames(b.dir, 'xattrop'), [gfidToString(dgfid), gfidToString(f2gfid)].sort());
      assert.deepEqual(fs.readdirSync(join(b.dir, '.glusterfs/indices/entry-changes', gfidToString(dgfid))), [
        'f2',
      ]);
      assert.deepEqual(indexNames(b.dir, 'dirty'), []);
      // features/heal-ranges kept a record from stock's own pre-op/post-op (written to disk
      // when f2 entered xattrop/).
      assert.ok(fs.readdirSync(rangesDir(b.dir)).includes(gfidToString(f2gfid)), `${b.dir}: f2 has a record`);
    }
  });
  assert.equal(fs.existsSync(join(bricks[2]!.dir, 'd/f2')), false, 'the dead brick missed it');

  // r3 returns (same port); the client reconnects and IO goes on.
  await startBrick(bricks[2]!);
  let n = 0;
  await eventually(() => {
    // A new name each time: one created before the reconnect would need a heal to get there.
    const name = `after-${n++}.txt`;
    fs.writeFileSync(join(mnt, name), 'back');
    assert.equal(fs.readFileSync(join(bricks[2]!.dir, name), 'utf8'), 'back');
  }, 30_000);

  // The stock self-heal daemon heals the returned brick from the survivors' indices.
  const shdVol = join(base, 'shd.vol');
  fs.writeFileSync(shdVol, shdVolfile(fs.readFileSync(clientVol, 'utf8')));
  const shd = await startShd(shdVol, base);
  cleanups.push(() => killPid(shd));
  await eventually(async () => {
    assert.ok(fs.readFileSync(join(bricks[2]!.dir, 'd/f2')).equals(more), 'f2 healed onto r3');
    for (const b of bricks) {
      assert.equal(
        hex((await xattr(join(b.dir, 'd/f2'), `trusted.afr.${VOL}-client-2`)) ?? Buffer.alloc(12)),
        '000000000000000000000000',
      );
      assert.equal(
        hex((await xattr(join(b.dir, 'd'), `trusted.afr.${VOL}-client-2`)) ?? Buffer.alloc(12)),
        '000000000000000000000000',
      );
      assert.deepEqual(indexNames(b.dir, 'xattrop'), [], `${b.dir}: index empty`);
      // Stock's shd zeroed the counters: the records went with them.
      assert.deepEqual(fs.readdirSync(rangesDir(b.dir)), [], `${b.dir}: no changed-range record left`);
      assert.deepEqual(
        fs
          .readdirSync(join(b.dir, '.glusterfs/indices/entry-changes'))
          .filter((n) => !n.startsWith('entry-changes-')),
        [],
      );
    }
    assert.deepEqual(await lgetxattr(join(bricks[2]!.dir, 'd/f2'), 'trusted.gfid'), f2gfid);
  }, 90_000);
});

test('stock AFR client on a glusterts arbiter set: data on two bricks, names/metadata/changelogs only on the arbiter', async (t) => {
  if (!requirePeer(['stock-gluster'], t)) return;
  const { bricks, mnt, base, clientVol } = await setup('arb', true);
  const data = randomBytes(300 * 1024);
  fs.mkdirSync(join(mnt, 'd'));
  fs.writeFileSync(join(mnt, 'd/f1'), data);
  fs.chmodSync(join(mnt, 'd/f1'), 0o600);
  await run('setfattr', ['-n', 'user.x', '-v', 'hello', join(mnt, 'd/f1')]);
  assert.ok(fs.readFileSync(join(mnt, 'd/f1')).equals(data));
  for (const b of bricks.slice(0, 2)) assert.ok(fs.readFileSync(join(b.dir, 'd/f1')).equals(data));
  const arb = join(bricks[2]!.dir, 'd/f1');
  assert.equal(fs.statSync(arb).size, 0, 'the arbiter keeps no data');
  assert.equal(fs.statSync(arb).mode & 0o777, 0o600);
  assert.equal((await lgetxattr(arb, 'user.x')).toString(), 'hello');
  assert.deepEqual(
    await lgetxattr(arb, 'trusted.gfid'),
    await lgetxattr(join(bricks[0]!.dir, 'd/f1'), 'trusted.gfid'),
  );
  await eventually(async () => {
    assert.equal(hex(await xattr(arb, 'trusted.afr.dirty')), '000000000000000000000000');
  });

  // A data brick dies; writes go on with the other data brick and the arbiter.
  await killPid(bricks[1]!.proc!.pid!, 0);
  await sleep(500);
  const more = randomBytes(200 * 1024);
  const fh = fs.openSync(join(mnt, 'd/f1'), 'r+');
  fs.writeSync(fh, more, 0, more.length, 4096);
  fs.closeSync(fh);
  fs.writeFileSync(join(mnt, 'd/new'), more);
  const expected = Buffer.from(data);
  more.copy(expected, 4096);
  assert.ok(fs.readFileSync(join(mnt, 'd/f1')).equals(expected));
  await eventually(async () => {
    // The arbiter blames the dead data brick like a data brick does.
    assert.equal(hex(await xattr(arb, `trusted.afr.${VOL}-client-1`)), '000000010000000000000000');
    assert.equal(
      hex(await xattr(join(bricks[0]!.dir, 'd/f1'), `trusted.afr.${VOL}-client-1`)),
      '000000010000000000000000',
    );
    assert.equal(indexNames(bricks[2]!.dir, 'xattrop').length, 3, 'the arbiter indexes d, f1 and new');
  });
  assert.equal(fs.statSync(join(bricks[2]!.dir, 'd/new')).size, 0);

  // The brick returns and the stock self-heal daemon heals it from the good data brick.
  await startBrick(bricks[1]!);
  const shdVol = join(base, 'shd.vol');
  fs.writeFileSync(shdVol, shdVolfile(fs.readFileSync(clientVol, 'utf8')));
  const shd = await startShd(shdVol, base);
  cleanups.push(() => killPid(shd));
  await eventually(async () => {
    assert.ok(fs.readFileSync(join(bricks[1]!.dir, 'd/f1')).equals(expected), 'f1 healed');
    assert.ok(fs.readFileSync(join(bricks[1]!.dir, 'd/new')).equals(more), 'new healed');
    for (const b of bricks) {
      assert.deepEqual(indexNames(b.dir, 'xattrop'), [], `${b.dir}: index empty`);
      assert.equal(
        hex((await xattr(join(b.dir, 'd/f1'), `trusted.afr.${VOL}-client-1`)) ?? Buffer.alloc(12)),
        '000000000000000000000000',
      );
    }
    assert.equal(fs.statSync(join(bricks[2]!.dir, 'd/f1')).size, 0, 'the arbiter still holds no data');
  }, 90_000);
});
