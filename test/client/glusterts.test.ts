// The client API suite against a glusterts server (`glusterts up` on 127.0.0.41): GETSPEC
// from its management daemon, the served client volfile (io-stats, caches as documented
// pass-through, distribute, protocol/client), FOPs to its brick over TCP.
import { Volume } from '../../src/client/index.js';
import { startGlusterts, type RunningGlusterts } from '../support/glusterts-up.js';
import { clientSuite } from './suite.js';

const HOST = '127.0.0.41';
let server: RunningGlusterts | undefined;

clientSuite({
  name: 'glusterts',
  async start() {
    server = await startGlusterts({ host: HOST, volume: 'cv' });
  },
  async stop() {
    await server?.stop();
  },
  connect: (opts = {}) =>
    Volume.connect({ ...opts, volume: 'cv', servers: [{ host: HOST }], timeoutMs: 20_000 }),
});
