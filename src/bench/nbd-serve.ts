/**
 * A child process for `glusterts bench`'s NBD rows: the glusterts client library (trimmed
 * stack) connected to one volume, exported by the NBD server as `VOLUME/PATH`.
 *
 *   node dist/src/bench/nbd-serve.js LISTEN_HOST LISTEN_PORT VOLFILE_HOST VOLUME
 *
 * Prints "ready PORT" once listening (LISTEN_PORT 0: any free port); SIGTERM closes the server and the volume.
 */
import { Volume } from '../client/index.js';
import { GlusterProvider, NbdServer } from '../nbd/index.js';

async function main(): Promise<void> {
  const [host, port, server, volume] = process.argv.slice(2);
  if (!host || !port || !server || !volume) throw new Error('usage: nbd-serve HOST PORT VOLFILE_HOST VOLUME');
  const vol = await Volume.connect({ volume, servers: [{ host: server }], trimmed: true });
  const nbd = new NbdServer({ provider: new GlusterProvider({ volumes: new Map([[volume, vol]]) }) });
  const addr = await nbd.listen(Number(port), host);
  console.log(`ready ${addr.port}`);
  const stop = async () => {
    await nbd.close().catch(() => undefined);
    await vol.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((e: unknown) => {
  console.error(`nbd-serve: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
