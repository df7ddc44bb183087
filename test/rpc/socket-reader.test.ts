import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { encodeRecordMark } from '../../src/rpc/record.js';
import { connectReading, DIRECT_RECORD_MIN } from '../../src/rpc/socket-reader.js';

function fragment(body: Buffer, last: boolean): Buffer {
  return Buffer.concat([encodeRecordMark(body.length, last), body]);
}

function patterned(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

test('records of every size arrive intact, kept past later reads of the reused buffer', async () => {
  const sizes = [
    5,
    4096,
    DIRECT_RECORD_MIN - 1,
    DIRECT_RECORD_MIN,
    70_000,
    1 << 20,
    12,
    3 * 1024 * 1024 + 5,
    100,
    200_000,
  ];
  const bodies = sizes.map((n, i) => patterned(n, i));
  // One record in two fragments, which never takes the direct path.
  const split = patterned(90_000, 99);
  const wire = Buffer.concat([
    ...bodies.map((b) => fragment(b, true)),
    fragment(split.subarray(0, 40_000), false),
    fragment(split.subarray(40_000), true),
  ]);
  // Odd slices with pauses, so records straddle reads in every way.
  const send = async (s: net.Socket): Promise<void> => {
    for (let at = 0, k = 1; at < wire.length; k++) {
      const n = Math.min(wire.length - at, ((k * 7919) % 150_000) + 1);
      s.write(wire.subarray(at, at + n));
      at += n;
      if (k % 5 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    s.end();
  };
  const server = net.createServer((s) => void send(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const { socket, reader } = connectReading({ host: '127.0.0.1', port });
  const got: Buffer[] = [];
  reader.onBytes = () => {
    for (let r = reader.decoder.next(); r; r = reader.decoder.next()) got.push(reader.own(r));
  };
  await once(socket, 'end');
  socket.destroy();
  server.close();
  assert.equal(got.length, bodies.length + 1);
  for (const [i, b] of bodies.entries()) assert.ok(got[i]!.equals(b), `record ${i} (${b.length} bytes)`);
  assert.ok(got[bodies.length]!.equals(split));
});
