/**
 * The benchmark's servers and files: a Base directory on the filesystem that holds the
 * bricks, and per system (glusterts, stock GlusterFS 10.3) a default volume `bench`, a
 * trimmed volume `benchtrim` and a stock FUSE mount of `bench`. Every volume gets its
 * files (bench.0 … bench.3) laid out before any measurement, so reads read real data.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  glustertsVolume,
  layoutFiles,
  mountFuse,
  startGlusterts,
  startGlustertsNbd,
  startStockGluster,
  waitForBrick,
} from '../peers/index.js';
import { descendants, processes } from './cpu.js';
import { FILES, parseSize, type SystemId } from './model.js';

function pidFromFile(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

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

const MiB = 1024 ** 2;

/**
 * The options that shard the default volume as `group virt` does (features.shard on), with
 * `blockSize` pieces; stock accepts 4MB to 4TB. Both systems get the same options, so the
 * rows compare the same client-side stack (stock's shard in FUSE and gfapi, ours in the
 * client and the NBD export) on the same layout.
 */
export function shardVolumeOptions(blockSize: string): Readonly<Record<string, string>> {
  const bytes = parseSize(blockSize);
  if (bytes < 4 * MiB || bytes > 4 * 1024 ** 4)
    throw new Error(`--shard: the block size must be 4MB to 4TB (stock's range): ${blockSize}`);
  if (bytes % MiB) throw new Error(`--shard: the block size must be a whole number of MB: ${blockSize}`);
  return { 'features.shard': 'on', 'features.shard-block-size': `${bytes / MiB}MB` };
}

export interface Target {
  system: Exclude<SystemId, 'local'>;
  host: string;
  volume: string;
  trimmedVolume: string;
  /** Stock FUSE mount of `volume`, or '' when no row needs it. */
  mount: string;
  /** `nbd://host:port` of the NBD export of `volume` (glusterts client library), or ''. */
  nbd: string;
  /** The NBD export's PID, or 0. */
  nbdPid: number;
  /** The FUSE client's PID (from its pidfile), or 0 when `mount` is ''. */
  fusePid(): number;
  /**
   * The system's server processes: management daemon and bricks (for their CPU time); looked
   * up on the first call, once setup has started every brick.
   */
  serverPids(): number[];
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
  /** Options set on the default volume before its files are laid out (e.g. shardVolumeOptions). */
  volumeOptions?: Readonly<Record<string, string>>;
  log: (msg: string) => void;
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
      await layoutFiles(baseDir, opts.size, FILES);
    }
    for (const system of opts.systems) {
      const dir = join(work, system);
      mkdirSync(dir, { recursive: true });
      let host: string;
      let createTrimmed: () => Promise<void>;
      let volfile: (vol: string) => Promise<string>;
      let serverPids: () => number[];
      let found: number[] | undefined;
      if (system === 'stock') {
        log(`starting stock GlusterFS on ${opts.stockHost}`);
        const g = await startStockGluster({
          host: opts.stockHost,
          volume: VOLUME,
          dir,
          ...(opts.volumeOptions ? { volumeOptions: { ...opts.volumeOptions } } : {}),
        });
        stops.push(() => g.stop());
        host = g.host;
        createTrimmed = () => g.addVolume(TRIMMED_VOLUME, STOCK_TRIMMED_OPTIONS);
        volfile = (vol) => g.clientVolfile(vol);
        // glusterfsd daemonizes away from glusterd; its command line names its brick under `dir`.
        serverPids = () => [
          g.glusterdPid,
          ...processes()
            .filter((p) => p.pid !== g.glusterdPid && p.cmdline.includes(`${dir}/`))
            .map((p) => p.pid),
        ];
      } else {
        log(`starting glusterts on ${opts.glustertsHost}`);
        const g = await startGlusterts({ host: opts.glustertsHost, volume: VOLUME, data: dir });
        stops.push(() => g.stop());
        host = g.host;
        for (const [k, v] of Object.entries(opts.volumeOptions ?? {}))
          await glustertsVolume(dir, 'set', VOLUME, k, v);
        createTrimmed = async () => {
          const trimBrick = join(dir, 'bricks', TRIMMED_VOLUME);
          mkdirSync(trimBrick, { recursive: true });
          await glustertsVolume(dir, 'create', TRIMMED_VOLUME, `${host}:${trimBrick}`, '--force');
          await glustertsVolume(dir, 'set', TRIMMED_VOLUME, 'client.trimmed', 'on');
          await glustertsVolume(dir, 'start', TRIMMED_VOLUME);
          await waitForBrick(host, trimBrick);
        };
        volfile = (vol) => readFile(join(dir, 'vols', vol, `${vol}.tcp-fuse.vol`), 'utf8');
        // `glusterts up` runs the bricks as its children.
        serverPids = () => descendants(g.child.pid ?? 0, processes());
      }
      const target: Target = {
        system,
        host,
        volume: VOLUME,
        trimmedVolume: TRIMMED_VOLUME,
        mount: '',
        nbd: '',
        nbdPid: 0,
        fusePid: () => (target.mount ? pidFromFile(`${target.mount}.pid`) : 0),
        serverPids: () => (found ??= serverPids()),
      };
      env.targets[system] = target;
      // Lay the files out through the stock FUSE client (no glfs_fini cost); keep the
      // default volume's mount for the FUSE row.
      const mount = join(work, `mnt-${system}`);
      log(`laying out ${system} files`);
      const unmount = await mountFuse(host, VOLUME, mount, { logFile: join(work, `fuse-${system}.log`) });
      stops.push(unmount);
      await layoutFiles(mount, opts.size, FILES);
      if (opts.needFuse) target.mount = mount;
      else {
        stops.pop();
        await unmount();
      }
      if (opts.needNbd) {
        log(`starting the NBD export of ${system}'s volume`);
        const nbd = await startGlustertsNbd(host, { host }, { trimmed: true, volumes: [VOLUME] });
        stops.push(nbd.stop);
        target.nbd = nbd.url;
        target.nbdPid = nbd.pid;
      }
      env.volfiles[`${system}/${VOLUME}`] = await volfile(VOLUME).catch((e: unknown) => String(e));
      if (opts.needTrimmed) {
        await createTrimmed();
        const tmount = join(work, `mnt-${system}-trim`);
        const tunmount = await mountFuse(host, TRIMMED_VOLUME, tmount, {
          logFile: join(work, `fuse-${system}-trim.log`),
        });
        try {
          await layoutFiles(tmount, opts.size, FILES);
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
