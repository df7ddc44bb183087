// Namespace fops through cluster/distribute over three posix bricks: rename within and
// across subvolumes (stock's linkto protocol), hard links, unlink and rmdir with linkto
// files, a stale parent layout, fd routing, STATFS, and the one-subvolume pass-through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir as fsMkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DictType } from '../../../src/protocol/dict.js';
import { FopError } from '../../../src/protocol/errno.js';
import { ROOT_GFID, type Gfid } from '../../../src/protocol/gfid.js';
import { lgetxattr, lsetxattr } from '../../../src/sys/index.js';
import { Graph, OpenFd, parseVolfile } from '../../../src/xlator/index.js';
import { dhtNameHash, encodeDiskLayout, layoutOwner } from '../../../src/xlators/distribute/index.js';
import {
  brickLayouts,
  context,
  gfidReq,
  listAll,
  makeDist,
  mkdir,
  readAll,
  registry,
  volfile,
  walk,
  writeFile,
  type Dist,
} from './helpers.js';

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

/** Where each brick has `rel`: 'data', 'linkto' or '' (absent). */
async function whereIs(d: Dist, rel: string): Promise<string[]> {
  return Promise.all(
    d.dirs.map(async (b) => {
      const st = await lstat(join(b, rel)).catch(() => null);
      if (!st) return '';
      return (st.mode & 0o7777) === 0o1000 ? 'linkto' : 'data';
    }),
  );
}

/** A name in `rel` whose hash lands on brick `want` (or, with `not`, anywhere else). */
async function nameOn(d: Dist, rel: string, prefix: string, want: number, not = false): Promise<string> {
  const layouts = await brickLayouts(d.dirs, rel);
  for (let i = 0; ; i++) {
    const at = layoutOwner(layouts, dhtNameHash(`${prefix}${i}`));
    if (not ? at !== want : at === want) return `${prefix}${i}`;
  }
}

async function ownerOf(d: Dist, rel: string, name: string): Promise<number> {
  return layoutOwner(await brickLayouts(d.dirs, rel), dhtNameHash(name));
}

async function rename(d: Dist, from: [Gfid, string], to: [Gfid, string]) {
  return d.call('RENAME', {
    oldgfid: from[0],
    oldbname: from[1],
    newgfid: to[0],
    newbname: to[1],
    xdata: null,
  });
}

test('rename within a subvolume and across: data stays put, a linkto marks the new name, readable throughout', async () => {
  const d = await makeDist(3);
  try {
    const dir = await mkdir(d, ROOT_GFID, 'r');
    const src = 'a0';
    const at = await ownerOf(d, 'r', src);
    const gfid = await writeFile(d, dir, src, 'payload-a');

    // Same subvolume: a plain rename there, no linkto anywhere.
    const same = await nameOn(d, 'r', 'same', at);
    await rename(d, [dir, src], [dir, same]);
    assert.deepEqual(
      await whereIs(d, `r/${same}`),
      d.dirs.map((_, i) => (i === at ? 'data' : '')),
    );
    assert.equal((await readAll(d, (await walk(d, `r/${same}`)).gfid)).toString(), 'payload-a');

    // Across: the new name hashes elsewhere; data stays on `at`, a linkto on the new hashed one.
    const across = await nameOn(d, 'r', 'across', at, true);
    const to = await ownerOf(d, 'r', across);
    const reply = await rename(d, [dir, same], [dir, across]);
    assert.equal(reply.stat.mode & 0o7777, 0o644, 'the reply carries the data file');
    assert.equal(reply.stat.size, 9);
    const where = await whereIs(d, `r/${across}`);
    assert.equal(where[at], 'data');
    assert.equal(where[to], 'linkto');
    assert.deepEqual(
      await lgetxattr(join(d.dirs[to]!, 'r', across), 'trusted.glusterfs.dht.linkto'),
      Buffer.from(`dv-client-${at}\0`),
      'linkto names the data subvolume, NUL included',
    );
    assert.deepEqual(await lgetxattr(join(d.dirs[to]!, 'r', across), 'trusted.gfid'), gfid);
    assert.deepEqual(await whereIs(d, `r/${same}`), ['', '', ''], 'the old name is gone everywhere');

    // A fresh client follows the linkto; I/O goes to the data.
    await d.reopen();
    const st = await walk(d, `r/${across}`);
    assert.deepEqual(st.gfid, gfid);
    assert.equal(st.size, 9);
    assert.equal((await readAll(d, gfid)).toString(), 'payload-a');

    // Renaming again (from a linkto'd name to a third name) and across directories.
    const sub = await mkdir(d, dir, 'sub');
    const third = await nameOn(d, 'r/sub', 'third', at, true);
    await rename(d, [dir, across], [sub, third]);
    assert.deepEqual(await whereIs(d, `r/${across}`), ['', '', ''], 'old data name and old linkto removed');
    const w3 = await whereIs(d, `r/sub/${third}`);
    assert.equal(w3[at], 'data');
    assert.equal(w3[await ownerOf(d, 'r/sub', third)], 'linkto');
    await d.reopen();
    assert.equal((await readAll(d, (await walk(d, `r/sub/${third}`)).gfid)).toString(), 'payload-a');

    // Back to a name hashing to the data's subvolume: the linkto goes, the data is renamed.
    const home = await nameOn(d, 'r', 'home', at);
    await rename(d, [sub, third], [dir, home]);
    assert.deepEqual(await whereIs(d, `r/sub/${third}`), ['', '', '']);
    assert.deepEqual(
      await whereIs(d, `r/${home}`),
      d.dirs.map((_, i) => (i === at ? 'data' : '')),
    );
  } finally {
    await d.close();
  }
});

test('rename over an existing file on another subvolume replaces it; directories rename on every brick', async () => {
  const d = await makeDist(3);
  try {
    const dir = await mkdir(d, ROOT_GFID, 'o');
    const a = await nameOn(d, 'o', 'a', 0);
    const b = await nameOn(d, 'o', 'b', 1);
    await writeFile(d, dir, a, 'new');
    await writeFile(d, dir, b, 'old');
    await rename(d, [dir, a], [dir, b]);
    await d.reopen();
    assert.equal((await readAll(d, (await walk(d, `o/${b}`)).gfid)).toString(), 'new');
    assert.deepEqual(await whereIs(d, `o/${b}`), ['data', 'linkto', '']);
    const names = (await listAll(d, (await walk(d, 'o')).gfid)).entries.map((e) => e.name).sort();
    assert.deepEqual(names, ['.', '..', b]);

    const sub = await mkdir(d, dir, 'd1');
    await writeFile(d, sub, 'inside', 'x');
    await rename(d, [dir, 'd1'], [ROOT_GFID, 'd2']);
    for (const brick of d.dirs) assert.ok(await exists(join(brick, 'd2')), 'renamed on every brick');
    await d.reopen();
    assert.equal((await readAll(d, (await walk(d, 'd2/inside')).gfid)).toString(), 'x');
  } finally {
    await d.close();
  }
});

test('link, unlink (data and linkto), rmdir (ENOTEMPTY, then linkto leftovers removed)', async () => {
  const d = await makeDist(3);
  try {
    const dir = await mkdir(d, ROOT_GFID, 'l');
    const name = await nameOn(d, 'l', 'f', 0);
    const gfid = await writeFile(d, dir, name, 'linked');
    const other = await nameOn(d, 'l', 'h', 0, true);
    await d.call('LINK', { oldgfid: gfid, newgfid: dir, newbname: other, xdata: null });
    const w = await whereIs(d, `l/${other}`);
    assert.equal(w[0], 'data', 'the hard link is next to the data');
    assert.equal(w[await ownerOf(d, 'l', other)], 'linkto');
    await d.reopen();
    assert.equal((await readAll(d, (await walk(d, `l/${other}`)).gfid)).toString(), 'linked');

    await d.call('UNLINK', { pargfid: dir, bname: other, xflags: 0, xdata: null });
    assert.deepEqual(await whereIs(d, `l/${other}`), ['', '', ''], 'data link and linkto gone');
    await assert.rejects(walk(d, `l/${other}`), (e: unknown) => e instanceof FopError && e.code === 'ENOENT');

    await assert.rejects(
      d.call('RMDIR', { pargfid: ROOT_GFID, bname: 'l', xflags: 0, xdata: null }),
      (e: unknown) => e instanceof FopError && e.code === 'ENOTEMPTY',
    );
    await d.call('UNLINK', { pargfid: dir, bname: name, xflags: 0, xdata: null });
    // A stale linkto left behind (e.g. by a crashed client) does not keep the directory alive.
    const stale = await nameOn(d, 'l', 's', 2);
    await d.call('MKNOD', {
      pargfid: dir,
      bname: stale,
      mode: 0o101000,
      umask: 0,
      dev: 0n,
      xdata: new Map([
        ...gfidReq()!,
        ['trusted.glusterfs.dht.linkto', { type: DictType.STR, value: Buffer.from('dv-client-1\0') }],
      ]),
    });
    assert.deepEqual((await listAll(d, dir)).entries.map((e) => e.name).sort(), ['.', '..']);
    await d.call('RMDIR', { pargfid: ROOT_GFID, bname: 'l', xflags: 0, xdata: null });
    for (const brick of d.dirs) assert.equal(await exists(join(brick, 'l')), false);
  } finally {
    await d.close();
  }
});

test('a layout changed behind DHT: CREATE fails the precondition, DHT re-reads the layout and retries', async () => {
  const d = await makeDist(2);
  try {
    const dir = await mkdir(d, ROOT_GFID, 'p');
    // Swap the two ranges on disk (another client rebalanced); this DHT still has the old ones.
    const [l0, l1] = await brickLayouts(d.dirs, 'p');
    await lsetxattr(
      join(d.dirs[0]!, 'p'),
      'trusted.glusterfs.dht',
      encodeDiskLayout({ ...l0!, start: l1!.start, stop: l1!.stop }),
      0,
    );
    await lsetxattr(
      join(d.dirs[1]!, 'p'),
      'trusted.glusterfs.dht',
      encodeDiskLayout({ ...l1!, start: l0!.start, stop: l0!.stop }),
      0,
    );
    const name = 'after-swap';
    await writeFile(d, dir, name, 'z');
    const owner = await ownerOf(d, 'p', name);
    assert.deepEqual(
      await whereIs(d, `p/${name}`),
      d.dirs.map((_, i) => (i === owner ? 'data' : '')),
    );
  } finally {
    await d.close();
  }
});

test('fds stay on the subvolume they were opened on; anonymous ones are routed by gfid; STATFS sums', async () => {
  const d = await makeDist(3);
  try {
    const gfid = await writeFile(d, ROOT_GFID, 'io', 'abc');
    const fd = new OpenFd(gfid, 2, false);
    await d.call('OPEN', { gfid, flags: 2, xdata: null, fd });
    const payload = Buffer.from('0123456789');
    await d.call('WRITE', { gfid, fd, offset: 0, size: 10, flag: 0, xdata: null, payload } as never);
    await d.call('FSYNC', { gfid, fd, data: 0, xdata: null });
    assert.equal((await d.call('FSTAT', { gfid, fd, xdata: null })).stat.size, 10);
    await d.call('FTRUNCATE', { gfid, fd, offset: 4, xdata: null });
    await d.call('RELEASE', { gfid, fd, xdata: null });
    await d.reopen();
    const anon = OpenFd.anonymous(gfid);
    const r = (await d.call('READ', { gfid, fd: anon, offset: 0, size: 100, flag: 0, xdata: null })) as {
      payload: Buffer;
    };
    assert.equal(r.payload.toString(), '0123');
    await d.call('SETXATTR', {
      gfid,
      flags: 0,
      dict: new Map([['user.k', { type: DictType.PTR, value: Buffer.from('v') }]]),
      xdata: null,
    });
    const got = await d.call('GETXATTR', { gfid, namelen: 1, name: 'user.k', xdata: null });
    assert.deepEqual(got.dict?.get('user.k')?.value, Buffer.from('v'));
    // Directory attributes go to every copy.
    const dir = await mkdir(d, ROOT_GFID, 'attrs');
    await d.call('SETXATTR', {
      gfid: dir,
      flags: 0,
      dict: new Map([['user.c', { type: DictType.PTR, value: Buffer.from('blue') }]]),
      xdata: null,
    });
    for (const b of d.dirs)
      assert.deepEqual(await lgetxattr(join(b, 'attrs'), 'user.c'), Buffer.from('blue'));
    const listed = await d.call('GETXATTR', { gfid: dir, namelen: 0, name: '', xdata: null });
    assert.ok(!listed.dict?.has('trusted.glusterfs.dht'), "DHT's keys are hidden from listings");

    const one = await d.call('STATFS', { gfid: ROOT_GFID, xdata: null });
    const brick = await d.graph.find('dv-client-0')!.call('STATFS', { gfid: ROOT_GFID, xdata: null }, d.ctx);
    assert.equal(
      one.statfs.blocks,
      brick.statfs.blocks * 3n,
      'three bricks on one filesystem: three times one',
    );
  } finally {
    await d.close();
  }
});

test('one subvolume: pass-through, MKDIR stores the full-range layout (as stock)', async () => {
  const base = await mkdtemp('/var/tmp/glusterts-dht1-');
  const brick = join(base, 'b0');
  await fsMkdir(brick);
  const graph = await Graph.build(
    parseVolfile(volfile('tv', [brick], { 'lock-migration': 'off', 'force-migration': 'off' })),
    registry,
    {
      strictOptions: true,
    },
  );
  try {
    const ctx = context();
    await graph.top.call(
      'MKDIR',
      { pargfid: ROOT_GFID, mode: 0o755, umask: 0, bname: 'd', xdata: gfidReq() },
      ctx,
    );
    assert.deepEqual(
      await lgetxattr(join(brick, 'd'), 'trusted.glusterfs.dht'),
      Buffer.from('00000000000000000000000000000000ffffffff'.slice(8), 'hex'),
    );
    assert.ok(
      !(await lgetxattr(brick, 'trusted.glusterfs.dht').catch(() => null)),
      'no root layout with one subvolume',
    );
    assert.deepEqual(await readdir(brick).then((n) => n.filter((x) => x !== '.glusterfs')), ['d']);
  } finally {
    await graph.fini();
    await rm(base, { recursive: true, force: true });
  }
});
