// Replicated volumes in the management daemon: the stored layout (and records written
// before it existed), the volfiles served, `volume start force` for a dead brick, and what
// happens while a translator a replicated volume names is not implemented yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVolfile } from '../../src/xlator/index.js';
import { parseOptions, type OptionSchema } from '../../src/xlator/options.js';
import { VolumeStore } from '../../src/mgmt/store.js';
import { brickVolfile, clientVolfile } from '../../src/mgmt/volfiles.js';
import { BRICK_TRANSLATORS } from '../../src/xlators/brick-registry.js';
import { CLIENT_TRANSLATORS } from '../../src/xlators/client-registry.js';
import { Volume } from '../../src/client/index.js';
import { REAL_BRICK, alive, startTestDaemon, waitFor } from './support.js';

const HOST = '127.0.0.29';

test('replica 3 arbiter 1: stored, restored after a restart, served as stock writes it', async () => {
  const first = await startTestDaemon(HOST);
  let second: Awaited<ReturnType<typeof startTestDaemon>> | undefined;
  try {
    const dirs = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'].map((n) => first.brickDir(n));
    await assert.rejects(first.daemon.volumes.create('arb', dirs, false, { replica: 3, arbiter: 1 }), {
      message: /^Multiple bricks of a replicate volume are present on the same server\./,
    });
    await assert.rejects(first.daemon.volumes.create('arb', dirs.slice(0, 5), true, { replica: 3 }), {
      message: /total number of bricks \(5\) is not divisible with number of bricks per cluster \(3\)/,
    });
    await assert.rejects(first.daemon.volumes.create('arb', dirs, true, { replica: 2, arbiter: 1 }), {
      message: /^For arbiter configuration/,
    });
    const created = (await first.daemon.volumes.create('arb', dirs, true, { replica: 3, arbiter: 1 })).volume;
    assert.equal(created.replicaCount, 3);
    assert.equal(created.arbiterCount, 1);
    assert.deepEqual(created.options, {
      'cluster.granular-entry-heal': 'on',
      'performance.client-io-threads': 'off',
    });
    const stored = JSON.parse(readFileSync(join(first.data, 'vols', 'arb', 'info.json'), 'utf8'));
    assert.equal(stored.replicaCount, 3);
    assert.equal(stored.arbiterCount, 1);
    await first.daemon.volumes.set('arb', 'cluster.quorum-type', 'auto');
    await first.daemon.close();

    second = await startTestDaemon(HOST, { data: first.data });
    const vol = second.daemon.volumes.get('arb')!;
    assert.deepEqual([vol.replicaCount, vol.arbiterCount], [3, 1]);
    const client = parseVolfile(second.daemon.volumes.volfileFor('arb')!.spec);
    const replicate = client.volumes.filter((v) => v.type === 'cluster/replicate');
    assert.deepEqual(
      replicate.map((r) => [
        r.name,
        r.subvolumes,
        r.options.get('quorum-type'),
        r.options.get('arbiter-count'),
      ]),
      [
        ['arb-replicate-0', ['arb-client-0', 'arb-client-1', 'arb-client-2'], 'auto', '1'],
        ['arb-replicate-1', ['arb-client-3', 'arb-client-4', 'arb-client-5'], 'auto', '1'],
      ],
    );
    assert.equal(
      client.volumes.find((v) => v.type === 'performance/io-threads'),
      undefined,
    );
    const onDisk = readFileSync(join(first.data, 'vols', 'arb', 'arb.tcp-fuse.vol'), 'utf8');
    assert.equal(onDisk, second.daemon.volumes.volfileFor('arb')!.spec);
    const brickTypes = (i: number) =>
      parseVolfile(
        second!.daemon.volumes.volfileFor(`arb.${HOST}.${dirs[i]!.slice(1).replaceAll('/', '-')}`)!.spec,
      ).volumes.map((v) => v.type);
    assert.deepEqual(brickTypes(0), [
      'storage/posix',
      'features/access-control',
      'features/locks',
      'features/failed-writes',
      'features/rejoin-guard',
      'features/heal-ranges',
      'features/index',
      'debug/io-stats',
      'protocol/server',
    ]);
    assert.deepEqual(brickTypes(5), [
      'storage/posix',
      'features/arbiter',
      'features/access-control',
      'features/locks',
      'features/index',
      'debug/io-stats',
      'protocol/server',
    ]);
  } finally {
    await first.daemon.close();
    await second?.daemon.close();
    await first.cleanup();
  }
});

test('records without replica fields stay distribute volumes; a bad replica count is refused', async () => {
  const t = await startTestDaemon(HOST);
  try {
    const dir = t.brickDir('old0');
    await t.daemon.volumes.create('old', [dir, t.brickDir('old1')]);
    const file = join(t.data, 'vols', 'old', 'info.json');
    const record = JSON.parse(readFileSync(file, 'utf8'));
    assert.ok(!('replicaCount' in record), 'distribute records are written as before');
    const store = new VolumeStore(t.data);
    assert.equal(store.load()[0]!.replicaCount, undefined);
    const errors: string[] = [];
    for (const [replicaCount, arbiterCount] of [
      [3, undefined],
      [2, 1],
      [0, undefined],
      ['2', undefined],
    ]) {
      writeFileSync(file, JSON.stringify({ ...record, replicaCount, arbiterCount }));
      assert.deepEqual(
        store.load((_, e) => errors.push(e.message)),
        [],
      );
    }
    assert.equal(errors.length, 4);
    writeFileSync(file, JSON.stringify({ ...record, replicaCount: 2 }));
    assert.equal(store.load()[0]!.replicaCount, 2);
  } finally {
    await t.cleanup();
  }
});

test('volume start force starts a dead brick now instead of after the restart backoff', async () => {
  const t = await startTestDaemon(HOST, { brickRestartMinMs: 60_000, brickRestartMaxMs: 60_000 });
  try {
    const dirs = ['f0', 'f1', 'f2'].map((n) => t.brickDir(n));
    await t.daemon.volumes.create('rf', dirs, true, { replica: 3 });
    await t.daemon.volumes.start('rf');
    const first = t.daemon.portmap.get(dirs[1]!)!;
    process.kill(first.pid, 'SIGKILL');
    await waitFor('the brick to be gone', () => (t.daemon.portmap.get(dirs[1]!) ? undefined : true));
    assert.equal(t.daemon.volumes.status('rf')[0]!.bricks[1]!.online, false);
    const others = [0, 2].map((i) => t.daemon.portmap.get(dirs[i]!)!.pid);
    const started = Date.now();
    const r = await t.daemon.volumes.start('rf', true);
    assert.deepEqual(r.warnings, []);
    const again = t.daemon.portmap.get(dirs[1]!)!;
    assert.notEqual(again.pid, first.pid);
    assert.ok(Date.now() - started < 10_000, 'not after the 60 s backoff');
    assert.deepEqual(
      [0, 2].map((i) => t.daemon.portmap.get(dirs[i]!)!.pid),
      others,
      'running bricks are left alone',
    );
    assert.ok(others.every(alive));
  } finally {
    await t.cleanup();
  }
});

test('replicated bricks boot with the real brick program, or say which translator is missing', async () => {
  const d = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 3000,
  });
  try {
    const dirs = ['m0', 'm1', 'm2'].map((n) => d.brickDir(n));
    const { volume } = await d.daemon.volumes.create('miss', dirs, true, { replica: 3, arbiter: 1 });
    const r = await d.daemon.volumes.start('miss');
    volume.bricks.forEach((b, i) => {
      const missing = parseVolfile(brickVolfile(volume, b))
        .volumes.slice(0, -1)
        .map((v) => v.type)
        .filter((type) => !BRICK_TRANSLATORS.has(type));
      const warning = r.warnings.find((w) => w.includes(`${b.path} has not signed in`));
      if (missing.length === 0) {
        assert.equal(warning, undefined, `brick ${i} boots`);
        assert.ok(d.daemon.portmap.get(b.path), `brick ${i} signed in`);
      } else {
        const type = missing[0]!.replace('/', '\\/');
        assert.match(warning ?? '', new RegExp(`translator type ${type} is not implemented by glusterts`));
      }
    });
  } finally {
    await d.cleanup();
  }
});

test('the TS client loads every option a replicated client volfile carries', async () => {
  const vol = {
    name: 'rc',
    id: '5e3c17c8-2f7c-4831-810f-29be76680445',
    status: 'started' as const,
    bricks: ['/b/0', '/b/1', '/b/2', '/b/3', '/b/4', '/b/5'].map((path) => ({ host: '127.0.0.1', path })),
    options: {
      'cluster.granular-entry-heal': 'on',
      'cluster.quorum-type': 'fixed',
      'cluster.quorum-count': '2',
      'cluster.favorite-child-policy': 'mtime',
      'cluster.data-self-heal-algorithm': 'full',
      'cluster.eager-lock': 'off',
    },
    replicaCount: 3,
    arbiterCount: 1,
  };
  const replicate = CLIENT_TRANSLATORS.get('cluster/replicate');
  if (!replicate) {
    // Until the client has cluster/replicate, loading fails cleanly, naming it.
    await assert.rejects(Volume.fromVolfile(clientVolfile(vol), { name: 'rc' }), {
      message: /translator type cluster\/replicate is not implemented by glusterts/,
    });
    return;
  }
  for (const decl of parseVolfile(clientVolfile(vol)).volumes.filter((v) => v.type === 'cluster/replicate')) {
    // Every value parses (a bad one would fail Graph.build). Unknown keys are tolerated by
    // Graph.build; the only one is volume-id, which stock writes and the client's AFR has no use for.
    const unknown: string[] = parseOptions(replicate.options as OptionSchema, decl.options).unknown;
    assert.deepEqual(
      unknown.filter((k) => k !== 'volume-id'),
      [],
      `${decl.name}: options cluster/replicate does not know`,
    );
  }
});
