// Server behaviour over loopback (127.0.0.54) with in-memory and file exports: the
// durability contract (FUA and FLUSH reach stable storage before the reply), the in-flight
// bound, reply backpressure, lazy backend opening, and shutdown with clients still attached
// (CVE-2024-7409).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileBackend, FileProvider, NbdServer, type NbdServerOptions } from '../../src/nbd/index.js';
import { CMD, CMD_FLAG, OPT, REP, TFLAG } from '../../src/nbd/protocol.js';
import { MemoryBackend, MemoryProvider } from './memory.js';
import { goPayload, RawClient, tempDir, waitFor } from './support.js';

const HOST = '127.0.0.54';
const MiB = 1024 * 1024;

async function serve(
  options: NbdServerOptions,
): Promise<{ server: NbdServer; connect: () => Promise<RawClient> }> {
  const server = new NbdServer(options);
  const { port } = await server.listen(0, HOST);
  return {
    server,
    connect: async () => {
      const c = await RawClient.connect(HOST, port);
      await c.greet();
      return c;
    },
  };
}

test('durability: a FUA write is fdatasync-ed and a FLUSH fsync-ed before the reply (file backend)', async () => {
  const { dir, cleanup } = await tempDir('durable');
  await writeFile(join(dir, 'd.img'), '');
  await truncate(join(dir, 'd.img'), MiB);
  let backend: FileBackend | undefined;
  const { server, connect } = await serve({
    provider: new FileProvider({ exports: { d: join(dir, 'd.img') }, onOpen: (_n, b) => (backend = b) }),
  });
  try {
    const c = await connect();
    await c.go('d');
    c.request(CMD.WRITE, 0, 4096, { handle: 1n, data: Buffer.alloc(4096, 1) });
    await c.simpleReply();
    assert.deepEqual(backend!.syncs, { fsync: 0, fdatasync: 0 }, 'a plain write syncs nothing');
    c.request(CMD.WRITE, 4096, 4096, { handle: 2n, flags: CMD_FLAG.FUA, data: Buffer.alloc(4096, 2) });
    assert.equal((await c.simpleReply()).error, 0);
    assert.deepEqual(backend!.syncs, { fsync: 0, fdatasync: 1 }, 'FUA: fdatasync before the reply');
    c.request(CMD.FLUSH, 0, 0, { handle: 3n });
    assert.equal((await c.simpleReply()).error, 0);
    assert.deepEqual(backend!.syncs, { fsync: 1, fdatasync: 1 }, 'FLUSH: fsync before the reply');
    c.request(CMD.WRITE_ZEROES, 0, 4096, { handle: 4n, flags: CMD_FLAG.FUA });
    assert.equal((await c.simpleReply()).error, 0);
    assert.equal(backend!.syncs.fdatasync, 2, 'FUA zeroing syncs too');
    c.request(CMD.DISC, 0, 0);
    await c.closed();
  } finally {
    await server.close();
    await cleanup();
  }
});

test('durability: without native FUA, FUA is emulated by a flush after the write', async () => {
  const provider = new MemoryProvider(() => {
    const b = new MemoryBackend(MiB);
    b.capabilities = { ...b.capabilities, fua: false };
    return b;
  });
  const { server, connect } = await serve({ provider });
  try {
    const c = await connect();
    const { flags } = await c.go('mem');
    assert.ok(flags & TFLAG.SEND_FUA, 'FUA still advertised (emulated)');
    assert.ok(!(flags & TFLAG.CAN_MULTI_CONN), 'no CAN_MULTI_CONN when the backend says no');
    c.request(CMD.WRITE, 0, 512, { handle: 1n, flags: CMD_FLAG.FUA, data: Buffer.alloc(512, 9) });
    assert.equal((await c.simpleReply()).error, 0);
    assert.deepEqual(provider.opened[0]!.events, ['write 0+512', 'flush']);
    // FAST_ZERO on a backend without fast zeroing: ENOTSUP, nothing done.
    c.request(CMD.WRITE_ZEROES, 0, 512, { handle: 2n, flags: CMD_FLAG.FAST_ZERO });
    assert.equal((await c.simpleReply()).error, 95);
    assert.deepEqual(provider.opened[0]!.events, ['write 0+512', 'flush']);
    c.destroy();
  } finally {
    await server.close();
  }
});

test('the backend is opened only after GO names it, and closed with the connection', async () => {
  const provider = new MemoryProvider(() => new MemoryBackend(MiB));
  const { server, connect } = await serve({ provider });
  try {
    const c = await connect();
    c.sendOption(OPT.LIST);
    await c.readOptionReplies();
    c.sendOption(OPT.STRUCTURED_REPLY);
    await c.readOptionReplies();
    assert.equal(provider.opened.length, 0, 'nothing opened while negotiating');
    c.sendOption(OPT.INFO, goPayload('mem'));
    const info = await c.readOptionReplies();
    assert.equal(info[info.length - 1]!.type, REP.ACK);
    assert.equal(provider.opened.length, 1);
    assert.equal(provider.opened[0]!.closed, true, 'INFO closes what it opened');
    await c.go('mem');
    assert.equal(provider.opened.length, 2);
    c.destroy();
    await waitFor(() => provider.opened[1]!.closed, 2000, 'backend close');
  } finally {
    await server.close();
  }
});

test('at most maxInFlight requests reach the backend; the rest wait in the socket', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const provider = new MemoryProvider(() => {
    const b = new MemoryBackend(MiB);
    b.gate = gate;
    return b;
  });
  const { server, connect } = await serve({ provider, maxInFlight: 4 });
  try {
    const c = await connect();
    await c.go('mem');
    for (let i = 0; i < 20; i++) {
      c.request(CMD.WRITE, i * 512, 512, { handle: BigInt(i), data: Buffer.alloc(512, i) });
    }
    const b = () => provider.opened[0]!;
    await waitFor(() => b().active === 4, 2000, '4 active');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(b().active, 4, 'no fifth request while four are in flight');
    release();
    for (let i = 0; i < 20; i++) assert.equal((await c.simpleReply()).error, 0);
    assert.equal(b().maxActive, 4);
    c.destroy();
  } finally {
    await server.close();
  }
});

test('a client that does not read its replies stops the server reading its requests', async () => {
  const provider = new MemoryProvider(() => new MemoryBackend(64 * MiB));
  const { server, connect } = await serve({ provider, maxInFlight: 8 });
  try {
    const c = await connect();
    await c.go('mem');
    c.socket.pause();
    for (let i = 0; i < 400; i++) c.request(CMD.READ, 0, MiB, { handle: BigInt(i) });
    await new Promise((r) => setTimeout(r, 300));
    const reads = provider.opened[0]!.events.filter((e) => e.startsWith('read')).length;
    assert.ok(reads < 100, `${reads} reads served to a client that reads nothing`);
    c.destroy();
  } finally {
    await server.close();
  }
});

test('close() ends negotiating clients at once, answers in-flight requests, then closes backends', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const provider = new MemoryProvider(() => {
    const b = new MemoryBackend(MiB);
    b.gate = gate;
    return b;
  });
  const { server, connect } = await serve({ provider, shutdownGraceMs: 3000 });
  const port = server.address!.port;
  const negotiating = await connect();
  const busy = await connect();
  await busy.go('mem');
  busy.request(CMD.READ, 0, 512, { handle: 77n });
  await waitFor(() => provider.opened[0]?.active === 1, 2000, 'the read in flight');
  const closing = server.close();
  await negotiating.closed();
  release();
  const r = await busy.simpleReply();
  assert.deepEqual(r, { error: 0, handle: 77n }, 'the in-flight READ is answered');
  await busy.read(512);
  await busy.closed();
  await closing;
  assert.equal(provider.opened[0]!.closed, true);
  assert.equal(server.connections, 0);
  await assert.rejects(RawClient.connect(HOST, port), 'no longer listening');
});
