// The client API suite against stock GlusterFS 10.3 (glusterd + glusterfsd on 127.0.0.2,
// src/peers/stock-gluster.ts): GETSPEC from stock glusterd, stock's client volfile
// (io-stats, md-cache, quick-read, open-behind, write-behind, utime as documented
// pass-through; stock DHT options; protocol/client with portmap), FOPs to the stock brick.
// Only one stock instance can run on the machine: a busy 127.0.0.2:24007 is waited for.
import { Volume } from '../../src/client/index.js';
import { haveStockGluster, startStockGluster, type StockGluster } from '../../src/peers/index.js';
import { clientSuite } from './suite.js';

let stock: StockGluster | undefined;
let writeBehind = true;

async function startWhenFree(): Promise<StockGluster> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      return await startStockGluster({ volume: 'cv' });
    } catch (err) {
      if (!/already in use/.test(String(err)) || Date.now() > deadline) throw err;
      await new Promise((ok) => setTimeout(ok, 3000));
    }
  }
}

clientSuite({
  name: 'stock',
  enforcesPermissions: true,
  skip: () => {
    if (haveStockGluster()) return undefined;
    if (process.env.CI === 'true') throw new Error('peer missing under CI: stock GlusterFS 10.3');
    return 'stock GlusterFS not installed (glusterfs-server glusterfs-client) or not root';
  },
  async start() {
    stock = await startWhenFree();
  },
  async stop() {
    await stock?.stop();
  },
  served: {
    volume: 'cv',
    server: () => ({ host: stock!.host }),
    async changeVolfile() {
      writeBehind = !writeBehind;
      await stock!.cli('volume', 'set', 'cv', 'performance.write-behind', writeBehind ? 'on' : 'off');
    },
  },
  connect: (opts = {}) =>
    Volume.connect({ ...opts, volume: 'cv', servers: [{ host: stock!.host }], timeoutMs: 20_000 }),
});
