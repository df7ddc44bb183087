// Directory listing: OPENDIR, READDIR and READDIRP with "." and "..", iatts and gfids per
// entry, d_off cookies passed back as offsets (pagination), the handle store hidden at the
// root, EOF as 0 entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_GFID, type Gfid } from '../../../src/protocol/gfid.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { create, fails, makeBrick, mkdir, type TestBrick } from './helpers.js';

async function opendir(b: TestBrick, gfid: Gfid) {
  const fd = new OpenFd(gfid, 0, true);
  await b.call('OPENDIR', { gfid, xdata: null, fd });
  return fd;
}

test('READDIRP pages with cookies, lists "." and "..", never .glusterfs, gfids and iatts per entry', async () => {
  const b = await makeBrick();
  try {
    const made = new Map<string, Buffer>();
    for (let i = 0; i < 40; i++) made.set(`file-${i}`, (await create(b, `file-${i}`)).gfid);
    made.set('sub', (await mkdir(b, 'sub')).gfid);
    const fd = await opendir(b, ROOT_GFID);
    const seen = new Map<string, Buffer>();
    let offset = 0n;
    let batches = 0;
    for (;;) {
      // ~256 bytes per entry: a 2 KiB budget gives several small pages.
      const r = await b.call('READDIRP', { gfid: ROOT_GFID, fd, offset, size: 2048, xdata: null });
      assert.equal(r.opRet, r.entries.length);
      if (r.entries.length === 0) break;
      batches++;
      assert.ok(r.entries.length <= 8, `page of ${r.entries.length} respects the size budget`);
      for (const e of r.entries) {
        assert.ok(!seen.has(e.name), `${e.name} listed once`);
        seen.set(e.name, e.stat.gfid);
        assert.equal(e.len, Buffer.byteLength(e.name));
        assert.equal(e.ino, e.stat.ino);
      }
      offset = r.entries[r.entries.length - 1]!.off;
    }
    assert.ok(batches > 3);
    assert.ok(!seen.has('.glusterfs'));
    assert.deepEqual(seen.get('.'), ROOT_GFID);
    assert.deepEqual(seen.get('..'), ROOT_GFID, 'the root is its own parent');
    for (const [name, gfid] of made) assert.deepEqual(seen.get(name), gfid, name);
    assert.equal(seen.size, made.size + 2);

    // A cookie from the middle can be replayed (a client re-reading after a seek).
    const first = await b.call('READDIRP', { gfid: ROOT_GFID, fd, offset: 0n, size: 2048, xdata: null });
    const mid = first.entries[2]!;
    const again = await b.call('READDIRP', { gfid: ROOT_GFID, fd, offset: mid.off, size: 2048, xdata: null });
    assert.equal(again.entries[0]!.name, first.entries[3]!.name);
    await b.call('RELEASEDIR', { gfid: ROOT_GFID, fd, xdata: null });
    await fails(b.call('READDIRP', { gfid: ROOT_GFID, fd, offset: 0n, size: 2048, xdata: null }), 'EBADF');
  } finally {
    await b.close();
  }
});

test('READDIR lists names and types; ".." of a subdirectory is its parent; OPENDIR of a file is ENOTDIR', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'd');
    const f = await create(b, 'f', d.gfid);
    const fd = await opendir(b, d.gfid);
    const r = await b.call('READDIR', { gfid: d.gfid, fd, offset: 0n, size: 131072, xdata: null });
    assert.deepEqual(
      r.entries.map((e) => [e.name, e.type]),
      [
        ['.', 4],
        ['..', 4],
        ['f', 8],
      ],
    );
    const rp = await b.call('READDIRP', { gfid: d.gfid, fd, offset: 0n, size: 131072, xdata: null });
    assert.deepEqual(rp.entries.find((e) => e.name === '..')!.stat.gfid, ROOT_GFID);
    assert.deepEqual(rp.entries.find((e) => e.name === 'f')!.stat.gfid, f.gfid);
    assert.equal(rp.entries.find((e) => e.name === 'f')!.dict?.size, 0, 'empty dict per entry');
    const end = await b.call('READDIRP', {
      gfid: d.gfid,
      fd,
      offset: rp.entries.at(-1)!.off,
      size: 131072,
      xdata: null,
    });
    assert.equal(end.opRet, 0);
    await b.call('FSYNCDIR', { gfid: d.gfid, fd, data: 0, xdata: null });
    await b.call('RELEASEDIR', { gfid: d.gfid, fd, xdata: null });
    await fails(opendir(b, f.gfid), 'ENOTDIR');
  } finally {
    await b.close();
  }
});

test('READDIRP on an anonymous fd lists a directory by gfid without OPENDIR (stock shard reads /.shard/.remove_me so), pages by cookie', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'remove_me');
    const names = new Set<string>();
    for (let i = 0; i < 30; i++) await create(b, `marker-${i}`, d.gfid);
    let offset = 0n;
    for (;;) {
      const fd = OpenFd.anonymous(d.gfid);
      const r = await b.call('READDIRP', { gfid: d.gfid, fd, offset, size: 1024, xdata: null });
      if (r.entries.length === 0) break;
      for (const e of r.entries) names.add(e.name);
      offset = r.entries.at(-1)!.off;
    }
    assert.equal(names.size, 32, 'every marker, ".", ".." once each');
    assert.ok(names.has('marker-29') && names.has('.'));
    const file = await create(b, 'plain', d.gfid);
    await fails(
      b.call('READDIRP', {
        gfid: file.gfid,
        fd: OpenFd.anonymous(file.gfid),
        offset: 0n,
        size: 1024,
        xdata: null,
      }),
      'ENOTDIR',
    );
  } finally {
    await b.close();
  }
});
