// The heal's vectored READ and WRITE (src/protocol/vector-io.ts) over the wire against a plain
// posix brick, which serves them itself (src/xlators/posix/vector-io.ts): ranges land where
// they say, reads come back with their counts, the probe answers; and hostile vectors —
// truncated, too many ranges, too many bytes, empty or overflowing ranges, a payload that
// disagrees, an O_APPEND fd, a directory — get EINVAL (or the fd's own error), change nothing
// in or outside the brick, and the brick keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RpcClient, encodeCredential, glusterV3 } from '../../src/rpc/index.js';
import {
  Errno,
  Fops,
  HandshakeProcs,
  Program,
  ROOT_GFID,
  callProcedure,
  gfuuidValue,
  legacyDict,
  ptrValue,
  randomGfid,
} from '../../src/protocol/index.js';
import {
  decodeReadCounts,
  encodeIoRanges,
  MAX_VECTOR_BYTES,
  MAX_VECTOR_RANGES,
  READ_VECTOR_KEY,
  WRITE_VECTOR_KEY,
  type IoRange,
} from '../../src/protocol/vector-io.js';
import { Graph, parseVolfile } from '../../src/xlator/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { BrickServer } from '../../src/brick/server.js';

const O_RDWR = 2;
const O_APPEND = 0o2000;

test('vectored READ and WRITE over the wire on a posix brick; hostile vectors refused, nothing touched, brick serving', async () => {
  const parent = await mkdtemp(join('/var/tmp', 'glusterts-brick-vector-'));
  const dir = join(parent, 'brick');
  const outside = join(parent, 'outside');
  await writeFile(outside, 'not the brick');
  await mkdir(dir);
  const graph = await Graph.build(
    parseVolfile(`volume b-posix\n type storage/posix\n option directory ${dir}\nend-volume\n`),
    new Map([[posix.type, posix]]),
  );
  const brick = new BrickServer({ graph, exportName: 'b-posix' });
  const server = await brick.listen('127.0.0.1', 0);
  const c = await RpcClient.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  const opts = { cred: encodeCredential(glusterV3(4322)), timeoutMs: 5000 };
  const call = <P extends (typeof Fops)[keyof typeof Fops]>(
    p: P,
    args: Parameters<typeof callProcedure<P>>[3],
  ) => callProcedure(c, Program.FOP, p, args, opts);
  const vec = (key: string, ranges: IoRange[]) => new Map([[key, ptrValue(encodeIoRanges(ranges))]]);
  const raw = (key: string, v: Buffer) => new Map([[key, ptrValue(v)]]);
  try {
    const sv = await callProcedure(
      c,
      Program.HANDSHAKE,
      HandshakeProcs.SETVOLUME,
      {
        dict: legacyDict({
          'process-uuid': 'vector',
          'remote-subvolume': 'b-posix',
          'fops-version': '1298437',
        }),
      },
      opts,
    );
    assert.equal(sv.opRet, 0);
    const create = async (bname: string, flags: number) => {
      const made = await call(Fops.CREATE, {
        pargfid: ROOT_GFID,
        flags,
        mode: 0o644,
        umask: 0,
        bname,
        xdata: new Map([['gfid-req', gfuuidValue(randomGfid())]]),
      });
      assert.equal(made.opRet, 0);
      return { gfid: made.stat.gfid, fd: Number(made.fd) };
    };
    const { gfid, fd } = await create('img', O_RDWR);
    const image = Buffer.alloc(64 * 1024, 0x61);
    assert.equal(
      (
        await call(Fops.WRITE, {
          gfid,
          fd,
          offset: 0,
          size: image.length,
          flag: 0,
          xdata: null,
          payload: image,
        })
      ).opRet,
      image.length,
    );
    const write = (xdata: Map<string, unknown>, payload: Buffer, size = payload.length, on = fd) =>
      call(Fops.WRITE, { gfid, fd: on, offset: 0, size, flag: 0, xdata: xdata as never, payload });
    const read = (xdata: Map<string, unknown> | null, on = fd, g = gfid) =>
      call(Fops.READ, { gfid: g, fd: on, offset: 0, size: 0, flag: 0, xdata: xdata as never });

    // Three ranges, one short past EOF on the read back.
    const ranges = [
      { offset: 4096, length: 4096 },
      { offset: 20480, length: 100 },
      { offset: 40960, length: 4096 },
    ];
    const data = Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(100, 2), Buffer.alloc(4096, 3)]);
    const w = await write(vec(WRITE_VECTOR_KEY, ranges), data);
    assert.equal(w.opRet, data.length);
    assert.ok(w.xdata?.has(WRITE_VECTOR_KEY), 'the reply says the vector was served');
    assert.equal(w.poststat.size, 64 * 1024);
    const file = await readFile(join(dir, 'img'));
    const expected = Buffer.from(image);
    ranges.forEach((r, k) =>
      data.subarray([0, 4096, 4196][k], [4096, 4196, 8292][k]).copy(expected, r.offset),
    );
    assert.ok(file.equals(expected), 'each range where it says, nothing between them');

    const back = await read(
      vec(READ_VECTOR_KEY, [ranges[1]!, ranges[0]!, { offset: 63 * 1024, length: 4096 }]),
    );
    const counts = decodeReadCounts((back.xdata?.get(READ_VECTOR_KEY) as { value: Buffer }).value, 3);
    assert.deepEqual(counts, [100, 4096, 1024]);
    assert.equal(back.opRet, 100 + 4096 + 1024);
    assert.ok(
      (back.payload as Buffer).equals(
        Buffer.concat([
          expected.subarray(20480, 20580),
          expected.subarray(4096, 8192),
          expected.subarray(63 * 1024),
        ]),
      ),
    );
    const probe = await read(vec(READ_VECTOR_KEY, []));
    assert.deepEqual([probe.opRet, (probe.payload as Buffer).length], [0, 0]);
    assert.ok(probe.xdata?.has(READ_VECTOR_KEY), 'the probe answers the key');
    const anonymous = await read(vec(READ_VECTOR_KEY, [ranges[0]!]), -2);
    assert.ok((anonymous.payload as Buffer).equals(Buffer.alloc(4096, 1)), 'an anonymous fd reads too');

    // Hostile vectors: EINVAL, nothing written.
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const einval = async (what: string, reply: Promise<{ opRet: number; opErrno: number }>) => {
      const r = await reply;
      assert.deepEqual([r.opRet, r.opErrno], [-1, Errno.EINVAL], what);
    };
    const many = Array.from({ length: MAX_VECTOR_RANGES + 1 }, (_, k) => ({ offset: k * 8192, length: 1 }));
    const huge = [{ offset: 0, length: MAX_VECTOR_BYTES + 1 }];
    const overflowing = Buffer.concat([u32(1), Buffer.from('001fffffffffffff', 'hex'), u32(4096)]);
    for (const key of [READ_VECTOR_KEY, WRITE_VECTOR_KEY]) {
      const send = (x: Map<string, unknown>) =>
        key === READ_VECTOR_KEY ? read(x) : write(x, Buffer.alloc(1));
      await einval(`${key}: shorter than its count`, send(raw(key, Buffer.alloc(2))));
      await einval(
        `${key}: count says 2, one range sent`,
        send(raw(key, Buffer.concat([u32(2), Buffer.alloc(12)]))),
      );
      await einval(`${key}: count 0xffffffff`, send(raw(key, u32(0xffffffff))));
      await einval(`${key}: too many ranges`, send(vec(key, many)));
      await einval(`${key}: too many bytes`, send(vec(key, huge)));
      await einval(`${key}: an empty range`, send(vec(key, [{ offset: 0, length: 0 }])));
      await einval(`${key}: a range past 2^53`, send(raw(key, overflowing)));
    }
    await einval('payload shorter than the ranges', write(vec(WRITE_VECTOR_KEY, ranges), Buffer.alloc(10)));
    await einval(
      'payload longer than the ranges',
      write(vec(WRITE_VECTOR_KEY, [{ offset: 0, length: 5 }]), Buffer.alloc(10)),
    );
    await einval('no ranges', write(vec(WRITE_VECTOR_KEY, []), Buffer.alloc(10)));
    const appending = await create('log', O_RDWR | O_APPEND);
    await einval(
      'an O_APPEND fd',
      call(Fops.WRITE, {
        gfid: appending.gfid,
        fd: appending.fd,
        offset: 0,
        size: 4,
        flag: 0,
        xdata: vec(WRITE_VECTOR_KEY, [{ offset: 1 << 20, length: 4 }]) as never,
        payload: Buffer.from('abcd'),
      }),
    );
    const opened = await call(Fops.OPENDIR, { gfid: ROOT_GFID, xdata: null });
    const onDir = await read(vec(READ_VECTOR_KEY, [ranges[0]!]), Number(opened.fd), ROOT_GFID);
    assert.deepEqual([onDir.opRet, onDir.opErrno], [-1, Errno.EISDIR], 'a directory fd');

    assert.ok((await readFile(join(dir, 'img'))).equals(expected), 'refused vectors changed nothing');
    assert.equal((await readFile(join(dir, 'log'))).length, 0);
    assert.equal(await readFile(outside, 'utf8'), 'not the brick');
    assert.deepEqual((await readdir(dir)).filter((n) => n !== '.glusterfs').sort(), ['img', 'log']);
    // Still serving: a plain READ on the same connection.
    const plain = await call(Fops.READ, { gfid, fd, offset: 4096, size: 8, flag: 0, xdata: null });
    assert.ok((plain.payload as Buffer).equals(Buffer.alloc(8, 1)));
  } finally {
    c.close();
    await brick.close();
    await graph.fini();
    await rm(parent, { recursive: true, force: true });
  }
});
