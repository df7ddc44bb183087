// The virt profile's option surface: stock's option groups (built in, and as Debian ships
// them), every group key known and valid, stock 10.3's refusal texts per wording, `volume
// get` rows, key completion, and the client volfile keys a group changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_GROUPS, loadGroup, parseGroupFile } from '../../src/mgmt/groups.js';
import {
  VOLUME_OPTIONS,
  VolumeOptionError,
  canonicalKey,
  isNoopOption,
  validateVolumeOption,
  volumeGetRows,
} from '../../src/mgmt/options.js';
import { clientVolfile } from '../../src/mgmt/volfiles.js';
import type { VolumeRecord } from '../../src/mgmt/volume.js';
import { parseOptions, parseVolfile, type OptionSchema } from '../../src/xlator/index.js';
import { CLIENT_TRANSLATORS } from '../../src/xlators/client-registry.js';
import {
  answerText,
  notBoolean,
  notBooleanKey,
  notNumber,
  notOneOf,
  notTime,
  outOfRange,
  type Answer,
} from './stock-refusals.js';

const DEBIAN_GROUPS = '/var/lib/glusterd/groups';

test('the built-in groups are the ones Debian glusterfs-server 10.3 ships', (t) => {
  if (!existsSync(DEBIAN_GROUPS)) return t.skip('glusterfs-server is not installed');
  const installed = readdirSync(DEBIAN_GROUPS).sort();
  assert.deepEqual(Object.keys(BUILTIN_GROUPS).sort(), installed);
  for (const name of installed)
    assert.deepEqual(
      BUILTIN_GROUPS[name],
      parseGroupFile(readFileSync(join(DEBIAN_GROUPS, name), 'utf8')),
      `group ${name}`,
    );
});

test('every key of every group is known and its value valid on a replica 3 volume', () => {
  for (const [name, pairs] of Object.entries(BUILTIN_GROUPS))
    for (const [k, v] of pairs) {
      const checked = validateVolumeOption(k, v, { replicaCount: 3 });
      assert.equal(checked.key, k, `${name}: ${k} is a canonical key`);
    }
  // The no-op keys the issue names are accepted, and marked.
  for (const k of ['server.tcp-user-timeout', 'server.keepalive-time', 'server.event-threads'] as const)
    assert.ok(isNoopOption(k), k);
  assert.ok(isNoopOption('cluster.server-quorum-type'));
  assert.ok(!isNoopOption('features.shard'));
});

test('groups: DATA/groups/<name> adds or replaces a group; missing and unsafe names refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gts-groups-'));
  try {
    assert.deepEqual(loadGroup('virt', dir), BUILTIN_GROUPS.virt);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'mine'), '# a comment\nfeatures.shard=on\n\nfeatures.shard-block-size = 16MB\n');
    assert.deepEqual(loadGroup('mine', dir), [
      ['features.shard', 'on'],
      ['features.shard-block-size', '16MB'],
    ]);
    writeFileSync(join(dir, 'virt'), 'features.shard=off\n');
    assert.deepEqual(loadGroup('virt', dir), [['features.shard', 'off']]);
    assert.throws(
      () => loadGroup('nosuch', dir),
      /^Error: Unable to open file '.*\/nosuch'. Error: No such file or directory/,
    );
    assert.throws(() => loadGroup('../etc', dir), /Invalid argument/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals carry stock 10.3 texts (observed with a live stock glusterd)', () => {
  const replica3 = { replicaCount: 3 };
  const shardBlockSize = (parsed?: number) => outOfRange('shard-block-size', 4194304, 4398046511104, parsed);
  const cases: [string, string, Answer, { replicaCount?: number }?][] = [
    ['client.event-threads', 'bogus', notNumber('event-threads')],
    ['client.event-threads', '0', outOfRange('event-threads', 1, 32)],
    ['server.event-threads', '-5', outOfRange('event-threads', 1, 1024)],
    ['performance.io-thread-count', '0', outOfRange('thread-count', 1, 64)],
    ['network.inode-lru-limit', '99999999999', outOfRange('inode-lru-limit', 0, 1048576)],
    ['server.tcp-user-timeout', 'bogus', notTime('transport.tcp-user-timeout')],
    ['server.tcp-user-timeout', '-5', notTime('transport.tcp-user-timeout')],
    ['performance.nl-cache-timeout', '-5', notTime('nl-cache-timeout')],
    ['network.remote-dio', 'bogus', notBoolean('filter-O_DIRECT')],
    ['performance.strict-o-direct', '1KB', notBoolean('strict-O_DIRECT')],
    ['server.allow-insecure', 'x', notBoolean('rpc-auth-allow-insecure')],
    ['cluster.lookup-optimize', 'bogus', notBoolean('lookup-optimize')],
    ['cluster.server-quorum-type', '0', notOneOf('server-quorum-type', ['none', 'server'])],
    ['cluster.locking-scheme', 'bogus', notOneOf('locking-scheme', ['full', 'granular'])],
    ['performance.parallel-readdir', '5GB', notBooleanKey('performance.parallel-readdir')],
    ['features.ctime', 'bogus', notBooleanKey('features.ctime')],
    ['features.shard', 'bogus', 'Error, Validation Failed'],
    ['performance.read-ahead', '-5', 'Error, Validation Failed'],
    ['features.shard-block-size', 'bogus', notNumber('shard-block-size')],
    ['features.shard-block-size', '1KB', shardBlockSize(1024)],
    ['features.shard-block-size', '5TB', shardBlockSize(5497558138880)],
    ['cluster.shd-wait-qlength', '0', outOfRange('shd-wait-qlength', 1, 655536), replica3],
    ['cluster.shd-max-threads', '65', outOfRange('shd-max-threads', 1, 64), replica3],
    ['cluster.shd-max-threads', '8', 'Cannot set cluster.shd-max-threads for a non-replicate volume.'],
  ];
  for (const [k, v, answer, vol] of cases) {
    const text = answerText(answer, v);
    assert.throws(
      () => validateVolumeOption(k, v, vol),
      (e: unknown) => e instanceof VolumeOptionError && e.message === text,
      `${k} ${v}: ${text}`,
    );
  }
  // Accepted as stock accepts them.
  for (const [k, v] of [
    ['features.shard-block-size', '4MB'],
    ['features.shard-block-size', '4TB'],
    ['features.shard-block-size', '64mb'],
    ['network.remote-dio', 'enable'],
    ['features.cache-invalidation-timeout', '-5'],
  ] as const)
    validateVolumeOption(k, v);
});

test('a key without a dot completes to the one key it ends (as glusterd): shard → features.shard', () => {
  assert.equal(canonicalKey('shard'), 'features.shard');
  assert.equal(canonicalKey('shard-block-size'), 'features.shard-block-size');
  assert.equal(canonicalKey('remote-dio'), 'network.remote-dio');
  assert.throws(
    () => canonicalKey('cache-invalidation'),
    /ambiguous: features.cache-invalidation, performance.cache-invalidation/,
  );
  assert.throws(() => canonicalKey('nosuchkey'), /does not exist or is not supported/);
});

test('volume get rows: stored value, else stock’s unset text; no-op keys marked; quorum-type auto for replica 3', () => {
  const vol = { options: { 'features.shard': 'on', 'server.tcp-user-timeout': '20' } };
  assert.deepEqual(volumeGetRows(vol, 'shard'), [['features.shard', 'on']]);
  assert.deepEqual(volumeGetRows(vol, 'features.shard-block-size'), [
    ['features.shard-block-size', '64MB (DEFAULT)'],
  ]);
  assert.deepEqual(volumeGetRows(vol, 'server.tcp-user-timeout'), [
    ['server.tcp-user-timeout', '20 (no-op)'],
  ]);
  assert.deepEqual(volumeGetRows(vol, 'server.keepalive-count'), [['server.keepalive-count', '9 (no-op)']]);
  assert.deepEqual(volumeGetRows(vol, 'cluster.quorum-type'), [['cluster.quorum-type', 'none (DEFAULT)']]);
  assert.deepEqual(volumeGetRows({ ...vol, replicaCount: 3 }, 'cluster.quorum-type'), [
    ['cluster.quorum-type', 'auto'],
  ]);
  const all = volumeGetRows(vol, 'all');
  assert.deepEqual(
    all.map(([k]) => k),
    Object.keys(VOLUME_OPTIONS),
  );
});

function record(options: Record<string, string>, replicaCount?: number): VolumeRecord {
  const n = replicaCount ?? 3;
  return {
    name: 'v',
    id: '00000000-0000-0000-0000-000000000001',
    status: 'created',
    bricks: Array.from({ length: n }, (_, i) => ({ host: '127.0.0.2', path: `/b/${i}` })),
    options,
    ...(replicaCount ? { replicaCount } : {}),
  };
}

test('features.shard puts features/shard right above distribute, kept by client.trimmed; block size only when set', () => {
  const graph = (opts: Record<string, string>) => parseVolfile(clientVolfile(record(opts))).volumes;
  const plain = graph({});
  assert.ok(!plain.some((v) => v.type === 'features/shard'));
  const sharded = graph({ 'features.shard': 'on' });
  const i = sharded.findIndex((v) => v.type === 'features/shard');
  assert.equal(sharded[i]!.name, 'v-shard');
  assert.deepEqual(sharded[i]!.subvolumes, ['v-dht']);
  assert.equal(sharded[i]!.options.size, 0);
  assert.equal(sharded[i + 1]!.type, 'features/utime');
  const sized = graph({ 'features.shard': 'on', 'features.shard-block-size': '16MB' });
  assert.equal(sized.find((v) => v.type === 'features/shard')!.options.get('shard-block-size'), '16MB');
  assert.ok(!graph({ 'features.shard-block-size': '16MB' }).some((v) => v.type === 'features/shard'));
  const trimmed = graph({ 'features.shard': 'on', 'client.trimmed': 'on' });
  assert.deepEqual(trimmed.map((v) => v.type).slice(-3), [
    'cluster/distribute',
    'features/shard',
    'debug/io-stats',
  ]);
});

test('the TS client loads every group’s client volfile: each type registered, every option value parses', () => {
  for (const [name, pairs] of Object.entries(BUILTIN_GROUPS)) {
    const replicated = name !== 'distributed-virt';
    const vol = record(Object.fromEntries(pairs), replicated ? 3 : undefined);
    for (const decl of parseVolfile(clientVolfile(vol)).volumes) {
      const type = CLIENT_TRANSLATORS.get(decl.type);
      assert.ok(type, `${name}: ${decl.type} is registered`);
      const { unknown } = parseOptions(type.options as OptionSchema, decl.options);
      if (decl.type === 'features/shard' || decl.type === 'protocol/client')
        assert.deepEqual(unknown, [], `${name}: ${decl.type} knows every option`);
    }
  }
});
