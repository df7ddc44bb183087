// The admission bounds of src/rpc/admission.ts on a plain RpcServer: connections per peer and
// in all, records before authentication, silence before authentication, the authentication
// deadline, and bytes in flight (a reservation waits; one oversize call runs alone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../../src/peers/process.js';
import type { RpcProgram } from '../../src/rpc/server.js';
import { RawPeer, TEST_PROG, callRecord, deferred, startServer, words } from './helpers.js';

const MiB = 1024 * 1024;

/** proc 1 authenticates the connection; proc 2 reserves `n` bytes and holds them until released. */
function program(gates: { release: () => void; reserved: number[] }[]): RpcProgram {
  return {
    prog: TEST_PROG,
    vers: 1,
    name: 'admission',
    procs: {
      0: () => undefined,
      1: ({ conn }) => {
        conn.authenticate();
      },
      2: async ({ conn, charge, args }) => {
        const n = args.u32();
        await conn.reserve(charge, n);
        const gate = deferred();
        gates.push({ release: () => gate.resolve(), reserved: [n] });
        await gate.promise;
        return { results: (w) => w.u32(n) };
      },
    },
  };
}

function logs(): { lines: string[]; log: (m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m) };
}

test('before authentication a record mark above the bound closes the connection, with a log line', async () => {
  const { lines, log } = logs();
  const { server, port } = await startServer([program([])], {
    admission: { preAuth: { maxRecord: 64 * 1024 } },
    log,
  });
  const peer = await RawPeer.connect(port);
  const good = await RawPeer.connect(port);
  try {
    // 500 MiB announced; nothing of it is sent, and nothing is allocated for it.
    peer.write(words(0x8000_0000 | (500 * MiB)));
    await peer.closed;
    assert.match(lines.join('\n'), /limit pre-auth-record-size hit: record of at least 524288000 bytes/);
    // Once authenticated, the ordinary bound applies.
    good.write(callRecord(1, TEST_PROG, 1, 1));
    await good.waitRecords(1);
    good.write(callRecord(2, TEST_PROG, 1, 0, (w) => w.raw(Buffer.alloc(128 * 1024))));
    await good.waitRecords(1);
  } finally {
    good.destroy();
    await server.close();
  }
});

test('an unauthenticated connection is closed when silent too long and at the deadline', async () => {
  const { lines, log } = logs();
  const { server, port } = await startServer([program([])], {
    admission: { preAuth: { idleMs: 100, deadlineMs: 400 } },
    log,
  });
  const connectedAt = Date.now();
  const silent = await RawPeer.connect(port);
  const chatty = await RawPeer.connect(port);
  const authed = await RawPeer.connect(port);
  try {
    const t0 = Date.now();
    // A peer that keeps talking without authenticating still goes at the deadline.
    const talking = (async () => {
      for (let i = 0; !chatty.socket.destroyed && i < 20; i++) {
        chatty.write(callRecord(10 + i, TEST_PROG, 1, 0));
        await sleep(50);
      }
    })();
    authed.write(callRecord(1, TEST_PROG, 1, 1));
    await authed.waitRecords(1);
    await silent.closed;
    assert.ok(Date.now() - connectedAt >= 90, 'not before the idle timeout');
    await chatty.closed;
    await talking;
    assert.ok(Date.now() - t0 >= 350, 'the deadline, not the idle timeout');
    assert.match(lines.join('\n'), /limit pre-auth-idle hit/);
    assert.match(lines.join('\n'), /limit pre-auth-deadline hit/);
    await sleep(200);
    assert.equal(authed.socket.destroyed, false, 'an authenticated connection may stay silent');
  } finally {
    authed.destroy();
    await server.close();
  }
});

test('connections beyond the per-peer and total bounds are closed at accept', async () => {
  const { lines, log } = logs();
  const { server, port } = await startServer([program([])], {
    admission: { maxConnectionsPerPeer: 3, maxConnections: 5 },
    log,
  });
  const peers: RawPeer[] = [];
  try {
    for (let i = 0; i < 4; i++) peers.push(await RawPeer.connect(port));
    await peers[3]!.closed;
    assert.equal(server.connections.size, 3);
    assert.match(lines.join('\n'), /limit max-connections-per-peer hit: 3 connections from 127\.0\.0\.1/);
    peers[0]!.destroy();
    await peers[0]!.closed;
    await sleep(20);
    const again = await RawPeer.connect(port);
    peers.push(again);
    again.write(callRecord(1, TEST_PROG, 1, 0));
    await again.waitRecords(1);
  } finally {
    for (const p of peers) p.destroy();
    await server.close();
  }
});

test('reservations wait while the connection or the server holds its bytes; an oversize one runs alone', async () => {
  const gates: { release: () => void; reserved: number[] }[] = [];
  const { server, port } = await startServer([program(gates)], {
    admission: { maxBytesPerConnection: 4 * MiB, maxBytesTotal: 7 * MiB },
  });
  const a = await RawPeer.connect(port);
  const b = await RawPeer.connect(port);
  const reserve = (peer: RawPeer, xid: number, n: number) =>
    peer.write(callRecord(xid, TEST_PROG, 1, 2, (w) => w.u32(n)));
  try {
    reserve(a, 1, 3 * MiB);
    reserve(a, 2, 3 * MiB); // over a's 4 MiB: waits
    await sleep(50);
    assert.equal(gates.length, 1);
    reserve(b, 3, 3 * MiB); // fits b and the server's 7 MiB
    await sleep(50);
    assert.equal(gates.length, 2);
    assert.equal(server.admission.bytesInUse >= 6 * MiB, true);
    reserve(b, 5, 2 * MiB); // fits b's 4 MiB, not the server's 7
    await sleep(50);
    assert.equal(gates.length, 2);
    gates[0]!.release();
    await a.waitRecords(1);
    // a's reply is written: a's second call and b's second both fit now.
    await sleep(50);
    assert.equal(gates.length, 3);
    gates[1]!.release();
    await b.waitRecords(1);
    await sleep(50);
    assert.equal(gates.length, 4);
    gates[2]!.release();
    gates[3]!.release();
    await a.waitRecords(1);
    await b.waitRecords(1);
    // Larger than a connection's bound: runs once nothing else is held.
    reserve(a, 4, 5 * MiB);
    await sleep(50);
    assert.equal(gates.length, 5);
    gates[4]!.release();
    await a.waitRecords(1);
    await sleep(20);
    assert.equal(server.admission.bytesInUse, 0, 'every byte released once the replies are written');
  } finally {
    a.destroy();
    b.destroy();
    await server.close();
  }
});

test("a closed connection's bytes are released, so others go on", async () => {
  const gates: { release: () => void; reserved: number[] }[] = [];
  const { server, port } = await startServer([program(gates)], {
    admission: { maxBytesPerConnection: 4 * MiB, maxBytesTotal: 4 * MiB },
  });
  const a = await RawPeer.connect(port);
  const b = await RawPeer.connect(port);
  try {
    a.write(callRecord(1, TEST_PROG, 1, 2, (w) => w.u32(4 * MiB)));
    await sleep(50);
    b.write(callRecord(2, TEST_PROG, 1, 2, (w) => w.u32(MiB)));
    await sleep(50);
    assert.equal(gates.length, 1, 'b waits for the server-wide bound');
    a.destroy();
    await a.closed;
    await sleep(50);
    assert.equal(gates.length, 2);
    gates[1]!.release();
    await b.waitRecords(1);
    gates[0]!.release();
    await sleep(20);
    assert.equal(server.admission.bytesInUse, 0);
  } finally {
    b.destroy();
    await server.close();
  }
});
