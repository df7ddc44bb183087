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
          data.bytesCopied! <= 2 * (20 * 4096 + 5000),
          `copied ${data.bytesCopied}: the changed ranges only`,
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
    assert.equal(data.bytesCopied, 4096, 'exactly the recorded range, to the one sink');
    assert.equal(data.bytesRead, 4096);
    await assertHealed(fx, ['r.img']);
  } finally {
    await fx.close();
  }
});

/** Counts the bytes the heal reads, writes and checksums per brick (HealIo is what it sends). */
function meter(fx: HealFixture) {
  const m = { read: [0, 0, 0], written: [0, 0, 0], checksummed: [0, 0, 0], writes: 0, rangesWritten: 0 };
  const { read, write, checksum, readRanges, writeRanges } = fx.io;
  // Vectored calls (several ranges at once) count their bytes the same way, and as one write.
  fx.io.readRanges = async (i, fd, ranges) => {
    const got = await readRanges.call(fx.io, i, fd, ranges);
    // Not vectored: the ranges after the first were read (and counted) one by one.
    m.read[i]! += (got.vectored ? got.data : got.data.slice(0, 1)).reduce((n, b) => n + b.length, 0);
    return got;
  };
  fx.io.writeRanges = async (i, fd, pieces) => {
    m.written[i]! += pieces.reduce((n, p) => n + p.data.length, 0);
    m.writes++;
    m.rangesWritten += pieces.length;
    return writeRanges.call(fx.io, i, fd, pieces);
  };
  fx.io.read = async (i, fd, off, size) => {
    const b = await read.call(fx.io, i, fd, off, size);
    m.read[i]! += b.length;
    return b;
  };
  fx.io.write = async (i, fd, off, data) => {
    m.written[i]! += data.length;
    m.writes++;
    m.rangesWritten++;
    return write.call(fx.io, i, fd, off, data);
  };
  fx.io.checksum = async (i, fd, off, len) => {
    m.checksummed[i]! += len;
    return checksum.call(fx.io, i, fd, off, len);
  };
  return m;
}
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

test('data from the record: scattered 4 KiB writes cost at most 2× the changed bytes read and written', async () => {
  const fx = await healFixture({ healRanges: true });
  try {
    const size = 16 << 20;
    const f = await fx.volume.create('/big.img', 'w+', 0o644);
    for (let off = 0; off < size; off += 1 << 20) await f.pwrite(bytes(1 << 20, off), off);
    fx.switches[1]!.state = 'down';
    const rand = prng(21);
    const blocks = new Set<number>();
    for (let k = 0; k < 160; k++) {
      const block = Math.floor(rand() * (size / 4096));
      blocks.add(block);
      await f.pwrite(bytes(4096, 1000 + k), block * 4096);
    }
    await f.close();
    const changed = blocks.size * 4096;
    fx.switches[1]!.state = 'up';
    const m = meter(fx);
    const progress: number[][] = [];
    const gfid = parseGfid((await fx.volume.stat('/big.img')).gfid);
    const h = await healInode(fx.io, gfid, { onProgress: (p) => progress.push([p.done, p.total]) });
    const data = h.outcomes.find((o) => o.kind === 'data')!;
    assert.equal(data.ranges, 'record');
    assert.deepEqual(m.checksummed, [0, 0, 0], 'no checksums');
    assert.equal(m.written[0]! + m.written[2]!, 0, 'only the sink is written');
    assert.equal(sum(m.read), data.bytesRead);
    assert.equal(m.written[1], data.bytesCopied);
    assert.ok(sum(m.read) >= changed && sum(m.read) <= 2 * changed, `read ${sum(m.read)} for ${changed}`);
    assert.ok(m.written[1]! <= 2 * changed, `wrote ${m.written[1]} for ${changed}`);
    assert.ok(m.rangesWritten <= blocks.size, `${m.rangesWritten} ranges written for ${blocks.size} changed`);
    assert.ok(m.writes < m.rangesWritten / 4, `${m.writes} vectored writes for ${m.rangesWritten} ranges`);
    // Progress: from 0 to the bytes to copy, never past it.
    const total = progress[0]![1]!;
    assert.equal(total, data.bytesRead);
    assert.deepEqual(progress[0], [0, total]);
    assert.deepEqual(progress.at(-1), [total, total]);
    assert.ok(
      progress.every(([d, t], k) => t === total && d! <= t && (k === 0 || d! > progress[k - 1]![0]!)),
    );
    await assertHealed(fx, ['big.img']);
  } finally {
    await fx.close();
  }
});

test('data from the record: a truncate leaves ranges past EOF, a write lands on the last partial block', async () => {
  const fx = await healFixture({ healRanges: true });
  try {
    const f = await fx.volume.create('/t.img', 'w+', 0o644);
    await f.pwrite(bytes(2 << 20, 5), 0);
    fx.switches[2]!.state = 'down';
    await f.pwrite(bytes(4096, 6), 1_800_000); // later cut off by the truncate
    await f.pwrite(bytes(4096, 7), 4096); // 4 KiB…
    await f.pwrite(bytes(4096, 8), 8192); // …and its neighbour: one range
    await f.ftruncate(1_000_000);
    await f.pwrite(bytes(3000, 9), 998_000); // the last, partial block, growing the file
    await f.close();
    fx.switches[2]!.state = 'up';
    const m = meter(fx);
    const gfid = parseGfid((await fx.volume.stat('/t.img')).gfid);
    const data = (await healInode(fx.io, gfid)).outcomes.find((o) => o.kind === 'data')!;
    assert.equal(data.result, 'healed');
    assert.equal(data.ranges, 'record');
    assert.equal(lstatSync(join(fx.dirs[2]!, 't.img')).size, 1_001_000);
    // The truncate's span [1_000_000, 2 MiB) is past the source's EOF now: only the sink's
    // truncate, then 8 KiB at 4096 and [998_000, 1_001_000) are copied.
    assert.equal(sum(m.read), 8192 + 3000, `read ${sum(m.read)}`);
    assert.equal(m.rangesWritten, 2);
    assert.equal(m.writes, 1, 'both ranges in one vectored WRITE (one batch)');
    await assertHealed(fx, ['t.img']);
  } finally {
    await fx.close();
  }
});

test('data without a usable record: checksums decide, only differing chunks are copied', async () => {
  const fx = await healFixture({ healRanges: true });
  try {
    const f = await fx.volume.create('/c.img', 'w+', 0o644);
    await f.pwrite(bytes(1 << 20, 11), 0);
    fx.switches[0]!.state = 'down';
    await f.pwrite(bytes(4096, 12), 200_000);
    await f.pwrite(bytes(100, 13), (1 << 20) - 50); // the last chunk, growing the file
    await f.close();
    fx.switches[0]!.state = 'up';
    // A damaged record on every brick reads as incomplete: the heal must compare.
    const orig = fx.io.getxattr.bind(fx.io);
    fx.io.getxattr = async (i, g, name) =>
      name === HEAL_RANGES_KEY ? encodeHealRanges([], false) : orig(i, g, name);
    const m = meter(fx);
    const gfid = parseGfid((await fx.volume.stat('/c.img')).gfid);
    const data = (await healInode(fx.io, gfid)).outcomes.find((o) => o.kind === 'data')!;
    assert.equal(data.ranges, 'checksum');
    const size = (1 << 20) + 50;
    assert.equal(m.checksummed[1], size, 'the whole file checksummed on the source');
    assert.equal(m.checksummed[0], size, 'and on the sink');
    // 200_000 + 4096 stays inside chunk 1 [131072, 262144); the tail is chunks 7 and 8.
    assert.equal(m.writes, 3, 'three chunks differ');
    assert.equal(m.written[0], 2 * 128 * 1024 + 50);
    await assertHealed(fx, ['c.img']);
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
