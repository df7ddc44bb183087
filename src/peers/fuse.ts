/**
 * The stock FUSE client (`glusterfs`, what `mount -t glusterfs` runs) mounting a volume of
 * stock glusterd or of glusterts, with its log and pidfile where we choose, and unmounted
 * and stopped by PID.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { GLUSTERD_PORT } from './portmap.js';
import { alive, isZombie, killPid, run, sleep } from './process.js';

export interface FuseMountOptions {
  /** glusterd port (default 24007). */
  port?: number;
  /** Where the client's log and pidfile go (default: next to the mountpoint, `<mp>.log`/`.pid`). */
  logFile?: string;
  pidFile?: string;
  /** Extra glusterfs arguments, e.g. ['--attribute-timeout=0', '--entry-timeout=0']. */
  extraArgs?: string[];
  timeoutMs?: number;
  /** Mount from this volfile (`--volfile=FILE`) instead of fetching `volume` from `host`. */
  volfile?: string;
}

export function isMounted(mountpoint: string): boolean {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === mountpoint);
}

/**
 * Mounts `host:/volume` on `mountpoint`. Resolves to an unmount function: `umount
 * <mountpoint>` (lazy if busy), then waits for the client process (by its PID) to exit,
 * killing it by PID if it lingers.
 */
export async function mountFuse(
  host: string,
  volume: string,
  mountpoint: string,
  opts: FuseMountOptions = {},
): Promise<() => Promise<void>> {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`refusing non-loopback host ${host}`);
  mkdirSync(mountpoint, { recursive: true });
  const logFile = opts.logFile ?? `${mountpoint.replace(/\/+$/, '')}.log`;
  const pidFile = opts.pidFile ?? `${mountpoint.replace(/\/+$/, '')}.pid`;
  const source = opts.volfile
    ? [`--volfile=${opts.volfile}`]
    : [
        `--volfile-server=${host}`,
        `--volfile-server-port=${opts.port ?? GLUSTERD_PORT}`,
        `--volfile-id=${volume}`,
      ];
  await run('glusterfs', [
    '--process-name',
    'fuse',
    ...source,
    `--log-file=${logFile}`,
    `--pid-file=${pidFile}`,
    ...(opts.extraArgs ?? []),
    mountpoint,
  ]);
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let pid = 0;
  while (!isMounted(mountpoint) || !pid) {
    pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || 0;
    if (Date.now() > deadline) {
      if (pid) await killPid(pid);
      throw new Error(`FUSE mount of ${host}:${volume} on ${mountpoint} did not appear; see ${logFile}`);
    }
    await sleep(25);
  }
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    if (isMounted(mountpoint)) {
      await run('umount', [mountpoint]).catch(() => run('umount', ['-l', mountpoint]));
    }
    const until = Date.now() + 5000;
    while (alive(pid) && !isZombie(pid) && Date.now() < until) await sleep(25);
    await killPid(pid);
    await rm(pidFile, { force: true });
  };
}
