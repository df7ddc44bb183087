// cluster/distribute against stock GlusterFS 10.3's DHT on the same three bricks (one
// private stock instance, src/peers/stock-gluster.ts):
// (a) the stock FUSE client makes nested directories, writes files and renames some
//     across directories (leaving linkto files); the volume stops and a glusterts DHT over
//     storage/posix on those brick directories reads the layouts stock wrote, assigns the
//     same ranges itself for those paths, and finds and reads every file, through linkto
//     files too;
// (b) the glusterts DHT makes directories and files and renames one across subvolumes;
//     the volume starts again and a fresh stock FUSE mount finds and reads every one
//     (with lookup-optimize, stock looks a name up only where it hashes, so a file placed
//     elsewhere would be missing), lists them once, and leaves the layouts as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdir as fsMkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  writeFile as fsWriteFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT_GFID } from '../../../src/protocol/gfid.js';
import { lgetxattr } from '../../../src/sys/index.js';
import {
  assignLayout,
  NameHasher,
  statfsChunks,
  type DiskLayout,
} from '../../../src/xlators/distribute/index.js';
import {
  mountFuse,
  portByBrick,
  requirePeer,
  startStockGluster,
  sleep,
  type StockGluster,
} from '../../../src/peers/index.js';
import { brickLayouts, listAll, makeDist, mkdir, readAll, walk, writeFile } from './helpers.js';

const VOLUME = 'dhtv';

async function startWhenFree(dir: string): Promise<StockGluster> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      return await startStockGluster({ dir, bricks: 3, volume: VOLUME, keep: true });
    } catch (err) {
      if (!/already in use/.test(String(err)) || Date.now() > deadline) throw err;
      await sleep(3000);
    }
  }
}

async function bricksUp(g: StockGluster): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const ports = await Promise.all(g.brickPaths.map((p) => portByBrick(g.host, p).catch(() => 0)));
    if (ports.every((p) => p > 0)) return;
    if (Date.now() > until) throw new Error('bricks did not come back');
    await sleep(200);
  }
}

const content = (path: string) => `${path}: ${'z'.repeat(path.length * 7)}\n`;

test('stock DHT and glusterts DHT find what the other placed', { timeout: 15 * 60_000 }, async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const base = await mkdtemp('/var/tmp/glusterts-dht-stock-');
  let g: StockGluster | undefined;
  let unmount: (() => Promise<void>) | undefined;
  try {
    g = await startWhenFree(base);
    const mnt = join(base, 'mnt');

    // (a) Stock writes.
    unmount = await mountFuse(g.host, VOLUME, mnt);
    const stockFiles: string[] = [];
    for (const top of ['alpha', 'beta']) {
      for (const sub of ['one', 'two']) {
        await fsMkdir(join(mnt, top, sub), { recursive: true });
        for (let i = 0; i < 12; i++) {
          const rel = `${top}/${sub}/s${i}.txt`;
          await fsWriteFile(join(mnt, rel), content(rel));
          stockFiles.push(rel);
        }
      }
    }
    // Renames: within a directory and across directories (linkto files where names hash elsewhere).
    const renamed: [string, string][] = [];
    for (let i = 0; i < 6; i++) {
      const from = `alpha/one/s${i}.txt`;
      const to = i % 2 ? `beta/two/moved-${i}.txt` : `alpha/one/moved-${i}.txt`;
      await rename(join(mnt, from), join(mnt, to));
      renamed.push([from, to]);
    }
    const expected = new Map<string, string>();
    for (const f of stockFiles) expected.set(f, content(f));
    for (const [from, to] of renamed) {
      expected.set(to, expected.get(from)!);
      expected.delete(from);
    }
    await unmount();
    unmount = undefined;
    await g.cli('volume', 'stop', VOLUME, 'force');

    // Stock left linkto files for some renames (that is what (a) is about).
    let linktos = 0;
    for (const [, to] of renamed) {
      for (const b of g.brickPaths) {
        const v = await lgetxattr(join(b, to), 'trusted.glusterfs.dht.linkto').catch(() => null);
        if (v) linktos++;
      }
    }
    assert.ok(linktos > 0, 'stock made linkto files');

    const d = await makeDist(3, { dirs: g.brickPaths, volume: VOLUME });
    try {
      // The layouts stock assigned are the ones glusterts assigns for the same paths.
      const weights: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await d.graph
          .find(`${VOLUME}-client-${i}`)!
          .call('STATFS', { gfid: ROOT_GFID, xdata: null }, d.ctx);
        weights.push(statfsChunks(s.statfs.bsize, s.statfs.blocks));
      }
      const names = [0, 1, 2].map((i) => `${VOLUME}-client-${i}`);
      const ranges = (ls: readonly (DiskLayout | null)[]) => ls.map((l) => [l!.start, l!.stop]);
      for (const dir of ['', 'alpha', 'beta', 'alpha/one', 'beta/two']) {
        const onDisk = await brickLayouts(g.brickPaths, dir);
        assert.ok(
          onDisk.every((l) => l),
          `stock wrote a layout for /${dir} on every brick`,
        );
        const ours = assignLayout({ names, key: `/${dir}`, hasher: new NameHasher(), commit: 0, weights });
        assert.deepEqual(ranges(ours.entries), ranges(onDisk), `/${dir}: same ranges as stock`);
      }
      // Every file, from a DHT that knows nothing yet.
      for (const [rel, data] of expected) {
        const st = await walk(d, rel);
        assert.equal((await readAll(d, st.gfid)).toString(), data, rel);
      }
      for (const [from] of renamed) await assert.rejects(walk(d, from), /ENOENT/);
      const listed = (await listAll(d, (await walk(d, 'beta/two')).gfid)).entries.map((e) => e.name);
      const want = [...expected.keys()].filter((k) => k.startsWith('beta/two/')).map((k) => k.slice(9));
      assert.deepEqual(listed.filter((n) => n !== '.' && n !== '..').sort(), want.sort());

      // (b) glusterts writes: new directories, files, a rename across subvolumes.
      const gamma = await mkdir(d, ROOT_GFID, 'gamma');
      const deep = await mkdir(d, gamma, 'deep');
      const alphaOne = (await walk(d, 'alpha/one')).gfid;
      for (let i = 0; i < 15; i++) {
        await writeFile(d, deep, `g${i}.bin`, content(`gamma/deep/g${i}.bin`));
        expected.set(`gamma/deep/g${i}.bin`, content(`gamma/deep/g${i}.bin`));
        await writeFile(d, alphaOne, `t${i}.bin`, content(`alpha/one/t${i}.bin`));
        expected.set(`alpha/one/t${i}.bin`, content(`alpha/one/t${i}.bin`));
      }
      for (let i = 0; i < 4; i++) {
        await d.call('RENAME', {
          oldgfid: deep,
          oldbname: `g${i}.bin`,
          newgfid: alphaOne,
          newbname: `from-gamma-${i}.bin`,
          xdata: null,
        });
        expected.set(`alpha/one/from-gamma-${i}.bin`, expected.get(`gamma/deep/g${i}.bin`)!);
        expected.delete(`gamma/deep/g${i}.bin`);
      }
    } finally {
      await d.close();
    }
    const layoutsBefore = await Promise.all(
      ['', 'gamma', 'gamma/deep', 'alpha/one'].map((dir) => brickLayouts(g!.brickPaths, dir)),
    );

    await g.startForce();
    await bricksUp(g);
    unmount = await mountFuse(g.host, VOLUME, mnt);
    for (const [rel, data] of expected)
      assert.equal(await readFile(join(mnt, rel), 'utf8'), data, `stock reads ${rel}`);
    const stockList = (await readdir(join(mnt, 'alpha/one'))).sort();
    const want = [...expected.keys()].filter((k) => k.startsWith('alpha/one/')).map((k) => k.slice(10));
    assert.deepEqual(stockList, want.sort(), 'stock lists every name once');
    assert.deepEqual((await readdir(join(mnt, 'gamma/deep'))).length, 11);
    const layoutsAfter = await Promise.all(
      ['', 'gamma', 'gamma/deep', 'alpha/one'].map((dir) => brickLayouts(g!.brickPaths, dir)),
    );
    assert.deepEqual(layoutsAfter, layoutsBefore, 'stock found nothing to heal in our layouts');
  } finally {
    await unmount?.();
    await g?.stop();
    await rm(base, { recursive: true, force: true });
  }
});
