// Loading graphs stock glusterd generates: which translator types features/locks,
// debug/io-stats and the pass-through stand-ins cover, which remain unimplemented, and
// that the stand-ins refuse options that would make the real translator act.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Graph, defineTranslator, parseVolfile, type VolumeDecl } from '../../../src/xlator/index.js';
import { ioStats } from '../../../src/xlators/io-stats/index.js';
import { locks } from '../../../src/xlators/locks/index.js';
import { stockPassthroughs, unimplementedTypes } from '../../../src/xlators/passthrough/index.js';
import { requirePeer, startStockGluster } from '../../../src/peers/index.js';

const registry = new Map([locks, ioStats, ...stockPassthroughs].map((t) => [t.type, t]));

/** GlusterFS 10.3's brick volfile for a one-brick volume with default options (paths shortened). */
const STOCK_BRICK = `
volume vv-posix
    type storage/posix
    option shared-brick-count 1
    option fips-mode-rchecksum on
    option volume-id 33487a5d-60aa-4128-9f5b-256cd5a435f7
    option directory /bricks/b0
end-volume
volume vv-trash
    type features/trash
    option trash-internal-op off
    option brick-path /bricks/b0
    option trash-dir .trashcan
    subvolumes vv-posix
end-volume
volume vv-changelog
    type features/changelog
    option changelog-barrier-timeout 120
    option changelog-notification off
    option changelog-dir /bricks/b0/.glusterfs/changelogs
    option changelog-brick /bricks/b0
    subvolumes vv-trash
end-volume
volume vv-bitrot-stub
    type features/bitrot-stub
    option bitrot disable
    option export /bricks/b0
    subvolumes vv-changelog
end-volume
volume vv-access-control
    type features/access-control
    subvolumes vv-bitrot-stub
end-volume
volume vv-locks
    type features/locks
    option enforce-mandatory-lock off
    subvolumes vv-access-control
end-volume
volume vv-worm
    type features/worm
    option worm-files-deletable on
    option worm-file-level off
    option worm off
    subvolumes vv-locks
end-volume
volume vv-read-only
    type features/read-only
    option read-only off
    subvolumes vv-worm
end-volume
volume vv-leases
    type features/leases
    option leases off
    subvolumes vv-read-only
end-volume
volume vv-upcall
    type features/upcall
    option cache-invalidation off
    subvolumes vv-leases
end-volume
volume vv-io-threads
    type performance/io-threads
    subvolumes vv-upcall
end-volume
volume vv-selinux
    type features/selinux
    option selinux on
    subvolumes vv-io-threads
end-volume
volume vv-marker
    type features/marker
    option inode-quota off
    option quota off
    option gsync-force-xtime off
    option xtime off
    option quota-version 0
    option timestamp-file /var/lib/glusterd/vols/vv/marker.tstamp
    option volume-uuid 33487a5d-60aa-4128-9f5b-256cd5a435f7
    subvolumes vv-selinux
end-volume
volume vv-barrier
    type features/barrier
    option barrier-timeout 120
    option barrier disable
    subvolumes vv-marker
end-volume
volume vv-index
    type features/index
    option xattrop-pending-watchlist trusted.afr.vv-
    option xattrop-dirty-watchlist trusted.afr.dirty
    option index-base /bricks/b0/.glusterfs/indices
    subvolumes vv-barrier
end-volume
volume vv-quota
    type features/quota
    option deem-statfs off
    option server-quota off
    option volume-uuid vv
    subvolumes vv-index
end-volume
volume /bricks/b0
    type debug/io-stats
    option global-threading off
    option count-fop-hits off
    option latency-measurement off
    option threads 16
    option log-level INFO
    option volume-id 33487a5d-60aa-4128-9f5b-256cd5a435f7
    option unique-id /bricks/b0
    subvolumes vv-quota
end-volume
volume vv-server
    type protocol/server
    option transport-type tcp
    option auth-path /bricks/b0
    subvolumes /bricks/b0
end-volume
`;

/** What is left to implement (or deliberately not stood in for) in a stock brick graph. */
const BRICK_UNIMPLEMENTED = [
  'storage/posix',
  'features/trash',
  'features/changelog',
  'features/bitrot-stub',
  'features/access-control',
  'features/selinux',
  'features/marker',
  'features/index',
  'protocol/server',
];

const leaf = defineTranslator({
  type: 'test/leaf',
  options: {},
  children: 'none',
  create: () => ({ fops: {} }),
});

/** Builds one declared volume over a leaf, with its options, refusing unknown ones. */
function buildAlone(decl: VolumeDecl) {
  const opts = [...decl.options].map(([k, v]) => `    option ${k} ${v}\n`).join('');
  const text = `volume leaf\n type test/leaf\nend-volume\nvolume ${decl.name}\n type ${decl.type}\n${opts} subvolumes leaf\nend-volume\n`;
  return Graph.build(parseVolfile(text), new Map([...registry, [leaf.type, leaf]]), { strictOptions: true });
}

test('a stock brick graph: the covered translators load with its options; the rest are listed', async () => {
  const volfile = parseVolfile(STOCK_BRICK);
  assert.deepEqual(unimplementedTypes(volfile, registry), BRICK_UNIMPLEMENTED);
  const covered = volfile.volumes.filter((v) => registry.has(v.type));
  assert.deepEqual(
    covered.map((v) => v.type),
    [
      'features/locks',
      'features/worm',
      'features/read-only',
      'features/leases',
      'features/upcall',
      'performance/io-threads',
      'features/barrier',
      'features/quota',
      'debug/io-stats',
    ],
  );
  for (const decl of covered) await buildAlone(decl);
});

test('stand-ins refuse the options that would make the real translator act', async () => {
  const cases: [string, string][] = [
    ['features/quota', 'server-quota on'],
    ['features/upcall', 'cache-invalidation on'],
    ['features/barrier', 'barrier enable'],
    ['features/worm', 'worm-file-level on'],
    ['features/read-only', 'read-only on'],
    ['features/leases', 'leases on'],
  ];
  for (const [type, option] of cases) {
    const [key, value] = option.split(' ') as [string, string];
    await assert.rejects(
      buildAlone({ name: 'x', type, options: new Map([[key, value]]), subvolumes: [] }),
      new RegExp(`volume x: ${type} with ${key} on is not implemented`),
    );
  }
});

test('a live stock 10.3 brick volfile leaves the same types unimplemented', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const stock = await startStockGluster({ volume: 'pt' });
  try {
    const dir = join(stock.dir, 'glusterd', 'vols', 'pt');
    const brick = readdirSync(dir).find(
      (f) => f.startsWith('pt.') && f.endsWith('.vol') && f.includes('bricks'),
    );
    assert.ok(brick, 'the brick volfile');
    const volfile = parseVolfile(readFileSync(join(dir, brick), 'utf8'));
    assert.deepEqual(unimplementedTypes(volfile, registry), BRICK_UNIMPLEMENTED);
    for (const decl of volfile.volumes.filter((v) => registry.has(v.type))) await buildAlone(decl);
  } finally {
    await stock.stop();
  }
});
