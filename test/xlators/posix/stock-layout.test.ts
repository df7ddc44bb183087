// Brick-layout compatibility with stock GlusterFS 10.3, both ways, on one private stock
// instance: (a) stock writes through FUSE, the volume stops, and glusterts posix serves the
// same brick with the same gfids and bytes; (b) the brick is emptied, glusterts posix
// populates it (with the stock volume's volume-id), the stock volume starts again and
// serves those entries through FUSE with the same bytes and gfids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  link,
  mkdir as fsMkdir,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT_GFID, gfidToString, randomGfid } from '../../../src/protocol/gfid.js';
import { lgetxattr, llistxattr } from '../../../src/sys/index.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { gfid2path } from '../../../src/xlators/posix/on-disk.js';
import {
  killPid,
  mountFuse,
  portByBrick,
  requirePeer,
  startStockGluster,
  waitFor,
} from '../../../src/peers/index.js';
import { create, lookup, makeBrick, mkdir, open, read, req, write } from './helpers.js';

const run = promisify(execFile);

/** Polls `cond` every 100 ms until true, failing after `ms`. */
function waitUntil(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<true> {
  return waitFor(what, async () => (await cond()) || undefined, ms, 100);
}

/** The gfid the stock client reports for a path on the FUSE mount (a virtual xattr). */
async function mountGfid(path: string): Promise<string> {
  const { stdout } = await run('getfattr', ['-h', '--only-values', '-n', 'glusterfs.gfid.string', path]);
  return stdout.trim();
}

test("stock 10.3 and glusterts posix serve each other's bricks", { timeout: 180_000 }, async (t) => {
  if (!requirePeer(['stock-gluster', 'getfattr'], t)) return;
  const base = await mkdtemp('/var/tmp/glusterts-posix-stock-');
  const stock = await startStockGluster({
    dir: base,
    keep: true,
    volumeOptions: { 'performance.quick-read': 'off' },
  });
  const brick = stock.brickPaths[0]!;
  const mnt = join(base, 'mnt');
  const fuseArgs = { extraArgs: ['--attribute-timeout=0', '--entry-timeout=0', '--negative-timeout=0'] };
  let unmount: (() => Promise<void>) | undefined;
  try {
    // ---- (a) stock writes, glusterts reads ---------------------------------------------
    unmount = await mountFuse(stock.host, stock.volume, mnt, fuseArgs);
    const big = randomBytes(300_000);
    await writeFile(join(mnt, 'top.txt'), 'written by stock\n');
    await fsMkdir(join(mnt, 'sub'));
    await fsMkdir(join(mnt, 'sub/deeper'));
    await writeFile(join(mnt, 'sub/deeper/big.bin'), big);
    await symlink('../top.txt', join(mnt, 'sub/ln'));
    await link(join(mnt, 'top.txt'), join(mnt, 'sub/hard'));
    const names = ['top.txt', 'sub', 'sub/deeper', 'sub/deeper/big.bin', 'sub/ln', 'sub/hard'];
    const gfids = new Map<string, string>();
    for (const n of names) gfids.set(n, await mountGfid(join(mnt, n)));
    await unmount();
    unmount = undefined;
    const volumeId = gfidToString(await lgetxattr(brick, 'trusted.glusterfs.volume-id'));
    const brickPid = stock.brickPid(0);
    await stock.cli('volume', 'stop', stock.volume, 'force');
    await killPid(brickPid);

    // Stock's gfid2path keys are the ones glusterts computes.
    const topXattrs = await llistxattr(join(brick, 'top.txt'));
    for (const [parent, name] of [
      [ROOT_GFID, 'top.txt'],
      [Buffer.from(gfids.get('sub')!.replace(/-/g, ''), 'hex'), 'hard'],
    ] as const) {
      const [key, value] = gfid2path(parent, name);
      assert.ok(topXattrs.includes(key), `stock wrote ${key} for ${name}`);
      assert.equal((await lgetxattr(join(brick, 'top.txt'), key)).toString(), value);
    }

    const b = await makeBrick({ 'volume-id': volumeId }, brick);
    try {
      const g = (n: string) => Buffer.from(gfids.get(n)!.replace(/-/g, ''), 'hex');
      for (const n of names) {
        const parent = n.includes('/') ? g(n.slice(0, n.lastIndexOf('/'))) : ROOT_GFID;
        const r = await lookup(b, parent, n.slice(n.lastIndexOf('/') + 1));
        assert.equal(gfidToString(r.prestat.gfid), gfids.get(n), `${n}: same gfid`);
        const st = await b.call('STAT', { gfid: g(n), xdata: null });
        assert.equal(gfidToString(st.stat.gfid), gfids.get(n), `${n}: reachable by gfid`);
      }
      const fd = await open(b, g('sub/deeper/big.bin'), 0);
      const r = await read(b, fd, 0, big.length + 10);
      assert.ok(r.payload.equals(big), 'same bytes');
      await b.call('RELEASE', { gfid: fd.gfid, fd, xdata: null });
      const anon = await read(b, OpenFd.anonymous(g('top.txt')), 0, 100);
      assert.equal(anon.payload.toString(), 'written by stock\n');
      assert.equal(
        (await b.call('READLINK', { gfid: g('sub/ln'), size: 4096, xdata: null })).path,
        '../top.txt',
      );
      assert.equal((await b.call('STAT', { gfid: g('top.txt'), xdata: null })).stat.nlink, 2, 'two names');
      const dfd = new OpenFd(g('sub'), 0, true);
      await b.call('OPENDIR', { gfid: g('sub'), xdata: null, fd: dfd });
      const list = await b.call('READDIRP', {
        gfid: g('sub'),
        fd: dfd,
        offset: 0n,
        size: 131072,
        xdata: null,
      });
      assert.deepEqual(list.entries.map((e) => e.name).sort(), ['.', '..', 'deeper', 'hard', 'ln']);
      await b.call('RELEASEDIR', { gfid: g('sub'), fd: dfd, xdata: null });
    } finally {
      await b.close();
    }

    // ---- (b) glusterts writes, stock reads ---------------------------------------------
    for (const e of await readdir(brick)) await rm(join(brick, e), { recursive: true, force: true });
    const ours = new Map<string, string>();
    const data = randomBytes(200_000);
    const w = await makeBrick({ 'volume-id': volumeId }, brick);
    try {
      const d = await mkdir(w, 'made-by-ts');
      const f = await create(w, 'disk.img', d.gfid);
      assert.equal((await write(w, f.fd, 0, data)).opRet, data.length);
      await w.call('FSYNC', { gfid: f.gfid, fd: f.fd, data: 0, xdata: null });
      await w.call('RELEASE', { gfid: f.gfid, fd: f.fd, xdata: null });
      const s = randomGfid();
      await w.call('SYMLINK', {
        pargfid: d.gfid,
        bname: 'ln',
        umask: 0,
        linkname: 'disk.img',
        xdata: req(s),
      });
      const top = await create(w, 'top.txt');
      await write(w, top.fd, 0, 'written by glusterts\n');
      await w.call('RELEASE', { gfid: top.gfid, fd: top.fd, xdata: null });
      ours.set('made-by-ts', gfidToString(d.gfid));
      ours.set('made-by-ts/disk.img', gfidToString(f.gfid));
      ours.set('made-by-ts/ln', gfidToString(s));
      ours.set('top.txt', gfidToString(top.gfid));
    } finally {
      await w.close();
    }
    await stock.cli('volume', 'start', stock.volume);
    await waitUntil(
      'the restarted brick',
      async () => (await portByBrick(stock.host, brick).catch(() => 0)) > 0,
    );
    unmount = await mountFuse(stock.host, stock.volume, mnt, fuseArgs);
    await waitUntil('the mount to list the brick', async () =>
      (await readdir(mnt).catch(() => [] as string[])).includes('made-by-ts'),
    );
    assert.ok((await readFile(join(mnt, 'made-by-ts/disk.img'))).equals(data), 'stock serves the same bytes');
    assert.equal(await readFile(join(mnt, 'top.txt'), 'utf8'), 'written by glusterts\n');
    assert.equal(await readlink(join(mnt, 'made-by-ts/ln')), 'disk.img');
    for (const [n, gfid] of ours)
      assert.equal(await mountGfid(join(mnt, n)), gfid, `${n}: stock sees our gfid`);
  } finally {
    await unmount?.().catch(() => undefined);
    await stock.stop();
    await rm(base, { recursive: true, force: true });
  }
});
