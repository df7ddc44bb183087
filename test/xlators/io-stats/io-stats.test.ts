// debug/io-stats: passes everything through, and reports the runner's per-layer counts
// (calls, errors, latency) of the layers below it like `gluster volume profile`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FopError, ROOT_GFID } from '../../../src/protocol/index.js';
import {
  FdTable,
  Graph,
  defineTranslator,
  parseVolfile,
  type FopContext,
} from '../../../src/xlator/index.js';
import { ioStats, type IoStatsTranslator } from '../../../src/xlators/io-stats/index.js';

const leaf = defineTranslator({
  type: 'test/leaf',
  options: {},
  children: 'none',
  create: () => ({
    fops: {
      async STAT(req) {
        await sleep(2);
        return { xdata: null, stat: { gfid: req.gfid } as never };
      },
      async LOOKUP() {
        throw FopError.of('ENOENT');
      },
    },
  }),
});
const identity = defineTranslator({
  type: 'test/identity',
  options: {},
  children: 'one',
  create: () => ({ fops: {} }),
});
const registry = new Map([leaf, identity, ioStats].map((t) => [t.type, t]));
const ctx: FopContext = {
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.alloc(8, 1) },
  session: { id: 's', fds: new FdTable() },
};

// As stock glusterd writes it for a brick: named after the brick path.
const VOLFILE = `
volume v-leaf
    type test/leaf
end-volume
volume v-mid
    type test/identity
    subvolumes v-leaf
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
    subvolumes v-mid
end-volume
`;

test('io-stats loads stock options, passes fops through, and reports the layers below', async () => {
  const graph = await Graph.build(parseVolfile(VOLFILE), registry, { strictOptions: true });
  const stats = graph.top.translator as IoStatsTranslator;
  for (let i = 0; i < 3; i++) {
    const r = await graph.top.call('STAT', { gfid: ROOT_GFID, xdata: null }, ctx);
    assert.deepEqual(r.stat.gfid, ROOT_GFID);
  }
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      graph.top.call(
        'LOOKUP',
        { gfid: ROOT_GFID, pargfid: ROOT_GFID, flags: 0, bname: 'x', xdata: null },
        ctx,
      ),
      (e: unknown) => e instanceof FopError && e.code === 'ENOENT',
    );
  }

  const profile = stats.profile();
  assert.deepEqual(
    profile.map((l) => [l.name, l.type]),
    [
      ['v-mid', 'test/identity'],
      ['v-leaf', 'test/leaf'],
    ],
  );
  for (const layer of profile) {
    const [lookup, stat] = layer.fops;
    assert.deepEqual([lookup!.fop, lookup!.calls, lookup!.errors], ['LOOKUP', 2, 2]);
    assert.deepEqual([stat!.fop, stat!.calls, stat!.errors], ['STAT', 3, 0]);
    assert.ok(stat!.avgNs >= 1.5e6, `STAT waited 2 ms each, got ${stat!.avgNs} ns`);
    assert.equal(layer.totalNs, lookup!.totalNs + stat!.totalNs);
  }

  const report = stats.report();
  assert.match(report, /^\/bricks\/b0 \(debug\/io-stats\)\n/);
  assert.match(report, /Layer: v-mid \(test\/identity\)/);
  assert.match(report, /Layer: v-leaf \(test\/leaf\)/);
  assert.match(report, /%-latency\s+Avg-latency\s+Total-latency\s+No\. of calls\s+Errors\s+Fop/);
  const statRow = report.split('\n').find((l) => l.endsWith(' STAT'))!;
  const cells = statRow.trim().split(/\s{3,}/);
  assert.equal(cells[3], '3', statRow);
  assert.equal(cells[4], '0', statRow);
  assert.ok(Number(cells[0]) > 50, `STAT dominates the time: ${statRow}`);
  assert.match(cells[1]!, /^\d+\.\d\d us$/);
  const lookupRow = report.split('\n').find((l) => l.endsWith(' LOOKUP'))!;
  assert.deepEqual(
    lookupRow
      .trim()
      .split(/\s{3,}/)
      .slice(3),
    ['2', '2', 'LOOKUP'],
  );

  stats.clear();
  assert.match(stats.report(), /Layer: v-leaf \(test\/leaf\)\n {2}\(no calls\)/);
});
