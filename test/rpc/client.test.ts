import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';
import {
  AUTH_NONE_VERIFIER,
  endRecord,
  MsgType,
  readHeader,
  startRecord,
  successReply,
  writeReplyHeader,
} from '../../src/rpc/message.js';
import { encodeCredential, glusterV2 } from '../../src/rpc/auth.js';
import { RpcClient, type RpcCallback } from '../../src/rpc/client.js';
import { RpcError } from '../../src/rpc/errors.js';
import { encodeRecordMark } from '../../src/rpc/record.js';
import type { RpcProgram } from '../../src/rpc/server.js';
import { callRecord, rawServer, sleep, startServer, TEST_PROG, words } from './helpers.js';

const NONE = AUTH_NONE_VERIFIER;

/** proc 1 answers `tag` after `ms`; proc 2 returns the raw bytes after its u32 argument. */
const slow: RpcProgram = {
  prog: TEST_PROG,
  vers: 1,
  name: 'slow',
  procs: {
    1: async ({ args }) => {
      const ms = args.u32();
      const tag = args.u32();
      await sleep(ms);
      return { results: (w) => w.u32(tag) };
    },
    2: ({ args }) => {
      const n = args.u32();
      const data = args.rest();
      return { results: (w) => w.u32(n).opaque(data) };
    },
  },
};

function slowCall(
  client: RpcClient,
  ms: number,
  tag: number,
  extra: { timeoutMs?: number; signal?: AbortSignal } = {},
) {
  return client
    .call({ prog: TEST_PROG, vers: 1, proc: 1, cred: NONE, args: (w) => w.u32(ms).u32(tag), ...extra })
    .then((reply) => reply.results.u32());
}

/** A reply record (record mark included) for `xid` with a u32 result. */
function replyRecord(xid: number, result: number): Buffer {
  const w = startRecord();
  writeReplyHeader(w, successReply(xid));
  w.u32(result);
  return endRecord(w);
}

const isCode = (code: string) => (e: unknown) => e instanceof RpcError && e.code === code;

test('xids start at 2, the call header matches GlusterFS byte for byte', async () => {
  const fake = await rawServer();
  const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
  try {
    const cred = encodeCredential(glusterV2(0));
    const first = client.call({ prog: 123451501, vers: 1, proc: 1, cred, args: (w) => w.u64(0xcaedn) });
    const second = client.call({ prog: 123451501, vers: 1, proc: 2, cred });
    const peer = await fake.accept();
    const [a, b] = await peer.waitRecords(2);
    // The DUMP call a real client sends (captured from stock 10.3).
    assert.deepEqual(a, words(2, 0, 2, 0x075bb86d, 1, 1, 0x5f397, 0x18, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0xcaed));
    assert.equal(readHeader(new XdrReader(b!)).xid, 3);
    peer.write(Buffer.concat([replyRecord(3, 30), replyRecord(2, 20)]));
    assert.equal((await first).results.u32(), 20);
    assert.equal((await second).results.u32(), 30);
  } finally {
    client.close();
    fake.close();
  }
});

test('pipelined calls resolve in completion order, matched by xid', async () => {
  const { server, port } = await startServer([slow]);
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  try {
    const order: number[] = [];
    const calls = [60, 0, 30, 10].map((ms, tag) => slowCall(client, ms, tag).then((t) => (order.push(t), t)));
    assert.equal(client.inFlight, 4);
    assert.deepEqual(await Promise.all(calls), [0, 1, 2, 3]);
    assert.deepEqual(order, [1, 3, 2, 0]);
    assert.equal(client.inFlight, 0);
  } finally {
    client.close();
    await server.close();
  }
});

test('a timed-out call rejects with TIMEOUT and its late reply is dropped', async () => {
  const fake = await rawServer();
  const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
  try {
    const late = client.call({ prog: 1, vers: 1, proc: 1, cred: NONE, timeoutMs: 30 });
    const peer = await fake.accept();
    await assert.rejects(
      late,
      (e: unknown) => isCode('RPC_TIMEOUT')(e) && (e as RpcError).errnoName === 'ETIMEDOUT',
    );
    assert.equal(client.inFlight, 0);
    const next = client.call({ prog: 1, vers: 1, proc: 1, cred: NONE });
    await peer.waitRecords(2);
    // The late reply for xid 2 arrives first and must not resolve xid 3.
    peer.write(replyRecord(2, 111));
    peer.write(replyRecord(3, 222));
    assert.equal((await next).results.u32(), 222);
    assert.equal(client.closed, false);
  } finally {
    client.close();
    fake.close();
  }
});

test('the client default timeout applies and 0 overrides it', async () => {
  const { server, port } = await startServer([slow]);
  const client = await RpcClient.connect({ port, host: '127.0.0.1' }, { timeoutMs: 20 });
  try {
    await assert.rejects(slowCall(client, 200, 1), isCode('RPC_TIMEOUT'));
    assert.equal(await slowCall(client, 40, 2, { timeoutMs: 0 }), 2);
  } finally {
    client.close();
    await server.close();
  }
});

test('an AbortSignal cancels a call; a pre-aborted one is never sent', async () => {
  const fake = await rawServer();
  const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
  try {
    const pre = new AbortController();
    pre.abort(new Error('before'));
    await assert.rejects(
      client.call({ prog: 1, vers: 1, proc: 1, cred: NONE, signal: pre.signal }),
      (e: unknown) => isCode('RPC_ABORTED')(e) && ((e as RpcError).cause as Error).message === 'before',
    );
    const ac = new AbortController();
    const call = client.call({ prog: 1, vers: 1, proc: 1, cred: NONE, signal: ac.signal });
    const peer = await fake.accept();
    const [sent] = await peer.waitRecords(1);
    assert.equal(readHeader(new XdrReader(sent!)).xid, 2, 'the pre-aborted call used no xid on the wire');
    ac.abort();
    await assert.rejects(
      call,
      (e: unknown) => isCode('RPC_ABORTED')(e) && (e as RpcError).errnoName === 'ECANCELED',
    );
    peer.write(replyRecord(2, 1));
    await sleep(10);
    assert.equal(client.closed, false);
    assert.equal(client.inFlight, 0);
  } finally {
    client.close();
    fake.close();
  }
});

test('closing the connection fails every pending call with NOT_CONNECTED', async () => {
  const fake = await rawServer();
  const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
  const calls = [1, 2, 3].map(() => client.call({ prog: 1, vers: 1, proc: 1, cred: NONE }));
  const closed = once(client, 'close');
  (await fake.accept()).destroy();
  for (const call of calls) {
    await assert.rejects(
      call,
      (e: unknown) => isCode('NOT_CONNECTED')(e) && (e as RpcError).errnoName === 'ENOTCONN',
    );
  }
  await closed;
  assert.equal(client.closed, true);
  await assert.rejects(client.call({ prog: 1, vers: 1, proc: 1, cred: NONE }), isCode('NOT_CONNECTED'));
  fake.close();
});

test('payload chunks go to the socket as the caller’s buffers, after one header buffer', async () => {
  const { server, port } = await startServer([slow]);
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  const written: unknown[] = [];
  const socket = client.socket as net.Socket;
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  socket.write = ((chunk: Buffer) => (written.push(chunk), write(chunk))) as typeof socket.write;
  try {
    const payload = [Buffer.from('first,'), Buffer.from('second')];
    const reply = await client.call({
      prog: TEST_PROG,
      vers: 1,
      proc: 2,
      cred: NONE,
      args: (w) => w.u32(12),
      payload,
    });
    assert.equal(reply.results.u32(), 12);
    assert.equal(reply.results.opaque(64).toString(), 'first,second');
    assert.equal(written.length, 3);
    assert.equal(written[1], payload[0]);
    assert.equal(written[2], payload[1]);
    // The header buffer's record mark counts the payload.
    assert.equal(
      (written[0] as Buffer).readUInt32BE(0),
      (0x8000_0000 | ((written[0] as Buffer).length - 4 + 12)) >>> 0,
    );
  } finally {
    client.close();
    await server.close();
  }
});

test('while the socket needs drain, further calls wait in the client and aborted ones are never sent', async () => {
  const fake = await rawServer();
  const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
  const peer = await fake.accept();
  peer.socket.pause();
  const socket = client.socket as net.Socket;
  let writes = 0;
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  socket.write = ((chunk: Buffer) => (writes++, write(chunk))) as typeof socket.write;
  try {
    const big = Buffer.alloc(32 * 1024 * 1024);
    const first = client.call({ prog: 1, vers: 1, proc: 1, cred: NONE, payload: [big] });
    assert.equal(writes, 2);
    assert.equal(socket.writableNeedDrain, true);
    const ac = new AbortController();
    const dropped = client.call({ prog: 1, vers: 1, proc: 2, cred: NONE, signal: ac.signal });
    const third = client.call({ prog: 1, vers: 1, proc: 3, cred: NONE });
    assert.equal(writes, 2, 'queued, not written');
    ac.abort();
    await assert.rejects(dropped, isCode('RPC_ABORTED'));
    peer.socket.resume();
    const records = await peer.waitRecords(2, 5000);
    assert.deepEqual(
      records
        .map((r) => readHeader(new XdrReader(r)))
        .map((h) => (h.type === MsgType.CALL ? [h.xid, h.proc] : [])),
      [
        [2, 1],
        [4, 3],
      ],
    );
    peer.write(Buffer.concat([replyRecord(2, 1), replyRecord(4, 3)]));
    assert.equal((await first).results.u32(), 1);
    assert.equal((await third).results.u32(), 3);
  } finally {
    client.close();
    fake.close();
  }
});

test('server CALLs are delivered as callbacks and never answered', async () => {
  const fake = await rawServer();
  const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
  const got: RpcCallback[] = [];
  client.on('callback', (cb) => got.push(cb));
  try {
    const peer = await fake.accept();
    let received = 0;
    peer.socket.on('data', (chunk: Buffer) => (received += chunk.length));
    peer.write(callRecord(1, 52743234, 1, 6));
    peer.write(callRecord(2, 52743234, 1, 8, (w) => w.fixedOpaque(Buffer.alloc(16, 7)).u32(1)));
    await sleep(30);
    assert.deepEqual(
      got.map((cb) => [cb.header.xid, cb.header.prog, cb.header.proc, cb.args.remaining]),
      [
        [1, 52743234, 6, 0],
        [2, 52743234, 8, 20],
      ],
    );
    assert.equal(received, 0);
  } finally {
    client.close();
    fake.close();
  }
});

test('garbage from the server never throws: unknown xids are ignored, bad records drop the connection', async () => {
  const probes: Array<[string, Buffer]> = [
    ['undecodable header', Buffer.concat([encodeRecordMark(12), Buffer.from(words(2, 7, 0))])],
    ['record too short for an xid', Buffer.concat([encodeRecordMark(2), Buffer.from([0, 0])])],
    ['fragment over the maximum', Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4])],
    ['accept_stat out of range', Buffer.concat([encodeRecordMark(24), words(2, 1, 0, 0, 0, 9)])],
  ];
  for (const [what, bytes] of probes) {
    const fake = await rawServer();
    const client = await RpcClient.connect({ port: fake.port, host: '127.0.0.1' });
    const call = client.call({ prog: 1, vers: 1, proc: 1, cred: NONE });
    const peer = await fake.accept();
    await peer.waitRecords(1);
    peer.write(replyRecord(77, 1)); // unknown xid: ignored
    await sleep(5);
    assert.equal(client.closed, false, what);
    peer.write(bytes);
    await assert.rejects(
      call,
      (e: unknown) => isCode('NOT_CONNECTED')(e) && (e as RpcError).cause instanceof XdrError,
      what,
    );
    fake.close();
  }
});

test('an args writer that throws rejects the call and leaves the client usable', async () => {
  const { server, port } = await startServer([slow]);
  const client = await RpcClient.connect({ port, host: '127.0.0.1' });
  try {
    await assert.rejects(
      client.call({
        prog: TEST_PROG,
        vers: 1,
        proc: 1,
        cred: NONE,
        args: (w: XdrWriter) => {
          w.u32(1);
          throw new RangeError('bad argument');
        },
      }),
      RangeError,
    );
    assert.equal(await slowCall(client, 0, 9), 9);
  } finally {
    client.close();
    await server.close();
  }
});

test('RpcError maps reply headers to codes and back', () => {
  const e = new RpcError('PROG_MISMATCH', 'x', { mismatch: { low: 1, high: 3 } });
  const h = e.toReply(5, NONE)!;
  assert.equal(RpcError.fromReply(h).code, 'PROG_MISMATCH');
  assert.deepEqual(RpcError.fromReply(h).mismatch, { low: 1, high: 3 });
  assert.equal(new RpcError('RPC_TIMEOUT').toReply(1, NONE), null);
});
