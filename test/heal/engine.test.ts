// The heal engine over three in-process bricks: a brick misses writes, creates, deletes,
// chmods and xattrs while down; heal makes it byte-identical, clears the changelogs and
// empties the index. Split-brain is refused, then resolved by each policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  healInode,
  indexHealPass,
  encodeHealRanges,
  HEAL_RANGES_KEY,
  type HealOutcome,
} from '../../src/heal/index.js';
import { lsetxattr, lgetxattr } from '../../src/sys/index.js';
import { parseGfid } from '../../src/protocol/gfid.js';
import { encodeCounters } from '../../src/xlators/replicate/index.js';
import { prng } from '../support/fsx.js';
import { healFixture, type HealFixture } from '../support/replica-set.js';

const bytes = (n: number, seed: number) => {
  const rand = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
};

/** Every name under a brick (not .glusterfs) with its type, mode, size, content or target. */
export function snapshot(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (!rel && name === '.glusterfs') continue;
    const p = join(rel, name);
    const st = lstatSync(join(dir, p));
    if (st.isDirectory()) {
      out.push(`${p}/ ${st.mode.toString(8)}`);
      out.push(...snapshot(dir, p));
    } else if (st.isSymbolicLink()) out.push(`${p} -> ${readlinkSync(join(dir, p))}`);
    else
      out.push(
        `${p} ${st.mode.toString(8)} ${st.size} ${readFileSync(join(dir, p)).toString('base64').slice(0, 64)}:${hash(readFileSync(join(dir, p)))}`,
      );
  }
  return out;
}
const hash = (b: Buffer) => {
  let h = 0;
  for (const x of b) h = (h * 31 + x) | 0;
  return h;
};

export async function assertHealed(fx: HealFixture, paths: string[]): Promise<void> {
  const want = snapshot(fx.dirs[0]!);
  for (const i of [1, 2]) assert.deepEqual(snapshot(fx.dirs[i]!), want, `brick ${i} equals brick 0`);
  for (const i of [0, 1, 2]) {
    for (const p of paths)
      for (const k of ['dirty', 0, 1, 2] as const)
        assert.deepEqual(await fx.changelog(i, p, k), [0, 0, 0], `brick ${i} ${p} ${k} clean`);
    assert.deepEqual(fx.indexed(i), [], `brick ${i} index empty`);
  }
}

for (const ranges of [true, false])
  test(`data: a brick down during writes is healed chunk by chunk (${ranges ? 'from the changed-ranges record' : 'no record: checksums'}); changelogs zero, index empty`, async () => {
    const fx = await healFixture({ healRanges: ranges });
    try {
      const f = await fx.volume.create('/vm.img', 'w+', 0o644);
      await f.pwrite(bytes(1 << 20, 1), 0);
      fx.switches[2]!.state = 'down';
      const rand = prng(7);
      for (let k = 0; k < 20; k++) await f.pwrite(bytes(4096, 100 + k), Math.floor(rand() * 300) * 4096);
      await f.pwrite(bytes(5000, 9), 1 << 20); // grows the file
      await f.close();
      assert.notDeepEqual(fx.indexed(0), [], 'the survivors indexed the file');
      fx.switches[2]!.state = 'up';
      const outcomes: HealOutcome[] = [];
      const report = await indexHealPass(fx.io, { onInode: (h) => outcomes.push(...h.outcomes) });
      assert.equal(report.remaining, 0);
      assert.ok(readFileSync(join(fx.dirs[2]!, 'vm.img')).equals(readFileSync(join(fx.dirs[0]!, 'vm.img'))));
      const data = outcomes.find((o) => o.kind === 'data' && o.result === 'healed' && o.sinks?.length)!;
      assert.equal(data.ranges, ranges ? 'record' : 'checksum');
      if (ranges) {
        assert.equal(data.bytesCompared, 0, 'nothing compared');
        assert.ok(
          data.bytesCopied! <= 22 * 128 * 1024,
          `copied ${data.bytesCopied}: the changed chunks only`,
        );
      } else assert.ok(data.bytesCompared! >= 2 * (1 << 20), 'the whole file compared');
      await assertHealed(fx, ['vm.img']);
    } finally {
      await fx.close();
    }
  });

test('data: with a changed-ranges record on the source only those chunks are copied', async () => {
  const fx = await healFixture();
  try {
    const f = await fx.volume.create('/r.img', 'w+', 0o644);
    await f.pwrite(bytes(1 << 20, 2), 0);
    fx.switches[2]!.state = 'down';
    await f.pwrite(bytes(4096, 3), 300_000);
    await f.close();
    fx.switches[2]!.state = 'up';
    const gfid = parseGfid((await fx.volume.stat('/r.img')).gfid);
    // Stand in for the brick side (r4): serve the record as the GETXATTR the heal asks for.
    const rec = encodeHealRanges([{ offset: 300_000n, length: 4096n }]);
    const orig = fx.io.getxattr.bind(fx.io);
    fx.io.getxattr = async (i, g, name) => (name === HEAL_RANGES_KEY ? rec : orig(i, g, name));
    const h = await healInode(fx.io, gfid);
    const data = h.outcomes.find((o) => o.kind === 'data')!;
    assert.equal(data.result, 'healed');
    assert.equal(data.ranges, 'record');
    assert.equal(data.bytesCompared, 0);
    assert.equal(data.bytesCopied, 128 * 1024, 'only the chunk the range touches, to the one sink');
    await assertHealed(fx, ['r.img']);
  } finally {
    await fx.close();
  }
});

test('entries: names created and deleted while a brick was down, with their data, modes and symlinks', async () => {
  const fx = await healFixture();
  try {
    await fx.volume.mkdir('/d', 0o755);
    for (const n of ['keep', 'gone']) {
      const f = await fx.volume.create(`/d/${n}`, 'w', 0o644);
      await f.pwrite(Buffer.from(n), 0);
      await f.close();
    }
    fx.switches[1]!.state = 'down';
    await fx.volume.unlink('/d/gone');
    const f = await fx.volume.create('/d/new', 'w', 0o600);
    await f.pwrite(bytes(300_000, 4), 0);
    await f.close();
    await fx.volume.mkdir('/d/sub', 0o750);
    const g = await fx.volume.create('/d/sub/inner', 'w', 0o644);
    await g.pwrite(Buffer.from('inner'), 0);
    await g.close();
    await fx.volume.symlink('keep', '/d/link');
    fx.switches[1]!.state = 'up';
    const report = await indexHealPass(fx.io);
    assert.equal(report.remaining, 0, JSON.stringify(report));
    await assertHealed(fx, ['d', 'd/new', 'd/sub', 'd/sub/inner', 'd/keep']);
  } finally {
    await fx.close();
  }
});

test('metadata: mode, owner and user xattrs changed while a brick was down', async () => {
  const fx = await healFixture();
  try {
    const f = await fx.volume.create('/m', 'w', 0o644);
    await f.close();
    await fx.volume.setxattr('/m', 'user.old', Buffer.from('x'));
    fx.switches[0]!.state = 'down';
    await fx.volume.chmod('/m', 0o600);
    await fx.volume.setxattr('/m', 'user.color', Buffer.from('blue'));
    await fx.volume.removexattr('/m', 'user.old');
    fx.switches[0]!.state = 'up';
    const report = await indexHealPass(fx.io);
    assert.equal(report.remaining, 0);
    assert.equal(lstatSync(join(fx.dirs[0]!, 'm')).mode & 0o777, 0o600);
    assert.equal((await lgetxattr(join(fx.dirs[0]!, 'm'), 'user.color')).toString(), 'blue');
    await assert.rejects(lgetxattr(join(fx.dirs[0]!, 'm'), 'user.old'));
    await assertHealed(fx, ['m']);
  } finally {
    await fx.close();
  }
});

/** Every brick accuses the two others of data: no brick is a source (replica 3 split-brain). */
async function craftSplitBrain(fx: HealFixture, path: string): Promise<Buffer> {
  const f = await fx.volume.create(path, 'w', 0o644);
  await f.pwrite(Buffer.alloc(1000, 1), 0);
  await f.close();
  const gfid = parseGfid((await fx.volume.stat(path)).gfid);
  const { writeFileSync, utimesSync } = await import('node:fs');
  writeFileSync(join(fx.dirs[0]!, path), Buffer.alloc(3000, 0xa)); // bigger, older
  utimesSync(join(fx.dirs[0]!, path), 1000, 1000);
  writeFileSync(join(fx.dirs[1]!, path), Buffer.alloc(2000, 0xb)); // smaller, newer
  utimesSync(join(fx.dirs[1]!, path), 2_000_000_000, 2_000_000_000);
  const key = (j: number) => fx.replica.cfg.pendingKeys[j]!;
  await lsetxattr(join(fx.dirs[0]!, path), key(1), encodeCounters([1, 0, 0]));
  await lsetxattr(join(fx.dirs[0]!, path), key(2), encodeCounters([1, 0, 0]));
  await lsetxattr(join(fx.dirs[1]!, path), key(0), encodeCounters([1, 0, 0]));
  await lsetxattr(join(fx.dirs[1]!, path), key(2), encodeCounters([1, 0, 0]));
  await lsetxattr(join(fx.dirs[2]!, path), key(0), encodeCounters([1, 0, 0]));
  await lsetxattr(join(fx.dirs[2]!, path), key(1), encodeCounters([1, 0, 0]));
  return gfid;
}

test('split-brain: refused without a policy, then resolved by bigger-file, latest-mtime and source-brick', async () => {
  const fx = await healFixture();
  try {
    const cases = [
      { path: 'sb1', policy: { kind: 'bigger-file' } as const, fill: 0xa },
      { path: 'sb2', policy: { kind: 'latest-mtime' } as const, fill: 0xb },
      { path: 'sb3', policy: { kind: 'source-brick', brick: 1 } as const, fill: 0xb },
    ];
    for (const c of cases) {
      const gfid = await craftSplitBrain(fx, `/${c.path}`);
      const refused = await healInode(fx.io, gfid);
      assert.equal(refused.outcomes.find((o) => o.kind === 'data')!.result, 'split-brain');
      assert.equal(readFileSync(join(fx.dirs[2]!, c.path)).length, 1000, 'nothing was touched');
      const h = await healInode(fx.io, gfid, { policy: c.policy });
      assert.equal(h.outcomes.find((o) => o.kind === 'data')!.result, 'healed', c.path);
      for (const d of fx.dirs)
        assert.ok(
          readFileSync(join(d, c.path)).every((b) => b === c.fill),
          `${c.path} on ${d}`,
        );
      for (const i of [0, 1, 2])
        for (const k of ['dirty', 0, 1, 2] as const)
          assert.deepEqual(await fx.changelog(i, c.path, k), [0, 0, 0]);
    }
    for (const i of [0, 1, 2]) assert.deepEqual(fx.indexed(i), []);
  } finally {
    await fx.close();
  }
});

// (The harness has no features/arbiter: the arbiter brick is plain posix here, and replicate's
// arbiter rules alone — never a data source — decide.)
test('arbiter set: a data brick that missed writes is healed from the other data brick, never from the arbiter', async () => {
  const fx = await healFixture({ arbiter: true });
  try {
    const f = await fx.volume.create('/a.img', 'w+', 0o644);
    await f.pwrite(bytes(600_000, 31), 0);
    fx.switches[0]!.state = 'down';
    await f.pwrite(bytes(8192, 32), 100_000);
    await f.pwrite(bytes(1000, 33), 600_000);
    await f.close();
    fx.switches[0]!.state = 'up';
    const report = await indexHealPass(fx.io);
    assert.equal(report.remaining, 0, JSON.stringify(report));
    assert.ok(readFileSync(join(fx.dirs[0]!, 'a.img')).equals(readFileSync(join(fx.dirs[1]!, 'a.img'))));
    for (let i = 0; i < 3; i++) {
      for (const k of ['dirty', 0, 1, 2] as const)
        assert.deepEqual(await fx.changelog(i, 'a.img', k), [0, 0, 0], `brick ${i} ${k}`);
      assert.deepEqual(fx.indexed(i), []);
    }
  } finally {
    await fx.close();
  }
});
