// The client API suite against a glusterts server (`glusterts up` on 127.0.0.41): GETSPEC
// from its management daemon, the served client volfile (io-stats, caches as documented
// pass-through, distribute, protocol/client), FOPs to its brick over TCP.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Volume } from '../../src/client/index.js';
import { GLUSTERTS_CLI as CLI, startGlusterts, type RunningGlusterts } from '../../src/peers/index.js';
import { clientSuite } from './suite.js';

const HOST = '127.0.0.41';
let writeBehind = true;
let server: RunningGlusterts | undefined;

clientSuite({
  name: 'glusterts',
  enforcesPermissions: true,
  async start() {
    server = await startGlusterts({ host: HOST, volume: 'cv' });
  },
  async stop() {
    await server?.stop();
  },
  served: {
    volume: 'cv',
    server: () => ({ host: HOST }),
    async changeVolfile() {
      writeBehind = !writeBehind;
      const value = writeBehind ? 'on' : 'off';
      await promisify(execFile)(process.execPath, [
        CLI,
        'volume',
        '--data',
        server!.data,
        'set',
        'cv',
        'performance.write-behind',
        value,
      ]);
    },
  },
  connect: (opts = {}) =>
    Volume.connect({ ...opts, volume: 'cv', servers: [{ host: HOST }], timeoutMs: 20_000 }),
});
