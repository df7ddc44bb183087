// A stock AFR client (fio's gfapi engine, rate-capped so that it keeps one fd: it reopens its
// file at each pass over it) opens its file while brick 1 of a glusterts replica 3 volume is
// down; brick 1 returns, and later brick 0 is SIGKILLed. protocol/client reopens on a returned
// brick only the fds it had open there; one opened while the brick was away is AFR's to open
// (afr_fix_open), and stock AFR does that only after asking every brick whether locks forbid
// it: GETLK with `fd-reopen-status` in xdata, protocol/client writing its verdict into the
// reply's dict, which stock features/locks sends back. Without a dict in the reply the fd stays
// open on brick 2 alone after the second fault: no quorum, fio fails with an IO error (found
// by replica-thrash, where fio reopens its file while a brick is away). The self-heal daemon
// is off during the faults; afterwards it heals and the bricks converge.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requirePeer, sleep, startGlustertsDaemon, type RunningDaemon } from '../../src/peers/index.js';
import {
  assertConverged,
  brickPid,
  brickRestarted,
  fioVerify,
  healInfoZero,
  makeImage,
} from '../support/replica-peers.js';

const HOST = '127.0.0.67';
const VOL = 'ro';
const work = mkdtempSync(join('/var/tmp', 'glusterts-stock-reopen-'));
let daemon: RunningDaemon | undefined;
after(async () => {
  await daemon?.stop();
  if (!process.env.GLUSTERTS_KEEP) rmSync(work, { recursive: true, force: true });
});

test('a stock client reopens its fd on a returned brick: a second brick lost later keeps quorum', async (t) => {
  if (!requirePeer(['fio'], t)) return;
  mkdirSync(join(work, 'data'));
  daemon = await startGlustertsDaemon({ host: HOST, data: join(work, 'data') });
  const d = daemon;
  const bricks = [0, 1, 2].map((i) => join(d.data, 'bricks', `${VOL}-${i}`));
  await d.volume('create', VOL, 'replica', '3', ...bricks.map((b) => `${HOST}:${b}`), 'force');
  await d.volume('set', VOL, 'network.ping-timeout', '4');
  await d.volume('set', VOL, 'cluster.self-heal-daemon', 'off');
  await d.volume('start', VOL);

  // The file exists on every brick; fio opens it with brick 1 down (kept down: the daemon's
  // restarts fail while its directory is moved away). 100 IOs a second for 24 s stay well
  // inside 64 MiB: one fd all along.
  await makeImage(HOST, VOL, '/gfapi.0', 64 << 20);
  const away = (i: number) => `${bricks[i]!}.away`;
  process.kill(brickPid(d, bricks[1]!), 'SIGKILL');
  renameSync(bricks[1]!, away(1));
  await sleep(1000);
  const fio = fioVerify({
    engine: 'gfapi',
    volume: VOL,
    host: HOST,
    prefix: 'gfapi',
    runtimeS: 24,
    size: '64M',
    rateIops: 100,
    dir: work,
    brickDirs: bricks,
  });
  void fio.catch(() => undefined);
  await sleep(4000);
  renameSync(away(1), bricks[1]!);
  await d.volume('start', VOL, 'force');
  await brickRestarted(d, bricks[1]!, 0);
  // The stock client asks glusterd for the brick's port every 3 s; its next write then opens
  // the fd there.
  await sleep(8000);
  const pid = brickPid(d, bricks[0]!);
  process.kill(pid, 'SIGKILL');
  await brickRestarted(d, bricks[0]!, pid);
  const done = await fio;
  t.diagnostic(`fio gfapi: ${done.bytesWritten} B written, longest IO ${done.stallMs.toFixed(0)} ms`);

  await d.volume('set', VOL, 'cluster.self-heal-daemon', 'on');
  await healInfoZero(d, VOL, 3, 120_000);
  assert.ok((await assertConverged(bricks)).includes('gfapi.0'));
});
