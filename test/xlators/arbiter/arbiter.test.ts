// features/arbiter over posix (stock's arbiter brick stack): names, metadata and xattrs
// are stored, file data never is; writes answer with the cached stat and AFR's xdata,
// truncate/fallocate/discard/zerofill succeed without touching the file, reads fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DictType, ptrValue, uintValue } from '../../../src/protocol/dict.js';
import { ROOT_GFID, randomGfid } from '../../../src/protocol/gfid.js';
import { lgetxattr } from '../../../src/sys/index.js';
import { Graph, OpenFd, parseVolfile } from '../../../src/xlator/index.js';
import { BRICK_TRANSLATORS } from '../../../src/xlators/brick-registry.js';
import { context, fails } from '../posix/helpers.js';

async function arbiterBrick() {
  const dir = await mkdtemp(join('/var/tmp', 'glusterts-arbiter-'));
  const text =
    `volume a-posix\n type storage/posix\n option directory ${dir}\nend-volume\n` +
    `volume a-arbiter\n type features/arbiter\n subvolumes a-posix\nend-volume\n` +
    `volume a-locks\n type features/locks\n subvolumes a-arbiter\nend-volume\n`;
  const graph = await Graph.build(parseVolfile(text), BRICK_TRANSLATORS, { strictOptions: true });
  const ctx = context();
  const call = (fop: string, req: unknown) => graph.top.call(fop as never, req as never, ctx) as Promise<any>;
  return {
    dir,
    call,
    async close() {
      await graph.fini();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('arbiter: zero-byte files with names, modes and xattrs; writes answered from the cached stat', async () => {
  const b = await arbiterBrick();
  try {
    const gfid = randomGfid();
    const fd = new OpenFd(gfid, 2, false);
    const created = await b.call('CREATE', {
      pargfid: ROOT_GFID,
      flags: 0o102,
      mode: 0o600,
      umask: 0,
      bname: 'vm.img',
      xdata: new Map([['gfid-req', { type: DictType.GFUUID, value: gfid }]]),
      fd,
    });
    const xdata = new Map([
      ['glusterfs.write-is-append', uintValue(4)],
      ['glusterfs.open-active-fd-count', uintValue(4)],
      ['glusterfs.inodelk-dom-count', { type: DictType.STR, value: Buffer.from('v-replicate-0\0') }],
    ]);
    const payload = Buffer.alloc(65536, 7);
    const w = await b.call('WRITE', {
      gfid,
      fd,
      offset: 1 << 20,
      size: payload.length,
      flag: 0,
      xdata,
      payload,
    });
    assert.equal(w.opRet, payload.length);
    assert.deepEqual(w.poststat, created.stat, 'the cached stat');
    assert.deepEqual(
      w.xdata.get('glusterfs.write-is-append'),
      uintValue(1),
      'always at EOF on a zero-byte file',
    );
    assert.equal(w.xdata.has('glusterfs.open-active-fd-count'), false, 'not answered, as stock');
    assert.equal(w.xdata.get('glusterfs.inodelk-count')?.value, 0n, 'locks above still count');
    assert.equal((await stat(join(b.dir, 'vm.img'))).size, 0, 'no data stored');
    for (const fop of ['FTRUNCATE', 'FALLOCATE', 'DISCARD', 'ZEROFILL']) {
      const r = await b.call(fop, { gfid, fd, offset: 4096, size: 8192, flags: 0, xdata: null });
      assert.deepEqual(r.poststat, created.stat, fop);
    }
    await b.call('TRUNCATE', { gfid, offset: 1 << 30, xdata: null });
    assert.equal((await stat(join(b.dir, 'vm.img'))).size, 0);
    await fails(b.call('READ', { gfid, fd, offset: 0, size: 4096, flag: 0, xdata: null }), 'ENOSYS');
    await fails(b.call('SEEK', { gfid, fd, offset: 0, what: 0, xdata: null }), 'ENOSYS');
    const fdCount = await b.call('WRITE', {
      gfid,
      fd,
      offset: 0,
      size: 1,
      flag: 0,
      xdata: new Map([['glusterfs.open-fd-count', uintValue(4)]]),
      payload: Buffer.alloc(1),
    });
    assert.deepEqual(fdCount.xdata.get('glusterfs.open-fd-count'), uintValue(1));
    // Metadata and changelogs are kept like on a data brick.
    await b.call('SETATTR', { gfid, stbuf: { ...created.stat, mode: 0o640 }, valid: 1, xdata: null });
    assert.equal((await stat(join(b.dir, 'vm.img'))).mode & 0o777, 0o640);
    const one = Buffer.from('000000010000000000000000', 'hex');
    await b.call('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map([['trusted.afr.v-client-0', ptrValue(one)]]),
      xdata: null,
    });
    assert.deepEqual(await lgetxattr(join(b.dir, 'vm.img'), 'trusted.afr.v-client-0'), one);
    // The cache follows SETATTR: the next write reports the new mode.
    const w2 = await b.call('WRITE', {
      gfid,
      fd,
      offset: 0,
      size: 1,
      flag: 0,
      xdata: null,
      payload: Buffer.alloc(1),
    });
    assert.equal(w2.poststat.mode & 0o777, 0o640);
    assert.equal(w2.xdata, null);
    // After a restart nothing is cached: the stat comes from posix.
    const anon = OpenFd.anonymous(gfid);
    const w3 = await b.call('WRITE', {
      gfid,
      fd: anon,
      offset: 0,
      size: 1,
      flag: 0,
      xdata: null,
      payload: Buffer.alloc(1),
    });
    assert.equal(w3.poststat.size, 0);
  } finally {
    await b.close();
  }
});
