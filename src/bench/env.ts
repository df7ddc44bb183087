/**
 * The benchmark's servers and files: a Base directory on the filesystem that holds the
 * bricks, and per system (glusterts, stock GlusterFS 10.3) a default volume `bench`, a
 * trimmed volume `benchtrim` and a stock FUSE mount of `bench`. Every volume gets its
 * files (bench.0 … bench.3) laid out before any measurement, so reads read real data.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fioArgs } from './fio.js';
import { startGlusterts, type RunningGlusterts } from './glusterts-up.js';
import { FILES, type SystemId } from './model.js';
import { runToEnd } from './proc.js';
import { mountFuse, portByBrick, startStockGluster, type StockGluster } from './stock-gluster.js';

export const VOLUME = 'bench';
export const TRIMMED_VOLUME = 'benchtrim';

/**
 * Stock's equivalent of glusterts' `client.trimmed on`: every client-side performance and
 * utime translator off, leaving protocol/client + distribute + io-stats (the translators
 * that are already off by default in 10.3 — read-ahead, io-cache, readdir-ahead, nl-cache —
 * are set off too, so the stack does not depend on defaults).
 */
export const STOCK_TRIMMED_OPTIONS: Readonly<Record<string, string>> = {
  'performance.write-behind': 'off',
  'performance.open-behind': 'off',
  'performance.quick-read': 'off',
  'performance.stat-prefetch': 'off',
  'performance.client-io-threads': 'off',
  'performance.read-ahead': 'off',
  'performance.io-cache': 'off',
  'performance.readdir-ahead': 'off',
  'performance.nl-cache': 'off',
  'features.ctime': 'off',
};

export interface Target {
  system: Exclude<SystemId, 'local'>;
  host: string;
  volume: string;
  trimmedVolume: string;
  /** Stock FUSE mount of `volume`, or '' when no row needs it. */
  mount: string;
  /** `nbd://host:port` of the NBD export of `volume` (glusterts client library), or ''. */
  nbd: string;
}

export interface BenchEnv {
  work: string;
  baseDir: string;
  targets: Partial<Record<Target['system'], Target>>;
  /** Each system's client volfiles as served (for the JSON record). */
  volfiles: Record<string, string>;
  stop(): Promise<void>;
}

export interface EnvOptions {
  work: string;
  systems: Target['system'][];
  size: string;
  needBase: boolean;
  needFuse: boolean;
  needTrimmed: boolean;
  needNbd: boolean;
  stockHost: string;
  glustertsHost: string;
  log: (msg: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitBrick(host: string, brick: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const port = await portByBrick(host, brick).catch(() => 0);
    if (port > 0 && (await tcpOpen(host, port))) return;
    if (Date.now() > until) throw new Error(`brick ${host}:${brick} did not come online`);
    await sleep(100);
  }
}

/** Writes bench.0 … bench.3 (size each) in `dir` with fio, 1 MiB direct writes. */
export async function layoutFiles(dir: string, size: string): Promise<void> {
  const args = fioArgs(
    { rw: 'write', bs: '1M', ioengine: 'psync', iodepth: 1, jobs: FILES, size, runtime: 0, directory: dir },
    join(dir, '.layout.json'),
  );
  await runToEnd('fio', args);
  rmSync(join(dir, '.layout.json'), { force: true });
}

const CLI = new URL('../cli/main.js', import.meta.url).pathname;
const NBD_SERVE = new URL('./nbd-serve.js', import.meta.url).pathname;
/** Starts nbd-serve.ts on host (any free port) for `volume` of the volfile server `host`. */
async function startNbd(host: string, volume: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [NBD_SERVE, host, '0', host, volume], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  const until = Date.now() + 30_000;
  let m: RegExpExecArray | null;
  while (!(m = /ready (\d+)/.exec(out))) {
    if (child.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error(`NBD export did not start: ${out.trim()}`);
    }
    await sleep(50);
  }
  return { url: `nbd://${host}:${m[1]}`, stop };
}

export async function setupEnv(opts: EnvOptions): Promise<BenchEnv> {
  const { work, log } = opts;
  const baseDir = join(work, 'base');
  const stops: (() => Promise<void>)[] = [];
  const env: BenchEnv = {
    work,
    baseDir,
    targets: {},
    volfiles: {},
    async stop() {
      for (const s of stops.reverse()) await s().catch((e: unknown) => log(`cleanup: ${String(e)}`));
      stops.length = 0;
    },
  };
  try {
    if (opts.needBase) {
      mkdirSync(baseDir, { recursive: true });
      log('laying out Base files');
      await layoutFiles(baseDir, opts.size);
    }
    for (const system of opts.systems) {
      const dir = join(work, system);
      mkdirSync(dir, { recursive: true });
      let host: string;
      let createTrimmed: () => Promise<void>;
      let volfile: (vol: string) => Promise<string>;
      const trimBrick = join(dir, 'bricks', TRIMMED_VOLUME);
      if (system === 'stock') {
        log(`starting stock GlusterFS on ${opts.stockHost}`);
        const g: StockGluster = await startStockGluster({ host: opts.stockHost, volume: VOLUME, dir });
        stops.push(() => g.stop());
        host = g.host;
        createTrimmed = async () => {
          await g.cli('volume', 'create', TRIMMED_VOLUME, `${host}:${trimBrick}`, 'force');
          for (const [k, v] of Object.entries(STOCK_TRIMMED_OPTIONS))
            await g.cli('volume', 'set', TRIMMED_VOLUME, k, v);
          await g.cli('volume', 'start', TRIMMED_VOLUME);
          await waitBrick(host, trimBrick);
        };
        volfile = (vol) =>
          runToEnd('nsenter', [
            '-t',
            String(g.glusterdPid),
            '-m',
            '--',
            'cat',
            join(dir, 'glusterd', 'vols', vol, `${vol}.tcp-fuse.vol`),
          ]);
      } else {
        log(`starting glusterts on ${opts.glustertsHost}`);
        const g: RunningGlusterts = await startGlusterts({
          host: opts.glustertsHost,
          volume: VOLUME,
          data: dir,
        });
        stops.push(() => g.stop());
        host = g.host;
        const cli = (...args: string[]) =>
          runToEnd(process.execPath, [CLI, 'volume', ...args, '--data', dir]);
        createTrimmed = async () => {
          mkdirSync(trimBrick, { recursive: true });
          await cli('create', TRIMMED_VOLUME, `${host}:${trimBrick}`, '--force');
          await cli('set', TRIMMED_VOLUME, 'client.trimmed', 'on');
          await cli('start', TRIMMED_VOLUME);
          await waitBrick(host, trimBrick);
        };
        volfile = (vol) => runToEnd('cat', [join(dir, 'vols', vol, `${vol}.tcp-fuse.vol`)]);
      }
      const target: Target = {
        system,
        host,
        volume: VOLUME,
        trimmedVolume: TRIMMED_VOLUME,
        mount: '',
        nbd: '',
      };
      env.targets[system] = target;
      // Lay the files out through the stock FUSE client (no glfs_fini cost); keep the
      // default volume's mount for the FUSE row.
      const mount = join(work, `mnt-${system}`);
      log(`laying out ${system} files`);
      const unmount = await mountFuse(host, VOLUME, mount, { logFile: join(work, `fuse-${system}.log`) });
      stops.push(unmount);
      await layoutFiles(mount, opts.size);
      if (opts.needFuse) target.mount = mount;
      else {
        stops.pop();
        await unmount();
      }
      if (opts.needNbd) {
        log(`starting the NBD export of ${system}'s volume`);
        const { url, stop } = await startNbd(host, VOLUME);
        stops.push(stop);
        target.nbd = url;
      }
      env.volfiles[`${system}/${VOLUME}`] = await volfile(VOLUME).catch((e: unknown) => String(e));
      if (opts.needTrimmed) {
        await createTrimmed();
        const tmount = join(work, `mnt-${system}-trim`);
        const tunmount = await mountFuse(host, TRIMMED_VOLUME, tmount, {
          logFile: join(work, `fuse-${system}-trim.log`),
        });
        try {
          await layoutFiles(tmount, opts.size);
        } finally {
          await tunmount();
          await rm(tmount, { recursive: true, force: true });
        }
        env.volfiles[`${system}/${TRIMMED_VOLUME}`] = await volfile(TRIMMED_VOLUME).catch((e: unknown) =>
          String(e),
        );
      }
    }
  } catch (e) {
    await env.stop();
    throw e;
  }
  return env;
}
