// Volfile generation against what stock glusterd 10.3 served (the qemu-img capture), the
// volume option schema, and the brick volfile the brick program loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HandshakeProcs, decodeReply } from '../../src/protocol/index.js';
import { parseVolfile, topVolume } from '../../src/xlator/index.js';
import { brickVolfile, clientVolfile } from '../../src/mgmt/volfiles.js';
import { VolumeOptionError, validateVolumeOption, VOLUME_OPTIONS } from '../../src/mgmt/options.js';
import { brickVolfileKey, type VolumeRecord } from '../../src/mgmt/volume.js';

function stockClientVolfile(): string {
  const url = new URL('../../../test/fixtures/wire/qemu-img-qcow2.json', import.meta.url);
  const fixture = JSON.parse(readFileSync(url, 'utf8')) as {
    records: { kind: string; prog: number; proc: number; body: string }[];
  };
  const rec = fixture.records.find((r) => r.kind === 'reply' && r.prog === 14398633 && r.proc === 2)!;
  const reply = decodeReply(Buffer.from(rec.body, 'base64'), { name: 'GETSPEC', ...HandshakeProcs.GETSPEC });
  return reply.results.spec as string;
}

const ID = '5e3c17c8-2f7c-4831-810f-29be76680445';

function volume(bricks: string[], options: Record<string, string> = {}, name = 'tv'): VolumeRecord {
  return {
    name,
    id: ID,
    status: 'created',
    bricks: bricks.map((path) => ({ host: '127.0.0.2', path })),
    options,
  };
}

test('one-brick client volfile: the stock stack, translator for translator', () => {
  const stock = parseVolfile(stockClientVolfile());
  const brickPath = stock.volumes[0]!.options.get('remote-subvolume')!;
  const ours = parseVolfile(clientVolfile(volume([brickPath])));
  assert.deepEqual(
    ours.volumes.map((v) => [v.name, v.type, v.subvolumes]),
    stock.volumes.map((v) => [v.name, v.type, v.subvolumes]),
  );
  // Every option stock glusterd wrote, with its value, except the trusted-volfile login.
  for (const [i, sv] of stock.volumes.entries()) {
    const expected = new Map([...sv.options].filter(([k]) => k !== 'username' && k !== 'password'));
    assert.deepEqual(ours.volumes[i]!.options, expected, sv.name);
  }
  assert.ok(!ours.volumes[0]!.options.has('remote-port'), 'no remote-port: clients use portmap');
  // Byte for byte, once the login lines of glusterd's trusted volfile are left out.
  const withoutLogin = stockClientVolfile().replace(/^ {4}option (username|password) .*\n/gm, '');
  assert.equal(clientVolfile(volume([brickPath])), withoutLogin);
  assert.equal(topVolume(ours).name, 'tv');
});

test('three bricks: one protocol/client each under one distribute', () => {
  const text = clientVolfile(volume(['/b/0', '/b/1', '/b/2'], {}, 'vm3'));
  const v = parseVolfile(text);
  const clients = v.volumes.filter((d) => d.type === 'protocol/client');
  assert.deepEqual(
    clients.map((c) => [c.name, c.options.get('remote-subvolume'), c.options.get('remote-host')]),
    [
      ['vm3-client-0', '/b/0', '127.0.0.2'],
      ['vm3-client-1', '/b/1', '127.0.0.2'],
      ['vm3-client-2', '/b/2', '127.0.0.2'],
    ],
  );
  const dht = v.volumes.find((d) => d.type === 'cluster/distribute')!;
  assert.equal(dht.name, 'vm3-dht');
  assert.deepEqual(dht.subvolumes, ['vm3-client-0', 'vm3-client-1', 'vm3-client-2']);
  assert.match(text, /^volume vm3-client-0\n {4}type protocol\/client\n {4}option send-gids true\n/);
  assert.ok(text.endsWith('    subvolumes vm3-io-threads\nend-volume\n'));
});

test('remote-port names the daemon only when it is not on 24007', () => {
  const vol = volume(['/b/0']);
  assert.equal(clientVolfile(vol, { mgmtPort: 24007 }), clientVolfile(vol));
  const v = parseVolfile(clientVolfile(vol, { mgmtPort: 40123 }));
  assert.equal(v.volumes[0]!.options.get('remote-port'), '40123');
});

test('client.trimmed gives protocol/client + distribute + io-stats only', () => {
  const v = parseVolfile(clientVolfile(volume(['/b/0'], { 'client.trimmed': 'on' })));
  assert.deepEqual(
    v.volumes.map((d) => d.type),
    ['protocol/client', 'cluster/distribute', 'debug/io-stats'],
  );
  assert.deepEqual(topVolume(v).subvolumes, ['tv-dht']);
});

test('each performance/utime option removes its translator and keeps the chain linked', () => {
  const cases: [string, string][] = [
    ['performance.write-behind', 'performance/write-behind'],
    ['performance.open-behind', 'performance/open-behind'],
    ['performance.quick-read', 'performance/quick-read'],
    ['performance.stat-prefetch', 'performance/md-cache'],
    ['performance.client-io-threads', 'performance/io-threads'],
    ['features.ctime', 'features/utime'],
  ];
  for (const [key, type] of cases) {
    const v = parseVolfile(clientVolfile(volume(['/b/0'], { [key]: 'off' })));
    const types = v.volumes.map((d) => d.type);
    assert.ok(!types.includes(type), `${key} off removes ${type}`);
    assert.equal(types.length, 8, key);
  }
  const v = parseVolfile(
    clientVolfile(
      volume(['/b/0'], {
        'network.ping-timeout': '10',
        'performance.write-behind-window-size': '4MB',
        'ctime.noatime': 'off',
        'diagnostics.latency-measurement': 'on',
      }),
    ),
  );
  assert.equal(v.volumes[0]!.options.get('ping-timeout'), '10');
  // As typed, as stock glusterd writes it (test/mgmt/stock-volfiles.test.ts, live).
  assert.equal(v.volumes.find((d) => d.name === 'tv-write-behind')!.options.get('cache-size'), '4MB');
  assert.equal(v.volumes.find((d) => d.name === 'tv-utime')!.options.get('noatime'), 'off');
  assert.equal(topVolume(v).options.get('latency-measurement'), 'on');
});

test('brick volfile: posix → access-control → locks → io-stats named after the brick → protocol/server', () => {
  const vol = volume(['/bricks/b0']);
  const text = brickVolfile(vol, vol.bricks[0]!);
  const v = parseVolfile(text);
  assert.deepEqual(
    v.volumes.map((d) => [d.name, d.type]),
    [
      ['tv-posix', 'storage/posix'],
      ['tv-access-control', 'features/access-control'],
      ['tv-locks', 'features/locks'],
      ['/bricks/b0', 'debug/io-stats'],
      ['tv-server', 'protocol/server'],
    ],
  );
  assert.equal(v.volumes[0]!.options.get('directory'), '/bricks/b0');
  assert.equal(v.volumes[0]!.options.get('volume-id'), ID);
  const server = topVolume(v);
  assert.deepEqual(server.subvolumes, ['/bricks/b0']);
  assert.equal(server.options.get('transport.socket.listen-port'), '0');
  assert.equal(server.options.get('transport.socket.bind-address'), '127.0.0.2');
  assert.equal(server.options.get('auth.addr./bricks/b0.allow'), '*');
  assert.equal(server.options.get('transport-type'), 'tcp');
  assert.equal(brickVolfileKey('tv', vol.bricks[0]!), 'tv.127.0.0.2.bricks-b0');
  const restricted = volume(['/bricks/b0'], { 'auth.allow': '127.0.0.*' });
  assert.match(
    brickVolfile(restricted, restricted.bricks[0]!),
    /option auth\.addr\.\/bricks\/b0\.allow 127\.0\.0\.\*\n/,
  );
});

test('volume set keys are validated against the schema; unknown keys are refused', () => {
  assert.deepEqual(validateVolumeOption('features.utime', 'off'), { key: 'features.ctime', value: 'off' });
  assert.deepEqual(validateVolumeOption('client.trimmed', 'on'), { key: 'client.trimmed', value: 'on' });
  const refused: [string, string, RegExp][] = [
    ['performance.nonsense', 'on', /does not exist or is not supported/],
    // glusterd 10.3's texts (docs/mgmt.md, Volume options).
    ['performance.write-behind', 'maybe', /^Error, Validation Failed$/],
    ['network.ping-timeout', '-1', /^invalid time format "-1" in "option ping-timeout"$/],
    ['network.ping-timeout', 'x', /^invalid time format "x" in "option ping-timeout"$/],
    [
      'performance.write-behind-window-size',
      '1KB',
      /^'1024' in 'option cache-size 1KB' is out of range \[524288 - 1073741824\]$/,
    ],
    ['auth.allow', '1.2.3.4 #x', /is not a valid internet-address-list/],
    ['client.trimmed', 'on\nvolume evil', /one line/],
    ['__proto__', 'on', /does not exist/],
  ];
  for (const [k, val, re] of refused)
    assert.throws(
      () => validateVolumeOption(k, val),
      (e: unknown) => e instanceof VolumeOptionError && re.test(e.message),
      `${k}=${val}`,
    );
  assert.ok(Object.keys(VOLUME_OPTIONS).length >= 10);
});
