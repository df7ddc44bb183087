// Every bad-input probe of docs/wire-format.md against a brick: the documented RPC error or a
// disconnect, and the brick keeps serving a well-behaved client the whole time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { RpcClient, encodeCredential, glusterV3 } from '../../src/rpc/index.js';
import { XdrWriter } from '../../src/xdr/index.js';
import {
  FopError,
  Fops,
  HandshakeProcs,
  Program,
  ROOT_GFID,
  callProcedure,
  legacyDict,
  zeroIatt,
} from '../../src/protocol/index.js';
import { Graph, defineTranslator, parseVolfile } from '../../src/xlator/index.js';
import { BrickServer } from '../../src/brick/server.js';

const written: Buffer[] = [];
const store = defineTranslator({
  type: 'storage/memory',
  options: {},
  children: 'none',
  create: () => ({
    fops: {
      async STAT(req) {
        return { xdata: null, stat: { ...zeroIatt(), gfid: req.gfid, size: written.length } };
      },
      async WRITE(req) {
        written.push(Buffer.from(req.payload as Buffer));
        return {
          opRet: (req.payload as Buffer).length,
          xdata: null,
          prestat: zeroIatt(),
          poststat: zeroIatt(),
        };
      },
      async LOOKUP() {
        throw FopError.of('ENOENT');
      },
    },
  }),
});

let brick: BrickServer;
let port: number;
let good: RpcClient;
const opts = { cred: encodeCredential(glusterV3(1)), timeoutMs: 5000 };

before(async () => {
  const graph = await Graph.build(
    parseVolfile('volume /b\n type storage/memory\nend-volume\n'),
    new Map([[store.type, store]]),
  );
  brick = new BrickServer({ graph, exportName: '/b', idleTimeoutMs: 300 });
  port = ((await brick.listen('127.0.0.1', 0)).address() as AddressInfo).port;
  good = await RpcClient.connect({ host: '127.0.0.1', port });
  const sv = await callProcedure(
    good,
    Program.HANDSHAKE,
    HandshakeProcs.SETVOLUME,
    {
      dict: legacyDict({ 'process-uuid': 'good', 'remote-subvolume': '/b', 'fops-version': '1298437' }),
    },
    opts,
  );
  assert.equal(sv.opRet, 0);
});

after(async () => {
  good.close();
  await brick.close();
});

/** The well-behaved client still gets answers. */
async function stillServing() {
  const r = await callProcedure(good, Program.FOP, Fops.STAT, { gfid: ROOT_GFID, xdata: null }, opts);
  assert.equal(r.opRet, 0);
}

function rawCall(
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  body = Buffer.alloc(0),
  over: { rpcvers?: number; msgType?: number; credLen?: number } = {},
): Buffer {
  const w = new XdrWriter();
  w.u32(xid)
    .u32(over.msgType ?? 0)
    .u32(over.rpcvers ?? 2)
    .u32(prog)
    .u32(vers)
    .u32(proc);
  w.u32(0)
    .u32(over.credLen ?? 0)
    .u32(0)
    .u32(0);
  w.raw(body);
  const rec = w.finish();
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((0x80000000 | rec.length) >>> 0);
  return Buffer.concat([mark, rec]);
}

/** Sends bytes on a fresh socket; collects what comes back until `ms` pass or it closes. */
async function probe(
  bytes: Buffer | Buffer[],
  ms = 300,
): Promise<{ reply: Buffer; closed: boolean; socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise((ok) => socket.once('connect', ok));
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c) => chunks.push(c));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) socket.write(b);
  await new Promise((r) => setTimeout(r, ms));
  return { reply: Buffer.concat(chunks), closed, socket };
}

/** accept_stat of a reply record (offset 24 after the mark), and its xid. */
function acceptStat(reply: Buffer): { xid: number; stat: number } {
  assert.ok(reply.length >= 28, `a reply arrived (${reply.length} bytes)`);
  return { xid: reply.readUInt32BE(4), stat: reply.readUInt32BE(24) };
}

test('unknown program: PROG_UNAVAIL', async () => {
  const { reply, socket } = await probe(rawCall(5, 999999, 1, 0));
  assert.deepEqual(acceptStat(reply), { xid: 5, stat: 1 });
  socket.destroy();
  await stillServing();
});

test('known program, wrong version: PROG_MISMATCH', async () => {
  const { reply, socket } = await probe(rawCall(6, Program.FOP.prog, 330, 1));
  assert.deepEqual(acceptStat(reply), { xid: 6, stat: 2 });
  socket.destroy();
  await stillServing();
});

test('unknown procedure: PROC_UNAVAIL', async () => {
  const { reply, socket } = await probe(rawCall(7, Program.FOP.prog, 400, 57));
  assert.deepEqual(acceptStat(reply), { xid: 7, stat: 3 });
  socket.destroy();
  await stillServing();
});

test('rpcvers 3, a REPLY sent to the server, credential length 0xffffffff: GARBAGE_ARGS with xid 0, connection stays', async () => {
  for (const over of [{ rpcvers: 3 }, { msgType: 1 }, { credLen: 0xffffffff }]) {
    const { reply, closed, socket } = await probe(
      rawCall(8, Program.DUMP.prog, 1, 2, Buffer.alloc(0), over),
      200,
    );
    assert.deepEqual(acceptStat(reply), { xid: 0, stat: 4 }, JSON.stringify(over));
    assert.equal(closed, false, 'connection stays');
    socket.destroy();
  }
  await stillServing();
});

test('a FOP before SETVOLUME: GARBAGE_ARGS', async () => {
  const body = Buffer.concat([ROOT_GFID, Buffer.from('00000000ffffffff00000000', 'hex')]);
  const { reply, socket } = await probe(rawCall(9, Program.FOP.prog, 400, Fops.STAT.proc, body));
  assert.deepEqual(acceptStat(reply), { xid: 9, stat: 4 });
  socket.destroy();
});

test('a WRITE whose xdata size lies: GARBAGE_ARGS, nothing written', async () => {
  const before = written.length;
  const w = new XdrWriter();
  w.fixedOpaque(ROOT_GFID).i64(-2).u64(0).u32(4).u32(0);
  w.u32(64).i32(1).u32(1).cstringOpaque('k').i32(6).opaque(Buffer.from('v')); // xdr_size 64 is a lie
  w.raw(Buffer.from('DATA'));
  const c = await RpcClient.connect({ host: '127.0.0.1', port });
  try {
    await callProcedure(
      c,
      Program.HANDSHAKE,
      HandshakeProcs.SETVOLUME,
      {
        dict: legacyDict({ 'process-uuid': 'liar', 'remote-subvolume': '/b', 'fops-version': '1298437' }),
      },
      opts,
    );
    const lie = w.finish();
    await assert.rejects(
      c.call({
        prog: Program.FOP.prog,
        vers: 400,
        proc: Fops.WRITE.proc,
        cred: opts.cred,
        args: (x) => x.raw(lie),
        timeoutMs: 5000,
      }),
      (e: any) => e.code === 'GARBAGE_ARGS',
    );
  } finally {
    c.close();
  }
  assert.equal(written.length, before, 'nothing was written');
  await stillServing();
});

test('1000 zero-length non-last fragments: no reply, no CPU spin, brick keeps serving', async () => {
  const frag = Buffer.alloc(4); // length 0, not last
  const started = process.cpuUsage();
  const { reply, socket } = await probe(
    Array.from({ length: 1000 }, () => frag),
    200,
  );
  assert.equal(reply.length, 0);
  const used = process.cpuUsage(started);
  assert.ok(used.user + used.system < 1_000_000, 'well under a second of CPU');
  socket.destroy();
  await stillServing();
});

test('fragment header 0x7fffffff then garbage, and 4 KiB of random bytes: connection reset', async () => {
  const big = Buffer.concat([Buffer.from('7fffffff', 'hex'), randomBytes(64)]);
  assert.equal((await probe(big)).closed, true);
  const noise = randomBytes(4096);
  noise[0] = 0xff; // make sure the first fragment length is absurd
  assert.equal((await probe(noise)).closed, true);
  await stillServing();
});

test('a truncated header then silence: dropped after the idle timeout', async () => {
  const { closed } = await probe(Buffer.from('8000', 'hex'), 800);
  assert.equal(closed, true);
  await stillServing();
});

test('200 idle connections are accepted and the brick keeps serving', async () => {
  const sockets = await Promise.all(
    Array.from(
      { length: 200 },
      () =>
        new Promise<Socket>((ok, fail) => {
          const s = connect({ host: '127.0.0.1', port }, () => ok(s));
          s.on('error', fail);
        }),
    ),
  );
  await stillServing();
  for (const s of sockets) s.destroy();
});
