// cluster.heal-timeout end to end: the management daemon's self-heal daemon reads it from
// its own volfile (GETSPEC shd/<vol>, as stock's glustershd), and `volume set` on a started
// volume reaches the running shd through glusterd's FETCHSPEC callback: the periodic crawl
// then runs every heal-timeout seconds, with no restart of the shd.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startGlustertsDaemon, type RunningDaemon } from '../../src/peers/index.js';

const HOST = '127.0.0.81';
const work = mkdtempSync(join('/var/tmp', 'glusterts-heal-timeout-'));
let daemon: RunningDaemon | undefined;
after(async () => {
  await daemon?.stop();
  rmSync(work, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForLog(file: string, re: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (re.test(text)) return text;
    assert.ok(Date.now() < deadline, `${re} not in the shd log within ${ms} ms:\n${text}`);
    await sleep(200);
  }
}

test('volume set cluster.heal-timeout 5 makes the running shd crawl every 5 s', async () => {
  daemon = await startGlustertsDaemon({ host: HOST, port: 24017 });
  const bricks = [0, 1, 2].map((i) => `${HOST}:${join(work, `b${i}`)}`);
  await daemon.volume('create', 'ht', 'replica', '3', ...bricks, 'force');
  await daemon.volume('start', 'ht');
  const log = join(daemon.data, 'logs', 'bricks', 'shd-ht.log');
  await waitForLog(log, /heal-timeout 600 s\n/, 30_000);
  await waitForLog(log, /index heal \(start\)/, 30_000);
  await daemon.volume('set', 'ht', 'cluster.heal-timeout', '5');
  const at = Date.now();
  await waitForLog(log, /heal-timeout now 5 s\n/, 10_000);
  // Two periodic crawls, about 5 s apart.
  const text = await waitForLog(log, /index heal \(heal-timeout\)[^]*index heal \(heal-timeout\)/, 20_000);
  const times = [...text.matchAll(/^(\S+) .*index heal \(heal-timeout\)/gm)].map((m) => Date.parse(m[1]!));
  assert.ok(times[0]! - at >= 4000, `first periodic crawl ${times[0]! - at} ms after the set`);
  const gap = times[1]! - times[0]!;
  assert.ok(gap >= 4500 && gap <= 6500, `periodic crawls ${gap} ms apart`);
  assert.equal((text.match(/heal-timeout 600 s\n/g) ?? []).length, 1, 'the shd was not restarted');
});
