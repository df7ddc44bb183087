// Names through the wire, as a stock client sends them: a basename over NAME_MAX (255 bytes,
// counted in bytes, not characters) and a symlink target of PATH_MAX or more get
// ENAMETOOLONG from every fop that takes one, and an xattr name over XATTR_NAME_MAX gets
// ERANGE, as stock's brick answers. Regression: the codec used to refuse names over 255
// bytes, so the brick answered GARBAGE_ARGS and stock FUSE said "Transport endpoint is not
// connected" for `touch` of a 256-byte name. Names past Limits.NAME_FIELD still do not decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RpcClient, encodeCredential, glusterV3 } from '../../src/rpc/index.js';
import { XdrWriter } from '../../src/xdr/index.js';
import { Limits } from '../../src/protocol/limits.js';
import {
  Fops,
  HandshakeProcs,
  Program,
  ROOT_GFID,
  callProcedure,
  gfuuidValue,
  gfxDict,
  legacyDict,
  ptrValue,
  randomGfid,
} from '../../src/protocol/index.js';
import { Graph, parseVolfile } from '../../src/xlator/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { BrickServer } from '../../src/brick/server.js';

const ENAMETOOLONG = 36;
const ERANGE = 34;

test('every fop taking a name answers ENAMETOOLONG over the wire; 255-byte names and 4095-byte targets work', async () => {
  const dir = await mkdtemp(join('/var/tmp', 'glusterts-brick-names-'));
  const graph = await Graph.build(
    parseVolfile(`volume b-posix\n type storage/posix\n option directory ${dir}\nend-volume\n`),
    new Map([[posix.type, posix]]),
  );
  const brick = new BrickServer({ graph, exportName: 'b-posix' });
  const server = await brick.listen('127.0.0.1', 0);
  const c = await RpcClient.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  const opts = { cred: encodeCredential(glusterV3(4321)), timeoutMs: 5000 };
  const call = <P extends (typeof Fops)[keyof typeof Fops]>(
    p: P,
    args: Parameters<typeof callProcedure<P>>[3],
  ) => callProcedure(c, Program.FOP, p, args, opts);
  const gfidReq = () => new Map([['gfid-req', gfuuidValue(randomGfid())]]);
  try {
    const sv = await callProcedure(
      c,
      Program.HANDSHAKE,
      HandshakeProcs.SETVOLUME,
      {
        dict: legacyDict({
          'process-uuid': 'names',
          'remote-subvolume': 'b-posix',
          'fops-version': '1298437',
        }),
      },
      opts,
    );
    assert.equal(sv.opRet, 0);
    const made = await call(Fops.CREATE, {
      pargfid: ROOT_GFID,
      flags: 0o1,
      mode: 0o644,
      umask: 0,
      bname: 'f',
      xdata: gfidReq(),
    });
    assert.equal(made.opRet, 0);
    const file = made.stat.gfid;

    // ASCII and two-byte UTF-8 (128 characters, 256 bytes), and what FUSE passes at most.
    for (const long of ['a'.repeat(256), 'é'.repeat(128), 'z'.repeat(1024)]) {
      const replies = {
        LOOKUP: await call(Fops.LOOKUP, {
          gfid: Buffer.alloc(16),
          pargfid: ROOT_GFID,
          flags: 0,
          bname: long,
          xdata: null,
        }),
        CREATE: await call(Fops.CREATE, {
          pargfid: ROOT_GFID,
          flags: 0o101,
          mode: 0o644,
          umask: 0,
          bname: long,
          xdata: gfidReq(),
        }),
        MKDIR: await call(Fops.MKDIR, {
          pargfid: ROOT_GFID,
          mode: 0o755,
          umask: 0,
          bname: long,
          xdata: gfidReq(),
        }),
        MKNOD: await call(Fops.MKNOD, {
          pargfid: ROOT_GFID,
          dev: 0n,
          mode: 0o010644,
          umask: 0,
          bname: long,
          xdata: gfidReq(),
        }),
        SYMLINK: await call(Fops.SYMLINK, {
          pargfid: ROOT_GFID,
          bname: long,
          umask: 0,
          linkname: 'f',
          xdata: gfidReq(),
        }),
        LINK: await call(Fops.LINK, { oldgfid: file, newgfid: ROOT_GFID, newbname: long, xdata: null }),
        'RENAME to': await call(Fops.RENAME, {
          oldgfid: ROOT_GFID,
          newgfid: ROOT_GFID,
          oldbname: 'f',
          newbname: long,
          xdata: null,
        }),
        'RENAME from': await call(Fops.RENAME, {
          oldgfid: ROOT_GFID,
          newgfid: ROOT_GFID,
          oldbname: long,
          newbname: 'g',
          xdata: null,
        }),
        UNLINK: await call(Fops.UNLINK, { pargfid: ROOT_GFID, bname: long, xflags: 0, xdata: null }),
        RMDIR: await call(Fops.RMDIR, { pargfid: ROOT_GFID, xflags: 0, bname: long, xdata: null }),
      };
      for (const [fop, r] of Object.entries(replies)) {
        assert.deepEqual(
          [r.opRet, r.opErrno],
          [-1, ENAMETOOLONG],
          `${fop} of a ${Buffer.byteLength(long)}-byte name`,
        );
      }
    }
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n !== '.glusterfs').sort(),
      ['f'],
      'nothing was created',
    );

    // Symlink targets: PATH_MAX counts the NUL, so 4095 bytes is the longest.
    const target = (n: number) =>
      call(Fops.SYMLINK, {
        pargfid: ROOT_GFID,
        bname: `t${n}`,
        umask: 0,
        linkname: 'c'.repeat(n),
        xdata: gfidReq(),
      });
    assert.deepEqual(
      [(await target(4096)).opErrno, (await target(5000)).opErrno],
      [ENAMETOOLONG, ENAMETOOLONG],
    );
    const ok = await target(4095);
    assert.equal(ok.opRet, 0);
    assert.equal(ok.stat.size, 4095);

    // The longest name works for every entry fop.
    const max = 'm'.repeat(255);
    const m = await call(Fops.MKDIR, {
      pargfid: ROOT_GFID,
      mode: 0o755,
      umask: 0,
      bname: max,
      xdata: gfidReq(),
    });
    assert.equal(m.opRet, 0);
    const l = await call(Fops.LINK, { oldgfid: file, newgfid: m.stat.gfid, newbname: max, xdata: null });
    assert.equal(l.opRet, 0);
    assert.equal(l.stat.nlink, 2);
    const found = await call(Fops.LOOKUP, {
      gfid: Buffer.alloc(16),
      pargfid: m.stat.gfid,
      flags: 0,
      bname: max,
      xdata: null,
    });
    assert.deepEqual(found.prestat.gfid, file);
    const u = await call(Fops.UNLINK, { pargfid: m.stat.gfid, bname: max, xflags: 0, xdata: null });
    assert.equal(u.opRet, 0);
    assert.equal(
      (await call(Fops.RMDIR, { pargfid: ROOT_GFID, xflags: 0, bname: max, xdata: null })).opRet,
      0,
    );

    // Xattr names over XATTR_NAME_MAX: ERANGE, as lsetxattr/lgetxattr answer on stock's brick.
    const key = `user.${'x'.repeat(251)}`;
    const set = await call(Fops.SETXATTR, {
      gfid: file,
      flags: 0,
      dict: new Map([[key, ptrValue(Buffer.from('1'))]]),
      xdata: null,
    });
    const get = await call(Fops.GETXATTR, { gfid: file, namelen: 1, name: key, xdata: null });
    const del = await call(Fops.REMOVEXATTR, { gfid: file, name: key, xdata: null });
    assert.deepEqual(
      [set.opErrno, get.opErrno, del.opErrno],
      [ERANGE, ERANGE, ERANGE],
      'SETXATTR, GETXATTR, REMOVEXATTR of a 256-byte name',
    );

    // Hostile lengths stay bounded: a name past Limits.NAME_FIELD does not decode
    // (GARBAGE_ARGS), nothing is created, and the connection keeps serving.
    const huge = new XdrWriter()
      .fixedOpaque(Buffer.alloc(16))
      .fixedOpaque(ROOT_GFID)
      .u32(0)
      .string('h'.repeat(Limits.NAME_FIELD + 1));
    gfxDict.write(huge, null);
    const body = huge.finish();
    await assert.rejects(
      c.call({
        ...Program.FOP,
        proc: Fops.LOOKUP.proc,
        cred: opts.cred,
        args: (w) => w.raw(body),
        timeoutMs: 5000,
      }),
      (e: { code?: string }) => e.code === 'GARBAGE_ARGS',
    );
    assert.equal((await call(Fops.STAT, { gfid: file, xdata: null })).opRet, 0, 'still serving');
  } finally {
    c.close();
    await brick.close();
    await graph.fini();
    await rm(dir, { recursive: true, force: true });
  }
});
