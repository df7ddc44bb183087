// `glusterts volume set NAME group GROUP`, `volume get NAME KEY|all` and `volume reset NAME
// [KEY|all]` as a user runs them against a daemon (stub brick): gluster CLI 10.3's output
// and messages (compared with a live stock glusterd in test/mgmt/stock-volfiles.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { GLUSTERTS_CLI as CLI, startService } from '../../src/peers/index.js';
import { VOLUME_OPTIONS } from '../../src/mgmt/options.js';

const STUB_BRICK = new URL('../mgmt/stub-brick.js', import.meta.url).pathname;
const HOST = '127.0.0.24';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const row = (k: string, v: string) => `${k.padEnd(40)} ${v.padEnd(39)}\n`;
const HEAD = row('Option', 'Value') + row('------', '-----');

test('volume set group, get and reset print what the gluster CLI prints', async () => {
  const data = mkdtempSync(join(tmpdir(), 'gts-cli-opts-'));
  const args = [CLI, 'daemon', '--data', data, '--host', HOST, '--port', '0'];
  const env = { ...process.env, GLUSTERTS_BRICK_PROGRAM: STUB_BRICK };
  const daemon: ChildProcess = (
    await startService(process.execPath, args, /listening on/, { env, timeoutMs: 10_000 })
  ).child;
  const v = (...a: string[]) => run(['volume', '--data', data, ...a]);
  try {
    const bricks = ['d0', 'd1', 'd2', 'r0', 'r1', 'r2'].map((n) => join(data, n));
    for (const b of bricks) mkdirSync(b);
    assert.equal((await v('create', 'dv', ...bricks.slice(0, 3))).code, 0);
    assert.equal((await v('create', 'rv', 'replica', '3', ...bricks.slice(3), 'force')).code, 0);

    // group virt names cluster.shd-max-threads, which glusterd refuses on distribute: nothing is set.
    let r = await v('set', 'dv', 'group', 'virt');
    assert.deepEqual(
      [r.code, r.stderr],
      [1, 'volume set: failed: Cannot set cluster.shd-max-threads for a non-replicate volume.\n'],
    );
    assert.doesNotMatch((await v('info', 'dv')).stdout, /Options Reconfigured/);
    r = await v('set', 'dv', 'group', 'distributed-virt');
    assert.deepEqual([r.code, r.stdout], [0, 'volume set: success\n']);
    r = await v('get', 'dv', 'features.shard');
    assert.deepEqual([r.code, r.stdout], [0, HEAD + row('features.shard', 'on')]);
    r = await v('get', 'dv', 'shard-block-size');
    assert.equal(r.stdout, HEAD + row('features.shard-block-size', '64MB (DEFAULT)'));
    r = await v('get', 'dv', 'server.event-threads');
    assert.equal(r.stdout, HEAD + row('server.event-threads', '4 (no-op)'));
    r = await v('get', 'dv', 'all');
    assert.equal(r.stdout.split('\n').length - 1, 2 + Object.keys(VOLUME_OPTIONS).length);
    assert.ok(r.stdout.includes(row('network.remote-dio', 'enable')));
    assert.ok(r.stdout.includes(row('cluster.lookup-optimize', 'off')));
    r = await v('get', 'dv', 'performance.nonsense');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^volume get option: failed: option performance.nonsense does not exist/);
    r = await v('get', 'nosuch', 'all');
    assert.deepEqual([r.code, r.stderr], [1, 'volume get option: failed: Volume nosuch does not exist\n']);

    r = await v('set', 'dv', 'group', 'nosuch');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^volume set: failed: Unable to open file '.*\/groups\/nosuch'. Error: No such file or directory/,
    );
    r = await v('set', 'dv', 'group');
    assert.deepEqual(
      [r.code, r.stderr.trim()],
      [2, 'glusterts: usage: glusterts volume set NAME group GROUP'],
    );

    r = await v('reset', 'dv', 'shard');
    assert.deepEqual([r.code, r.stdout], [0, 'volume reset: success: reset volume successful\n']);
    assert.equal((await v('get', 'dv', 'features.shard')).stdout, HEAD + row('features.shard', 'off'));
    r = await v('reset', 'dv', 'bogus.key');
    assert.deepEqual([r.code, r.stderr], [1, 'volume reset: failed: Option bogus.key does not exist\n']);
    r = await v('reset', 'dv');
    assert.equal(r.code, 0);
    assert.doesNotMatch((await v('info', 'dv')).stdout, /Options Reconfigured/);

    // Replica 3: group virt applies; reset all keeps cluster.granular-entry-heal, as glusterd.
    r = await v('set', 'rv', 'group', 'virt');
    assert.deepEqual([r.code, r.stdout], [0, 'volume set: success\n']);
    r = await v('info', 'rv');
    assert.match(r.stdout, /\ncluster\.shd-max-threads: 8\n/);
    assert.match(r.stdout, /\nperformance\.client-io-threads: on\n/);
    assert.equal(
      (await v('get', 'rv', 'cluster.server-quorum-type')).stdout,
      HEAD + row('cluster.server-quorum-type', 'server (no-op)'),
    );
    r = await v('reset', 'rv', 'all', 'force');
    assert.equal(r.code, 0);
    assert.match(
      (await v('info', 'rv')).stdout,
      /\nOptions Reconfigured:\ncluster\.granular-entry-heal: on\n$/,
    );
  } finally {
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
    rmSync(data, { recursive: true, force: true });
  }
});
