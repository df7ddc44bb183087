/**
 * Hosts of a pool for tests: each host is a network namespace with one interface (eth0)
 * on 198.18.0.0/24 (the benchmarking range) and loopback; all of them hang off a bridge
 * that lives in a namespace of its own, through veth pairs. There is no route anywhere
 * else, so nothing a test starts can reach (or be reached from) the machine's networks.
 *
 *   ns <prefix>br:  br0 ── v1 ─┬─ ns <prefix>h1: eth0 198.18.0.1
 *                         v2 ─┼─ ns <prefix>h2: eth0 198.18.0.2
 *                         …   └─ …
 *
 * `cut(i)` takes host i's bridge-side link down, so its packets vanish without resets, and
 * `restore(i)` brings it back. Processes started with `spawn` run inside a host's namespace
 * (`ip netns exec` execs the program: the child's PID is the program's) and are killed by
 * PID at cleanup, which then deletes every namespace (their veths go with them). A process
 * exit hook deletes what a failed test left.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { killPid } from '../../src/peers/process.js';

export interface NetnsHost {
  /** The namespace's name. */
  ns: string;
  address: string;
  /** Runs `file args` inside this host's namespace. */
  spawn(file: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Runs a command in the namespace to completion; resolves its stdout. */
  run(file: string, args: readonly string[]): string;
}

export interface NetnsHosts {
  hosts: NetnsHost[];
  /** Host i's link to the bridge goes down: its packets are dropped silently. */
  cut(i: number): void;
  restore(i: number): void;
  /** Kills every process started through `spawn` (by PID), then deletes the namespaces. */
  cleanup(): Promise<void>;
}

const live = new Set<string[]>();
let hookInstalled = false;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function deleteNamespaces(names: readonly string[]): void {
  for (const n of names) {
    try {
      ip('netns', 'del', n);
    } catch {
      // already gone
    }
  }
}

/**
 * Creates `count` hosts (198.18.0.1 …) behind one bridge. `prefix` names the namespaces
 * (default gts<pid>; keep it short and unique per test process).
 */
export function createNetnsHosts(count: number, prefix = `gts${process.pid}`): NetnsHosts {
  if (count < 1 || count > 200) throw new Error('1 to 200 hosts');
  const bridgeNs = `${prefix}br`;
  const names = [bridgeNs, ...Array.from({ length: count }, (_, i) => `${prefix}h${i + 1}`)];
  live.add(names);
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      for (const n of live) deleteNamespaces(n);
    });
  }
  const children = new Set<ChildProcess>();
  try {
    ip('netns', 'add', bridgeNs);
    ip('-n', bridgeNs, 'link', 'set', 'lo', 'up');
    ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
    for (let i = 1; i <= count; i++) {
      const ns = names[i]!;
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', bridgeNs, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', bridgeNs, 'link', 'set', `v${i}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `198.18.0.${i}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
  } catch (err) {
    deleteNamespaces(names);
    live.delete(names);
    throw err;
  }
  const hosts = names.slice(1).map((ns, i): NetnsHost => ({
    ns,
    address: `198.18.0.${i + 1}`,
    spawn(file, args, opts = {}) {
      const child = spawn('ip', ['netns', 'exec', ns, file, ...args], opts);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    run(file, args) {
      return execFileSync('ip', ['netns', 'exec', ns, file, ...args], { encoding: 'utf8' });
    },
  }));
  return {
    hosts,
    cut: (i) => ip('-n', bridgeNs, 'link', 'set', `v${i + 1}`, 'down'),
    restore: (i) => ip('-n', bridgeNs, 'link', 'set', `v${i + 1}`, 'up'),
    async cleanup() {
      await Promise.all([...children].map((c) => (c.pid ? killPid(c.pid) : undefined)));
      deleteNamespaces(names);
      live.delete(names);
    },
  };
}
