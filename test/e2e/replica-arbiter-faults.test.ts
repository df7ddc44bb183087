// A glusterts `replica 3 arbiter 1` volume losing a data brick:
// 1. under fio verify through stock libgfapi and through the glusterts NBD export (either
//    turned off with GLUSTERTS_THRASH_LOADS, see replica-thrash), data brick 0 is SIGKILLed
//    and restarted by the daemon; 0 verify errors, the shd heals while fio keeps writing, and
//    afterwards the data bricks are byte-identical, the arbiter holds the same names and
//    metadata with zero-byte files, changelogs are clean and heal info shows 0 entries;
// 2. with the shd off: data brick A down, a write (B and the arbiter take it), A back unhealed,
//    data brick B down: a write would leave the arbiter as the only good copy, so it fails
//    with ENOTCONN (stock's afr_txn_arbitrate_fop); when B returns the shd heals A, and only
//    what was acknowledged is on the bricks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GlusterError, Volume } from '../../src/client/index.js';
import {
  requirePeer,
  sleep,
  startGlustertsDaemon,
  startGlustertsNbd,
  type RunningDaemon,
  type RunningNbd,
} from '../../src/peers/index.js';
import {
  assertConverged,
  brickPid,
  brickRestarted,
  faultLoads,
  fioVerify,
  healInfoZero,
  indexEntries,
  makeImage,
  type FioVerified,
} from '../support/replica-peers.js';

const HOST = '127.0.0.66';
const PING_TIMEOUT_S = 4;
const work = mkdtempSync(join('/var/tmp', 'glusterts-arbiter-faults-'));
let daemon: RunningDaemon | undefined;
let nbd: RunningNbd | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await nbd?.stop();
  await daemon?.stop();
  if (!process.env.GLUSTERTS_KEEP) rmSync(work, { recursive: true, force: true });
});

const shdLog = (d: RunningDaemon, volume: string) => {
  try {
    return readFileSync(join(d.data, 'logs', 'bricks', `shd-${volume}.log`), 'utf8');
  } catch (e) {
    return String(e);
  }
};

async function arbiterVolume(d: RunningDaemon, name: string, shd: boolean): Promise<string[]> {
  const bricks = [0, 1, 2].map((i) => join(d.data, 'bricks', `${name}-${i}`));
  await d.volume(
    'create',
    name,
    'replica',
    '3',
    'arbiter',
    '1',
    ...bricks.map((b) => `${HOST}:${b}`),
    'force',
  );
  await d.volume('set', name, 'network.ping-timeout', String(PING_TIMEOUT_S));
  if (!shd) await d.volume('set', name, 'cluster.self-heal-daemon', 'off');
  await d.volume('start', name);
  return bricks;
}

test('replica 3 arbiter 1: a data brick lost under fio verify, and the arbiter never the only good copy', async (t) => {
  if (!requirePeer(['fio'], t)) return;
  const log = (s: string) => {
    console.log(`replica-arbiter-faults: ${s}`);
    t.diagnostic(s);
  };
  mkdirSync(join(work, 'data'));
  daemon = await startGlustertsDaemon({ host: HOST, data: join(work, 'data') });
  const d = daemon;

  await t.test('SIGKILL of a data brick under fio verify; heal while fio writes', async () => {
    const use = faultLoads();
    assert.ok(use.has('nbd') || use.has('gfapi'), 'GLUSTERTS_THRASH_LOADS: a fio load (nbd, gfapi)');
    const bricks = await arbiterVolume(d, 'av', true);
    const runtimeS = 50;
    const loads: Promise<FioVerified>[] = [];
    if (use.has('nbd')) {
      nbd = await startGlustertsNbd(HOST, { host: HOST });
      await makeImage(HOST, 'av', '/nbd.img', 8 << 20);
      loads.push(
        fioVerify({
          engine: 'nbd',
          uri: `${nbd.url}/av/nbd.img`,
          runtimeS,
          size: '8M',
          dir: work,
          prefix: 'nbd',
          brickDirs: bricks,
        }),
      );
    }
    const t0 = Date.now();
    if (use.has('gfapi'))
      loads.push(
        fioVerify({
          engine: 'gfapi',
          volume: 'av',
          host: HOST,
          prefix: 'gfapi',
          runtimeS,
          dir: work,
          brickDirs: bricks,
        }),
      );
    for (const p of loads) void p.catch(() => undefined);
    await sleep(5000);
    const pid = brickPid(d, bricks[0]!);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await brickRestarted(d, bricks[0]!, pid);
    const restartMs = Date.now() - killedAt;
    // Healed while fio still writes: no brick accuses another any more.
    await sleep(500);
    while (bricks.some((b) => indexEntries(b).length > 0)) {
      if (Date.now() - t0 > (runtimeS - 2) * 1000)
        assert.fail(`not healed before fio stopped writing; shd log:\n${shdLog(d, 'av').slice(-3000)}`);
      await sleep(250);
    }
    const healMs = Date.now() - killedAt;
    const fios = await Promise.all(loads);
    await nbd?.stop();
    nbd = undefined;
    const finalMs = await healInfoZero(d, 'av', 3, 120_000);
    const names = await assertConverged(bricks, 2);
    const written = [...(use.has('nbd') ? ['nbd.img'] : []), ...(use.has('gfapi') ? ['gfapi.0'] : [])];
    for (const name of written) {
      assert.ok(names.includes(name), `${name} in ${names.join(' ')}`);
      assert.equal(statSync(join(bricks[2]!, name)).size, 0, `the arbiter keeps no data (${name})`);
    }
    log(
      `restart ${restartMs} ms after SIGKILL; healed ${healMs} ms after it, fio still writing; heal info 0 ${finalMs} ms after fio ended`,
    );
    for (const f of fios)
      log(
        `fio ${f.engine}: ${f.bytesWritten} B written, ${f.bytesVerified} B verified, longest IO ${f.stallMs.toFixed(0)} ms`,
      );
  });

  await t.test(
    'data brick A down, write, A back unhealed, data brick B down: a write fails with ENOTCONN',
    async () => {
      const bricks = await arbiterVolume(d, 'ab', false);
      const away = (b: string) => `${b}.away`;
      // Kept down: the daemon's restarts fail while the directory is moved away.
      const takeDown = (i: number) => {
        process.kill(brickPid(d, bricks[i]!), 'SIGKILL');
        renameSync(bricks[i]!, away(bricks[i]!));
      };
      const bringBack = async (i: number) => {
        renameSync(away(bricks[i]!), bricks[i]!);
        await d.volume('start', 'ab', 'force');
        await brickRestarted(d, bricks[i]!, 0);
      };
      const v = await Volume.connect({ volume: 'ab', servers: [{ host: HOST }], timeoutMs: 30_000 });
      cleanups.push(() => v.close());
      const f = await v.create('/x.bin', 'w+', 0o644);
      const size = 64 << 10;
      await f.pwrite(Buffer.alloc(size, 0x41), 0);
      await f.fsync();

      takeDown(0);
      await sleep(1000);
      await f.pwrite(Buffer.alloc(4096, 0x42), 0);
      await f.fsync();
      await sleep(2000);
      await bringBack(0);
      await sleep(3000); // the client reconnects to A
      takeDown(1);
      await sleep(1000);
      const err = await f.pwrite(Buffer.alloc(4096, 0x43), 4096).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof GlusterError, `the write must fail (got ${String(err)})`);
      assert.equal(err.code, 'ENOTCONN', String(err));
      const read = await f.pread(4096, 0).then(
        (b) => (b.equals(Buffer.alloc(4096, 0x42)) ? 'the good data' : 'stale data'),
        (e: unknown) => (e instanceof GlusterError ? e.code : String(e)),
      );
      log(`only the arbiter good: write ${err.code}, read ${read}`);
      assert.notEqual(read, 'stale data', 'never a stale read from A');

      await bringBack(1);
      await d.volume('set', 'ab', 'cluster.self-heal-daemon', 'on');
      const until = Date.now() + 60_000;
      for (;;) {
        const r = await f.pwrite(Buffer.alloc(4096, 0x44), 8192).then(
          () => 'ok',
          (e: unknown) => String(e),
        );
        if (r === 'ok') break;
        assert.ok(Date.now() < until, `writes fail after B returned: ${r}`);
        await sleep(500);
      }
      await f.close();
      const healMs = await healInfoZero(d, 'ab', 3, 120_000);
      await assertConverged(bricks, 2);
      const want = Buffer.alloc(size, 0x41).fill(0x42, 0, 4096).fill(0x44, 8192, 12288);
      for (const b of bricks.slice(0, 2))
        assert.ok(readFileSync(join(b, 'x.bin')).equals(want), `${b}/x.bin`);
      log(`after B returned, heal info 0 in ${healMs} ms`);
    },
  );
});
