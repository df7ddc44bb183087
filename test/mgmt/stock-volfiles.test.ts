// Replicated volumes' volfiles and `volume info` against stock glusterd 10.3: the saved
// fixtures (test/fixtures/volfiles) always, and a private stock glusterd when installed
// (required under CI=true).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brickVolfile, clientVolfile, shdVolfile } from '../../src/mgmt/volfiles.js';
import { brickVolfileKey, type VolumeRecord } from '../../src/mgmt/volume.js';
import { formatInfo } from '../../src/cli/commands/volume.js';
import { requirePeer, startStockGluster } from '../../src/peers/index.js';
import {
  CASES,
  assertBrickLikeStock,
  assertGetLikeStock,
  assertInfoLikeStock,
  assertSameClientGraph,
  recordFromStock,
  type VolumeDefinition,
} from './stock-volfiles.js';

const FIXTURES = new URL('../../../test/fixtures/volfiles/', import.meta.url).pathname;

function readCase(dir: string) {
  const file = (f: string) => readFileSync(join(dir, f), 'utf8');
  const bricks = readdirSync(dir)
    .filter((f) => /^brick-\d+\.vol$/.test(f))
    .sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)))
    .map(file);
  const has = (f: string) => readdirSync(dir).includes(f);
  const info = has('volume-info.txt') ? file('volume-info.txt') : undefined;
  const shd = has('shd.vol') ? file('shd.vol') : undefined;
  return { client: file('client.vol'), bricks, info: file('info'), cliInfo: info, shd };
}

function compare(
  label: string,
  def: VolumeDefinition,
  stock: {
    client: string;
    bricks: string[];
    info: string;
    cliInfo?: string | undefined;
    /** The self-heal daemon's volfile (`<vol>-shd.vol`), for replicated volumes. */
    shd?: string | undefined;
  },
): VolumeRecord {
  const vol = recordFromStock(def, stock.client, stock.info);
  assertSameClientGraph(clientVolfile(vol), stock.client, label);
  if (stock.shd !== undefined) assertSameClientGraph(shdVolfile(vol), stock.shd, label, 'shd volfile');
  assert.equal(stock.bricks.length, vol.bricks.length, `${label}: one brick volfile per brick`);
  vol.bricks.forEach((b, i) =>
    assertBrickLikeStock(
      brickVolfile(vol, b),
      stock.bricks[i]!,
      `${label} brick ${i}`,
      (def.replica ?? 1) > 1,
    ),
  );
  if (stock.cliInfo) assertInfoLikeStock(formatInfo([vol]), stock.cliInfo, label);
  return vol;
}

for (const [dir, def] of Object.entries(CASES)) {
  test(`stock fixture ${dir}: same client graph, AFR brick translators, volume info`, () => {
    compare(dir, def, readCase(join(FIXTURES, dir)));
  });
}

test('the fixtures cover what the assignment names', () => {
  const dr = readFileSync(join(FIXTURES, 'dist-replica', 'client.vol'), 'utf8');
  assert.match(
    dr,
    /volume dr-replicate-1\n[^]*option afr-pending-xattr dr-client-3,dr-client-4,dr-client-5\n/,
  );
  const arb = readFileSync(join(FIXTURES, 'arbiter', 'client.vol'), 'utf8');
  assert.match(arb, /option arbiter-count 1\n/);
  const arbBrick = readFileSync(join(FIXTURES, 'arbiter', 'brick-2.vol'), 'utf8');
  assert.match(arbBrick, /type features\/arbiter\n/);
  const opts = readFileSync(join(FIXTURES, 'replica3-options', 'client.vol'), 'utf8');
  for (const o of ['quorum-type fixed', 'quorum-count 2', 'favorite-child-policy mtime', 'eager-lock off'])
    assert.match(opts, new RegExp(`option ${o}\\n`));
  // cluster.heal-timeout reaches the self-heal daemon's volfile only, never the client's.
  const heal = (f: string) => readFileSync(join(FIXTURES, 'replica3-heal-options', f), 'utf8');
  assert.doesNotMatch(heal('client.vol'), /heal-timeout/);
  assert.match(heal('client.vol'), /option data-self-heal-window-size 8\n/);
  assert.match(heal('shd.vol'), /option heal-timeout 5\n/);
});

test('live: stock glusterd 10.3 writes the same volfiles for the same definitions', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const stock = await startStockGluster({ volume: 'tv', bricks: 1 });
  try {
    const host = stock.host;
    const brickDir = join(stock.dir, 'bricks');
    const live: [string, VolumeDefinition, number, [string, string][]][] = [
      ['replica3', { name: 'lr3', replica: 3 }, 3, []],
      ['arbiter', { name: 'larb', replica: 3, arbiter: 1 }, 3, []],
      ['replica2', { name: 'lr2', replica: 2 }, 2, []],
      ['dist-replica', { name: 'ldr', replica: 3 }, 6, []],
      ['dist-arbiter', { name: 'lda', replica: 3, arbiter: 1 }, 6, []],
      [
        'replica3 with AFR options',
        { name: 'lopt', replica: 3 },
        3,
        [
          ['cluster.quorum-type', 'fixed'],
          ['cluster.quorum-count', '2'],
          ['cluster.favorite-child-policy', 'majority'],
          ['cluster.data-self-heal-algorithm', 'diff'],
          ['cluster.eager-lock', 'off'],
          ['cluster.granular-entry-heal', 'off'],
          ['cluster.self-heal-daemon', 'off'],
          ['network.ping-timeout', '7'],
        ],
      ],
      [
        'distributed arbiter with heal options',
        { name: 'lho', replica: 3, arbiter: 1 },
        6,
        [
          ['cluster.heal-timeout', '5'],
          ['cluster.self-heal-window-size', '16'],
          ['cluster.heal-wait-queue-length', '0'],
          ['cluster.data-self-heal-algorithm', 'diff'],
          ['cluster.quorum-type', 'auto'],
        ],
      ],
      // The virt profile (issue 12): option groups, sharding, every performance translator.
      ['replica3 group virt', { name: 'lvirt', replica: 3 }, 3, [['group', 'virt']]],
      ['replica3 group gluster-block', { name: 'lgb', replica: 3 }, 3, [['group', 'gluster-block']]],
      [
        'distribute group distributed-virt, 16MB shards',
        { name: 'ldvirt' },
        3,
        [
          ['group', 'distributed-virt'],
          ['features.shard-block-size', '16MB'],
        ],
      ],
      [
        'distribute readdir-ahead with its limits',
        { name: 'lrda' },
        2,
        [
          ['performance.readdir-ahead', 'on'],
          ['performance.rda-cache-limit', '20MB'],
          ['performance.rda-request-size', '64KB'],
          ['performance.rda-low-wmark', '8KB'],
          ['performance.rda-high-wmark', '256KB'],
        ],
      ],
      // parallel-readdir moves readdir-ahead below distribute, one per subvolume, and splits
      // its cache between them.
      ['distribute group samba (parallel-readdir)', { name: 'lsamba' }, 3, [['group', 'samba']]],
      [
        '2 x 3 parallel-readdir with a small cache limit',
        { name: 'lprd', replica: 3 },
        6,
        [
          ['performance.readdir-ahead', 'on'],
          ['performance.parallel-readdir', 'on'],
          ['performance.rda-cache-limit', '100KB'],
        ],
      ],
      [
        'distribute with every performance translator and its options',
        { name: 'lperf' },
        3,
        [
          ['performance.write-behind-window-size', '4MB'],
          ['performance.strict-o-direct', 'on'],
          ['performance.read-ahead', 'on'],
          ['performance.readdir-ahead', 'on'],
          ['performance.io-cache', 'on'],
          ['performance.nl-cache', 'on'],
          ['performance.nl-cache-timeout', '30'],
          ['performance.md-cache-timeout', '10'],
          ['performance.cache-invalidation', 'on'],
          ['performance.cache-samba-metadata', 'on'],
          ['performance.read-after-open', 'no'],
          ['performance.io-thread-count', '8'],
          ['performance.high-prio-threads', '8'],
          ['client.event-threads', '3'],
          ['network.remote-dio', 'enable'],
          ['cluster.lookup-optimize', 'off'],
          ['features.shard', 'on'],
        ],
      ],
    ];
    for (const [label, def, n, sets] of live) {
      const layout = def.replica ? ['replica', String(def.replica)] : [];
      if (def.arbiter) layout.push('arbiter', String(def.arbiter));
      const paths = Array.from({ length: n }, (_, i) => join(brickDir, `${def.name}-${i}`));
      await stock.cli('volume', 'create', def.name, ...layout, ...paths.map((p) => `${host}:${p}`), 'force');
      for (const [k, v] of sets) await stock.cli('volume', 'set', def.name, k, v);
      const dir = join(stock.dir, 'glusterd', 'vols', def.name);
      const client = readFileSync(join(dir, `${def.name}.tcp-fuse.vol`), 'utf8');
      const info = readFileSync(join(dir, 'info'), 'utf8');
      const vol = recordFromStock(def, client, info);
      const bricks = vol.bricks.map((b) =>
        readFileSync(join(dir, `${brickVolfileKey(def.name, b)}.vol`), 'utf8'),
      );
      const cliInfo = await stock.cli('volume', 'info', def.name);
      const shd = def.replica ? readFileSync(join(dir, `${def.name}-shd.vol`), 'utf8') : undefined;
      compare(`live ${label}`, def, { client, bricks, info, cliInfo, shd });
      assertGetLikeStock(vol, await stock.cli('volume', 'get', def.name, 'all'), `live ${label}`);
    }
  } finally {
    await stock.stop();
  }
});
