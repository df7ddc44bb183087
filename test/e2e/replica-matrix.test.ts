// The interop matrix of issue 10: {stock FUSE, fio gfapi, qemu-io, TS client} × {glusterts
// replica 3, glusterts replica 3 arbiter 1, stock 10.3 replica 3}. Each client writes and
// verifies its own file; the FUSE client also reads back what the TS client wrote. On the
// glusterts volumes the data bricks then hold identical bytes and the arbiter brick the same
// names with no data.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import {
  mountFuse,
  requirePeer,
  runCommand,
  startGlustertsDaemon,
  startStockGluster,
  type RunningDaemon,
  type StockGluster,
} from '../../src/peers/index.js';
import { prng } from '../support/fsx.js';

const GTS_HOST = '127.0.0.62';
const work = mkdtempSync(join('/var/tmp', 'glusterts-matrix-'));
let daemon: RunningDaemon | undefined;
let stock: StockGluster | undefined;
after(async () => {
  await daemon?.stop();
  await stock?.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync('/tmp/fio_gfapi.log', { force: true });
});

function data(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Target {
  name: string;
  host: string;
  volume: string;
  /** Data bricks and the arbiter brick (glusterts volumes only), for the on-brick checks. */
  bricks?: { data: string[]; arbiter?: string };
}

async function tsClient(t: Target): Promise<Buffer> {
  const v = await Volume.connect({ volume: t.volume, servers: [{ host: t.host }], timeoutMs: 30_000 });
  try {
    const bytes = data(2 << 20, 7);
    const f = await v.create('/ts.bin', 'w+', 0o644);
    await f.pwrite(bytes, 0);
    await f.fsync();
    await f.close();
    const g = await v.open('/ts.bin', 'r');
    assert.ok((await g.pread(bytes.length, 0)).equals(bytes), `${t.name}: TS client reads back its write`);
    await g.close();
    // An image for qemu-io.
    const q = await v.create('/q.img', 'w+', 0o644);
    await q.ftruncate(4 << 20);
    await q.close();
    return bytes;
  } finally {
    await v.close();
  }
}

async function fioGfapi(t: Target): Promise<void> {
  const dir = mkdtempSync(join(work, 'fio-'));
  const job = join(dir, 'verify.fio');
  writeFileSync(
    job,
    `[global]
ioengine=gfapi
volume=${t.volume}
brick=${t.host}
thread
single-instance=1
direct=1
verify_state_save=0
size=4M
numjobs=2
verify=crc32c
verify_fatal=1

[seq]
rw=write
bs=64k
filename_format=fio.seq.$jobnum

[rand]
rw=randwrite
bs=4k
filename_format=fio.rand.$jobnum
`,
  );
  const r = await runCommand('fio', ['--output-format=json', job], 240_000);
  assert.equal(r.code, 0, `${t.name}: fio exit ${r.code}: ${r.stderr.slice(-2000)}`);
  const jobs = (
    JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      jobs: { error: number; write: { io_bytes: number } }[];
    }
  ).jobs;
  assert.equal(jobs.length, 4);
  for (const j of jobs) {
    assert.equal(j.error, 0, `${t.name}: fio job error`);
    assert.equal(j.write.io_bytes, 4 << 20);
  }
}

async function qemuIo(t: Target): Promise<void> {
  const r = await runCommand(
    'qemu-io',
    [
      '-f',
      'raw',
      '-t',
      'none',
      '-c',
      'write -P 0x5a 0 1M',
      '-c',
      'write -P 0xa5 2M 512k',
      '-c',
      'flush',
      '-c',
      'read -P 0x5a 0 1M',
      '-c',
      'read -P 0xa5 2M 512k',
      '-c',
      'read -P 0 1M 1M',
      `gluster://${t.host}/${t.volume}/q.img`,
    ],
    120_000,
  );
  assert.equal(r.code, 0, `${t.name}: qemu-io: ${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout, /Pattern verification failed|error/i, `${t.name}: ${r.stdout}`);
  assert.equal((r.stdout.match(/^read \d+\/\d+ bytes/gm) ?? []).length, 3, `${t.name}: ${r.stdout}`);
}

async function fuse(t: Target, fromTs: Buffer): Promise<void> {
  const mp = join(work, `mnt-${t.name}`);
  const unmount = await mountFuse(t.host, t.volume, mp, { extraArgs: ['--direct-io-mode=enable'] });
  try {
    assert.equal(
      sha(readFileSync(join(mp, 'ts.bin'))),
      sha(fromTs),
      `${t.name}: FUSE reads what the TS client wrote`,
    );
    const mine = data(1 << 20, 9);
    writeFileSync(join(mp, 'fuse.bin'), mine);
    assert.ok(readFileSync(join(mp, 'fuse.bin')).equals(mine), `${t.name}: FUSE reads back its write`);
  } finally {
    await unmount();
  }
}

function onBricks(t: Target): void {
  if (!t.bricks) return;
  for (const name of ['ts.bin', 'fuse.bin', 'q.img', 'fio.seq.0', 'fio.rand.1']) {
    const copies = t.bricks.data.map((b) => readFileSync(join(b, name)));
    for (const c of copies)
      assert.ok(c.equals(copies[0]!), `${t.name}: ${name} identical on every data brick`);
    if (t.bricks.arbiter) {
      const size: number = statSync(join(t.bricks.arbiter, name)).size;
      assert.equal(size, 0, `${t.name}: the arbiter holds ${name} without data`);
    }
  }
}

async function matrix(t: Target): Promise<void> {
  const fromTs = await tsClient(t);
  await fioGfapi(t);
  await qemuIo(t);
  await fuse(t, fromTs);
  onBricks(t);
}

test('interop matrix: stock FUSE, fio gfapi, qemu-io and the TS client on glusterts and stock replica volumes', async (t) => {
  if (!requirePeer(['glusterd', 'glusterfs', 'fio', 'qemu-io'], t)) return;
  daemon = await startGlustertsDaemon({ host: GTS_HOST });
  const bricks = (vol: string) => [0, 1, 2].map((i) => join(daemon!.data, 'bricks', `${vol}-${i}`));
  for (const [vol, arbiter] of [
    ['r3', false],
    ['ra', true],
  ] as const) {
    await daemon.volume(
      'create',
      vol,
      'replica',
      '3',
      ...(arbiter ? ['arbiter', '1'] : []),
      ...bricks(vol).map((b) => `${GTS_HOST}:${b}`),
      'force',
    );
    await daemon.volume('start', vol);
  }
  stock = await startStockGluster({ volume: 'sr3', bricks: 3, replica: 3 });

  await t.test('glusterts replica 3', () =>
    matrix({ name: 'r3', host: GTS_HOST, volume: 'r3', bricks: { data: bricks('r3') } }),
  );
  await t.test('glusterts replica 3 arbiter 1', () =>
    matrix({
      name: 'ra',
      host: GTS_HOST,
      volume: 'ra',
      bricks: { data: bricks('ra').slice(0, 2), arbiter: bricks('ra')[2]! },
    }),
  );
  await t.test('stock 10.3 replica 3', () =>
    matrix({ name: 'sr3', host: stock!.host, volume: 'sr3', bricks: { data: stock!.brickPaths } }),
  );
});
