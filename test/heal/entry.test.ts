// Entry heal when the granular index is incomplete: a brick was down while names were
// created, deleted and hard-linked (as a stock client's creates, whose entry-changes names
// were then lost); heal still compares the full listings of source and sink and makes the
// sink match: missing names created with the source's gfid, type, mode, owner, symlink
// target and hard links; names the source removed, removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { indexHealPass } from '../../src/heal/index.js';
import { lgetxattr } from '../../src/sys/index.js';
import { healFixture } from '../support/replica-set.js';

/** Every name under `rel` on a brick, recursively: gfid, type and mode, owner, links, content or target. */
async function identity(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel)).sort()) {
    if (!rel && n === '.glusterfs') continue;
    const p = join(dir, rel, n);
    const st = lstatSync(p);
    const gfid = (await lgetxattr(p, 'trusted.gfid')).toString('hex');
    const what = st.isSymbolicLink()
      ? `-> ${readlinkSync(p)}`
      : st.isFile()
        ? readFileSync(p).toString('base64')
        : '';
    out.push(`${join(rel, n)} ${gfid} ${st.mode.toString(8)} ${st.uid}:${st.gid} nlink ${st.nlink} ${what}`);
    if (st.isDirectory()) out.push(...(await identity(dir, join(rel, n))));
  }
  return out;
}

test('entries with the entry-changes names lost: full listings decide; gfid, type, mode, owner, target and hard links as the source', async () => {
  const fx = await healFixture();
  try {
    await fx.volume.mkdir('/d', 0o755);
    for (const n of ['keep', 'gone', 'olddir']) {
      if (n === 'olddir') await fx.volume.mkdir(`/d/${n}`, 0o700);
      else await (await fx.volume.create(`/d/${n}`, 'w', 0o644)).close();
    }
    await (await fx.volume.create('/d/olddir/x', 'w', 0o644)).close();
    fx.switches[2]!.state = 'down';
    await fx.volume.unlink('/d/gone');
    await fx.volume.unlink('/d/olddir/x');
    await fx.volume.rmdir('/d/olddir');
    const f = await fx.volume.create('/d/owned', 'w', 0o640);
    await f.pwrite(Buffer.from('owned by 1234'), 0);
    await f.close();
    await fx.volume.chown('/d/owned', 1234, 5678);
    await fx.volume.link('/d/owned', '/d/owned-link');
    await fx.volume.mkdir('/d/sub', 0o2750);
    await fx.volume.chown('/d/sub', 42, 43);
    await fx.volume.symlink('../keep', '/d/sub/up');
    fx.switches[2]!.state = 'up';
    // The granular names are gone from every brick (nlink counts .glusterfs handles too): only the directories' counters remain.
    for (const d of fx.dirs)
      rmSync(join(d, '.glusterfs', 'indices', 'entry-changes'), { recursive: true, force: true });
    const report = await indexHealPass(fx.io);
    assert.equal(report.remaining, 0, JSON.stringify(report));
    const want = await identity(fx.dirs[0]!);
    assert.ok(
      want.some((l) => l.startsWith('d/owned ') && / 1234:5678 nlink 3 /.test(l)),
      want.join('\n'),
    );
    for (const i of [1, 2]) assert.deepEqual(await identity(fx.dirs[i]!), want, `brick ${i} equals brick 0`);
    for (const i of [0, 1, 2]) {
      for (const p of ['d', 'd/owned', 'd/sub', 'd/keep'])
        for (const k of ['dirty', 0, 1, 2] as const)
          assert.deepEqual(await fx.changelog(i, p, k), [0, 0, 0], `brick ${i} ${p} ${k} clean`);
      assert.deepEqual(fx.indexed(i), [], `brick ${i} index empty`);
    }
  } finally {
    await fx.close();
  }
});
