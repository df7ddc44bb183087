// features/index over posix: the on-disk index (xattrop/, dirty/, entry-changes/ with
// mode-0000 base files and gfid-named hard links) kept in step with AFR's pre-op and
// post-op, entry-create/-delete/purge, the virtual folders the self-heal daemon reads
// (gfids, OPENDIR/READDIR with get-gfid-type, counts, LOOKUP link-count), and hostile names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DictType,
  intValue,
  ptrValue,
  strValue,
  uintValue,
  type DictValue,
  type GfxDict,
} from '../../../src/protocol/dict.js';
import { ROOT_GFID, gfidToString } from '../../../src/protocol/gfid.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { brickStack } from '../brick-stack.js';
import { fails } from '../posix/helpers.js';
import { randomGfid } from '../../../src/protocol/gfid.js';

const i32 = (...v: number[]) => {
  const out = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => out.writeInt32BE(x | 0, i * 4));
  return out;
};

async function indexBrick() {
  const stack = await brickStack({
    prefix: 'index',
    above: (dir) => [
      { name: 'b-locks', type: 'features/locks' },
      {
        name: 'b-index',
        type: 'features/index',
        options: {
          'xattrop-pending-watchlist': 'trusted.afr.v-',
          'xattrop-dirty-watchlist': 'trusted.afr.dirty',
          'index-base': `${dir}/.glusterfs/indices`,
        },
      },
    ],
  });
  const call = stack.call as <T = any>(fop: string, req: unknown) => Promise<T>;
  const idx = join(stack.dir, '.glusterfs', 'indices');
  return {
    ...stack,
    idx,
    call,
    async mkdir(name: string, parent = ROOT_GFID) {
      const gfid = randomGfid();
      await call('MKDIR', {
        pargfid: parent,
        mode: 0o755,
        umask: 0,
        bname: name,
        xdata: new Map([['gfid-req', { type: DictType.GFUUID, value: gfid }]]),
      });
      return gfid;
    },
    xattrop(gfid: Buffer, values: Record<string, Buffer>, xdata: GfxDict = null, flags = 0) {
      const dict = new Map(Object.entries(values).map(([k, v]) => [k, ptrValue(v)] as const));
      return call('XATTROP', { gfid, flags, dict, xdata });
    },
  };
}

const ls = async (p: string) => (await readdir(p).catch(() => [] as string[])).sort();
const pendingKeys = (v: Buffer[]) => Object.fromEntries(v.map((b, i) => [`trusted.afr.v-client-${i}`, b]));

test('AFR pre-op/post-op: dirty/ while a write is in flight, xattrop/ while a brick is blamed, base files mode 0000', async () => {
  const b = await indexBrick();
  try {
    const { gfid } = await b.create('f1');
    const name = gfidToString(gfid);
    // Pre-op: dirty +1, pending keys zero (read back only).
    await b.xattrop(gfid, {
      'trusted.afr.dirty': i32(1, 0, 0),
      ...pendingKeys([i32(0, 0, 0), i32(0, 0, 0), i32(0, 0, 0)]),
    });
    const dirty = await ls(join(b.idx, 'dirty'));
    assert.equal(dirty.length, 2);
    assert.ok(dirty.includes(name));
    const base = dirty.find((n) => n.startsWith('dirty-'))!;
    const bs = await stat(join(b.idx, 'dirty', base));
    assert.equal(bs.mode & 0o7777, 0, 'base file mode 0000');
    assert.equal(bs.size, 0);
    assert.equal((await stat(join(b.idx, 'dirty', name))).ino, bs.ino, 'a hard link to the base');
    assert.deepEqual(await ls(join(b.idx, 'xattrop')), [], 'zero pending values index nothing');
    // Post-op with r3 down: dirty −1, client-2 +1.
    await b.xattrop(gfid, {
      'trusted.afr.dirty': i32(-1, 0, 0),
      ...pendingKeys([i32(0, 0, 0), i32(0, 0, 0), i32(1, 0, 0)]),
    });
    assert.deepEqual(await ls(join(b.idx, 'dirty')), [base], 'dirty entry gone, base stays');
    const xs = await ls(join(b.idx, 'xattrop'));
    assert.equal(xs.length, 2);
    assert.ok(xs.includes(name) && xs.some((n) => /^xattrop-[0-9a-f-]{36}$/.test(n)));
    // Heal: client-2 −1 → every pending value zero → the entry goes.
    await b.xattrop(gfid, pendingKeys([i32(0, 0, 0), i32(0, 0, 0), i32(-1, 0, 0)]));
    assert.equal((await ls(join(b.idx, 'xattrop'))).length, 1);
    // Unwatched keys and other ops do not touch the index.
    await b.xattrop(gfid, { 'trusted.other': i32(1) });
    await b.xattrop(gfid, { 'trusted.afr.v-client-0': i32(5, 0, 0) }, null, 4);
    assert.equal((await ls(join(b.idx, 'xattrop'))).length, 1);
  } finally {
    await b.close();
  }
});

test('granular entry index: entry-create, entry-delete, purge-index; hostile names refused', async () => {
  const b = await indexBrick();
  try {
    const d = await b.mkdir('d');
    const folder = join(b.idx, 'entry-changes', gfidToString(d));
    await b.xattrop(
      d,
      { 'trusted.afr.dirty': i32(0, 0, 1) },
      new Map([['glusterfs.xattrop-entry-create', strValue('f2')]]),
    );
    assert.deepEqual(await ls(folder), ['f2']);
    const base = (await ls(join(b.idx, 'entry-changes'))).find((n) => n.startsWith('entry-changes-'))!;
    assert.equal((await stat(join(folder, 'f2'))).ino, (await stat(join(b.idx, 'entry-changes', base))).ino);
    await b.xattrop(
      d,
      { 'trusted.afr.dirty': i32(0, 0, 1) },
      new Map([['glusterfs.xattrop-entry-create', strValue('g')]]),
    );
    await b.xattrop(
      d,
      { 'trusted.afr.dirty': i32(0, 0, -1) },
      new Map([['glusterfs.xattrop-entry-delete', strValue('g')]]),
    );
    assert.deepEqual(await ls(folder), ['f2']);
    for (const bad of ['../../../escape', '..', '.', '', 'a/b']) {
      await fails(
        b.xattrop(
          d,
          { 'trusted.afr.dirty': i32(0, 0, 1) },
          new Map([['glusterfs.xattrop-entry-create', strValue(bad)]]),
        ),
        'EINVAL',
      );
    }
    assert.deepEqual(await ls(join(b.idx, '..', '..')), ['.glusterfs', 'd'], 'nothing escaped');
    // Parent post-op after the heal with purge: the folder goes.
    await b.xattrop(
      d,
      { 'trusted.afr.dirty': i32(0, 0, -1), 'trusted.afr.v-client-2': i32(0, 0, 0) },
      new Map([['glusterfs.xattrop-purge-index', intValue(1)]]),
    );
    await assert.rejects(stat(folder), { code: 'ENOENT' });
  } finally {
    await b.close();
  }
});

test('virtual interface: index gfids, LOOKUP/OPENDIR/READDIR with get-gfid-type, counts, link-count, junk ignored', async () => {
  const b = await indexBrick();
  try {
    const { gfid: f } = await b.create('f');
    const d = await b.mkdir('d');
    const get = async (name: string) =>
      ((await b.call('GETXATTR', { gfid: ROOT_GFID, namelen: 1, name, xdata: null })) as any).dict.get(
        name,
      ) as DictValue;
    const count = await get('glusterfs.xattrop_index_count');
    assert.deepEqual(count, uintValue(0));
    const look = (xdata: GfxDict) =>
      b.call('LOOKUP', { gfid: Buffer.alloc(16), pargfid: ROOT_GFID, flags: 0, bname: 'f', xdata });
    const linkCount = new Map([['link-count', strValue('glusterfs.xattrop_index_count')]]);
    assert.deepEqual((await look(linkCount)).xdata.get('link-count'), intValue(0));
    await b.xattrop(f, pendingKeys([i32(0, 0, 0), i32(1, 0, 0)]));
    await b.xattrop(d, pendingKeys([i32(0, 0, 1)]));
    assert.deepEqual(await get('glusterfs.xattrop_index_count'), uintValue(2));
    assert.deepEqual((await look(linkCount)).xdata.get('link-count'), intValue(1));
    // Junk in the folder (a hostile or broken tool): never listed, never followed.
    await writeFile(join(b.idx, 'xattrop', 'not-a-gfid'), '');
    await writeFile(join(b.idx, 'xattrop', 'ABCDEF00-0000-0000-0000-000000000000'), '');
    const vgfid = await get('glusterfs.xattrop_index_gfid');
    assert.equal(vgfid.type, DictType.PTR);
    assert.equal((vgfid.value as Buffer).length, 16);
    const dirtyV = (await get('glusterfs.xattrop_dirty_gfid')).value as Buffer;
    assert.notDeepEqual(dirtyV, vgfid.value);
    const v = vgfid.value as Buffer;
    const lk = await b.call('LOOKUP', {
      gfid: v,
      pargfid: Buffer.alloc(16),
      flags: 0,
      bname: '',
      xdata: null,
    });
    assert.equal(lk.prestat.mode & 0o170000, 0o040000, 'a directory');
    assert.deepEqual(lk.prestat.gfid, v);
    const fd = new OpenFd(v, 0, true);
    await b.call('OPENDIR', { gfid: v, xdata: null, fd });
    const r = await b.call('READDIR', {
      gfid: v,
      fd,
      offset: 0n,
      size: 65536,
      xdata: new Map([['get-gfid-type', intValue(1)]]),
    });
    const got = Object.fromEntries(r.entries.map((e: any) => [e.name, e.type]));
    assert.equal(got['.'], 0, '"." and ".." come first, untyped, as stock');
    delete got['.'];
    delete got['..'];
    assert.deepEqual(got, { [gfidToString(f)]: 8, [gfidToString(d)]: 4 });
    // Paging by d_off.
    const p1 = await b.call('READDIR', { gfid: v, fd, offset: 0n, size: 1, xdata: null });
    assert.equal(p1.entries.length, 1);
    const p2 = await b.call('READDIR', { gfid: v, fd, offset: p1.entries[0].off, size: 1, xdata: null });
    assert.equal(p2.entries.length, 1);
    assert.notEqual(p2.entries[0].name, p1.entries[0].name);
    await b.call('RELEASEDIR', { gfid: v, fd, xdata: null });
    // entry-changes: the folder lists directories, LOOKUP of one opens its names.
    await b.xattrop(
      d,
      { 'trusted.afr.dirty': i32(0, 0, 1) },
      new Map([['glusterfs.xattrop-entry-create', strValue('x')]]),
    );
    const ev = (await get('glusterfs.xattrop_entry_changes_gfid')).value as Buffer;
    const efd = new OpenFd(ev, 0, true);
    await b.call('OPENDIR', { gfid: ev, xdata: null, fd: efd });
    const er = await b.call('READDIR', { gfid: ev, fd: efd, offset: 0n, size: 65536, xdata: null });
    assert.deepEqual(er.entries.map((e: any) => e.name).slice(2), [gfidToString(d)]);
    const sub = await b.call('LOOKUP', {
      gfid: Buffer.alloc(16),
      pargfid: ev,
      flags: 0,
      bname: gfidToString(d),
      xdata: null,
    });
    const sfd = new OpenFd(sub.prestat.gfid, 0, true);
    await b.call('OPENDIR', { gfid: sub.prestat.gfid, xdata: null, fd: sfd });
    const sr = await b.call('READDIR', {
      gfid: sub.prestat.gfid,
      fd: sfd,
      offset: 0n,
      size: 65536,
      xdata: null,
    });
    assert.deepEqual(sr.entries.map((e: any) => e.name).slice(2), ['x']);
    await fails(
      b.call('LOOKUP', { gfid: Buffer.alloc(16), pargfid: ev, flags: 0, bname: '../../..', xdata: null }),
      'ENOENT',
    );
    await fails(
      b.call('LOOKUP', { gfid: Buffer.alloc(16), pargfid: v, flags: 0, bname: gfidToString(f), xdata: null }),
      'ENOENT',
    );
    // The daemon drops stale entries by name; hostile names never reach the disk.
    await b.call('UNLINK', { pargfid: v, bname: gfidToString(f), xflags: 0, xdata: null });
    assert.deepEqual(await get('glusterfs.xattrop_index_count'), uintValue(1));
    await fails(b.call('UNLINK', { pargfid: v, bname: '../../../f', xflags: 0, xdata: null }), 'ENOENT');
    await b.call('UNLINK', { pargfid: sub.prestat.gfid, bname: 'x', xflags: 0, xdata: null });
    await b.call('RMDIR', { pargfid: ev, bname: gfidToString(d), xflags: 0, xdata: null });
    await assert.rejects(stat(join(b.idx, 'entry-changes', gfidToString(d))), { code: 'ENOENT' });
    assert.ok((await stat(join(b.dir, 'f'))).isFile(), 'the file itself untouched');
    // Ordinary fops still reach posix.
    assert.equal((await look(null)).prestat.size, 0);
  } finally {
    await b.close();
  }
});
