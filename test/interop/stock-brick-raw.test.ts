// The wire layer alone against a live stock GlusterFS 10.3 brick: portmap on glusterd,
// then DUMP, SETVOLUME and a file's life cycle on the brick, using only glusterts'
// codecs and RPC client. Every reply is also re-encoded and compared byte for byte
// with what the brick sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RpcClient,
  RpcError,
  encodeCredential,
  glusterV2,
  glusterV3,
  successReply,
} from '../../src/rpc/index.js';
import {
  DumpProcs,
  Fops,
  HandshakeProcs,
  PortmapProcs,
  Program,
  ROOT_GFID,
  DUMP_GFS_ID,
  callProcedure,
  dict,
  encodeReply,
  gfuuidValue,
  legacyDict,
  legacyString,
  randomGfid,
  zeroIatt,
  type Procedure,
} from '../../src/protocol/index.js';
import { requirePeer, startStockGluster } from '../../src/peers/index.js';

const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;

test('raw session with a stock 10.3 brick: portmap, DUMP, SETVOLUME, LOOKUP, CREATE, WRITE, READ, FSTAT, FLUSH, RELEASE', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const stock = await startStockGluster({ volume: 'rawvol' });
  const clients: RpcClient[] = [];
  try {
    const v2 = { cred: encodeCredential(glusterV2(process.pid)), timeoutMs: 10_000 };
    const v3 = { cred: encodeCredential(glusterV3(process.pid)), timeoutMs: 10_000 };

    /** Calls and checks that re-encoding the decoded results reproduces the brick's bytes. */
    async function call<P extends Procedure>(
      c: RpcClient,
      prog: { prog: number; vers: number },
      p: P,
      args: any,
      opts = v3,
    ) {
      let record: Buffer | undefined;
      const spy = (reply: { record: Buffer }) => (record = reply.record);
      const results = await callProcedure(wrap(c, spy), prog, p, args, opts);
      const again = Buffer.concat(
        encodeReply(successReply(record!.readUInt32BE(0)), { name: '', ...p }, results),
      );
      assert.deepEqual(again.subarray(4), record, `reply to proc ${p.proc} re-encodes byte for byte`);
      return results;
    }

    // 1. glusterd: DUMP lists Portmap; PORTBYBRICK gives the brick's port.
    const mgmt = await RpcClient.connect({ host: stock.host, port: stock.port });
    clients.push(mgmt);
    const mgmtDump = await call(mgmt, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID }, v2);
    assert.ok(
      mgmtDump.progs.some((p: any) => p.prognum === Program.PORTMAP.prog),
      'glusterd lists Portmap',
    );
    const pmap = await call(
      mgmt,
      Program.PORTMAP,
      PortmapProcs.PORTBYBRICK,
      { brick: stock.brickPaths[0] },
      v2,
    );
    assert.equal(pmap.opRet, 0);
    assert.equal(pmap.port, stock.brickPort(0));
    const unknown = await call(
      mgmt,
      Program.PORTMAP,
      PortmapProcs.PORTBYBRICK,
      { brick: '/no/such/brick' },
      v2,
    );
    assert.deepEqual([unknown.opRet, unknown.port], [-1, 0]);
    mgmt.close();

    // 2. The brick: DUMP lists FOP v400 and never Portmap.
    const brick = await RpcClient.connect({ host: stock.host, port: pmap.port });
    clients.push(brick);
    const dump = await call(brick, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID }, v2);
    const listed = dump.progs.map((p: any) => `${p.prognum}/${p.progver}`);
    assert.ok(listed.includes('1298437/400'), `brick lists FOP v400: ${listed}`);
    assert.ok(!listed.includes('34123456/1'), 'brick does not list Portmap');

    // 3. A FOP before SETVOLUME is refused with GARBAGE_ARGS (docs/wire-format.md, Bad input).
    await assert.rejects(
      callProcedure(brick, Program.FOP, Fops.STATFS, { gfid: ROOT_GFID, xdata: null }, v3),
      (e: unknown) => e instanceof RpcError && e.code === 'GARBAGE_ARGS',
    );

    // 4. SETVOLUME with the three keys stock requires, plus what gfapi sends to look familiar.
    const setvol = await call(brick, Program.HANDSHAKE, HandshakeProcs.SETVOLUME, {
      dict: legacyDict({
        'process-uuid': `glusterts-raw-${randomUUID()}`,
        'remote-subvolume': stock.brickPaths[0]!,
        'fops-version': String(Program.FOP.prog),
        'volfile-key': stock.volume,
        'client-version': '10.3',
        opversion: '100000',
      }),
    });
    assert.equal(setvol.opRet, 0, `SETVOLUME: ${legacyString(setvol.dict, 'ERROR')}`);
    assert.equal(legacyString(setvol.dict, 'ERROR'), 'Success');
    assert.equal(legacyString(setvol.dict, 'child_up'), '1');

    // 5. LOOKUP the root, nameless.
    const root = await call(brick, Program.FOP, Fops.LOOKUP, {
      gfid: ROOT_GFID,
      pargfid: Buffer.alloc(16),
      flags: 0,
      bname: '',
      xdata: null,
    });
    assert.equal(root.opRet, 0);
    assert.deepEqual(root.prestat.gfid, ROOT_GFID);
    assert.equal(root.prestat.ino, 1n);
    assert.equal(root.prestat.mode & 0o170000, 0o040000, 'root is a directory');

    // 6. CREATE with a client-chosen gfid.
    const gfid = randomGfid();
    const created = await call(brick, Program.FOP, Fops.CREATE, {
      pargfid: ROOT_GFID,
      flags: O_RDWR | O_CREAT | O_EXCL,
      mode: 0o100644,
      umask: 0o022,
      bname: 'raw.bin',
      xdata: dict({ 'gfid-req': gfuuidValue(gfid) }),
    });
    assert.equal(created.opRet, 0, `CREATE errno ${created.opErrno}`);
    assert.deepEqual(created.stat.gfid, gfid, 'the brick kept the gfid we asked for');
    const fd = created.fd;

    // 7. WRITE 128 KiB, READ it back, FSTAT.
    const data = randomBytes(128 * 1024);
    const written = await call(brick, Program.FOP, Fops.WRITE, {
      gfid,
      fd,
      offset: 0,
      size: data.length,
      flag: 0,
      xdata: null,
      payload: data,
    });
    assert.equal(written.opRet, data.length);
    const read = await call(brick, Program.FOP, Fops.READ, {
      gfid,
      fd,
      offset: 0,
      size: data.length,
      flag: 0,
      xdata: null,
    });
    assert.equal(read.opRet, data.length);
    assert.ok(Buffer.isBuffer(read.payload) && read.payload.equals(data), 'read back what was written');
    const fstat = await call(brick, Program.FOP, Fops.FSTAT, { gfid, fd, xdata: null });
    assert.equal(fstat.opRet, 0);
    assert.equal(fstat.stat.size, data.length);
    assert.deepEqual(fstat.stat.gfid, gfid);

    // 8. FLUSH and RELEASE; a later FSTAT on the released fd is EBADF.
    assert.equal((await call(brick, Program.FOP, Fops.FLUSH, { gfid, fd, xdata: null })).opRet, 0);
    assert.equal((await call(brick, Program.FOP, Fops.RELEASE, { gfid, fd, xdata: null })).opRet, 0);
    const stale = await call(brick, Program.FOP, Fops.FSTAT, { gfid, fd, xdata: null });
    assert.deepEqual([stale.opRet, stale.opErrno], [-1, 9]);

    // 9. On the brick's disk: the bytes, and trusted.gfid = the gfid we chose.
    const onDisk = join(stock.brickPaths[0]!, 'raw.bin');
    assert.ok(readFileSync(onDisk).equals(data));
    const xattr = execFileSync('getfattr', ['-n', 'trusted.gfid', '-e', 'hex', onDisk]).toString();
    assert.match(xattr, new RegExp(`trusted.gfid=0x${gfid.toString('hex')}`));
  } finally {
    for (const c of clients) c.close();
    await stock.stop();
  }
});

test('the FOPs stock clients did not send in the captures, live against a stock brick', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const stock = await startStockGluster({ volume: 'rawvol2' });
  const v3 = { cred: encodeCredential(glusterV3(process.pid)), timeoutMs: 10_000 };
  let brick: RpcClient | undefined;
  try {
    brick = await RpcClient.connect({ host: stock.host, port: stock.brickPort(0) });
    const c = brick;
    const seen: string[] = [];
    async function fop<N extends keyof typeof Fops>(name: N, args: any) {
      let record: Buffer | undefined;
      const results: any = await callProcedure(
        wrap(c, (r) => (record = r.record)),
        Program.FOP,
        Fops[name],
        args,
        v3,
      );
      const again = Buffer.concat(
        encodeReply(successReply(record!.readUInt32BE(0)), { name, ...Fops[name] }, results),
      );
      assert.deepEqual(again.subarray(4), record, `${name} reply re-encodes byte for byte`);
      seen.push(name);
      return results;
    }
    const setvol = await callProcedure(
      c,
      Program.HANDSHAKE,
      HandshakeProcs.SETVOLUME,
      {
        dict: legacyDict({
          'process-uuid': `glusterts-raw-${randomUUID()}`,
          'remote-subvolume': stock.brickPaths[0]!,
          'fops-version': String(Program.FOP.prog),
        }),
      },
      v3,
    );
    assert.equal(setvol.opRet, 0);

    const gfid = randomGfid();
    const created = await fop('CREATE', {
      pargfid: ROOT_GFID,
      flags: O_RDWR | O_CREAT | O_EXCL,
      mode: 0o100644,
      umask: 0o022,
      bname: 'locks.bin',
      xdata: dict({ 'gfid-req': gfuuidValue(gfid) }),
    });
    assert.equal(created.opRet, 0);
    const fd = created.fd;
    const flock = { type: 1, whence: 0, start: 0n, len: 100n, pid: 7, lkOwner: Buffer.from('owner-1') };
    const F_SETLK = 1;
    const F_GETLK = 0;
    const F_UNLCK = 2;

    assert.equal((await fop('ACCESS', { gfid, mask: 4, xdata: null })).opRet, 0);
    assert.equal((await fop('TRUNCATE', { gfid, offset: 4096, xdata: null })).poststat.size, 4096);
    const fsetattr = await fop('FSETATTR', {
      gfid,
      fd,
      stbuf: { ...zeroIatt(), mode: 0o600 },
      valid: 0x1,
      xdata: null,
    });
    assert.equal(fsetattr.poststat.mode & 0o7777, 0o600);
    assert.equal((await fop('FSYNC', { gfid, fd, data: 1, xdata: null })).opRet, 0);
    const sum = await fop('RCHECKSUM', { gfid, fd, offset: 0, len: 4096, flags: 0, xdata: null });
    assert.equal(sum.opRet, 0);
    assert.equal(sum.strongChecksum.length, 32, 'SHA-256 strong checksum');

    // POSIX locks (the owner is the credential's), inode locks and entry locks in a domain.
    assert.equal((await fop('LK', { gfid, fd, cmd: F_SETLK, type: 1, flock, xdata: null })).opRet, 0);
    const getlk = await fop('LK', { gfid, fd, cmd: F_GETLK, type: 1, flock, xdata: null });
    assert.equal(getlk.opRet, 0);
    assert.equal((await fop('LK', { gfid, fd, cmd: F_SETLK, type: F_UNLCK, flock, xdata: null })).opRet, 0);
    const lockArgs = { gfid, cmd: F_SETLK, type: 1, flock, volume: 'rawvol2-test-domain', xdata: null };
    assert.equal((await fop('INODELK', lockArgs)).opRet, 0);
    assert.equal((await fop('INODELK', { ...lockArgs, type: F_UNLCK })).opRet, 0);
    assert.equal((await fop('FINODELK', { ...lockArgs, fd })).opRet, 0);
    assert.equal((await fop('FINODELK', { ...lockArgs, fd, type: F_UNLCK })).opRet, 0);
    const entry = {
      gfid: ROOT_GFID,
      cmd: 0,
      type: 1,
      namelen: 1,
      name: 'locks.bin',
      volume: 'rawvol2-test-domain',
      xdata: null,
    };
    assert.equal((await fop('ENTRYLK', entry)).opRet, 0);
    assert.equal((await fop('ENTRYLK', { ...entry, cmd: 1 })).opRet, 0);
    assert.equal((await fop('FENTRYLK', { ...entry, gfid, fd, name: '', namelen: 0 })).opRet, 0);
    assert.equal((await fop('FENTRYLK', { ...entry, gfid, fd, name: '', namelen: 0, cmd: 1 })).opRet, 0);

    // xattrs through the fd, and xattrop counters (big-endian i32 arrays, summed by the brick).
    const counter = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(n, 4);
      return { type: 6, value: b } as const;
    };
    const key = 'trusted.glusterts.counter';
    assert.equal(
      (
        await fop('FSETXATTR', {
          gfid,
          fd,
          flags: 0,
          dict: new Map([['user.k', { type: 6, value: Buffer.from('v1') }]]),
          xdata: null,
        })
      ).opRet,
      0,
    );
    const fget = await fop('FGETXATTR', { gfid, fd, namelen: 1, name: 'user.k', xdata: null });
    assert.equal(fget.dict.get('user.k').value.toString(), 'v1');
    assert.equal((await fop('FREMOVEXATTR', { gfid, fd, name: 'user.k', xdata: null })).opRet, 0);
    const missing = await fop('FGETXATTR', { gfid, fd, namelen: 1, name: 'user.k', xdata: null });
    assert.deepEqual([missing.opRet, missing.opErrno], [-1, 61], 'ENODATA after removal');
    await fop('XATTROP', { gfid, flags: 0, dict: new Map([[key, counter(5)]]), xdata: null });
    const sum2 = await fop('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map([[key, counter(3)]]),
      xdata: null,
    });
    assert.equal(sum2.opRet, 0);
    assert.equal(sum2.dict.get(key).value.readInt32BE(4), 8, 'the brick added 5 + 3');

    // Directories: OPENDIR + plain READDIR (clients usually send READDIRP) + FSYNCDIR.
    const dir = await fop('OPENDIR', { gfid: ROOT_GFID, xdata: null });
    assert.equal(dir.opRet, 0);
    const listing = await fop('READDIR', {
      gfid: ROOT_GFID,
      fd: dir.fd,
      offset: 0n,
      size: 65536,
      xdata: null,
    });
    assert.ok(
      listing.entries.some((e: any) => e.name === 'locks.bin'),
      'READDIR lists the file',
    );
    assert.ok(listing.entries.some((e: any) => e.name === '.'));
    await fop('FSYNCDIR', { gfid: ROOT_GFID, fd: dir.fd, data: 0, xdata: null });
    assert.equal((await fop('RELEASEDIR', { gfid: ROOT_GFID, fd: dir.fd, xdata: null })).opRet, 0);

    // Procedures stock answers with an error: the error replies still decode and re-encode.
    await fop('IPC', { op: 0, xdata: null });
    await fop('GETACTIVELK', { gfid, xdata: null });
    assert.equal((await fop('FSTAT', { gfid, fd, xdata: null })).stat.size, 4096);
    assert.equal((await fop('RELEASE', { gfid, fd, xdata: null })).opRet, 0);
    assert.ok(seen.length >= 25);
  } finally {
    brick?.close();
    await stock.stop();
  }
});

/** An RpcClient view that reports each reply record to `spy` before decoding. */
function wrap(c: RpcClient, spy: (reply: { record: Buffer }) => void): RpcClient {
  return new Proxy(c, {
    get(target, prop, receiver) {
      if (prop !== 'call') return Reflect.get(target, prop, receiver);
      return async (req: Parameters<RpcClient['call']>[0]) => {
        const reply = await target.call(req);
        spy(reply);
        return reply;
      };
    },
  });
}
