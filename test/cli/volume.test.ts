// `glusterts daemon` and `glusterts volume …` as a user runs them: gluster-shaped output,
// clear errors, exit codes, and no brick process left behind (stub brick program).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { GLUSTERTS_CLI as CLI, alive, startService } from '../../src/peers/index.js';
import { gfidToString } from '../../src/protocol/gfid.js';
import { lgetxattr, lsetxattr } from '../../src/sys/index.js';

const STUB_BRICK = new URL('../mgmt/stub-brick.js', import.meta.url).pathname;
const HOST = '127.0.0.23';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function startDaemon(data: string): Promise<ChildProcess> {
  const args = [CLI, 'daemon', '--data', data, '--host', HOST, '--port', '0'];
  const env = { ...process.env, GLUSTERTS_BRICK_PROGRAM: STUB_BRICK };
  const daemon = await startService(process.execPath, args, /listening on/, { env, timeoutMs: 10_000 });
  return daemon.child;
}

test('volume create/start/info/status/set/stop/delete print what the gluster CLI prints', async () => {
  const data = mkdtempSync(join(tmpdir(), 'gts-cli-'));
  const daemon = await startDaemon(data);
  const v = (...args: string[]) => run(['volume', '--data', data, ...args]);
  let brickPid = 0;
  try {
    const b0 = join(data, 'b0');
    mkdirSync(b0);
    let r = await v('create', 'vms', b0);
    assert.deepEqual(r, {
      code: 0,
      stdout: 'volume create: vms: success: please start the volume to access data\n',
      stderr: '',
    });

    r = await v('info');
    assert.equal(r.code, 0);
    const id = /Volume ID: ([0-9a-f-]{36})/.exec(r.stdout)![1];
    assert.equal(
      r.stdout,
      [
        '',
        'Volume Name: vms',
        'Type: Distribute',
        `Volume ID: ${id}`,
        'Status: Created',
        'Snapshot Count: 0',
        'Number of Bricks: 1',
        'Transport-type: tcp',
        'Bricks:',
        `Brick1: ${HOST}:${b0}`,
        '',
      ].join('\n'),
    );

    r = await v('status', 'vms');
    assert.deepEqual([r.code, r.stdout], [1, 'Volume vms is not started\n']);

    r = await v('start', 'vms');
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'volume start: vms: success\n', '']);
    r = await v('start', 'vms');
    assert.deepEqual([r.code, r.stderr], [1, 'volume start: vms: failed: Volume vms already started\n']);

    r = await v('status');
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'Status of volume: vms');
    assert.match(lines[1]!, /^Gluster process\s+TCP Port\s+RDMA Port\s+Online\s+Pid$/);
    assert.match(lines[2]!, /^-{78}$/);
    const row = new RegExp(`^Brick ${HOST}:${b0}\\s+(\\d+)\\s+0\\s+Y\\s+(\\d+)$`).exec(lines[3]!);
    assert.ok(row, lines[3]);
    brickPid = Number(row[2]);
    assert.ok(alive(brickPid), 'the pid shown is a live brick');
    assert.match(r.stdout, /There are no active volume tasks/);

    r = await v('set', 'vms', 'client.trimmed', 'on');
    assert.deepEqual([r.code, r.stdout], [0, 'volume set: success\n']);
    r = await v('set', 'vms', 'features.utime', 'off');
    assert.equal(r.code, 0);
    r = await v('set', 'vms', 'performance.nonsense', 'on');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^volume set: failed: option performance.nonsense does not exist or is not supported/,
    );
    r = await v('set', 'vms', 'network.ping-timeout', 'soon');
    assert.match(r.stderr, /volume set: failed: invalid time format "soon" in "option ping-timeout"/);

    r = await v('info', 'vms');
    assert.match(r.stdout, /Status: Started\n/);
    assert.match(r.stdout, /\nOptions Reconfigured:\nclient\.trimmed: on\nfeatures\.ctime: off\n$/);

    r = await v('delete', 'vms');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /volume delete: vms: failed: Volume vms has been started. Volume needs to be stopped before deletion./,
    );

    r = await v('stop', 'vms');
    assert.deepEqual([r.code, r.stdout], [0, 'volume stop: vms: success\n']);
    assert.ok(!alive(brickPid), 'stop ended the brick process');
    r = await v('stop', 'vms');
    assert.match(r.stderr, /failed: Volume vms is not in the started state/);
    r = await v('info', 'vms');
    assert.match(r.stdout, /Status: Stopped/);

    r = await v('delete', 'vms');
    assert.deepEqual([r.code, r.stdout], [0, 'volume delete: vms: success\n']);
    r = await v('info');
    assert.deepEqual([r.code, r.stdout], [0, 'No volumes present\n']);
    r = await v('info', 'vms');
    assert.deepEqual([r.code, r.stderr], [1, 'volume info: vms: failed: Volume vms does not exist\n']);

    // A started volume is stopped with the daemon, and its brick with it.
    mkdirSync(join(data, 'b1'));
    assert.equal((await v('create', 'again', join(data, 'b1'))).code, 0);
    assert.equal((await v('start', 'again')).code, 0);
    brickPid = Number(/(\d+)\n/.exec((await v('status', 'again')).stdout.split('\n')[3] + '\n')![1]);
    assert.ok(alive(brickPid));
  } finally {
    daemon.kill('SIGTERM');
    const [code] = await once(daemon, 'exit');
    assert.equal(code, 0, 'the daemon exits 0 on SIGTERM');
    assert.ok(!brickPid || !alive(brickPid), 'no brick process outlives the daemon');
    rmSync(data, { recursive: true, force: true });
  }
});

test('volume create refuses bad bricks and names with clear errors', async () => {
  const data = mkdtempSync(join(tmpdir(), 'gts-cli-'));
  const daemon = await startDaemon(data);
  const v = (...args: string[]) => run(['volume', '--data', data, ...args]);
  try {
    const b = (n: string) => join(data, n);
    mkdirSync(b('empty'));
    mkdirSync(b('full'));
    writeFileSync(join(b('full'), 'file'), 'x');
    assert.equal((await v('create', 'first', b('empty'))).code, 0);

    const refused: [string[], RegExp][] = [
      [['create', 'first', b('other')], /volume create: first: failed: Volume first already exists/],
      [['create', 'x', b('missing')], /brick directory .*missing does not exist; create it, or use 'force'/],
      [['create', 'x', b('full')], /brick directory .*full is not empty; use 'force'/],
      [['create', 'x', join(b('empty'), 'sub')], /is inside brick .*empty of volume first/],
      [['create', 'x', data], /contains brick .*empty of volume first/],
      [['create', 'x', b('empty')], /is already part of volume first/],
      [['create', 'x', b('m1'), b('m1'), 'force'], /is already part of this command/],
      [['create', 'bad name!', b('m2'), 'force'], /volume name "bad name!" is invalid/],
      [
        ['create', 'x', '192.0.2.1:' + b('m3'), 'force'],
        /Host 192.0.2.1 is not this daemon's address \(127\.0\.0\.23\)/,
      ],
      [['create', 'x', `127.0.0.1:${b('m4')}`, 'force'], /Host 127.0.0.1 is not this daemon's address/],
      [['create', 'x', 'relative/dir'], /wrong brick type: relative\/dir/],
      [['create', 'x', b('with space'), 'force'], /brick path .* is invalid/],
      [['start', 'nope'], /volume start: nope: failed: Volume nope does not exist/],
    ];
    for (const [args, re] of refused) {
      const r = await v(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    // A directory that is (or is inside) another volume's brick on disk, known to this daemon
    // or not (a deleted volume's, stock's): refused with glusterd's text unless forced.
    const idOf = async (vol: string) => /Volume ID: ([0-9a-f-]{36})/.exec((await v('info', vol)).stdout)![1]!;
    const stamped = async (dir: string) => gfidToString(await lgetxattr(dir, 'trusted.glusterfs.volume-id'));
    assert.equal(await stamped(b('empty')), await idOf('first'), 'create stamps the volume-id');
    mkdirSync(b('claimed'));
    mkdirSync(b('inside/sub'), { recursive: true });
    await lsetxattr(b('claimed'), 'trusted.glusterfs.volume-id', randomBytes(16));
    await lsetxattr(b('inside'), 'trusted.gfid', randomBytes(16));
    for (const [dir, re] of [
      [b('claimed'), /volume create: y: failed: \/.*\/claimed is already part of a volume\n/],
      [b('inside/sub'), /parent directory .*inside is already part of a volume/],
    ] as const) {
      const r = await v('create', 'y', dir);
      assert.deepEqual([r.code, re.test(r.stderr)], [1, true], r.stderr);
    }
    let r = await v('create', 'z', b('claimed'), 'force');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stamped(b('claimed')), await idOf('z'), 'force rewrites the volume-id');

    // force creates a missing directory and accepts a non-empty one.
    r = await v('create', 'forced', b('full'), `${HOST}:${b('made/here')}`, 'force');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: brick directory .*full is not empty; using it anyway/);
    r = await v('info', 'forced');
    assert.match(r.stdout, /Number of Bricks: 2\n/);
    assert.match(r.stdout, new RegExp(`Brick2: ${HOST}:${b('made/here')}\n`));

    r = await v('create', 'x');
    assert.equal(r.code, 2, 'usage errors exit 2');
    assert.match(r.stderr, /usage: glusterts volume create NAME/);
  } finally {
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
    rmSync(data, { recursive: true, force: true });
  }
});

test('volume commands without a running daemon say so', async () => {
  const data = mkdtempSync(join(tmpdir(), 'gts-cli-'));
  try {
    const r = await run(['volume', '--data', data, 'info']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no glusterts daemon is running on .*gts-cli-/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
