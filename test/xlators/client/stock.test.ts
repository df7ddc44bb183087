// protocol/client against a stock GlusterFS 10.3 brick (private instance on 127.0.0.2):
// portmap through stock glusterd and remote-port straight to the stock brick, a file's
// life cycle, a wrong remote-subvolume, and auth.allow refusing us (EACCES).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer, sleep, startStockGluster, type StockGluster } from '../../../src/peers/index.js';
import { buildClient, within } from './helpers.js';
import { daemonVolfile, lifeCycle, wrongSubvolume } from './scenario.js';

let s: StockGluster | undefined;
after(async () => {
  await s?.stop();
});

/** Only one stock instance can run machine-wide: wait for another suite's to finish. */
async function stock(): Promise<StockGluster> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      return (s ??= await startStockGluster());
    } catch (e) {
      if (!/already in use/.test(String(e)) || Date.now() > deadline) throw e;
      await sleep(2000);
    }
  }
}

const base = (g: StockGluster) => ({
  'remote-host': g.host,
  'remote-subvolume': g.brickPaths[0]!,
  'transport-type': 'tcp',
  'reconnect-interval-ms': 200,
});

test('stock 10.3 brick through stock glusterd’s portmap', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const g = await stock();
  await lifeCycle(base(g), 'stock-portmap');
});

test('stock 10.3 brick through remote-port', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const g = await stock();
  await lifeCycle({ ...base(g), 'remote-port': g.brickPort(0) }, 'stock-direct');
});

test('stock 10.3: a wrong remote-subvolume rejects whenReady (portmap and brick refusals)', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const g = await stock();
  await wrongSubvolume(base(g));
  await wrongSubvolume({ ...base(g), 'remote-port': g.brickPort(0) });
});

test('stock 10.3: auth.allow excluding us → whenReady rejects with the brick’s "Authentication failed"', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const g = await stock();
  await g.cli('volume', 'set', g.volume, 'auth.allow', '10.254.254.254');
  try {
    const b = await buildClient({ ...base(g), 'remote-port': g.brickPort(0) });
    try {
      const err = await within(
        15_000,
        b.graph.ready().then(
          () => null,
          (e: unknown) => e as Error,
        ),
        'ready',
      );
      assert.ok(err instanceof Error, 'whenReady rejects');
      assert.match(err.message, /Authentication failed \(EACCES\)/);
      assert.ok(err.message.includes(g.brickPaths[0]!), err.message);
    } finally {
      await b.graph.fini();
    }
  } finally {
    await g.cli('volume', 'reset', g.volume, 'auth.allow');
  }
});

test('stock glusterd’s own client volfile: its protocol/client block loads with strict options and connects', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const g = await stock();
  await daemonVolfile(g.host, g.port, g.volume);
});
