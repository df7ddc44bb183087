// A pool of three hosts (network namespaces, test/support/netns-hosts.ts), each running
// `glusterts daemon` with the real brick: peer probe forms the pool (etcd members), a
// replica 3 volume with one brick per host is created and started from different hosts and
// `volume info` agrees on all three; a client on a fourth host writes and reads back through
// the volume, and every brick holds the data. Also the probe's refusals (self, duplicate, a
// host with no daemon, a brick on a host outside the pool) and peer status / pool list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GLUSTERTS_CLI as CLI, requirePeer } from '../../src/peers/index.js';
import { killPid, sleep, waitFor } from '../../src/peers/process.js';

/** Polls `check` every 200 ms until it is true. */
const until = (what: string, check: () => Promise<boolean>, ms: number) =>
  waitFor(what, async () => ((await check()) ? true : undefined), ms, 200);
import { createNetnsHosts, type NetnsHost } from '../support/netns-hosts.js';

const execFileP = promisify(execFile);

/** Runs the CLI (in the root namespace: the daemon's CLI socket is a file) → code and output. */
async function gts(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await execFileP(process.execPath, [CLI, ...args], { timeout: 60_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      out: err.stdout ?? '',
      err: err.stderr ?? '',
    };
  }
}

interface HostDaemon {
  host: NetnsHost;
  data: string;
  child: ChildProcess;
}

async function startDaemon(host: NetnsHost, data: string): Promise<HostDaemon> {
  mkdirSync(data, { recursive: true });
  const log = openSync(join(data, 'daemon.log'), 'a');
  const child = host.spawn(
    process.execPath,
    [CLI, 'daemon', '--data', data, '--host', host.address, '--port', '24007'],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  await until(
    `daemon on ${host.address}`,
    async () =>
      existsSync(join(data, 'cli.socket')) && (await gts('volume', 'info', '--data', data)).code === 0,
    15_000,
  );
  return { host, data, child };
}

/** Kills whatever a daemon's state directory records (pid files), in case the daemon could not. */
async function killRecorded(data: string): Promise<void> {
  const files = [join(data, 'etcd.pid')];
  const bricks = join(data, 'logs', 'bricks');
  if (existsSync(bricks))
    for (const f of readdirSync(bricks)) if (f.endsWith('.pid')) files.push(join(bricks, f));
  for (const f of files) {
    try {
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (pid > 1) await killPid(pid, 1000);
    } catch {
      // no such file, or gone
    }
  }
}

test(
  'three hosts form a pool; a replica 3 volume shows identically on all and serves verified IO',
  { timeout: 180_000 },
  async (t) => {
    if (!requirePeer(['netns', 'etcd'], t)) return;
    const net = createNetnsHosts(4);
    const base = mkdtempSync(join(tmpdir(), 'gts-pool-'));
    const daemons: HostDaemon[] = [];
    try {
      const [h1, h2, h3, client] = net.hosts as [NetnsHost, NetnsHost, NetnsHost, NetnsHost];
      for (const h of [h1, h2, h3]) daemons.push(await startDaemon(h, join(base, h.ns)));
      const [d1, d2, d3] = daemons as [HostDaemon, HostDaemon, HostDaemon];
      // daemons[1] is replaced when h2's daemon restarts; d2 keeps its state directory.

      // Alone, a daemon has no peers and lists itself.
      assert.equal((await gts('peer', 'status', '--data', d1.data)).out, 'Number of Peers: 0\n');
      assert.match(
        (await gts('pool', 'list', '--data', d1.data)).out,
        /^UUID\t\t\t\t\tHostname \tState\n[0-9a-f-]{36}\tlocalhost\tConnected \n$/,
      );

      // Refusals that change nothing: self probe, a host with no daemon.
      assert.deepEqual(await gts('peer', 'probe', h1.address, '--data', d1.data), {
        code: 0,
        out: 'peer probe: Probe on localhost not needed\n',
        err: '',
      });
      const nobody = await gts('peer', 'probe', '198.18.0.99', '--data', d1.data);
      assert.equal(nobody.code, 1);
      assert.equal(
        nobody.err,
        'peer probe: failed: Probe returned with Transport endpoint is not connected\n',
      );
      assert.equal((await gts('peer', 'status', '--data', d1.data)).out, 'Number of Peers: 0\n');

      const t0 = Date.now();
      assert.deepEqual(await gts('peer', 'probe', h2.address, '--data', d1.data), {
        code: 0,
        out: 'peer probe: success\n',
        err: '',
      });
      assert.deepEqual(await gts('peer', 'probe', h3.address, '--data', d1.data), {
        code: 0,
        out: 'peer probe: success\n',
        err: '',
      });
      t.diagnostic(`two probes (etcd formed and joined twice): ${Date.now() - t0} ms`);
      // A duplicate, asked from another host, and by address:port.
      assert.equal(
        (await gts('peer', 'probe', `${h3.address}:24007`, '--data', d2.data)).out,
        `peer probe: Host ${h3.address} port 24007 already in peer list\n`,
      );

      for (const d of daemons) {
        const others = daemons
          .filter((o) => o !== d)
          .map((o) => o.host.address)
          .sort();
        const status = (await gts('peer', 'status', '--data', d.data)).out;
        assert.match(status, /^Number of Peers: 2\n/);
        for (const a of others)
          assert.match(
            status,
            new RegExp(
              `\nHostname: ${a.replaceAll('.', '\\.')}\nUuid: [0-9a-f-]{36}\nState: Peer in Cluster \\(Connected\\)\n`,
            ),
          );
        const list = (await gts('pool', 'list', '--data', d.data)).out.split('\n');
        assert.equal(list.length, 5, list.join('\n'));
        assert.match(list[3]!, /\tlocalhost\tConnected $/);
      }

      // Bricks: one per host (the hosts share this machine's file system, so paths differ).
      const bricks = daemons.map((d) => ({
        label: `${d.host.address}:${join(base, 'bricks', d.host.ns)}`,
        dir: join(base, 'bricks', d.host.ns),
      }));
      for (const b of bricks) mkdirSync(b.dir, { recursive: true });
      const outside = await gts(
        'volume',
        'create',
        'nope',
        `198.18.0.99:${join(base, 'bricks', 'x')}`,
        '--data',
        d1.data,
      );
      assert.equal(
        outside.err,
        "volume create: nope: failed: Host 198.18.0.99 is not in 'Peer in Cluster' state\n",
      );

      const created = await gts(
        'volume',
        'create',
        'pv',
        'replica',
        '3',
        ...bricks.map((b) => b.label),
        '--data',
        d2.data,
      );
      assert.equal(
        created.out,
        'volume create: pv: success: please start the volume to access data\n',
        created.err,
      );
      assert.equal((await gts('volume', 'start', 'pv', '--data', d3.data)).code, 0);

      // Every host agrees on the volume (each applies the store's change through its watch).
      let infos: string[] = [];
      await until(
        'volume info to agree on every host',
        async () => {
          infos = await Promise.all(
            daemons.map(async (d) => (await gts('volume', 'info', 'pv', '--data', d.data)).out),
          );
          return infos.every((i) => i === infos[0]) && infos[0]!.includes('Status: Started');
        },
        15_000,
      );
      assert.match(infos[0]!, /Type: Replicate\n/);
      assert.match(infos[0]!, /Number of Bricks: 1 x 3 = 3\n/);
      for (const [i, b] of bricks.entries())
        assert.match(infos[0]!, new RegExp(`Brick${i + 1}: ${b.label}\n`));

      // Each host runs only its own brick: its status shows a pid for that one.
      for (const [i, d] of daemons.entries()) {
        await until(
          `the brick of ${d.host.address} online`,
          async () => {
            // A long brick name has its columns on the next line: join them back.
            const status = (await gts('volume', 'status', 'pv', '--data', d.data)).out.replace(
              /\n {44}/g,
              ' ',
            );
            const online = status.split('\n').filter((l) => /^Brick .* Y\s+\d+$/.test(l));
            return online.length === 1 && online[0]!.includes(bricks[i]!.dir);
          },
          20_000,
        );
      }

      // A client on the fourth host: write through h1's volfile, read back, check every replica.
      const payload = randomBytes(3 * 1024 * 1024 + 17);
      const src = join(base, 'payload');
      const back = join(base, 'payload.back');
      writeFileSync(src, payload);
      const url = `gluster://${h1.address}/pv/disk.raw`;
      const io0 = Date.now();
      client.run(process.execPath, [CLI, 'cp', src, url]);
      client.run(process.execPath, [CLI, 'cp', url, back]);
      t.diagnostic(`3 MiB written and read back over the pool: ${Date.now() - io0} ms`);
      assert.ok(readFileSync(back).equals(payload), 'read back what was written');
      for (const b of bricks)
        assert.ok(readFileSync(join(b.dir, 'disk.raw')).equals(payload), `replica on ${b.label}`);

      /** Waits until every running daemon prints the same `volume info`; resolves it. */
      const agreed = async (what: string, check: (info: string) => boolean): Promise<string> => {
        let seen: string[] = [];
        await until(
          what,
          async () => {
            seen = await Promise.all(
              daemons.map(async (d) => (await gts('volume', 'info', '--data', d.data)).out),
            );
            return seen.every((i) => i === seen[0]) && check(seen[0]!);
          },
          15_000,
        );
        return seen[0]!;
      };

      // An option set from one host reaches every host's volume info.
      assert.equal(
        (await gts('volume', 'set', 'pv', 'network.ping-timeout', '7', '--data', d2.data)).code,
        0,
      );
      await agreed('the option on every host', (i) => i.includes('network.ping-timeout: 7\n'));

      // A daemon restarted on a pool host rejoins (its etcd member restarts from its data),
      // recovers the pool's state, runs its brick again and serves volfiles.
      d2.child.kill('SIGTERM');
      await once(d2.child, 'exit');
      const r0 = Date.now();
      daemons[1] = await startDaemon(h2, d2.data);
      t.diagnostic(`daemon restarted on a pool host in ${Date.now() - r0} ms`);
      assert.equal(
        (await agreed('the restarted daemon to agree', () => true)).includes('network.ping-timeout: 7'),
        true,
      );
      const back2 = join(base, 'payload.back2');
      client.run(process.execPath, [CLI, 'cp', `gluster://${h2.address}/pv/disk.raw`, back2]);
      assert.ok(readFileSync(back2).equals(payload), 'read back through the restarted host');

      // Detach: refused while the host has bricks (stock's words); fine once the volume is gone.
      const refused = await gts('peer', 'detach', h3.address, '--yes', '--data', d1.data);
      assert.equal(refused.code, 1);
      assert.match(
        refused.err,
        new RegExp(
          `^peer detach: failed: Peer ${h3.address.replaceAll('.', '\\.')} hosts one or more bricks\\.`,
        ),
      );
      assert.equal((await gts('volume', 'stop', 'pv', '--data', d1.data)).code, 0);
      assert.equal((await gts('volume', 'delete', 'pv', '--data', d3.data)).code, 0);
      await agreed('the volume gone on every host', (i) => i === 'No volumes present\n');
      assert.deepEqual(await gts('peer', 'detach', h3.address, '--yes', '--data', d1.data), {
        code: 0,
        out: 'peer detach: success\n',
        err: '',
      });
      assert.match((await gts('peer', 'status', '--data', d1.data)).out, /^Number of Peers: 1\n/);
      assert.equal((await gts('peer', 'status', '--data', d3.data)).out, 'Number of Peers: 0\n');
      assert.equal((await gts('pool', 'list', '--data', d3.data)).out.split('\n').length, 3);
    } finally {
      for (const d of daemons) {
        if (d.child.exitCode === null && d.child.signalCode === null) {
          d.child.kill('SIGTERM');
          await Promise.race([once(d.child, 'exit'), sleep(15_000)]);
        }
        await killRecorded(d.data);
      }
      await net.cleanup();
      if (process.env.GLUSTERTS_KEEP_POOL === '1') t.diagnostic(`kept ${base}`);
      else rmSync(base, { recursive: true, force: true });
    }
  },
);
