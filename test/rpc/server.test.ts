import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { AcceptStat, MsgType, ReplyStat, AUTH_NONE_VERIFIER } from '../../src/rpc/message.js';
import { AuthFlavor } from '../../src/rpc/auth.js';
import { RpcClient } from '../../src/rpc/client.js';
import { RpcError } from '../../src/rpc/errors.js';
import { encodeRecordMark } from '../../src/rpc/record.js';
import type { RpcConnection } from '../../src/rpc/connection.js';
import type { RpcProgram } from '../../src/rpc/server.js';
import {
  callRecord,
  deferred,
  onlyConnection,
  RawPeer,
  sleep,
  startServer,
  TEST_PROG,
  words,
} from './helpers.js';
import { XdrReader, type XdrWriter } from '../../src/xdr/index.js';

const NONE = AUTH_NONE_VERIFIER;

function program(vers: number, procs: RpcProgram['procs']): RpcProgram {
  return { prog: TEST_PROG, vers, name: 'test', procs };
}

/** proc 1 echoes a string; proc 2 answers after a delay, echoing a tag. */
const echo = program(2, {
  0: () => undefined,
  1: ({ args }) => {
    const s = args.string(64);
    args.finish();
    return { results: (w) => w.string(s) };
  },
  2: async ({ args }) => {
    const ms = args.u32();
    const tag = args.u32();
    await sleep(ms);
    return { results: (w) => w.u32(tag) };
  },
});

function expectStatus(record: Buffer, xid: number, acceptStat: AcceptStat): void {
  const { h } = RawPeer.reply(record);
  assert.equal(h.type, MsgType.REPLY);
  assert.equal(h.xid, xid);
  assert.equal(h.replyStat, ReplyStat.MSG_ACCEPTED);
  if (h.replyStat === ReplyStat.MSG_ACCEPTED) assert.equal(h.acceptStat, acceptStat);
}

async function echoWorks(peer: RawPeer, xid: number): Promise<void> {
  peer.write(callRecord(xid, TEST_PROG, 2, 1, (w) => w.string('still here')));
  const [rec] = await peer.waitRecords(1);
  const { h, r } = RawPeer.reply(rec!);
  assert.equal(h.xid, xid);
  assert.equal(r.string(64), 'still here');
}

test('every status a server sends reaches the client as a typed RpcError', async () => {
  const errors: unknown[] = [];
  const { server, port } = await startServer(
    [
      echo,
      program(5, {}),
      program(3, {
        1: () => {
          throw new Error('handler bug');
        },
        2: () => {
          throw new RpcError('GARBAGE_ARGS', 'FOP before SETVOLUME');
        },
        3: () => {
          throw new RpcError('AUTH_ERROR', 'no', { authStat: 5 });
        },
        4: () => {
          throw new RpcError('RPC_MISMATCH');
        },
        5: async () => {
          throw new Error('async handler bug');
        },
      }),
    ],
    { onError: (e) => errors.push(e) },
  );
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  const call = (prog: number, vers: number, proc: number, args?: (w: XdrWriter) => void) =>
    client.call({ prog, vers, proc, cred: NONE, args }).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => {
        assert.ok(e instanceof RpcError);
        return e;
      },
    );
  try {
    assert.equal((await call(TEST_PROG + 1, 2, 1)).code, 'PROG_UNAVAIL');
    const mismatch = await call(TEST_PROG, 9, 1);
    assert.equal(mismatch.code, 'PROG_MISMATCH');
    assert.deepEqual(mismatch.mismatch, { low: 2, high: 5 });
    assert.equal((await call(TEST_PROG, 2, 99)).code, 'PROC_UNAVAIL');
    // Arguments that do not decode: the string's length exceeds its maximum.
    assert.equal((await call(TEST_PROG, 2, 1, (w) => w.string('x'.repeat(65)))).code, 'GARBAGE_ARGS');
    // Trailing bytes after the arguments also count as garbage.
    assert.equal((await call(TEST_PROG, 2, 1, (w) => w.string('x').u32(7))).code, 'GARBAGE_ARGS');
    const bug = await call(TEST_PROG, 3, 1);
    assert.equal(bug.code, 'SYSTEM_ERR');
    assert.equal(bug.errnoName, 'ENOTCONN');
    assert.equal((await call(TEST_PROG, 3, 5)).code, 'SYSTEM_ERR');
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['handler bug', 'async handler bug'],
    );
    assert.equal((await call(TEST_PROG, 3, 2)).code, 'GARBAGE_ARGS');
    const denied = await call(TEST_PROG, 3, 3);
    assert.equal(denied.code, 'AUTH_ERROR');
    assert.equal(denied.authStat, 5);
    const rpcMismatch = await call(TEST_PROG, 3, 4);
    assert.equal(rpcMismatch.code, 'RPC_MISMATCH');
    assert.deepEqual(rpcMismatch.mismatch, { low: 2, high: 2 });
    // A credential body that does not decode is AUTH_ERROR / AUTH_BADCRED.
    const badCred = await client
      .call({
        prog: TEST_PROG,
        vers: 2,
        proc: 0,
        cred: { flavor: AuthFlavor.GLUSTERFS_V2, body: Buffer.alloc(4) },
      })
      .then(
        () => assert.fail('expected AUTH_ERROR'),
        (e: unknown) => e as RpcError,
      );
    assert.equal(badCred.code, 'AUTH_ERROR');
    assert.equal(badCred.authStat, 1);
    // After all that, the connection still serves.
    const ok = await client.call({
      prog: TEST_PROG,
      vers: 2,
      proc: 1,
      cred: NONE,
      args: (w) => w.string('hi'),
    });
    assert.equal(ok.results.string(64), 'hi');
  } finally {
    client.close();
    await server.close();
  }
});

test('handlers see the decoded credential and an unknown flavor as null', async () => {
  const seen: unknown[] = [];
  const { server, port } = await startServer([
    program(2, { 0: ({ cred }) => void seen.push(cred?.flavor ?? null) }),
  ]);
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  try {
    await client.call({ prog: TEST_PROG, vers: 2, proc: 0, cred: NONE });
    await client.call({ prog: TEST_PROG, vers: 2, proc: 0, cred: { flavor: 77, body: Buffer.alloc(8) } });
    assert.deepEqual(seen, [AuthFlavor.NULL, null]);
  } finally {
    client.close();
    await server.close();
  }
});

test('rpcvers 3, a REPLY, and cred length 0xffffffff get GARBAGE_ARGS with xid 0; the connection stays', async () => {
  const { server, port } = await startServer([echo]);
  const peer = await RawPeer.connect(port);
  try {
    const rpcv3 = words(0x8000_0028, 7, MsgType.CALL, 3, TEST_PROG, 2, 1, 0, 0, 0, 0);
    peer.write(rpcv3);
    expectStatus((await peer.waitRecords(1))[0]!, 0, AcceptStat.GARBAGE_ARGS);

    const reply = words(0x8000_0018, 8, MsgType.REPLY, 0, 0, 0, 0);
    peer.write(reply);
    expectStatus((await peer.waitRecords(1))[0]!, 0, AcceptStat.GARBAGE_ARGS);

    const hugeCred = words(
      0x8000_0024,
      9,
      MsgType.CALL,
      2,
      TEST_PROG,
      2,
      1,
      AuthFlavor.GLUSTERFS_V2,
      0xffff_ffff,
      0,
    );
    peer.write(hugeCred);
    expectStatus((await peer.waitRecords(1))[0]!, 0, AcceptStat.GARBAGE_ARGS);

    await echoWorks(peer, 10);
  } finally {
    peer.destroy();
    await server.close();
  }
});

test('1000 zero-length non-last fragments: no reply, no spin, then the record completes', async () => {
  const { server, port } = await startServer([echo]);
  const peer = await RawPeer.connect(port);
  try {
    const started = Date.now();
    peer.write(Buffer.concat(Array.from({ length: 1000 }, () => encodeRecordMark(0, false))));
    // The event loop stays free: a timer fires on time while the server holds the fragments.
    const tick = Date.now();
    await sleep(30);
    assert.ok(Date.now() - tick < 500);
    assert.equal(peer.records.length, 0);
    // The call that follows becomes the body of the same record.
    const call = callRecord(5, TEST_PROG, 2, 1, (w) => w.string('after zeros'));
    peer.write(call);
    const [rec] = await peer.waitRecords(1);
    const { h, r } = RawPeer.reply(rec!);
    assert.equal(h.xid, 5);
    assert.equal(r.string(64), 'after zeros');
    assert.ok(Date.now() - started < 1000, 'finished fast');
    await echoWorks(peer, 6);
  } finally {
    peer.destroy();
    await server.close();
  }
});

test('a record split into fragments and chunks is reassembled', async () => {
  const { server, port } = await startServer([echo]);
  const peer = await RawPeer.connect(port);
  try {
    const body = callRecord(3, TEST_PROG, 2, 1, (w) => w.string('in pieces')).subarray(4);
    const a = body.subarray(0, 10);
    const b = body.subarray(10);
    const wire = Buffer.concat([encodeRecordMark(a.length, false), a, encodeRecordMark(b.length, true), b]);
    for (let i = 0; i < wire.length; i += 7) {
      peer.write(wire.subarray(i, i + 7));
      await sleep(1);
    }
    const [rec] = await peer.waitRecords(1);
    assert.equal(RawPeer.reply(rec!).r.string(64), 'in pieces');
  } finally {
    peer.destroy();
    await server.close();
  }
});

test('a record over the maximum, or too short for an xid, drops the connection', async () => {
  const { server, port } = await startServer([echo], { maxRecordSize: 1024 });
  try {
    for (const probe of [
      encodeRecordMark(1025),
      Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef]),
      Buffer.concat([encodeRecordMark(2), Buffer.from([1, 2])]),
    ]) {
      const peer = await RawPeer.connect(port);
      peer.write(probe);
      await peer.closed;
      assert.equal(peer.records.length, 0);
    }
    // Random bytes: dropped (or left waiting); either way the server keeps serving.
    const noise = Buffer.alloc(4096);
    let seed = 12345;
    for (let i = 0; i < noise.length; i++) noise[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const noisy = await RawPeer.connect(port);
    noisy.write(noise);
    const peer = await RawPeer.connect(port);
    await echoWorks(peer, 2);
    noisy.destroy();
    peer.destroy();
  } finally {
    await server.close();
  }
});

test('a peer that stalls mid-record is dropped after the idle timeout; an idle one is not', async () => {
  const { server, port } = await startServer([echo], { idleTimeoutMs: 80 });
  const idle = await RawPeer.connect(port);
  const stalled = await RawPeer.connect(port);
  try {
    await echoWorks(idle, 2);
    stalled.write(words(0x8000_0040, 2, 0));
    const started = Date.now();
    await stalled.closed;
    assert.ok(Date.now() - started >= 60, 'not before the timeout');
    await sleep(100);
    assert.equal(idle.socket.destroyed, false);
    await echoWorks(idle, 3);
  } finally {
    idle.destroy();
    await server.close();
  }
});

test('replies go out in completion order', async () => {
  const { server, port } = await startServer([echo]);
  const peer = await RawPeer.connect(port);
  try {
    const delays = [60, 0, 30];
    peer.write(
      Buffer.concat(delays.map((ms, i) => callRecord(100 + i, TEST_PROG, 2, 2, (w) => w.u32(ms).u32(i)))),
    );
    const replies = (await peer.waitRecords(3)).map((rec) => {
      const { h, r } = RawPeer.reply(rec);
      return [h.xid, r.u32()];
    });
    assert.deepEqual(replies, [
      [101, 1],
      [102, 2],
      [100, 0],
    ]);
  } finally {
    peer.destroy();
    await server.close();
  }
});

test('reading pauses at the in-flight limit and resumes below it', async () => {
  const gates: Array<() => void> = [];
  const blocking = program(2, {
    1: async ({ args }) => {
      const tag = args.u32();
      const gate = deferred();
      gates.push(gate.resolve);
      await gate.promise;
      return { results: (w) => w.u32(tag) };
    },
  });
  const { server, port } = await startServer([blocking], { maxInFlight: 4 });
  const peer = await RawPeer.connect(port);
  try {
    const conn = await onlyConnection(server);
    peer.write(
      Buffer.concat(
        Array.from({ length: 10 }, (_, i) => callRecord(i + 1, TEST_PROG, 2, 1, (w) => w.u32(i))),
      ),
    );
    await sleep(50);
    assert.equal(gates.length, 4, 'only maxInFlight handlers started');
    assert.equal(conn.inFlight, 4);
    assert.equal(conn.paused, true);
    assert.equal(conn.socket.isPaused(), true);
    gates.shift()!();
    await peer.waitRecords(1);
    await sleep(10);
    assert.equal(gates.length, 4, 'one more started after one finished');
    for (let i = 0; i < 400 && (gates.length > 0 || peer.records.length < 9); i++) {
      gates.shift()?.();
      await sleep(5);
    }
    assert.equal(peer.records.length, 9);
    assert.equal(conn.inFlight, 0);
    assert.equal(conn.paused, false);
  } finally {
    peer.destroy();
    await server.close();
  }
});

test('reading pauses while the reply side waits for drain', async () => {
  const big = Buffer.alloc(32 * 1024 * 1024, 0xab);
  const { server, port } = await startServer([
    program(2, { 1: () => ({ results: (w) => w.u32(big.length), payload: [big] }) }),
  ]);
  const peer = await RawPeer.connect(port);
  try {
    peer.socket.pause();
    peer.write(callRecord(1, TEST_PROG, 2, 1));
    await sleep(50);
    const conn = await onlyConnection(server);
    assert.equal(conn.paused, true);
    peer.socket.resume();
    const [rec] = await peer.waitRecords(1, 5000);
    const { r } = RawPeer.reply(rec!);
    assert.equal(r.u32(), big.length);
    assert.ok(r.rest().equals(big));
    await sleep(10);
    assert.equal(conn.paused, false);
  } finally {
    peer.destroy();
    await server.close();
  }
});

test('reply payload chunks reach the socket as the handler’s own buffers', async () => {
  const data = [Buffer.from('payload-one.'), Buffer.from('payload-two')];
  const { server, port } = await startServer([
    program(2, { 1: () => ({ results: (w) => w.u32(23), payload: data }) }),
  ]);
  const written: unknown[] = [];
  server.on('connection', (conn: RpcConnection) => {
    const socket = conn.socket as net.Socket;
    const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
    socket.write = ((chunk: Buffer) => (written.push(chunk), write(chunk))) as typeof socket.write;
  });
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  try {
    const reply = await client.call({ prog: TEST_PROG, vers: 2, proc: 1, cred: NONE });
    assert.equal(reply.results.u32(), 23);
    assert.equal(reply.results.rest().toString(), 'payload-one.payload-two');
    assert.equal(written.length, 3);
    assert.equal(written[1], data[0]);
    assert.equal(written[2], data[1]);
  } finally {
    client.close();
    await server.close();
  }
});

test('callbacks carry the server’s own xids and AUTH_NONE, and get no reply', async () => {
  const { server, port } = await startServer([echo]);
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  try {
    const conn = await onlyConnection(server);
    let received = 0;
    conn.socket.on('data', (chunk: Buffer) => (received += chunk.length));
    const got: Array<[number, number, number, number, number, Buffer]> = [];
    client.on('callback', ({ header, args }) =>
      got.push([header.xid, header.prog, header.proc, header.cred.flavor, header.verf.flavor, args.rest()]),
    );
    conn.sendCallback(52743234, 1, 5, (w) => w.string('invalidate'));
    conn.sendCallback(52743234, 1, 6);
    await sleep(30);
    assert.equal(got.length, 2);
    assert.deepEqual(got[0]!.slice(0, 5), [1, 52743234, 5, 0, 0]);
    assert.equal(new XdrReader(got[0]![5]).string(32), 'invalidate');
    assert.deepEqual(got[1], [2, 52743234, 6, 0, 0, Buffer.alloc(0)]);
    assert.equal(received, 0, 'the client sent nothing back');
    const ok = await client.call({
      prog: TEST_PROG,
      vers: 2,
      proc: 1,
      cred: NONE,
      args: (w) => w.string('x'),
    });
    assert.equal(ok.header.xid, 2);
    assert.equal(conn.inFlight, 0);
  } finally {
    client.close();
    await server.close();
  }
});

test('close() stops listening, drops clients, fails their calls and runs close hooks', async () => {
  const hooks: number[] = [];
  const never = program(2, { 1: () => new Promise<void>(() => undefined) });
  const { server, port } = await startServer([never]);
  server.on('connection', (conn) => conn.onClose(() => void hooks.push(conn.id)));
  const clients = await Promise.all([1, 2].map(() => RpcClient.connect({ port, host: '127.0.0.1' })));
  const pending = clients.map((c) => c.call({ prog: TEST_PROG, vers: 2, proc: 1, cred: NONE }));
  await sleep(20);
  assert.equal(server.connections.size, 2);
  const settled = Promise.allSettled(pending);
  await server.close();
  for (const outcome of await settled) {
    assert.equal(outcome.status, 'rejected');
    const e = outcome.reason as RpcError;
    assert.ok(e instanceof RpcError && e.code === 'NOT_CONNECTED' && e.errnoName === 'ENOTCONN');
  }
  assert.deepEqual(hooks.sort(), [1, 2]);
  assert.equal(server.connections.size, 0);
  await assert.rejects(RpcClient.connect({ port, host: '127.0.0.1' }), { code: 'ECONNREFUSED' });
});

test('a second registration of the same program version is refused', async () => {
  await assert.rejects(startServer([echo, echo]), /already registered/);
});

test('reply layouts match stock: PROG_MISMATCH low/high and a 24-byte SUCCESS header', async () => {
  const { server, port } = await startServer([echo, program(4, {})]);
  const peer = await RawPeer.connect(port);
  try {
    peer.write(callRecord(7, TEST_PROG, 3, 0));
    peer.write(callRecord(8, TEST_PROG, 2, 0));
    const [mismatch, success] = await peer.waitRecords(2);
    assert.deepEqual(
      mismatch,
      words(7, MsgType.REPLY, ReplyStat.MSG_ACCEPTED, 0, 0, AcceptStat.PROG_MISMATCH, 2, 4),
    );
    assert.deepEqual(success, words(8, MsgType.REPLY, 0, 0, 0, 0));
  } finally {
    peer.destroy();
    await server.close();
  }
});
