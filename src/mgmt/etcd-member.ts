/**
 * The etcd member a pool daemon runs on its own host (Debian's etcd-server, 3.4): its data
 * under DATA/etcd, its log in DATA/logs/etcd.log, its pid in DATA/etcd.pid. The member's
 * name is the daemon's uuid; it listens for clients on HOST:clientPort and for its peers on
 * HOST:peerPort. Stopped by PID (SIGTERM, then SIGKILL); a member left behind by a killed
 * daemon is found through the pid file and stopped before a new one starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from './etcd.js';

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

export interface EtcdMemberOptions {
  /** The daemon's state directory. */
  data: string;
  /** The daemon's uuid: the member's name. */
  name: string;
  host: string;
  clientPort?: number;
  peerPort?: number;
  /** How to start: a new one-member cluster, or joining the members listed (`name=peerUrl`). */
  join?: { initialCluster: string };
  /** The etcd program (default `etcd` on PATH). */
  program?: string;
  startTimeoutMs?: number;
}

export function etcdDataDir(data: string): string {
  return join(data, 'etcd');
}

/** Whether this state directory holds an etcd member (so the daemon is in a pool). */
export function hasEtcdMember(data: string): boolean {
  return existsSync(join(etcdDataDir(data), 'member'));
}

export function peerUrl(host: string, peerPort = ETCD_PEER_PORT): string {
  return `http://${host}:${peerPort}`;
}

export function clientUrl(host: string, clientPort = ETCD_CLIENT_PORT): string {
  return `http://${host}:${clientPort}`;
}

export class EtcdMemberProcess {
  readonly client: EtcdClient;
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly pidFile: string,
    endpoint: string,
  ) {
    this.client = new EtcdClient(endpoint);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the member and resolves once it answers with a leader. */
  static async start(o: EtcdMemberOptions): Promise<EtcdMemberProcess> {
    const clientPort = o.clientPort ?? ETCD_CLIENT_PORT;
    const peerPort = o.peerPort ?? ETCD_PEER_PORT;
    const dir = etcdDataDir(o.data);
    const pidFile = join(o.data, 'etcd.pid');
    killStaleMember(pidFile, dir);
    const fresh = !existsSync(join(dir, 'member'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const logDir = join(o.data, 'logs');
    mkdirSync(logDir, { recursive: true });
    const args = [
      '--name',
      o.name,
      '--data-dir',
      dir,
      '--listen-client-urls',
      clientUrl(o.host, clientPort),
      '--advertise-client-urls',
      clientUrl(o.host, clientPort),
      '--listen-peer-urls',
      peerUrl(o.host, peerPort),
      '--initial-advertise-peer-urls',
      peerUrl(o.host, peerPort),
      // The gateway's watch streams stay open: no request timeout there, and small heartbeats
      // so a lost member is noticed within seconds.
      '--heartbeat-interval',
      '100',
      '--election-timeout',
      '1000',
    ];
    // Only read when the data directory is empty; a restarted member finds its cluster there.
    if (fresh) {
      args.push('--initial-cluster-token', `glusterts-${o.join ? 'pool' : o.name}`);
      if (o.join)
        args.push('--initial-cluster', o.join.initialCluster, '--initial-cluster-state', 'existing');
      else
        args.push(
          '--initial-cluster',
          `${o.name}=${peerUrl(o.host, peerPort)}`,
          '--initial-cluster-state',
          'new',
        );
    }
    const log = openSync(join(logDir, 'etcd.log'), 'a', 0o640);
    let child: ChildProcess;
    try {
      child = spawn(o.program ?? 'etcd', args, { stdio: ['ignore', log, log], detached: true });
    } finally {
      closeSync(log);
    }
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid !== undefined) writeFileSync(pidFile, `${child.pid}\n`);
    const member = new EtcdMemberProcess(child, pidFile, clientUrl(o.host, clientPort));
    const deadline = Date.now() + (o.startTimeoutMs ?? 20_000);
    for (;;) {
      const failed = await Promise.race([
        spawnError,
        member.exited.then(() => 'exited' as const),
        sleep(200),
      ]);
      if (failed instanceof Error) throw new Error(`cannot run etcd: ${failed.message}`);
      if (failed === 'exited') throw new Error(`etcd exited at start; see ${join(logDir, 'etcd.log')}`);
      if (await member.client.healthy()) return member;
      if (Date.now() > deadline) {
        await member.stop();
        throw new Error(`etcd did not elect a leader in time; see ${join(logDir, 'etcd.log')}`);
      }
    }
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.pidFile, { force: true });
  }
}

const sleep = (ms: number) => new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));

/** Kills the process the pid file names if it is an etcd serving `dataDir`. */
function killStaleMember(pidFile: string, dataDir: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv[argv.indexOf('--data-dir') + 1] === dataDir) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
