/**
 * Runs a private, stock GlusterFS 10.3 (Debian's glusterd + glusterfsd) for interop tests
 * and `glusterts bench`, and mounts the stock FUSE client. (Tests import it through
 * test/support/stock-gluster.ts, which adds requirePeer.)
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
 * Nothing on the host outside `dir` is written (the FUSE client runs in the host namespace
 * so tests see its mount, with its log and pidfile under a path we choose).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
} from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GLUSTERD_PORT = 24007;

export interface StockGlusterOptions {
  /** Loopback address glusterd and the bricks bind to. Not 127.0.0.1 (glusterd refuses it). */
  host?: string;
  volume?: string;
  /** Number of bricks (a plain distribute volume when > 1). */
  bricks?: number;
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
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Peer programs

/** Program (or pseudo-program) → the Debian 12 package that provides it. */
export const PEER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  glusterd: 'glusterfs-server',
  glusterfsd: 'glusterfs-server',
  gluster: 'glusterfs-cli',
  glusterfs: 'glusterfs-client',
  'mount.glusterfs': 'glusterfs-client',
  'stock-gluster': 'glusterfs-server glusterfs-client',
  'qemu-img': 'qemu-utils',
  'qemu-io': 'qemu-utils',
  'qemu-nbd': 'qemu-utils',
  'qemu-storage-daemon': 'qemu-utils',
  'qemu-gluster': 'qemu-block-extra',
  fio: 'fio',
  nbdinfo: 'libnbd-bin',
  nbdcopy: 'libnbd-bin',
  nbdfuse: 'libnbd-bin',
  nbdkit: 'nbdkit',
  tshark: 'tshark',
  dumpcap: 'tshark',
  setfattr: 'attr',
  getfattr: 'attr',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  fallocate: 'util-linux',
});

const SEARCH_PATH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** Absolute path of an executable on PATH (plus the sbin dirs), or undefined. */
export function which(prog: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  for (const d of dirs) {
    const p = join(d, prog);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const QEMU_GLUSTER_MODULES = [
  '/usr/lib/x86_64-linux-gnu/qemu/block-gluster.so',
  '/usr/lib/aarch64-linux-gnu/qemu/block-gluster.so',
];

/**
 * What is missing for a peer: '' when present, else a reason naming the Debian package.
 * `name` is a program (`qemu-img`, `fio`, …) or one of the pseudo-names `stock-gluster`
 * (glusterd, glusterfsd, CLI, FUSE client, root) and `qemu-gluster` (qemu-img plus QEMU's
 * gluster block driver).
 */
export function peerMissing(name: string): string {
  if (name === 'stock-gluster') {
    for (const p of ['glusterd', 'glusterfsd', 'gluster', 'glusterfs', 'unshare', 'nsenter']) {
      const m = peerMissing(p);
      if (m) return m;
    }
    if (process.getuid?.() !== 0)
      return 'stock GlusterFS needs root (mount namespace, bricks with trusted.* xattrs)';
    return '';
  }
  if (name === 'qemu-gluster') {
    if (!which('qemu-img')) return `qemu-img not found (install Debian package qemu-utils)`;
    if (!QEMU_GLUSTER_MODULES.some((p) => existsSync(p)))
      return 'QEMU gluster block driver (block-gluster.so) not found (install Debian package qemu-block-extra)';
    return '';
  }
  if (which(name)) return '';
  const pkg = PEER_PACKAGES[name];
  return `${name} not found${pkg ? ` (install Debian package ${pkg})` : ''}`;
}

/** True when the stock GlusterFS server and client binaries are installed and we are root. */
export function haveStockGluster(): boolean {
  return peerMissing('stock-gluster') === '';
}

// ---------------------------------------------------------------------------------------
// Small process helpers

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`);
        reject(e);
      } else resolve({ stdout, stderr });
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Zombie children count as dead. */
function zombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM a PID, wait up to `graceMs`, then SIGKILL. */
export async function killPid(pid: number, graceMs = 3000): Promise<void> {
  if (!pid || pid <= 1 || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!alive(pid) || zombie(pid)) return;
    await sleep(25);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid) && !zombie(pid); i++) await sleep(20);
}

function tcpOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** One raw RPC over TCP: sends a record, returns the first reply record (without the mark). */
function rawRpc(host: string, port: number, body: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let acc = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`rpc to ${host}:${port} timed out`));
    }, timeoutMs);
    s.once('connect', () => {
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x80000000 | body.length) >>> 0);
      s.write(Buffer.concat([mark, body]));
    });
    s.on('data', (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      if (acc.length >= 4) {
        const len = acc.readUInt32BE(0) & 0x7fffffff;
        if (acc.length >= 4 + len) {
          clearTimeout(timer);
          s.destroy();
          resolve(acc.subarray(4, 4 + len));
        }
      }
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function xdrString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(4 + ((b.length + 3) & ~3));
  out.writeUInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}

/**
 * Asks glusterd's portmap (34123456 v1 PORTBYBRICK) for a brick's port. Returns the port,
 * or 0 when glusterd answers op_ret -1 (brick not signed in yet).
 */
export async function portByBrick(host: string, brick: string, port = GLUSTERD_PORT): Promise<number> {
  const head = Buffer.alloc(24 + 8 + 24 + 8);
  let o = 0;
  for (const v of [PROBE_XID, 0, 2, 34123456, 1, 1]) o = head.writeUInt32BE(v, o);
  // AUTH_GLUSTERFS_v2: pid 0, uid 0, gid 0, no groups, 4-byte lk_owner 0.
  o = head.writeUInt32BE(390039, o);
  o = head.writeUInt32BE(24, o);
  o += 24;
  o = head.writeUInt32BE(0, o); // verifier AUTH_NONE
  head.writeUInt32BE(0, o);
  head.writeUInt32BE(4, 32 + 16); // lk_owner length
  const reply = await rawRpc(host, port, Buffer.concat([head, xdrString(brick)]));
  // xid, REPLY, MSG_ACCEPTED, verf(0,0), SUCCESS, then op_ret, op_errno, status, port.
  if (reply.length < 40 || reply.readUInt32BE(8) !== 0 || reply.readUInt32BE(20) !== 0) {
    throw new Error(`unexpected PORTBYBRICK reply ${reply.toString('hex')}`);
  }
  return reply.readInt32BE(24) === 0 ? reply.readInt32BE(36) : 0;
}

// ---------------------------------------------------------------------------------------
// Stock glusterd

/** xid of portByBrick's probe calls, so captures can tell them from stock traffic. */
export const PROBE_XID = 0x4711;

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
mount --bind "$D/log" /var/log/glusterfs
mount --bind "$D/glusterd" /var/lib/glusterd
exec glusterd -N --log-level=INFO --log-file="$D/log/glusterd.log" --pid-file="$D/run/glusterd.pid" \\
  --xlator-option management.working-directory="$D/glusterd" \\
  --xlator-option management.run-directory="$D/run" \\
  --xlator-option management.glusterd-sockfile="$D/glusterd.socket" \\
  --xlator-option management.transport.socket.bind-address="$H"
`;

function parseStatusXml(xml: string): { path: string; port: number; pid: number; status: number }[] {
  const nodes: { path: string; port: number; pid: number; status: number }[] = [];
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

/**
 * Starts a private stock glusterd on host:24007, creates `volume` (bricks under `dir`, force),
 * starts it, and waits until portmap reports every brick and the brick port accepts TCP.
 * Typical start-up is about 2–3 s.
 */
export async function startStockGluster(opts: StockGlusterOptions = {}): Promise<StockGluster> {
  const host = opts.host ?? '127.0.0.2';
  const volume = opts.volume ?? 'tv';
  const nBricks = opts.bricks ?? 1;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const keep = opts.keep ?? process.env.GLUSTERTS_KEEP_STOCK === '1';
  if (host === '127.0.0.1' || host === 'localhost')
    throw new Error('stock glusterd refuses 127.0.0.1; use 127.0.0.2');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`refusing non-loopback host ${host}`);
  const why = peerMissing('stock-gluster');
  if (why) throw new Error(why);
  if (await tcpOpen(host, GLUSTERD_PORT)) throw new Error(`${host}:${GLUSTERD_PORT} is already in use`);

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
      {
        stdio: ['ignore', outFd, outFd],
      },
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
  const syncKill = () => {
    for (const p of [...brickPids, glusterdPid]) {
      try {
        if (p > 1) process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  installExitHook();
  live.add(syncKill);

  const cli = async (...args: string[]): Promise<string> => {
    const r = await run(
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
    return r.stdout;
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Refresh brick PIDs from the pidfiles (a brick may have been restarted).
    for (const p of await brickPidFiles(join(base, 'run'))) if (!brickPids.includes(p)) brickPids.push(p);
    if (!exited && alive(glusterdPid) && brickPids.some(alive)) {
      await cli('volume', 'stop', volume, 'force').catch(() => undefined);
    }
    for (const p of brickPids) await killPid(p);
    await killPid(glusterdPid);
    live.delete(syncKill);
    if (!keep) {
      if (createdDir) await rm(base, { recursive: true, force: true });
      else for (const p of madeHere) await rm(p, { recursive: true, force: true });
      await rm(sock, { force: true });
    }
  };

  try {
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(sock) && (await tcpOpen(host, GLUSTERD_PORT)))) {
      if (exited) throw new Error(`glusterd exited at start-up; see ${join(base, 'log')}`);
      if (Date.now() > deadline) throw new Error('glusterd did not come up');
      await sleep(50);
    }
    await cli('volume', 'create', volume, ...brickPaths.map((p) => `${host}:${p}`), 'force');
    for (const [k, v] of Object.entries(opts.volumeOptions ?? {})) await cli('volume', 'set', volume, k, v);
    if (opts.beforeVolumeStart) await opts.beforeVolumeStart();
    await cli('volume', 'start', volume);
    for (;;) {
      const nodes = parseStatusXml(await cli('volume', 'status', volume, '--xml').catch(() => ''));
      const ports = await Promise.all(brickPaths.map((p) => portByBrick(host, p).catch(() => 0)));
      const ok = brickPaths.every((p, i) => {
        const n = nodes.find((x) => x.path === p);
        return n && n.status === 1 && n.pid > 0 && ports[i]! > 0;
      });
      if (ok) {
        brickPaths.forEach((p, i) => {
          const n = nodes.find((x) => x.path === p)!;
          brickPids[i] = n.pid;
          brickPorts[i] = ports[i]!;
        });
        if ((await Promise.all(brickPorts.map((p) => tcpOpen(host, p)))).every(Boolean)) break;
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
  await walk(join(runDir, 'vols'));
  return out;
}

// ---------------------------------------------------------------------------------------
// Stock FUSE client

export interface FuseMountOptions {
  /** glusterd port (default 24007). */
  port?: number;
  /** Where the client's log and pidfile go (default: next to the mountpoint, `<mp>.log`/`.pid`). */
  logFile?: string;
  pidFile?: string;
  /** Extra glusterfs arguments, e.g. ['--attribute-timeout=0', '--entry-timeout=0']. */
  extraArgs?: string[];
  timeoutMs?: number;
}

function isMounted(mountpoint: string): boolean {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === mountpoint);
}

/**
 * Mounts `host:/volume` on `mountpoint` with the stock FUSE client (`glusterfs`, what
 * `mount -t glusterfs` runs), logging to a file of ours instead of /var/log/glusterfs.
 * Resolves to an unmount function: `umount <mountpoint>` (lazy if busy), then waits for the
 * client process (by its PID) to exit, killing it by PID if it lingers.
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
  await run('glusterfs', [
    '--process-name',
    'fuse',
    `--volfile-server=${host}`,
    `--volfile-server-port=${opts.port ?? GLUSTERD_PORT}`,
    `--volfile-id=${volume}`,
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
    while (alive(pid) && !zombie(pid) && Date.now() < until) await sleep(25);
    await killPid(pid);
    await rm(pidFile, { force: true });
  };
}
