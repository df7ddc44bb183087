/**
 * What the replica fault suites (replica-thrash, replica-two-down, replica-arbiter-faults)
 * share: a brick's pid, the loads they run, fio with crc32c verify through the NBD export or
 * stock libgfapi, the wait for `volume heal NAME info` to show 0 entries, and the end state
 * every fault must leave on the bricks (data identical, the arbiter's names and metadata,
 * clean changelogs).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { sleep, type RunningDaemon } from '../../src/peers/index.js';
import { llistxattr, lgetxattr } from '../../src/sys/index.js';

/** The pid of a brick the daemon runs, from the pid file it keeps (0 when none). */
export function brickPid(daemon: RunningDaemon, brickPath: string): number {
  const name = brickPath.replace(/^\/+/, '').replace(/\//g, '-') + '.pid';
  try {
    return Number(readFileSync(join(daemon.data, 'logs', 'bricks', name), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Waits until the daemon runs a brick process other than `not` (it restarted it). */
export async function brickRestarted(daemon: RunningDaemon, brickPath: string, not: number, ms = 60_000) {
  const until = Date.now() + ms;
  for (;;) {
    const pid = brickPid(daemon, brickPath);
    if (pid && pid !== not && processAlive(pid)) return pid;
    assert.ok(Date.now() < until, `brick ${brickPath} not restarted within ${ms} ms`);
    await sleep(100);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The loads a fault suite runs while it injects faults. */
export type FaultLoad = 'gfapi' | 'nbd' | 'fsx';
const FAULT_LOADS: readonly FaultLoad[] = ['gfapi', 'nbd', 'fsx'];

/**
 * The loads named in GLUSTERTS_THRASH_LOADS (comma-separated; all three when unset): fio
 * through stock libgfapi, fio through the glusterts NBD export, fsx through the TS client.
 * Turning one off (e.g. `nbd,fsx`) is for chasing a bug in another; the suites run all three.
 */
export function faultLoads(env = process.env.GLUSTERTS_THRASH_LOADS): ReadonlySet<FaultLoad> {
  if (env === undefined) return new Set(FAULT_LOADS);
  const named = env.split(',').map((s) => s.trim());
  for (const n of named)
    assert.ok(
      FAULT_LOADS.includes(n as FaultLoad),
      `GLUSTERTS_THRASH_LOADS: "${n}" is not one of ${FAULT_LOADS}`,
    );
  return new Set(named as FaultLoad[]);
}

/** Creates `path` on the volume, `size` bytes long (an image for fio's nbd engine). */
export async function makeImage(host: string, volume: string, path: string, size: number): Promise<void> {
  const v = await Volume.connect({ volume, servers: [{ host }], timeoutMs: 30_000 });
  try {
    const f = await v.create(path, 'w+', 0o644);
    await f.ftruncate(size);
    await f.close();
  } finally {
    await v.close();
  }
}

export interface FioJob {
  jobname: string;
  error: number;
  write: { io_bytes: number; clat_ns: { max: number } };
  read: { io_bytes: number; clat_ns: { max: number } };
}

export interface FioVerified {
  engine: 'nbd' | 'gfapi';
  jobs: FioJob[];
  /** Longest single IO (fio's max completion latency), ms: the guest-visible stall. */
  stallMs: number;
  bytesWritten: number;
  bytesVerified: number;
}

export interface FioVerifyOptions {
  engine: 'nbd' | 'gfapi';
  /** nbd: the export URI of an existing image; gfapi: unused. */
  uri?: string;
  /** gfapi: volume and volfile server (port 24007). */
  volume?: string;
  host?: string;
  /** gfapi: file names `<prefix>.<job>`. */
  prefix?: string;
  runtimeS: number;
  size?: string;
  /** IOs per second at most (rate_iops): keeps fio on one fd (it reopens at each pass). */
  rateIops?: number;
  /** Where the job file goes. */
  dir: string;
  /** For a failure: what the bricks hold at each block fio calls bad. */
  brickDirs?: readonly string[];
}

/**
 * fio `verify=crc32c verify_backlog verify_fatal=1` random 4 KiB writes, time based: every
 * block written is read back and checked all along. Rejects on any error or bad block.
 */
export async function fioVerify(o: FioVerifyOptions): Promise<FioVerified> {
  const target =
    o.engine === 'nbd'
      ? `ioengine=nbd\nuri=${o.uri}\n`
      : `ioengine=gfapi\nvolume=${o.volume}\nbrick=${o.host}\nthread\nsingle-instance=1\nfilename_format=${o.prefix ?? 'gfapi'}.$jobnum\n`;
  const file = join(o.dir, `${o.prefix ?? 'fio'}-${o.engine}.fio`);
  writeFileSync(
    file,
    `[global]\n${target}direct=1\nverify_state_save=0\nrw=randwrite\nbs=4k\nsize=${o.size ?? '8M'}\n` +
      `verify=crc32c\nverify_backlog=64\nverify_fatal=1\ntime_based\nruntime=${o.runtimeS}\n` +
      (o.rateIops ? `rate_iops=${o.rateIops}\n` : '') +
      `\n[${o.engine}]\n`,
  );
  const r = await runQuiet('fio', ['--output-format=json', file], (o.runtimeS + 120) * 1000);
  if (r.code !== 0)
    throw new Error(
      `fio ${o.engine} exit ${r.code}:\n${r.stderr.slice(-3000)}${explainBadBlocks(r.stderr, o.brickDirs ?? [])}\n${r.stdout.slice(-1000)}`,
    );
  const jobs = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: FioJob[] }).jobs;
  for (const j of jobs) assert.equal(j.error, 0, `fio ${o.engine}: job error ${j.error}`);
  return {
    engine: o.engine,
    jobs,
    stallMs: Math.max(...jobs.map((j) => Math.max(j.write.clat_ns.max, j.read.clat_ns.max))) / 1e6,
    bytesWritten: jobs.reduce((s, j) => s + j.write.io_bytes, 0),
    bytesVerified: jobs.reduce((s, j) => s + j.read.io_bytes, 0),
  };
}

/** Like runCommand, but with a big stdout buffer and a kill after `timeoutMs`. */
function runQuiet(file: string, args: string[], timeoutMs: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-200_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** For each bad block fio names: what every brick holds there, the file's size and changelog. */
export function explainBadBlocks(stderr: string, brickDirs: readonly string[]): string {
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
        const keys = afr.stdout.split('\n').filter((l) => l.startsWith('trusted'));
        out += `\n  ${b}: size ${whole.length} block ${shown} ${keys.join(' ')}`;
      } catch (e) {
        out += `\n  ${b}: ${String(e)}`;
      }
    }
  }
  return out;
}

/** Entries in a brick's `.glusterfs/indices/<folder>` (the base file left out). */
export function indexEntries(brickDir: string, folder: 'xattrop' | 'dirty' = 'xattrop'): string[] {
  try {
    return readdirSync(join(brickDir, '.glusterfs', 'indices', folder)).filter(
      (n) => !n.startsWith(`${folder}-`),
    );
  } catch {
    return [];
  }
}

/** Polls `volume heal NAME info` until every brick shows 0 entries; resolves the ms it took. */
export async function healInfoZero(
  daemon: RunningDaemon,
  volume: string,
  bricks: number,
  boundMs: number,
): Promise<number> {
  const t0 = Date.now();
  const server = `${daemon.host}:${daemon.port}`;
  let info = '';
  for (;;) {
    info = await daemon.volume('heal', volume, 'info', '--server', server).catch((e: Error) => e.message);
    const counts = [...info.matchAll(/Number of entries: (\S+)/g)].map((m) => m[1]);
    if (counts.length === bricks && counts.every((c) => c === '0')) return Date.now() - t0;
    assert.ok(Date.now() - t0 < boundMs, `heal did not end within ${boundMs} ms:\n${info}`);
    await sleep(1000);
  }
}

/** Regular files and directories under a brick, relative, `.glusterfs` left out. */
function brickTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (relative(dir, p) === '.glusterfs') continue;
      out.push(relative(dir, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The end state of a healed replica set: the same names everywhere; data bricks byte-identical;
 * an arbiter (`arbiter` = its index) with zero-byte files and the data bricks' mode and owner;
 * every `trusted.afr.*` counter zero; no xattrop or dirty index entry. Returns the names.
 */
export async function assertConverged(bricks: readonly string[], arbiter?: number): Promise<string[]> {
  const names = brickTree(bricks[0]!);
  for (const b of bricks.slice(1)) assert.deepEqual(brickTree(b), names, `${b}: same names as ${bricks[0]}`);
  const data = bricks.filter((_, i) => i !== arbiter);
  for (const name of names) {
    const ref = lstatSync(join(data[0]!, name));
    for (const [i, b] of bricks.entries()) {
      const p = join(b, name);
      const st = lstatSync(p);
      assert.deepEqual(
        [st.mode, st.uid, st.gid],
        [ref.mode, ref.uid, ref.gid],
        `${p}: mode and owner as on ${data[0]}`,
      );
      if (ref.isFile()) {
        if (i === arbiter) assert.equal(st.size, 0, `${p}: the arbiter keeps no data`);
        else assert.ok(readFileSync(p).equals(readFileSync(join(data[0]!, name))), `${p} identical`);
      }
      for (const key of await llistxattr(p))
        if (key.startsWith('trusted.afr.'))
          assert.ok(
            (await lgetxattr(p, key)).every((x) => x === 0),
            `${p}: ${key} not zero`,
          );
    }
  }
  for (const b of bricks) {
    for (const key of await llistxattr(b))
      if (key.startsWith('trusted.afr.'))
        assert.ok(
          (await lgetxattr(b, key)).every((x) => x === 0),
          `${b} (root): ${key} not zero`,
        );
    assert.deepEqual(indexEntries(b, 'xattrop'), [], `${b}: xattrop index empty`);
    assert.deepEqual(indexEntries(b, 'dirty'), [], `${b}: dirty index empty`);
  }
  return names;
}
