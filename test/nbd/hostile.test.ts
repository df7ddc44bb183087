// Hostile and malformed input, probe by probe, with qemu-nbd 7.2's reactions as the
// reference (docs/nbd.md): after each, the server is still up and a fresh client works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CMD, CMD_FLAG, NBD_ERRNO, OPT, REP, TFLAG } from '../../src/nbd/protocol.js';
import { goPayload, RawClient, run, startServer, tempDir, waitFor, type Running } from './support.js';

const HOST = '127.0.0.52';
const MiB = 1024 * 1024;
let srv: Running;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir('hostile'));
  await writeFile(join(dir, 'd.img'), '');
  await truncate(join(dir, 'd.img'), 8 * MiB);
  srv = await startServer(
    HOST,
    { exports: { disk: join(dir, 'd.img') } },
    { handshakeTimeoutMs: 400, maxConnections: 8 },
  );
});

after(async () => {
  await srv.server.close();
  await cleanup();
});

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(HOST, srv.port);
  await c.greet();
  return c;
}

/** A fresh client can still negotiate and read. */
async function stillServing(): Promise<void> {
  const r = await run('nbdinfo', ['--size', srv.uri('disk')], 10_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), String(8 * MiB));
}

async function optionProbe(option: number, data: Buffer, length?: number): Promise<number> {
  const c = await client();
  c.sendOption(option, data, length);
  const replies = await c.readOptionReplies();
  c.destroy();
  return replies[replies.length - 1]!.type;
}

test('handshake probes get the option errors qemu-nbd gives', async () => {
  assert.equal(await optionProbe(99, Buffer.alloc(0)), REP.ERR_UNSUP, 'unknown option');
  assert.equal(await optionProbe(OPT.GO, goPayload('nope')), REP.ERR_UNKNOWN, 'GO, unknown export');
  assert.equal(await optionProbe(OPT.INFO, goPayload('nope')), REP.ERR_UNKNOWN, 'INFO, unknown export');
  assert.equal(await optionProbe(OPT.GO, goPayload('x'.repeat(5000))), REP.ERR_INVALID, '5000-byte name');
  assert.equal(await optionProbe(OPT.GO, goPayload('x'.repeat(70000))), REP.ERR_INVALID, '70000-byte name');
  assert.equal(
    await optionProbe(OPT.INFO, goPayload('disk', [], 0xffffffff)),
    REP.ERR_INVALID,
    'name length 2^32-1',
  );
  assert.equal(await optionProbe(OPT.GO, Buffer.from([0, 0])), REP.ERR_INVALID, 'truncated GO');
  assert.equal(
    await optionProbe(OPT.GO, Buffer.concat([goPayload('disk'), Buffer.from([1])])),
    REP.ERR_INVALID,
    'GO with trailing bytes',
  );
  assert.equal(await optionProbe(OPT.STARTTLS, Buffer.from('x')), REP.ERR_INVALID, 'STARTTLS with data');
  assert.equal(
    await optionProbe(OPT.STARTTLS, Buffer.alloc(0)),
    REP.ERR_POLICY,
    'STARTTLS without TLS configured',
  );
  assert.equal(await optionProbe(OPT.LIST, Buffer.from('x')), REP.ERR_INVALID, 'LIST with data');
  assert.equal(
    await optionProbe(OPT.SET_META_CONTEXT, Buffer.alloc(8)),
    REP.ERR_INVALID,
    'meta context before structured replies',
  );
  await stillServing();
});

test('option length 0x7fffffff, unknown client flags, bad option magic and unknown EXPORT_NAME disconnect', async () => {
  {
    const c = await client();
    c.sendOption(OPT.GO, Buffer.alloc(0), 0x7fffffff);
    await c.closed();
  }
  {
    const c = await RawClient.connect(HOST, srv.port);
    await c.greet(0x80);
    await c.closed();
  }
  {
    const c = await client();
    c.write(Buffer.alloc(16, 0x41));
    await c.closed();
  }
  {
    const c = await client();
    c.sendOption(OPT.EXPORT_NAME, Buffer.from('nope'));
    await c.closed();
  }
  await stillServing();
});

test('a client that never finishes the handshake is dropped after the timeout', async () => {
  const started = Date.now();
  const silent = await RawClient.connect(HOST, srv.port);
  const stalled = await client();
  stalled.write(Buffer.from('IHAVE')); // half an option header, then nothing
  await Promise.all([silent.closed(), stalled.closed()]);
  const took = Date.now() - started;
  assert.ok(took >= 350 && took < 3000, `dropped after ${took} ms`);
  await stillServing();
});

test('transmission probes: EINVAL replies, zero-length READ succeeds, the connection stays', async () => {
  const c = await client();
  const { size, flags } = await c.go('disk');
  assert.equal(size, BigInt(8 * MiB));
  assert.ok(flags & TFLAG.SEND_FLUSH && flags & TFLAG.SEND_FUA && flags & TFLAG.CAN_MULTI_CONN);

  c.request(CMD.READ, 8 * MiB - 512, 1024, { handle: 1n });
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 1n }, 'READ beyond the end');
  c.request(CMD.WRITE, 8 * MiB, 512, { handle: 2n, data: Buffer.alloc(512, 7) });
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 2n }, 'WRITE beyond the end');
  c.request(CMD.READ, 2n ** 64n - 512n, 1024, { handle: 3n });
  assert.deepEqual(
    await c.simpleReply(),
    { error: NBD_ERRNO.EINVAL, handle: 3n },
    'offset + length overflow',
  );
  c.request(42, 0, 0, { handle: 4n });
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 4n }, 'unknown command');
  c.request(CMD.READ, 0, 512, { handle: 5n, flags: 0x4000 });
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 5n }, 'unknown flag');
  c.request(CMD.READ, 0, 64 * MiB, { handle: 6n });
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 6n }, 'READ of 64 MiB');
  c.request(CMD.READ, 0, 0, { handle: 7n });
  assert.deepEqual(await c.simpleReply(), { error: 0, handle: 7n }, 'READ of length 0');
  c.request(CMD.BLOCK_STATUS, 0, 512, { handle: 8n });
  assert.deepEqual(
    await c.simpleReply(),
    { error: NBD_ERRNO.EINVAL, handle: 8n },
    'BLOCK_STATUS without a context',
  );
  // An oversized WRITE: its 33 MiB of data are read past, not buffered, and the stream resyncs.
  const big = 33 * MiB;
  c.request(CMD.WRITE, 0, big, { handle: 9n });
  c.write(Buffer.alloc(big, 1));
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 9n }, 'WRITE over the maximum');

  // Still in sync: a real write and read.
  c.request(CMD.WRITE, 4096, 4, { handle: 10n, flags: CMD_FLAG.FUA, data: Buffer.from('abcd') });
  assert.deepEqual(await c.simpleReply(), { error: 0, handle: 10n });
  c.request(CMD.READ, 4096, 4, { handle: 11n });
  assert.deepEqual(await c.simpleReply(), { error: 0, handle: 11n });
  assert.equal((await c.read(4)).toString(), 'abcd');

  // Bad magic: EINVAL, then the server hangs up.
  c.request(CMD.READ, 0, 512, { handle: 12n, magic: 0x12345678 });
  assert.deepEqual(await c.simpleReply(), { error: NBD_ERRNO.EINVAL, handle: 12n }, 'bad magic');
  await c.closed();
  await stillServing();
});

test('with structured replies, errors (READ included) come as ERROR chunks', async () => {
  const c = await client();
  await c.go('disk', { structured: true, meta: true });
  c.request(CMD.READ, 8 * MiB, 1, { handle: 21n });
  const r = await c.anyReply();
  assert.equal(r.structured, true);
  assert.equal(r.type, 0x8001);
  assert.equal(r.error, NBD_ERRNO.EINVAL);
  assert.equal(r.handle, 21n);
  c.request(CMD.BLOCK_STATUS, 4 * MiB, 4 * MiB, { handle: 22n, flags: CMD_FLAG.REQ_ONE });
  const bs = await c.anyReply();
  assert.equal(bs.type, 5);
  assert.equal(bs.data.length, 12, 'REQ_ONE: one extent');
  assert.equal(bs.data.readUInt32BE(4), 4 * MiB);
  assert.equal(bs.data.readUInt32BE(8), 3, 'hole|zero');
  c.request(CMD.WRITE_ZEROES, 0, 4096, { handle: 23n, flags: CMD_FLAG.FAST_ZERO | CMD_FLAG.NO_HOLE });
  assert.equal((await c.anyReply()).error, 0);
  c.request(CMD.DISC, 0, 0);
  await c.closed();
});

test('pipelined requests are answered, each once, in completion order', async () => {
  const c = await client();
  await c.go('disk');
  const n = 200;
  for (let i = 0; i < n; i++) {
    c.request(CMD.WRITE, i * 4096, 4096, { handle: BigInt(1000 + i), data: Buffer.alloc(4096, i & 0xff) });
  }
  const seen = new Set<bigint>();
  for (let i = 0; i < n; i++) {
    const r = await c.simpleReply();
    assert.equal(r.error, 0);
    seen.add(r.handle);
  }
  assert.equal(seen.size, n);
  c.request(CMD.FLUSH, 0, 0, { handle: 5n });
  assert.deepEqual(await c.simpleReply(), { error: 0, handle: 5n });
  c.request(CMD.DISC, 0, 0);
  await c.closed();
});

test('the connection cap refuses extra clients; the others keep working', async () => {
  await waitFor(() => srv.server.connections === 0, 2000, 'earlier probes to leave');
  const held: RawClient[] = [];
  for (let i = 0; i < 8; i++) held.push(await client());
  const extra = await RawClient.connect(HOST, srv.port);
  await extra.closed();
  for (const c of held) c.destroy();
  await new Promise((r) => setTimeout(r, 100));
  await stillServing();
});
