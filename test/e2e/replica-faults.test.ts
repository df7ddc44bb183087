// Faults on a glusterts replica 3 volume while fio verifies every block it writes, through
// stock libgfapi (fio's gfapi engine) and through the glusterts NBD export (fio's nbd engine,
// the TypeScript client's replicate underneath): a brick SIGKILLed (the daemon restarts it),
// a brick SIGSTOPped for longer than network.ping-timeout then continued, and a brick whose
// disk fills up (ENOSPC on that replica only). fio must see no error and no bad block; the
// longest IO (fio's max completion latency) is the guest-visible stall, reported per fault.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Volume } from '../../src/client/index.js';
import {
  requirePeer,
  run,
  runCommand,
  sleep,
  startGlustertsDaemon,
  startGlustertsNbd,
  type RunningDaemon,
  type RunningNbd,
} from '../../src/peers/index.js';

const HOST = '127.0.0.61';
const VOL = 'fv';
const PING_TIMEOUT_S = 4;
const work = mkdtempSync(join('/var/tmp', 'glusterts-faults-'));
let daemon: RunningDaemon | undefined;
let nbd: RunningNbd | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  await nbd?.stop();
  await daemon?.stop();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (!process.env.GLUSTERTS_KEEP) rmSync(work, { recursive: true, force: true });
  rmSync('/tmp/fio_gfapi.log', { force: true });
});

interface FioJob {
  jobname: string;
  error: number;
  write: { io_bytes: number; clat_ns: { max: number } };
  read: { io_bytes: number; clat_ns: { max: number } };
}

/** fio with verify=crc32c verify_backlog (reads back what it wrote, all along), one engine. */
function startFio(name: string, engine: string, runtimeS: number): Promise<FioJob[]> {
  const target =
    engine === 'nbd'
      ? `ioengine=nbd\nuri=${nbd!.url}/${VOL}/nbd-${name}.img\n`
      : `ioengine=gfapi\nvolume=${VOL}\nbrick=${HOST}\nthread\nsingle-instance=1\nfilename_format=gfapi-${name}.$jobnum\n`;
  const file = join(work, `${name}-${engine}.fio`);
  writeFileSync(
    file,
    `[global]
${target}direct=1
verify_state_save=0
rw=randwrite
bs=4k
size=8M
verify=crc32c
verify_backlog=64
verify_fatal=1
time_based
runtime=${runtimeS}

[${engine}]
${engine === 'nbd' ? '' : 'numjobs=2\n'}`,
  );
  return runCommand('fio', ['--output-format=json', file], (runtimeS + 90) * 1000).then((r) => {
    const why = r.code === 0 ? '' : explainBadBlocks(r.stderr);
    assert.equal(
      r.code,
      0,
      `fio ${engine} (${name}) exit ${r.code}:\n${r.stderr.slice(-3000)}${why}\n${r.stdout.slice(-1000)}`,
    );
    return (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: FioJob[] }).jobs;
  });
}

let brickDirs: string[] = [];

/** For each bad block fio names: what every brick holds there, the file's size and changelog. */
function explainBadBlocks(stderr: string): string {
  let out = '';
  for (const m of stderr.matchAll(/at file (\S+) offset (\d+), length (\d+)/g)) {
    const [, file, off, len] = m;
    out += `\n${file} @${off}+${len}:`;
    for (const b of brickDirs) {
      try {
        const whole = readFileSync(join(b, file!));
        const block = whole.subarray(Number(off), Number(off) + Number(len));
        const shown = block.every((x) => x === 0) ? 'zeros' : block.subarray(0, 8).toString('hex');
        const afr = spawnSync('getfattr', ['-d', '-m', 'trusted.afr', '-e', 'hex', join(b, file!)], {
          encoding: 'utf8',
        });
        out += `\n  ${b}: size ${whole.length} block ${shown} ${afr.stdout
          .split('\n')
          .filter((l) => l.startsWith('trusted'))
          .join(' ')}`;
      } catch (e) {
        out += `\n  ${b}: ${String(e)}`;
      }
    }
  }
  return out;
}

function brickPid(i: number): number {
  const path = join(daemon!.data, 'bricks', `${VOL}-${i}`);
  const name = path.replace(/^\/+/, '').replace(/\//g, '-') + '.pid';
  return Number(readFileSync(join(daemon!.data, 'logs', 'bricks', name), 'utf8').trim()) || 0;
}

async function prepareNbdImage(name: string): Promise<void> {
  const v = await Volume.connect({ volume: VOL, servers: [{ host: HOST }], timeoutMs: 30_000 });
  try {
    const f = await v.create(`/nbd-${name}.img`, 'w+', 0o644);
    await f.ftruncate(8 << 20);
    await f.close();
  } finally {
    await v.close();
  }
}

/** Runs fio through `engines` for `runtimeS`, applying `fault` a few seconds in; reports the stalls. */
async function underFio(
  t: { diagnostic(msg: string): void },
  name: string,
  runtimeS: number,
  fault: () => Promise<void>,
  engines: readonly ('gfapi' | 'nbd')[] = ['gfapi', 'nbd'],
): Promise<void> {
  if (engines.includes('nbd')) await prepareNbdImage(name);
  const runs = engines.map((e) => startFio(name, e, runtimeS));
  await sleep(4000);
  await fault();
  const settled = await Promise.allSettled(runs);
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  assert.deepEqual(failures, [], failures.join('\n'));
  settled.forEach((r, i) => {
    const jobs = (r as PromiseFulfilledResult<FioJob[]>).value;
    const engine = engines[i]!;
    for (const j of jobs) {
      assert.equal(j.error, 0, `${name}/${engine}: fio error ${j.error}`);
      assert.ok(j.write.io_bytes > 0 && j.read.io_bytes > 0, `${name}/${engine}: wrote and verified`);
    }
    const stallMs = Math.max(...jobs.map((j) => Math.max(j.write.clat_ns.max, j.read.clat_ns.max))) / 1e6;
    t.diagnostic(`${name}: longest IO through ${engine}: ${stallMs.toFixed(0)} ms`);
  });
}

test('faults under fio verify on a glusterts replica 3 volume: SIGKILL, SIGSTOP past ping-timeout, ENOSPC on one replica', async (t) => {
  if (!requirePeer(['fio'], t)) return;
  mkdirSync(join(work, 'data'));
  daemon = await startGlustertsDaemon({ host: HOST, data: join(work, 'data') });
  // Brick 2 lives on a small file system of its own, for the ENOSPC case.
  const small = join(work, 'small.img');
  const smallMount = join(work, 'small');
  await run('truncate', ['-s', '160M', small]);
  await run('mkfs.ext4', ['-q', '-F', small]);
  mkdirSync(smallMount);
  await run('mount', ['-o', 'loop', small, smallMount]);
  if (!process.env.GLUSTERTS_KEEP)
    cleanups.push(() => run('umount', [smallMount]).catch(() => run('umount', ['-l', smallMount])));
  const bricks = [
    join(daemon.data, 'bricks', `${VOL}-0`),
    join(daemon.data, 'bricks', `${VOL}-1`),
    join(smallMount, `${VOL}-2`),
  ];
  brickDirs = bricks;
  await daemon.volume('create', VOL, 'replica', '3', ...bricks.map((b) => `${HOST}:${b}`), 'force');
  await daemon.volume('set', VOL, 'network.ping-timeout', String(PING_TIMEOUT_S));
  // The glusterts self-heal daemon stays off here for now: with it on, a heal pass during the
  // SIGSTOP case stalled fio for minutes (being chased). Heal is tested in replica-heal.
  await daemon.volume('set', VOL, 'cluster.self-heal-daemon', 'off');
  await daemon.volume('start', VOL);
  nbd = await startGlustertsNbd(HOST, { host: HOST });

  await t.test('SIGKILL of one brick, restarted by the daemon', () =>
    underFio(t, 'kill', 16, async () => {
      const pid = brickPid(1);
      process.kill(pid, 'SIGKILL');
    }),
  );

  await t.test(
    `SIGSTOP of one brick for ${PING_TIMEOUT_S + 3} s (ping-timeout ${PING_TIMEOUT_S} s), then SIGCONT`,
    () =>
      underFio(t, 'stop', 20, async () => {
        const pid = brickPid(0);
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep((PING_TIMEOUT_S + 3) * 1000);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      }),
  );

  await t.test('ENOSPC on one replica only', async () => {
    // Fill brick 2's file system but for a little room: the writes run out of space there only.
    const filler = join(smallMount, 'filler');
    const fs = statfsSync(smallMount);
    const room = 6 << 20;
    await run('fallocate', ['-l', String(Math.max(0, fs.bavail * fs.bsize - room)), filler]);
    await underFio(t, 'full', 12, async () => undefined);
    rmSync(filler, { force: true });
  });
});
