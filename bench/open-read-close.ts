/**
 * The client library's cold-path latency: a fresh process that connects to a volume,
 * opens a file, reads 4 KiB and closes everything — what every `qemu-img` invocation pays
 * with stock libgfapi (~10 s of it in glfs_fini). Prints the time from process start and
 * the time of connect+read+close alone.
 *
 *   node dist/bench/open-read-close.js HOST VOLUME PATH
 */
import { performance } from 'node:perf_hooks';
import { Volume } from '../src/client/index.js';

const [host, volume, path] = process.argv.slice(2);
if (!host || !volume || !path) {
  console.error('usage: open-read-close HOST VOLUME PATH');
  process.exit(2);
}
const started = performance.now();
const vol = await Volume.connect({ volume, servers: [{ host }] });
const file = await vol.open(path, 'r');
const data = await file.pread(4096, 0);
await file.close();
await vol.close();
const done = performance.now();
console.log(
  JSON.stringify({
    bytes: data.length,
    connectReadCloseMs: Math.round(done - started),
    // Includes Node's own start-up and module loading.
    processUptimeMs: Math.round(process.uptime() * 1000),
  }),
);
