// Two of three bricks down, client quorum auto: on a glusterts replica 3 volume and, as the
// reference, on a stock 10.3 replica 3 volume, the same probes (the TS client with an fd
// opened before the fault, qemu-io and fio's gfapi engine through stock libgfapi) write and
// read healthy data. Every write must fail, with stock's errno (the stock clients on the stock
// volume say which), never succeed silently; reads do what stock does. When the bricks return,
// what was acknowledged before is intact, writes work again on the old fd, and heal ends.
//
// glusterts restarts a killed brick (stock leaves it down until `volume start NAME force`), so
// a glusterts brick is kept down by moving its directory away: its restarts fail until it is
// moved back and `volume start NAME force` starts it at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { GlusterError, Volume } from '../../src/client/index.js';
import {
  requirePeer,
  runCommand,
  sleep,
  startGlustertsDaemon,
  startStockGluster,
  mountFuse,
  type RunningDaemon,
  type StockGluster,
} from '../../src/peers/index.js';
import { assertConverged, brickPid, healInfoZero, indexEntries } from '../support/replica-peers.js';

const HOST = '127.0.0.65';
const STOCK_HOST = '127.0.0.2';
const PING_TIMEOUT_S = 4;
const SIZE = 256 << 10;
const work = mkdtempSync(join('/var/tmp', 'glusterts-two-down-'));
let daemon: RunningDaemon | undefined;
let stock: StockGluster | undefined;
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  await stock?.stop();
  await daemon?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A replicated volume under test, and how to take a brick down and bring them all back. */
interface Target {
  name: string;
  host: string;
  volume: string;
  bricks: string[];
  takeDown(i: number): Promise<void>;
  bringBack(): Promise<void>;
  /** Resolves once the bricks agree again (heal ended); returns the ms it took. */
  healed(): Promise<number>;
}

const ERRNO_TEXT: Record<string, string> = {
  'Transport endpoint is not connected': 'ENOTCONN',
  'Read-only file system': 'EROFS',
  'Input/output error': 'EIO',
  'No such file or directory': 'ENOENT',
  'Permission denied': 'EACCES',
  'Stale file handle': 'ESTALE',
};

/** What a stock tool's run came to: 'ok', the errno it printed, the step that failed, or its last words. */
function outcomeOf(r: { code: number; stdout: string; stderr: string }): string {
  const text = `${r.stdout}\n${r.stderr}`;
  for (const [message, name] of Object.entries(ERRNO_TEXT)) if (text.includes(message)) return name;
  // libgfapi's glfs_init fails when no replica set has quorum: the tools never get to the IO.
  if (/qemu-io: can't open device/.test(text)) return 'cannot open (glfs_init failed)';
  if (/glfs_init failed/.test(text)) return 'cannot open (glfs_init failed)';
  if (r.code === 0 && !/fail|error/i.test(text)) return 'ok';
  return `exit ${r.code}: ${text.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`;
}

async function tsOutcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof GlusterError || (e as NodeJS.ErrnoException).code
      ? String((e as NodeJS.ErrnoException).code)
      : String(e);
  }
}

const qemuIo = (t: Target, cmd: string, readOnly: boolean) =>
  runCommand(
    'qemu-io',
    ['-f', 'raw', ...(readOnly ? ['-r'] : []), '-c', cmd, `gluster://${t.host}/${t.volume}/healthy.bin`],
    120_000,
  ).then(outcomeOf);

function fioGfapi(t: Target, rw: 'write' | 'read'): Promise<string> {
  const job = join(work, `${t.name}-${rw}.fio`);
  writeFileSync(
    job,
    `[probe]\nioengine=gfapi\nvolume=${t.volume}\nbrick=${t.host}\nfilename=healthy.bin\n` +
      `rw=${rw}\nbs=4k\nsize=${SIZE}\ndirect=1\n`,
  );
  return runCommand('fio', [job], 180_000).then(outcomeOf);
}

/** Healthy data, two bricks down, every probe; then the bricks return. The outcomes by probe. */
async function twoDown(t: Target, log: (s: string) => void): Promise<Record<string, string>> {
  const v = await Volume.connect({ volume: t.volume, servers: [{ host: t.host }], timeoutMs: 30_000 });
  cleanups.push(() => v.close());
  const f = await v.create('/healthy.bin', 'w+', 0o644);
  await f.pwrite(Buffer.alloc(SIZE, 0x41), 0);
  await f.fsync();
  // The stock FUSE client with an fd open before the fault (direct IO: no page cache answers).
  const mnt = join(work, `mnt-${t.name}`);
  const umount = await mountFuse(t.host, t.volume, mnt, { extraArgs: ['--direct-io-mode=enable'] });
  cleanups.push(umount);
  const fuse = await open(join(mnt, 'healthy.bin'), 'r+');
  cleanups.push(() => fuse.close());

  await t.takeDown(1);
  await t.takeDown(2);
  await sleep(1500);
  const out: Record<string, string> = {};
  // write-behind may acknowledge the write and report the failure at fsync: either counts.
  out['fuse write+fsync (fd opened before)'] = await tsOutcome(
    fuse.write(Buffer.alloc(4096, 0x45), 0, 4096, 0).then(() => fuse.sync()),
  );
  out['fuse read (fd opened before)'] = await tsOutcome(
    fuse
      .read(Buffer.alloc(4096), 0, 4096, 0)
      .then(({ buffer }) => assert.ok(buffer.equals(Buffer.alloc(4096, 0x41)), 'healthy data read back')),
  );
  out['ts write (fd opened before)'] = await tsOutcome(f.pwrite(Buffer.alloc(4096, 0x42), 0));
  out['ts read (fd opened before)'] = await tsOutcome(
    f.pread(4096, 0).then((b) => assert.ok(b.equals(Buffer.alloc(4096, 0x41)), 'healthy data read back')),
  );
  out['ts create'] = await tsOutcome(v.create('/new.bin', 'w', 0o644));
  out['qemu-io write'] = await qemuIo(t, 'write -P 0x43 0 4k', false);
  out['qemu-io read'] = await qemuIo(t, 'read -P 0x41 0 4k', true);
  out['fio gfapi write'] = await fioGfapi(t, 'write');
  out['fio gfapi read'] = await fioGfapi(t, 'read');
  for (const [k, o] of Object.entries(out)) log(`${t.name}: ${k}: ${o}`);

  await t.bringBack();
  // The fd opened before the outage works again once a quorum is back (fix-open on the bricks).
  const until = Date.now() + 60_000;
  for (;;) {
    const r = await tsOutcome(f.pwrite(Buffer.alloc(4096, 0x44), SIZE - 4096));
    if (r === 'ok') break;
    assert.ok(Date.now() < until, `${t.name}: writes still fail after the bricks returned: ${r}`);
    await sleep(500);
  }
  const back = await f.pread(SIZE, 0);
  const want = Buffer.alloc(SIZE, 0x41).fill(0x44, SIZE - 4096);
  await f.close();
  await fuse.close().catch(() => undefined); // stock: ENOTCONN from the failed write-behind flush
  await umount();
  const ms = await t.healed();
  log(`${t.name}: heal ended ${ms} ms after the bricks returned`);
  // Nothing acknowledged was lost (no write during the outage was acknowledged).
  assert.ok(back.equals(want), `${t.name}: healthy.bin after the outage`);
  for (const b of t.bricks) assert.ok(readFileSync(join(b, 'healthy.bin')).equals(want), `${b}/healthy.bin`);
  return out;
}

test('two of three bricks down with client quorum auto: writes fail as on stock, nothing lost', async (t) => {
  if (!requirePeer(['stock-gluster', 'fio', 'qemu-gluster', 'qemu-io'], t)) return;
  const log = (s: string) => {
    console.log(`replica-two-down: ${s}`);
    t.diagnostic(s);
  };

  // The reference: stock 10.3 (its glusterd leaves a killed brick down).
  stock = await startStockGluster({
    host: STOCK_HOST,
    volume: 'sv',
    bricks: 3,
    replica: 3,
    dir: join(work, 'stock'),
    volumeOptions: { 'network.ping-timeout': String(PING_TIMEOUT_S) },
  });
  const s = stock;
  const stockTarget: Target = {
    name: 'stock',
    host: STOCK_HOST,
    volume: 'sv',
    bricks: s.brickPaths,
    takeDown: async (i) => void process.kill(s.brickPid(i), 'SIGKILL'),
    bringBack: () => s.cli('volume', 'start', 'sv', 'force').then(() => undefined),
    healed: async () => {
      const t0 = Date.now();
      while (s.brickPaths.some((b) => indexEntries(b).length > 0)) {
        assert.ok(Date.now() - t0 < 120_000, 'stock shd did not heal within 120 s');
        await sleep(500);
      }
      return Date.now() - t0;
    },
  };
  const expected = await twoDown(stockTarget, log);
  await stock.stop();
  stock = undefined;

  daemon = await startGlustertsDaemon({ host: HOST, data: join(work, 'data') });
  const d = daemon;
  const bricks = [0, 1, 2].map((i) => join(work, `b${i}`));
  await d.volume('create', 'gv', 'replica', '3', ...bricks.map((b) => `${HOST}:${b}`), 'force');
  await d.volume('set', 'gv', 'network.ping-timeout', String(PING_TIMEOUT_S));
  await d.volume('start', 'gv');
  const away = (b: string) => `${b}.away`;
  const ours: Target = {
    name: 'glusterts',
    host: HOST,
    volume: 'gv',
    bricks,
    takeDown: async (i) => {
      process.kill(brickPid(d, bricks[i]!), 'SIGKILL');
      renameSync(bricks[i]!, away(bricks[i]!));
      cleanups.push(() => rmSync(away(bricks[i]!), { recursive: true, force: true }));
    },
    bringBack: async () => {
      for (const b of bricks.slice(1)) renameSync(away(b), b);
      await d.volume('start', 'gv', 'force');
    },
    healed: async () => {
      const ms = await healInfoZero(d, 'gv', 3, 120_000);
      await assertConverged(bricks);
      return ms;
    },
  };
  const got = await twoDown(ours, log);

  // Stock's own clients on stock bricks set the rules.
  for (const probe of Object.keys(expected).filter((p) => !p.startsWith('ts ')))
    assert.equal(got[probe], expected[probe], `${probe}: glusterts as stock`);
  for (const [probe, o] of Object.entries({ ...expected, ...got }))
    if (/write|create/.test(probe)) assert.notEqual(o, 'ok', `${probe}: no silent success`);
  // The TS client gives the errno stock's client gives through an fd opened before, on both volumes.
  for (const who of [expected, got]) {
    assert.equal(who['ts write (fd opened before)'], expected['fuse write+fsync (fd opened before)']);
    assert.equal(who['ts read (fd opened before)'], expected['fuse read (fd opened before)']);
  }
});
