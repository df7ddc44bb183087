/**
 * Runs a private, stock GlusterFS 10.3 (Debian's glusterd + glusterfsd) for interop tests
 * and `glusterts bench`.
 *
 * Isolation (see docs/fixtures.md, "Private stock instance"):
 * - glusterd runs in its own mount namespace (`unshare --mount --propagation private`). In it,
 *   a tmpfs covers /run (so /run/gluster, /var/run/glusterd.socket and the brick's
 *   hard-coded `-S /var/run/gluster/<hash>.socket` stay private), and `<dir>/log` and
 *   `<dir>/glusterd` are bind-mounted over /var/log/glusterfs and /var/lib/glusterd
 *   (brick logs and the CLI's geo-replication template land there).
 * - glusterd also gets explicit options: `management.working-directory=<dir>/glusterd`,
 *   `management.run-directory=<dir>/run` (brick pidfiles), `management.glusterd-sockfile=
 *   <dir>/glusterd.socket`, and `management.transport.socket.bind-address=<host>`: it listens
 *   on host:24007 only, and glusterd passes the bind address on to the brick processes.
 * - The gluster CLI runs inside the same namespace (`nsenter -t <glusterd pid> -m`), since
 *   it writes /var/lib/glusterd/geo-replication on its own.
 * - Brick processes inherit the namespace. Every process is stopped by PID.
 * Nothing on the host outside `dir` is written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerMissing } from './detect.js';
import { GLUSTERD_PORT, answersDump, portByBrick, waitForBrick } from './portmap.js';
import { alive, killPid, portOpen, run, sleep } from './process.js';

export interface StockGlusterOptions {
  /** Loopback address glusterd and the bricks bind to. Not 127.0.0.1 (glusterd refuses it). */
  host?: string;
  volume?: string;
  /** Number of bricks (a plain distribute volume when > 1, unless `replica` is given). */
  bricks?: number;
  /** `replica N`: the bricks form replica sets of N (a multiple of N bricks). */
  replica?: number;
  /** With `replica 3`: the last brick of each set is an arbiter. */
  arbiter?: boolean;
  /** Parent directory for all state and bricks. A fresh temp dir when absent. */
  dir?: string;
  /** `gluster volume set` options applied before the volume starts. */
  volumeOptions?: Record<string, string>;
  /** Called after `volume create`, before `volume start` (e.g. to start a capture). */
  beforeVolumeStart?: () => Promise<void>;
  /** Keep `dir` (logs, bricks) after stop(). Also enabled by GLUSTERTS_KEEP_STOCK=1. */
  keep?: boolean;
  /** Overall start-up deadline in ms (default 30000). */
  timeoutMs?: number;
}

export interface StockGluster {
  host: string;
  port: 24007;
  volume: string;
  /** Brick directories, in volume order. Brick i's export name (remote-subvolume) is brickPaths[i]. */
  brickPaths: string[];
  /** TCP port of brick i, as portmap reports it. */
  brickPort(i: number): number;
  /** PID of brick i's glusterfsd. */
  brickPid(i: number): number;
  glusterdPid: number;
  /** State directory: glusterd/ (working dir), run/, log/, bricks/. */
  dir: string;
  /** Runs the gluster CLI against this glusterd (inside its namespace); resolves stdout. */
  cli(...args: string[]): Promise<string>;
  /**
   * `volume start VOLUME force` (stock's way back for a dead brick), repeated until every brick
   * is online again — a start issued while glusterd still counts a killed brick as running may
   * leave it down — then brickPid/brickPort follow the new processes. Rejects with the brick
   * logs' tails after `timeoutMs` (default 60 s).
   */
  startForce(timeoutMs?: number): Promise<void>;
  /**
   * Creates, configures and starts one more single-brick volume (brick `bricks/<name>`),
   * resolving once its brick answers.
   */
  addVolume(name: string, options?: Readonly<Record<string, string>>): Promise<void>;
  /** The client volfile glusterd serves for `volume` (its working dir's `<vol>.tcp-fuse.vol`). */
  clientVolfile(volume: string): Promise<string>;
  stop(): Promise<void>;
}

/** A brick as `gluster volume status --xml` reports it. */
export interface BrickStatus {
  path: string;
  port: number;
  pid: number;
  /** 1 when online. */
  status: number;
}

/** The brick nodes of `gluster volume status VOLUME --xml`. */
export function parseVolumeStatusXml(xml: string): BrickStatus[] {
  const nodes: BrickStatus[] = [];
  for (const m of xml.matchAll(/<node>([\s\S]*?)<\/node>/g)) {
    const n = m[1] ?? '';
    const get = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(n)?.[1];
    nodes.push({
      path: get('path') ?? '',
      port: Number(get('port') ?? 0),
      pid: Number(get('pid') ?? 0),
      status: Number(get('status') ?? 0),
    });
  }
  return nodes;
}

const live = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a test forgets stop() or the process is exiting: kill by PID, synchronously.
  process.on('exit', () => {
    for (const f of live) f();
  });
}

const INNER = `set -e
D="$1"; H="$2"
mount -t tmpfs -o mode=0755,size=64m glusterts-run /run
mkdir -p /run/gluster
# glfsheal (gluster volume heal … info) reaches glusterd through the default socket path.
ln -sf "$D/glusterd.socket" /run/glusterd.socket
mount --bind "$D/log" /var/log/glusterfs
mount --bind "$D/glusterd" /var/lib/glusterd
exec glusterd -N --log-level=INFO --log-file="$D/log/glusterd.log" --pid-file="$D/run/glusterd.pid" \\
  --xlator-option management.working-directory="$D/glusterd" \\
  --xlator-option management.run-directory="$D/run" \\
  --xlator-option management.glusterd-sockfile="$D/glusterd.socket" \\
  --xlator-option management.transport.socket.bind-address="$H"
`;

/** Only 127.x.y.z, and not 127.0.0.1 (glusterd refuses bricks there). */
export function checkLoopback(host: string): void {
  if (host === '127.0.0.1' || host === 'localhost')
    throw new Error('stock glusterd refuses 127.0.0.1; use 127.0.0.2');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`refusing non-loopback host ${host}`);
}

/**
 * Starts a private stock glusterd on host:24007, creates `volume` (bricks under `dir`, force),
 * starts it, and waits until portmap reports every brick and each brick answers GF-DUMP.
 * Typical start-up is about 2–3 s.
 */
export async function startStockGluster(opts: StockGlusterOptions = {}): Promise<StockGluster> {
  const host = opts.host ?? '127.0.0.2';
  const volume = opts.volume ?? 'tv';
  const nBricks = opts.bricks ?? 1;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const keep = opts.keep ?? process.env.GLUSTERTS_KEEP_STOCK === '1';
  checkLoopback(host);
  const why = peerMissing('stock-gluster');
  if (why) throw new Error(why);
  if (await portOpen(host, GLUSTERD_PORT)) throw new Error(`${host}:${GLUSTERD_PORT} is already in use`);

  const createdDir = !opts.dir;
  const base = opts.dir ? opts.dir : mkdtempSync(join(tmpdir(), 'glusterts-stock-'));
  const madeHere: string[] = [];
  for (const sub of ['glusterd', 'run', 'log', 'bricks']) {
    const p = join(base, sub);
    if (!existsSync(p)) madeHere.push(p);
    mkdirSync(p, { recursive: true });
  }
  // Option groups (`volume set tv group virt`) are read from the working dir; hooks are not
  // copied on purpose (Debian's samba/ctdb hooks must not run).
  if (existsSync('/var/lib/glusterd/groups') && !existsSync(join(base, 'glusterd', 'groups'))) {
    cpSync('/var/lib/glusterd/groups', join(base, 'glusterd', 'groups'), { recursive: true });
  }
  const brickPaths = Array.from({ length: nBricks }, (_, i) => join(base, 'bricks', `b${i}`));
  const sock = join(base, 'glusterd.socket');
  const outFd = openSync(join(base, 'log', 'glusterd.stdout'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'bash', '-c', INNER, 'inner', base, host],
      { stdio: ['ignore', outFd, outFd] },
    );
  } finally {
    closeSync(outFd);
  }
  // unshare execs bash, which execs glusterd: the child's PID is glusterd's.
  const glusterdPid = child.pid ?? 0;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const brickPids: number[] = [];
  const brickPorts: number[] = [];
  /** PIDs of the bricks of volumes added later (addVolume). */
  const otherPids: number[] = [];
  const syncKill = () => {
    for (const p of [...brickPids, ...otherPids, glusterdPid]) {
      try {
        if (p > 1) process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  installExitHook();
  live.add(syncKill);

  const cli = (...args: string[]): Promise<string> =>
    run(
      'nsenter',
      [
        '-t',
        String(glusterdPid),
        '-m',
        '--',
        'gluster',
        '--mode=script',
        `--glusterd-sock=${sock}`,
        `--log-file=${join(base, 'log', 'cli.log')}`,
        ...args,
      ],
      120_000,
    );

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Refresh brick PIDs from the pidfiles (a brick may have been restarted).
    const pids = [...brickPids, ...otherPids];
    // The self-heal daemon of a replicated volume, and bricks restarted since: from glusterd itself.
    if (!exited && alive(glusterdPid)) {
      const nodes = parseVolumeStatusXml(await cli('volume', 'status', volume, '--xml').catch(() => ''));
      for (const n of nodes) if (n.pid > 1 && !pids.includes(n.pid)) pids.push(n.pid);
    }
    for (const p of await brickPidFiles(join(base, 'run'))) if (!pids.includes(p)) pids.push(p);
    if (!exited && alive(glusterdPid) && pids.some(alive)) {
      await cli('volume', 'stop', volume, 'force').catch(() => undefined);
    }
    for (const p of pids) await killPid(p);
    await killPid(glusterdPid);
    live.delete(syncKill);
    if (!keep) {
      if (createdDir) await rm(base, { recursive: true, force: true });
      else for (const p of madeHere) await rm(p, { recursive: true, force: true });
      await rm(sock, { force: true });
    }
  };

  const tlsBricks = /^(on|yes|true|enable|1)$/i.test(opts.volumeOptions?.['server.ssl'] ?? '');
  const bricksOnline = async (vol: string, paths: string[]): Promise<BrickStatus[] | undefined> => {
    const nodes = parseVolumeStatusXml(await cli('volume', 'status', vol, '--xml').catch(() => ''));
    const found: BrickStatus[] = [];
    for (const p of paths) {
      const n = nodes.find((x) => x.path === p);
      if (!n || n.status !== 1 || !(n.pid > 0)) return undefined;
      const port = await portByBrick(host, p).catch(() => 0);
      // A TLS brick (server.ssl on) does not answer a plain DUMP; portmap's word is enough.
      if (!(port > 0) || (!tlsBricks && !(await answersDump(host, port)))) return undefined;
      found.push({ ...n, port });
    }
    return found;
  };

  const startForce = async (limitMs = 60_000): Promise<void> => {
    const deadline = Date.now() + limitMs;
    for (;;) {
      await cli('volume', 'start', volume, 'force').catch(() => undefined);
      const retryAt = Math.min(deadline, Date.now() + 10_000);
      while (Date.now() < retryAt) {
        const online = await bricksOnline(volume, brickPaths);
        if (online) {
          online.forEach((n, i) => {
            brickPids[i] = n.pid;
            brickPorts[i] = n.port;
          });
          return;
        }
        await sleep(250);
      }
      if (Date.now() >= deadline)
        throw new Error(
          `bricks not online after volume start force:\n${await brickLogTails(join(base, 'log'))}`,
        );
    }
  };

  try {
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(sock) && (await answersDump(host, GLUSTERD_PORT)))) {
      if (exited) throw new Error(`glusterd exited at start-up; see ${join(base, 'log')}`);
      if (Date.now() > deadline) throw new Error('glusterd did not come up');
      await sleep(50);
    }
    const layout = opts.replica
      ? ['replica', String(opts.replica), ...(opts.arbiter ? ['arbiter', '1'] : [])]
      : [];
    await cli('volume', 'create', volume, ...layout, ...brickPaths.map((p) => `${host}:${p}`), 'force');
    for (const [k, v] of Object.entries(opts.volumeOptions ?? {})) await cli('volume', 'set', volume, k, v);
    if (opts.beforeVolumeStart) await opts.beforeVolumeStart();
    await cli('volume', 'start', volume);
    for (;;) {
      const online = await bricksOnline(volume, brickPaths);
      if (online) {
        online.forEach((n, i) => {
          brickPids[i] = n.pid;
          brickPorts[i] = n.port;
        });
        break;
      }
      if (Date.now() > deadline) throw new Error(`bricks did not come online; see ${join(base, 'log')}`);
      await sleep(100);
    }
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }

  return {
    host,
    port: GLUSTERD_PORT,
    volume,
    brickPaths,
    brickPort: (i) => {
      const p = brickPorts[i];
      if (p === undefined) throw new RangeError(`no brick ${i}`);
      return p;
    },
    brickPid: (i) => {
      const p = brickPids[i];
      if (p === undefined) throw new RangeError(`no brick ${i}`);
      return p;
    },
    glusterdPid,
    dir: base,
    cli,
    startForce,
    async addVolume(name, options = {}) {
      const brick = join(base, 'bricks', name);
      await cli('volume', 'create', name, `${host}:${brick}`, 'force');
      for (const [k, v] of Object.entries(options)) await cli('volume', 'set', name, k, v);
      await cli('volume', 'start', name);
      await waitForBrick(host, brick);
      const online = await bricksOnline(name, [brick]);
      if (online) otherPids.push(online[0]!.pid);
    },
    // glusterd's working dir is <dir>/glusterd on both sides of the bind mount.
    clientVolfile: (vol) => readFile(join(base, 'glusterd', 'vols', vol, `${vol}.tcp-fuse.vol`), 'utf8'),
    stop,
  };
}

async function brickPidFiles(runDir: string): Promise<number[]> {
  const out: number[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.pid') && e.name !== 'glusterd.pid') {
        const n = Number((await readFile(p, 'utf8').catch(() => '')).trim());
        if (n > 1) out.push(n);
      }
    }
  };
  await walk(runDir);
  return out;
}

/** The last lines of each brick log and glusterd's, for a failure message. */
async function brickLogTails(logDir: string, lines = 15): Promise<string> {
  const files = [
    join(logDir, 'glusterd.log'),
    ...(await readdir(join(logDir, 'bricks')).catch(() => [])).map((f) => join(logDir, 'bricks', f)),
  ];
  const parts: string[] = [];
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    parts.push(`== ${f}\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  return parts.join('\n');
}
