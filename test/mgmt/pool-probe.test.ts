// peer probe's refusals, in one process on loopback addresses (run inside a private network
// namespace, see HELPERS): self, a host with no daemon, a peer that answers garbage, a stock
// glusterd (not a glusterts daemon), a glusterts daemon that has volumes, a daemon whose
// volume has a brick on 127.0.0.1, and detach of a host that is not in the pool. None of
// them starts an etcd member or changes the probing daemon's state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { requirePeer, startStockGluster } from '../../src/peers/index.js';
import { PoolOpError } from '../../src/mgmt/pool.js';
import { startTestDaemon } from './support.js';

const rejectsWith = (p: Promise<unknown>, message: string | RegExp) =>
  assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof PoolOpError, String(err));
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });

test('peer probe refuses what cannot join, and changes nothing', async () => {
  const x = await startTestDaemon('127.0.0.33');
  const y = await startTestDaemon('127.0.0.34');
  const garbage = net.createServer((s) => s.end(Buffer.from('HTTP/1.0 400 nope\r\n\r\n')));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.35', r));
  try {
    const { port } = x.daemon.address;
    const pool = x.daemon.pool;
    assert.equal(await pool.probe(`127.0.0.33:${port}`), 'Probe on localhost not needed');
    await rejectsWith(pool.probe('127.0.0.36:1'), 'Probe returned with Transport endpoint is not connected');
    const gPort = (garbage.address() as net.AddressInfo).port;
    await rejectsWith(
      pool.probe(`127.0.0.35:${gPort}`),
      new RegExp(`^127\\.0\\.0\\.35:${gPort} did not answer as a glusterts daemon`),
    );
    await rejectsWith(pool.probe('not a host'), 'not a host is not HOST[:PORT]');

    // A daemon that has volumes is not probed into a pool (stock's words).
    await y.daemon.volumes.create('busy', [`127.0.0.34:${y.brickDir('b0')}`]);
    await rejectsWith(
      pool.probe(`127.0.0.34:${y.daemon.address.port}`),
      '127.0.0.34 is either already part of another cluster or having volumes configured',
    );
    await rejectsWith(pool.detach('127.0.0.34'), '127.0.0.34 is not part of cluster');

    for (const d of [x, y]) {
      assert.equal(d.daemon.volumes.pooled, false);
      assert.equal(existsSync(join(d.data, 'etcd')), false);
      assert.deepEqual(
        (await d.daemon.pool.status()).map((p) => [p.host, p.self, p.connected]),
        [[d.daemon.address.host, true, true]],
      );
    }
    assert.deepEqual(
      y.daemon.volumes.list().map((v) => v.name),
      ['busy'],
    );
  } finally {
    garbage.close();
    await x.cleanup();
    await y.cleanup();
  }
});

test('a volume with a brick on 127.0.0.1 is never offered to other hosts: probe refused', async () => {
  const x = await startTestDaemon('0.0.0.0');
  try {
    await x.daemon.volumes.create('vms', [x.brickDir('vms-0')]);
    assert.equal(x.daemon.volumes.get('vms')!.bricks[0]!.host, '127.0.0.1');
    await rejectsWith(
      x.daemon.pool.probe('127.0.0.34'),
      /^this daemon listens on 0\.0\.0\.0: start it with --host/,
    );
  } finally {
    await x.cleanup();
  }
  const y = await startTestDaemon('127.0.0.1');
  try {
    await y.daemon.volumes.create('vms', [y.brickDir('vms-0')]);
    await rejectsWith(
      y.daemon.pool.probe('127.0.0.34'),
      /^volume vms has a brick on 127\.0\.0\.1, which other hosts cannot reach/,
    );
    assert.equal(y.daemon.volumes.pooled, false);
  } finally {
    await y.cleanup();
  }
});

test('probing a stock glusterd: a GlusterFS daemon, but not a glusterts one', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const stock = await startStockGluster({ host: '127.0.0.2' });
  const x = await startTestDaemon('127.0.0.33');
  try {
    await rejectsWith(
      x.daemon.pool.probe('127.0.0.2'),
      '127.0.0.2:24007 is a GlusterFS daemon but not a glusterts one; a glusterts pool has glusterts daemons only',
    );
    assert.equal(x.daemon.volumes.pooled, false);
  } finally {
    await x.cleanup();
    await stock.stop();
  }
});
