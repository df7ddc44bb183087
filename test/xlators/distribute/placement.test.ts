// cluster/distribute over three storage/posix bricks: where names land, that a fresh
// DHT (nothing remembered) finds them all again, listings across subvolumes, and the
// bricks' layouts (docs/distribute.md, "Layouts").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT_GFID, type Gfid } from '../../../src/protocol/gfid.js';
import { lgetxattr } from '../../../src/sys/index.js';
import { dhtNameHash, layoutOwner, layoutProblem } from '../../../src/xlators/distribute/index.js';
import { brickLayouts, listAll, makeDist, mkdir, readAll, walk, writeFile } from './helpers.js';

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('200 files in nested directories: each on the brick its name hashes to, all found by a fresh DHT', async () => {
  const d = await makeDist(3);
  try {
    // 4 top directories × 2 subdirectories × 25 files.
    const files: { path: string; data: string }[] = [];
    for (let a = 0; a < 4; a++) {
      const top = await mkdir(d, ROOT_GFID, `dir${a}`);
      for (let b = 0; b < 2; b++) {
        const sub = await mkdir(d, top, `sub${b}`);
        await Promise.all(
          Array.from({ length: 25 }, async (_, f) => {
            const path = `dir${a}/sub${b}/file-${f}.dat`;
            const data = `${path}\n`.repeat(f + 1);
            await writeFile(d, sub, `file-${f}.dat`, data);
            files.push({ path, data });
          }),
        );
      }
    }
    assert.equal(files.length, 200);

    // The root got a layout on first use (commit 1, as stock's first heal); every
    // directory has one on every brick, covering the hash space.
    for (const rel of ['', 'dir0', 'dir3/sub1']) {
      const layouts = await brickLayouts(d.dirs, rel);
      assert.ok(
        layouts.every((l) => l !== null),
        `${rel || '/'} has a layout on every brick`,
      );
      assert.equal(layoutProblem(layouts), '', `${rel || '/'} layout is sound`);
    }
    assert.equal((await brickLayouts(d.dirs, ''))[0]!.commit, 1, 'root healed with commit 1');
    assert.equal((await brickLayouts(d.dirs, 'dir0'))[0]!.commit, 0, 'mkdir: the volume commit hash (0)');
    // The mds key sits on the brick the directory name hashes to in the root layout.
    const rootLayouts = await brickLayouts(d.dirs, '');
    const mdsAt = layoutOwner(rootLayouts, dhtNameHash('dir0'));
    assert.deepEqual(
      await lgetxattr(join(d.dirs[mdsAt]!, 'dir0'), 'trusted.glusterfs.dht.mds'),
      Buffer.alloc(4),
    );

    const perBrick = d.dirs.map(() => 0);
    for (const f of files) {
      const parent = f.path.slice(0, f.path.lastIndexOf('/'));
      const name = f.path.slice(f.path.lastIndexOf('/') + 1);
      const owner = layoutOwner(await brickLayouts(d.dirs, parent), dhtNameHash(name));
      for (let i = 0; i < d.dirs.length; i++) {
        assert.equal(await exists(join(d.dirs[i]!, f.path)), i === owner, `${f.path} only on brick ${owner}`);
      }
      assert.equal(await readFile(join(d.dirs[owner]!, f.path), 'utf8'), f.data);
      perBrick[owner]!++;
    }
    assert.ok(
      perBrick.every((c) => c > 30),
      `spread over all bricks: ${perBrick}`,
    );

    await d.reopen();
    for (const f of files) {
      const st = await walk(d, f.path);
      assert.equal((await readAll(d, st.gfid)).toString(), f.data, f.path);
      assert.equal(st.size, f.data.length);
    }
  } finally {
    await d.close();
  }
});

test('READDIRP lists every name once across subvolumes and pages; directories and linkto files once', async () => {
  const d = await makeDist(3);
  try {
    const dir = await mkdir(d, ROOT_GFID, 'big');
    const names = new Set<string>();
    for (let i = 0; i < 60; i++) {
      await writeFile(d, dir, `f${i}`, `${i}`);
      names.add(`f${i}`);
    }
    for (let i = 0; i < 5; i++) {
      await mkdir(d, dir, `d${i}`);
      names.add(`d${i}`);
    }
    // A file renamed to a name hashing elsewhere leaves a linkto: listed once all the same.
    const moved = await renameAcross(d, dir, names);
    for (const size of [512, 4096, 1 << 20]) {
      await d.reopen();
      const bigDir = (await walk(d, 'big')).gfid;
      const { entries, pages } = await listAll(d, bigDir, size);
      const listed = entries.map((e) => e.name).filter((n) => n !== '.' && n !== '..');
      assert.equal(listed.length, names.size, `size ${size}: no duplicates or gaps`);
      assert.deepEqual(new Set(listed), names);
      assert.equal(entries.filter((e) => e.name === '.').length, 1);
      assert.equal(entries.filter((e) => e.name === '..').length, 1);
      if (size === 512) assert.ok(pages > 10, `small pages: ${pages}`);
      const offs = entries.map((e) => e.off);
      assert.equal(new Set(offs).size, offs.length, 'cookies are distinct');
      const m = entries.find((e) => e.name === moved)!;
      assert.equal(m.stat.mode & 0o7777, 0o644, 'the data file, not its linkto');
    }
  } finally {
    await d.close();
  }
});

/** Renames some f<i> to a new name that hashes to another subvolume; returns the new name. */
async function renameAcross(
  d: Awaited<ReturnType<typeof makeDist>>,
  dir: Gfid,
  names: Set<string>,
): Promise<string> {
  const layouts = await brickLayouts(d.dirs, 'big');
  const from = 'f7';
  const at = layoutOwner(layouts, dhtNameHash(from));
  let to = '';
  for (let i = 0; !to; i++) if (layoutOwner(layouts, dhtNameHash(`moved${i}`)) !== at) to = `moved${i}`;
  await d.call('RENAME', { oldgfid: dir, newgfid: dir, oldbname: from, newbname: to, xdata: null });
  names.delete(from);
  names.add(to);
  return to;
}

test('a directory made behind DHT (one brick only, no layout) is healed by lookup', async () => {
  const d = await makeDist(3);
  try {
    await walk(d, '/');
    const { mkdir: fsMkdir } = await import('node:fs/promises');
    await fsMkdir(join(d.dirs[1]!, 'stray'));
    await d.reopen();
    const st = await walk(d, 'stray');
    assert.equal(st.mode & 0o170000, 0o040000);
    const layouts = await brickLayouts(d.dirs, 'stray');
    assert.ok(
      layouts.every((l) => l),
      'created on every brick with a layout',
    );
    assert.equal(layoutProblem(layouts), '');
    assert.equal(layouts[0]!.commit, 1, 'a rebuilt layout has commit 1');
    for (const b of d.dirs) assert.deepEqual(await readdir(join(b, 'stray')), []);
    await writeFile(d, st.gfid, 'x', 'x');
    assert.equal((await readAll(d, (await walk(d, 'stray/x')).gfid)).toString(), 'x');
  } finally {
    await d.close();
  }
});
