// `glusterts volume create … replica N [arbiter 1]` as the gluster CLI 10.3 reads it (its
// words, its messages, its replica 2 question), and `volume info` for replicated volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { REPLICA_2_QUESTION, UsageError, parseVolumeArgs } from '../../src/cli/commands/volume.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const STUB_BRICK = new URL('../mgmt/stub-brick.js', import.meta.url).pathname;
const HOST = '127.0.0.28';

test('replica words: counts, arbiter forms and stock messages', () => {
  const b = ['/b/0', '/b/1', '/b/2'];
  assert.deepEqual(parseVolumeArgs(['create', 'v', 'replica', '3', ...b]), {
    op: 'create',
    name: 'v',
    bricks: b,
    force: false,
    replica: 3,
  });
  assert.deepEqual(parseVolumeArgs(['create', 'v', 'replica', '3', 'arbiter', '1', ...b, 'force']), {
    op: 'create',
    name: 'v',
    bricks: b,
    force: true,
    replica: 3,
    arbiter: 1,
  });
  // Stock's older spelling of the same layout: two data bricks plus the arbiter.
  assert.deepEqual(parseVolumeArgs(['create', 'v', 'replica', '2', 'arbiter', '1', ...b]), {
    op: 'create',
    name: 'v',
    bricks: b,
    force: false,
    replica: 3,
    arbiter: 1,
  });
  assert.deepEqual(parseVolumeArgs(['create', 'v', ...b]), {
    op: 'create',
    name: 'v',
    bricks: b,
    force: false,
  });
  const refuses = (args: string[], message: string) =>
    assert.throws(
      () => parseVolumeArgs(['create', 'v', ...args]),
      (e: Error) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.message, message);
        return true;
      },
    );
  refuses(['replica', '1', '/b/0'], 'replica count should be greater than 1');
  refuses(['replica', 'x', ...b], 'replica count should be greater than 1');
  refuses(['replica', ...b], 'replica count should be greater than 1');
  const arbiterRule =
    'For arbiter configuration, replica count must be 2 and arbiter count must be 1. ' +
    'The 3rd brick of the replica will be the arbiter';
  refuses(['replica', '3', 'arbiter', '2', ...b], arbiterRule);
  refuses(['replica', '4', 'arbiter', '1', ...b, '/b/3'], arbiterRule);
  refuses(['arbiter', '1', ...b], 'arbiter option must be preceded by replica option.');
  assert.throws(() => parseVolumeArgs(['create', 'v', 'replica', '3']), /usage: glusterts volume create/);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

test('volume create replica 2 asks first; replicas on one host need force; info shows the layout', async () => {
  const data = mkdtempSync(join(tmpdir(), 'gts-cli-rep-'));
  const daemon = spawn(process.execPath, [CLI, 'daemon', '--data', data, '--host', HOST, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, GLUSTERTS_BRICK_PROGRAM: STUB_BRICK },
  });
  const v = (args: string[], input?: string) => run(['volume', '--data', data, ...args], input);
  try {
    let out = '';
    for await (const chunk of daemon.stdout) if (/listening on/.test((out += String(chunk)))) break;
    const bricks = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => join(data, `${prefix}${i}`));

    // No: stock prints the question, then its usage, exits 1, and creates nothing.
    let r = await v(['create', 'two', 'replica', '2', ...bricks('t', 2)], 'n\n');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, REPLICA_2_QUESTION);
    assert.match(r.stderr, /^\nUsage:\nglusterts volume create NAME \[replica COUNT \[arbiter 1\]\]/);
    assert.match((await v(['info', 'two'])).stderr, /Volume two does not exist/);
    r = await v(['create', 'two', 'replica', '2', ...bricks('t', 2)]); // EOF is no
    assert.equal(r.code, 1);

    // Yes (typed, --yes or --mode=script): glusterd's own check comes next.
    const sameHost =
      'volume create: two: failed: Multiple bricks of a replicate volume are present on the same server. ' +
      'This setup is not optimal. Bricks should be on different nodes to have best fault tolerant configuration. ' +
      "Use 'force' at the end of the command if you want to override this behavior. \n";
    r = await v(['create', 'two', 'replica', '2', ...bricks('t', 2)], 'y\n');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, REPLICA_2_QUESTION, sameHost]);
    for (const flag of ['--yes', '--mode=script']) {
      r = await v([flag, 'create', 'two', 'replica', '2', ...bricks('t', 2)]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', sameHost]);
    }
    // force: no question (as stock), and one host is accepted.
    r = await v(['create', 'two', 'replica', '2', ...bricks('t', 2), 'force']);
    assert.deepEqual(
      [r.code, r.stdout],
      [0, 'volume create: two: success: please start the volume to access data\n'],
    );
    assert.ok(existsSync(bricks('t', 1)[0]!), 'force creates the brick directories');

    r = await v(['create', 'odd', 'replica', '3', ...bricks('o', 4), 'force']);
    assert.deepEqual(
      [r.code, r.stderr],
      [
        1,
        'volume create: odd: failed: Failed to create volume files: total number of bricks (4) is not ' +
          'divisible with number of bricks per cluster (3)\n',
      ],
    );

    assert.equal(
      (await v(['create', 'arb', 'replica', '3', 'arbiter', '1', ...bricks('a', 6), 'force'])).code,
      0,
    );
    r = await v(['info', 'arb']);
    const id = /Volume ID: (\S+)/.exec(r.stdout)![1];
    assert.equal(
      r.stdout,
      [
        '',
        'Volume Name: arb',
        'Type: Distributed-Replicate',
        `Volume ID: ${id}`,
        'Status: Created',
        'Snapshot Count: 0',
        'Number of Bricks: 2 x (2 + 1) = 6',
        'Transport-type: tcp',
        'Bricks:',
        ...bricks('a', 6).map((p, i) => `Brick${i + 1}: ${HOST}:${p}${i % 3 === 2 ? ' (arbiter)' : ''}`),
        'Options Reconfigured:',
        'cluster.granular-entry-heal: on',
        'performance.client-io-threads: off',
        '',
      ].join('\n'),
    );
    r = await v(['info', 'two']);
    assert.match(r.stdout, /\nType: Replicate\n[^]*\nNumber of Bricks: 1 x 2 = 2\n/);

    // The AFR options, with glusterd's refusals.
    r = await v(['set', 'two', 'cluster.quorum-count', '3']);
    assert.equal(r.stderr, 'volume set: failed: 3 in cluster.quorum-count 3 is out of range [1 - 2]\n');
    r = await v(['set', 'two', 'cluster.quorum-type', 'bogus']);
    assert.equal(
      r.stderr,
      "volume set: failed: option quorum-type bogus: 'bogus' is not valid (possible options are none, auto, fixed.)\n",
    );
    r = await v(['set', 'two', 'cluster.eager-lock', 'maybe']);
    assert.equal(
      r.stderr,
      "volume set: failed: option eager-lock maybe: 'maybe' is not a valid boolean value\n",
    );
    assert.equal((await v(['set', 'two', 'cluster.quorum-type', 'fixed'])).code, 0);
    assert.equal((await v(['set', 'two', 'cluster.quorum-count', '1'])).code, 0);
    assert.equal((await v(['start', 'two'])).code, 0);
    r = await v(['set', 'two', 'cluster.granular-entry-heal', 'off']);
    assert.match(r.stderr, /is not supported\. Use 'gluster volume heal <VOLNAME> granular-entry-heal/);
    assert.equal((await v(['create', 'plain', ...bricks('p', 1), 'force'])).code, 0);
    r = await v(['set', 'plain', 'cluster.self-heal-daemon', 'off']);
    assert.equal(r.stderr, 'volume set: failed: Volume plain is not of replicate type\n');
  } finally {
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
    rmSync(data, { recursive: true, force: true });
  }
});
