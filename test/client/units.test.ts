// Pieces of the client that need no server: QEMU's gluster URL syntax, the trimmed client
// stack, the default registry's handling of volfile translator types, the inode cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GlusterError, parseGlusterUrl, trimVolfile } from '../../src/client/index.js';
import { InodeCache } from '../../src/client/inodes.js';
import { ROOT_GFID, randomGfid } from '../../src/protocol/gfid.js';
import { Graph, parseVolfile, printVolfile } from '../../src/xlator/index.js';
import { CLIENT_TRANSLATORS } from '../../src/xlators/index.js';
import { clientGraph } from '../../src/mgmt/volfiles.js';

test('gluster URLs: tcp, ports, IPv6, unix sockets, rdma fallback; malformed ones are EINVAL', () => {
  assert.deepEqual(parseGlusterUrl('gluster://1.2.3.4/testvol/dir/a.img'), {
    server: { host: '1.2.3.4', port: 24007 },
    volume: 'testvol',
    path: '/dir/a.img',
  });
  assert.deepEqual(parseGlusterUrl('gluster+tcp://h:24010/v').server, { host: 'h', port: 24010 });
  assert.equal(parseGlusterUrl('gluster+tcp://h:24010/v').path, '/');
  assert.deepEqual(parseGlusterUrl('gluster://[::1]:24007/v/x').server, { host: '::1', port: 24007 });
  assert.deepEqual(parseGlusterUrl('gluster+unix:///v/x?socket=/run/glusterd.socket').server, {
    socket: '/run/glusterd.socket',
  });
  assert.deepEqual(parseGlusterUrl('gluster+rdma://h/v/x').server, { host: 'h', port: 24007 });
  assert.equal(parseGlusterUrl('gluster://h/v/a%20b').path, '/a b');
  for (const bad of [
    'gluster://h',
    'gluster://h/',
    'gluster://h:99999/v/x',
    'gluster+unix://h/v/x?socket=/s',
    'gluster+unix:///v/x',
    'gluster://h/v/x?socket=/s',
    'http://h/v/x',
  ]) {
    assert.throws(
      () => parseGlusterUrl(bad),
      (e: unknown) => e instanceof GlusterError && e.code === 'EINVAL',
      bad,
    );
  }
});

const volume = {
  name: 'tv',
  id: '8acf6b48-0000-4000-8000-000000000001',
  bricks: [
    { host: '127.0.0.2', path: '/bricks/b0' },
    { host: '127.0.0.2', path: '/bricks/b1' },
  ],
  options: {},
} as never;

test('trimmed stack: a glusterd client volfile keeps client, distribute and io-stats, wired through', () => {
  const full = { volumes: clientGraph(volume) };
  const types = full.volumes.map((v) => v.type);
  assert.ok(types.includes('performance/write-behind') && types.includes('features/utime'), types.join());
  const trimmed = trimVolfile(full);
  assert.deepEqual(
    trimmed.volumes.map((v) => v.type),
    ['protocol/client', 'protocol/client', 'cluster/distribute', 'debug/io-stats'],
  );
  const top = trimmed.volumes.at(-1)!;
  assert.equal(top.name, 'tv');
  assert.deepEqual(top.subvolumes, ['tv-dht']);
  // Reparses: every subvolume is declared before use.
  assert.deepEqual(parseVolfile(printVolfile(trimmed)), trimmed);
});

test('trimmed stack: a multi-child translator it does not keep is refused by name; a dropped top moves', () => {
  const afr = parseVolfile(`
volume c0
  type protocol/client
  option remote-host h
  option remote-subvolume /b0
end-volume
volume c1
  type protocol/client
  option remote-host h
  option remote-subvolume /b1
end-volume
volume r
  type cluster/replicate
  subvolumes c0 c1
end-volume
volume ec
  type cluster/disperse
  subvolumes r c1
end-volume
`);
  assert.throws(() => trimVolfile(afr), /volume ec: a trimmed client stack cannot drop cluster\/disperse/);
  const cachesOnTop = parseVolfile(`
volume c0
  type protocol/client
  option remote-host h
  option remote-subvolume /b0
end-volume
volume wb
  type performance/write-behind
  subvolumes c0
end-volume
volume md
  type performance/md-cache
  subvolumes wb
end-volume
`);
  assert.deepEqual(
    trimVolfile(cachesOnTop).volumes.map((v) => v.name),
    ['c0'],
  );
});

test('CLIENT_TRANSLATORS: every type a glusterd client volfile names is known; others are refused by name', async () => {
  for (const decl of clientGraph(volume)) assert.ok(CLIENT_TRANSLATORS.has(decl.type), decl.type);
  for (const t of [
    'performance/read-ahead',
    'performance/readdir-ahead',
    'performance/io-cache',
    'performance/nl-cache',
  ])
    assert.ok(CLIENT_TRANSLATORS.has(t), t);
  assert.ok(CLIENT_TRANSLATORS.has('cluster/replicate'));
  assert.ok(CLIENT_TRANSLATORS.has('features/shard'));
  for (const t of ['cluster/disperse', 'storage/posix', 'features/locks'])
    assert.ok(!CLIENT_TRANSLATORS.has(t), t);
  const disperse = parseVolfile(`
volume c0
  type protocol/client
  option remote-host 127.0.0.45
  option remote-port 1
  option remote-subvolume /b0
end-volume
volume s
  type cluster/disperse
  subvolumes c0
end-volume
`);
  await assert.rejects(
    Graph.build(disperse, CLIENT_TRANSLATORS),
    /volume s: translator type cluster\/disperse is not implemented by glusterts/,
  );
});

test('inode cache: entries expire, are bounded, and forgetting a gfid drops its entries and children', async () => {
  const cache = new InodeCache(50, 3);
  const root = cache.inode(ROOT_GFID, 0o040755);
  const a = cache.inode(randomGfid(), 0o040755);
  const b = cache.inode(randomGfid(), 0o100644);
  cache.link(root, 'a', a);
  cache.link(a, 'b', b);
  assert.equal(cache.lookup(root, 'a'), a);
  assert.equal(cache.lookup(a, 'b'), b);
  cache.forget(a.gfid);
  assert.equal(cache.lookup(root, 'a'), undefined);
  assert.equal(cache.lookup(a, 'b'), undefined, 'entries under a forgotten directory go too');
  for (const n of ['1', '2', '3', '4']) cache.link(root, n, b);
  assert.equal(cache.size, 3);
  assert.equal(cache.lookup(root, '1'), undefined, 'the oldest is evicted');
  await new Promise((ok) => setTimeout(ok, 60));
  assert.equal(cache.lookup(root, '4'), undefined, 'expired');
  const off = new InodeCache(0);
  off.link(root, 'x', b);
  assert.equal(off.lookup(root, 'x'), undefined, 'ttl 0 disables the cache');
});
