#!/usr/bin/env node
// Bundles the compiled brick entry (dist/src/brick/main.js and the ~110 modules it imports)
// into one file, dist/bundle/brick.js, run by `npm run build` after tsc. A brick is a Node
// process the daemon starts whenever a brick (re)starts, and a heal waits for it: loading the
// module graph file by file (resolve, open, read, compile each) was about half of its start's
// CPU (docs/benchmarks.md, "Replication: heal"). The daemon runs the bundle while it is at
// least as new as dist/src/brick/main.js (tsc rewrote that file: the bundle is stale), and the
// modules otherwise (defaultBrickCommand in src/mgmt/daemon.ts).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let build;
try {
  ({ build } = await import('esbuild'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  // A checkout whose node_modules predates the devDependency: still a working build.
  console.warn('glusterts: esbuild is not installed (npm ci): no brick bundle, bricks load their modules');
  process.exit(0);
}

await build({
  entryPoints: [join(root, 'dist/src/brick/main.js')],
  outfile: join(root, 'dist/bundle/brick.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Node's own modules stay imports; the package has no runtime dependencies to inline.
  packages: 'external',
  logLevel: 'warning',
});
