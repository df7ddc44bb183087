// The brick's RPC face over a fake storage leaf: SETVOLUME gating and checks, DUMP,
// per-connection fd numbers, anonymous fds, failure replies shaped like stock's, and
// cleanup when a client goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { RpcClient, RpcError, encodeCredential, glusterV3 } from '../../src/rpc/index.js';
import {
  DUMP_GFS_ID,
  DumpProcs,
  FopError,
  Fops,
  HandshakeProcs,
  Program,
  ROOT_GFID,
  callProcedure,
  legacyDict,
  legacyString,
  randomGfid,
  zeroIatt,
} from '../../src/protocol/index.js';
import { Graph, defineTranslator, parseVolfile, type TranslatorRegistry } from '../../src/xlator/index.js';
import { BrickServer } from '../../src/brick/server.js';

const FILE = randomGfid();
const DATA = Buffer.from('hello from the fake brick');
const events: string[] = [];

const memory = defineTranslator({
  type: 'storage/memory',
  options: {},
  children: 'none',
  create: () => ({
    fops: {
      async LOOKUP(req) {
        if (req.bname !== '' && req.bname !== 'file') throw FopError.of('ENOENT');
        const gfid = req.bname === 'file' ? FILE : ROOT_GFID;
        return { xdata: null, prestat: { ...zeroIatt(), gfid, ino: 1n }, poststat: zeroIatt() };
      },
      async OPEN(req) {
        events.push(`open ${req.fd.flags}`);
        return { xdata: null };
      },
      async READ(req) {
        events.push(`read anonymous=${req.fd.anonymous}`);
        const payload = DATA.subarray(req.offset, req.offset + req.size);
        return { opRet: payload.length, stat: zeroIatt(), size: payload.length, xdata: null, payload };
      },
      async RELEASE(req) {
        events.push(`release ${req.fd.gfid.equals(FILE)}`);
        return { xdata: null };
      },
      async STAT() {
        throw FopError.of('ESTALE');
      },
    },
    sessionEnded(session) {
      events.push(`ended ${session.id.split('#')[0]}`);
    },
  }),
});
const identity = defineTranslator({
  type: 'debug/io-stats',
  options: {},
  children: 'one',
  create: () => ({ fops: {} }),
});
const registry: TranslatorRegistry = new Map([memory, identity].map((t) => [t.type, t]));

async function startBrick() {
  const graph = await Graph.build(
    parseVolfile(
      'volume m\n type storage/memory\nend-volume\nvolume /bricks/b0\n type debug/io-stats\n subvolumes m\nend-volume\n',
    ),
    registry,
  );
  const brick = new BrickServer({
    graph,
    exportName: '/bricks/b0',
    volumeId: 'c0ffee00-0000-4000-8000-000000000001',
  });
  const server = await brick.listen('127.0.0.1', 0);
  const port = (server.address() as AddressInfo).port;
  return { brick, port };
}

const opts = { cred: encodeCredential(glusterV3(4321)), timeoutMs: 5000 };
const setvolumeDict = (over: Record<string, string> = {}) =>
  legacyDict({
    'process-uuid': 'test-client',
    'remote-subvolume': '/bricks/b0',
    'fops-version': '1298437',
    ...over,
  });

test('FOPs before SETVOLUME are GARBAGE_ARGS; SETVOLUME checks what stock checks', async () => {
  const { brick, port } = await startBrick();
  const c = await RpcClient.connect({ host: '127.0.0.1', port });
  try {
    await assert.rejects(
      callProcedure(c, Program.FOP, Fops.STAT, { gfid: ROOT_GFID, xdata: null }, opts),
      (e: unknown) => e instanceof RpcError && e.code === 'GARBAGE_ARGS',
    );
    const sv = (d: Map<string, Buffer>) =>
      callProcedure(c, Program.HANDSHAKE, HandshakeProcs.SETVOLUME, { dict: d }, opts);
    const wrongBrick = await sv(setvolumeDict({ 'remote-subvolume': '/elsewhere' }));
    assert.deepEqual(
      [wrongBrick.opRet, wrongBrick.opErrno, legacyString(wrongBrick.dict, 'ERROR')],
      [-1, 2, 'Brick not found'],
    );
    const noUuid = new Map(setvolumeDict());
    noUuid.delete('process-uuid');
    assert.equal(legacyString((await sv(noUuid)).dict, 'ERROR'), 'UUID not specified');
    assert.equal((await sv(setvolumeDict({ 'fops-version': '400' }))).opErrno, 22);
    const ok = await sv(setvolumeDict());
    assert.equal(ok.opRet, 0);
    assert.equal(legacyString(ok.dict, 'ERROR'), 'Success');
    assert.equal(legacyString(ok.dict, 'child_up'), '1');
    assert.equal(legacyString(ok.dict, 'volume-id'), 'c0ffee00-0000-4000-8000-000000000001');

    const dump = await callProcedure(c, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID }, opts);
    const progs = dump.progs.map((p) => `${p.prognum}/${p.progver}`);
    assert.deepEqual(progs, ['1298437/400', '123451501/1', '14398633/2'], 'FOP first, never Portmap');
  } finally {
    c.close();
    await brick.close();
  }
});

test('fd numbers are per connection, lowest free first; unknown fds are EBADF; -2 is anonymous', async () => {
  const { brick, port } = await startBrick();
  const c = await RpcClient.connect({ host: '127.0.0.1', port });
  try {
    await callProcedure(c, Program.HANDSHAKE, HandshakeProcs.SETVOLUME, { dict: setvolumeDict() }, opts);
    const open = () => callProcedure(c, Program.FOP, Fops.OPEN, { gfid: FILE, flags: 2, xdata: null }, opts);
    assert.equal((await open()).fd, 0);
    assert.equal((await open()).fd, 1);
    const read = (fd: number) =>
      callProcedure(
        c,
        Program.FOP,
        Fops.READ,
        { gfid: FILE, fd, offset: 6, size: 4, flag: 0, xdata: null },
        opts,
      );
    const r = await read(1);
    assert.equal(r.opRet, 4);
    assert.equal((r.payload as Buffer).toString(), 'from');
    const bad = await read(7);
    assert.deepEqual([bad.opRet, bad.opErrno, (bad.payload as Buffer).length], [-1, 9, 0]);
    events.length = 0;
    assert.equal((await read(-2)).opRet, 4);
    assert.deepEqual(events, ['read anonymous=true']);
    const rel = await callProcedure(c, Program.FOP, Fops.RELEASE, { gfid: FILE, fd: 0, xdata: null }, opts);
    assert.equal(rel.opRet, 0);
    assert.equal(rel.xdata?.size, 0, 'RELEASE replies with an empty, not NULL, dict');
    assert.equal((await open()).fd, 0, 'the freed number is reused');
    const again = await callProcedure(c, Program.FOP, Fops.RELEASE, { gfid: FILE, fd: 5, xdata: null }, opts);
    assert.equal(again.opRet, 0, 'RELEASE of an unknown fd still succeeds');
  } finally {
    c.close();
    await brick.close();
  }
});

test('a failed FOP replies op_ret -1, the errno, zeroed iatts and a NULL xdata', async () => {
  const { brick, port } = await startBrick();
  const c = await RpcClient.connect({ host: '127.0.0.1', port });
  try {
    await callProcedure(c, Program.HANDSHAKE, HandshakeProcs.SETVOLUME, { dict: setvolumeDict() }, opts);
    const stat = await callProcedure(c, Program.FOP, Fops.STAT, { gfid: FILE, xdata: null }, opts);
    assert.deepEqual(stat, { opRet: -1, opErrno: 116, xdata: null, stat: zeroIatt() });
    const enosys = await callProcedure(c, Program.FOP, Fops.STATFS, { gfid: ROOT_GFID, xdata: null }, opts);
    assert.deepEqual([enosys.opRet, enosys.opErrno], [-1, 38]);
  } finally {
    c.close();
    await brick.close();
  }
});

test('when a client disconnects its fds are released down the graph and its session ends', async () => {
  const { brick, port } = await startBrick();
  const c = await RpcClient.connect({ host: '127.0.0.1', port });
  try {
    await callProcedure(
      c,
      Program.HANDSHAKE,
      HandshakeProcs.SETVOLUME,
      { dict: setvolumeDict({ 'process-uuid': 'leaver' }) },
      opts,
    );
    await callProcedure(c, Program.FOP, Fops.OPEN, { gfid: FILE, flags: 0, xdata: null }, opts);
    await callProcedure(c, Program.FOP, Fops.OPEN, { gfid: FILE, flags: 0, xdata: null }, opts);
    events.length = 0;
    c.close();
    const deadline = Date.now() + 5000;
    while (!events.includes('ended leaver') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, ['release true', 'release true', 'ended leaver']);
  } finally {
    await brick.close();
  }
});
